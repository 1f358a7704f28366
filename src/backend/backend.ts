// Backend choice, the one call notebooks make first: the backend TFJS_BACKEND (or the argument)
// names, else the first that works of tfjs-node-gpu, tfjs-node, WebGPU, WASM (with the fast
// matmul kernels) and pure JS; it reports what it chose, what it skipped and why.
import * as tf from "@tensorflow/tfjs";
import { installWasmMatMulFix, uninstallWasmMatMulFix } from "./wasm-matmul";
import {
  DAWN_PACKAGE,
  PackageLoader,
  WEBGPU_BACKEND_PACKAGE,
  installNavigatorGpu,
  nodeLoader,
  probeWebGpu,
} from "./webgpu";

/** What was chosen: tf.getBackend()'s value, with the two TensorFlow builds told apart. */
export type BackendName = "tensorflow-gpu" | "tensorflow" | "webgpu" | "wasm" | "cpu";

export interface SetupBackendArgs {
  /** 'gpu' | 'node' | 'webgpu' | 'wasm' | 'cpu', or 'auto'; wins over TFJS_BACKEND (default: TFJS_BACKEND, else automatic). */
  backend?: string;
  /** On WASM, install the project's fast kernels: matrix products (SIMD tiles, else XNNPACK), and the
   * fused attention, LayerNorm, GELU, Adam and layout kernels of wasm-kernels.ts (default true;
   * false keeps the stock kernels, for comparisons). */
  matmulFix?: boolean;
  /** How backend packages are found and loaded (default: Node's require); tests pass fakes. */
  loader?: PackageLoader;
}

/** A candidate the automatic order passed over. */
export interface SkippedBackend {
  candidate: BackendName;
  reason: string;
  /** What would make it available. */
  remedy?: string;
}

export interface BackendInfo {
  name: BackendName;
  /** tf.getBackend() after the choice ('tensorflow' for both TensorFlow builds). */
  tfBackend: string;
  /** Who chose: the argument, TFJS_BACKEND, or the automatic order. */
  source: "args" | "TFJS_BACKEND" | "automatic";
  /** Why this backend (what it is, and how it was picked). */
  reason: string;
  /** Candidates tried before it, each with the reason it was skipped. */
  skipped: SkippedBackend[];
  /** tfjs, tfjs-core, the backend's package, node (and libtensorflow / webgpu where known). */
  versions: Record<string, string>;
  /** TensorFlow backends: whether TensorFlow placed ops on a CUDA GPU. */
  cudaGpuVisible?: boolean;
  /** WASM: whether the fast matmul kernels are installed. */
  matmulFix?: boolean;
  /** WASM: threads XNNPACK uses (1 in Node, tfjs issue #3830). */
  threads?: number;
  /** WebGPU: the adapter. */
  adapter?: string;
}

/** One candidate as describeBackendChoice sees it. */
export interface CandidateStatus {
  candidate: BackendName;
  /** 'yes' when it will be used if reached, 'no' when it cannot, 'maybe' when only loading it tells (native packages). */
  available: "yes" | "no" | "maybe";
  reason: string;
  remedy?: string;
}

export interface BackendChoiceDescription {
  /** What setupBackend would choose ('none' when an explicit choice cannot be met). */
  name: BackendName | "none";
  reason: string;
  source: BackendInfo["source"];
  /** The automatic order, or just the requested backend, with what is known about each. */
  candidates: CandidateStatus[];
  /** The error setupBackend would throw for an explicit choice that cannot be met. */
  error?: string;
}

/** One candidate's outcome. A plain interface, not a union on `ok`: tslab compiles notebook
 * imports without strictNullChecks, where `if (!a.ok)` does not narrow such a union. */
interface Attempt {
  ok: boolean;
  reason: string;
  /** What to do about a failure. */
  remedy?: string;
  /** Fields a success adds to BackendInfo. */
  extra?: Partial<BackendInfo>;
}

interface StartOptions {
  loader: PackageLoader;
  matmulFix: boolean;
}

/** Everything this file knows about one backend; setupBackend, describeBackendChoice and
 * formatBackendInfo read only these, in the BACKENDS table. */
interface Backend {
  /** The name TFJS_BACKEND and setupBackend({backend}) accept. */
  choice: string;
  /** What BackendInfo.name reports. */
  name: BackendName;
  /** tfjs's name for it (tf.setBackend). */
  tfBackend: string;
  /** The npm package behind it; its version goes into BackendInfo.versions. */
  pkg: string;
  /** Loads and initialises it, leaving it tfjs's backend when it works (setupBackend). */
  start(opts: StartOptions): Promise<Attempt>;
  /** What is known without changing tfjs's backend or loading native TensorFlow (describeBackendChoice). */
  status(loader: PackageLoader): Promise<Omit<CandidateStatus, "candidate">>;
  /** Whether a backend kept from an earlier call must be started again for these options. */
  restartFor?(info: BackendInfo, opts: StartOptions): boolean;
  /** formatBackendInfo's lines for the fields only this backend sets. */
  details?(info: BackendInfo): string[];
}

const DEFAULT_MATMUL_FIX = true;

function packageVersion(loader: PackageLoader, pkg: string): string | undefined {
  try {
    return (loader.load(`${pkg}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const firstLine = (e: unknown) => String(e instanceof Error ? e.message : e).split("\n")[0];

/** Which TensorFlow package this process loaded; the two cannot share a process. */
let tensorflowPackage: string | undefined;

const TF_NOT_INSTALLED = "is not installed (its install downloads libtensorflow, which needs network access)";

/** tfjs-node-gpu and tfjs-node: the same native loading, told apart by these texts. */
interface TensorflowBuild {
  choice: string;
  name: BackendName;
  pkg: string;
  /** Where `npm install` of the package works (the remedy when it is not installed). */
  installOn: string;
  /** The remedy when it is installed but does not load or initialise. */
  reinstall: string;
  /** What it runs on, once loaded. */
  runsOn(cudaGpuVisible: boolean): string;
}

function tensorflowBackend(build: TensorflowBuild): Backend {
  const { pkg } = build;
  const tfBackend = "tensorflow";
  const install = `install it with npm install ${pkg}@${tf.version_core} on ${build.installOn}`;
  return {
    choice: build.choice,
    name: build.name,
    tfBackend,
    pkg,
    async start({ loader }) {
      if (loader.resolve(pkg) === undefined)
        return { ok: false, reason: `${pkg} ${TF_NOT_INSTALLED}`, remedy: install };
      if (tensorflowPackage !== undefined && tensorflowPackage !== pkg) {
        return {
          ok: false,
          reason: `${tensorflowPackage} is already loaded in this process and owns the '${tfBackend}' backend`,
          remedy: "restart the kernel to switch between tfjs-node and tfjs-node-gpu",
        };
      }
      try {
        loader.load(pkg);
      } catch (e) {
        return {
          ok: false,
          reason: `${pkg} is installed but failed to load: ${firstLine(e)}`,
          remedy: build.reinstall,
        };
      }
      tensorflowPackage = pkg;
      if (!tf.findBackendFactory(tfBackend)) {
        return {
          ok: false,
          reason: `${pkg} loaded but registered its backend with another copy of @tensorflow/tfjs-core`,
          remedy: `install ${pkg}@${tf.version_core}, the version of @tensorflow/tfjs, so npm shares one tfjs-core`,
        };
      }
      if (!(await tf.setBackend(tfBackend))) {
        return {
          ok: false,
          reason: `${pkg} loaded but the '${tfBackend}' backend failed to initialise`,
          remedy: build.reinstall,
        };
      }
      // NodeJSKernelBackend's public fields, not in tfjs-core's KernelBackend type.
      const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: string } };
      const cudaGpuVisible = be.isUsingGpuDevice === true;
      const versions: Record<string, string> = {};
      if (be.binding?.TF_Version) versions.libtensorflow = be.binding.TF_Version;
      return { ok: true, reason: build.runsOn(cudaGpuVisible), extra: { cudaGpuVisible, versions } };
    },
    // Loading native libtensorflow is the only real test, and describeBackendChoice must not do it.
    async status(loader) {
      if (loader.resolve(pkg) === undefined)
        return { available: "no", reason: `${pkg} ${TF_NOT_INSTALLED}`, remedy: install };
      const version = packageVersion(loader, pkg);
      return {
        available: "maybe",
        reason: `${pkg}${version ? ` ${version}` : ""} is installed; setupBackend loads it (native libtensorflow) and uses it if it loads`,
      };
    },
    details: (info) =>
      info.cudaGpuVisible === undefined ? [] : [`CUDA GPU visible: ${info.cudaGpuVisible ? "yes" : "no"}`],
  };
}

const WASM_PACKAGE = "@tensorflow/tfjs-backend-wasm";

/** The candidates, in the automatic order. */
const BACKENDS: readonly Backend[] = [
  tensorflowBackend({
    choice: "gpu",
    name: "tensorflow-gpu",
    pkg: "@tensorflow/tfjs-node-gpu",
    installOn: "Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1",
    reinstall:
      "reinstall it where libtensorflow can be downloaded, and make the CUDA 11.2 and cuDNN 8.1 libraries visible (LD_LIBRARY_PATH); npm run kernel:doctor checks them",
    runsOn: (cuda) =>
      `TensorFlow C library with CUDA (@tensorflow/tfjs-node-gpu); ${cuda ? "ops run on a CUDA GPU" : "no CUDA GPU visible, so TensorFlow runs on the CPU"}`,
  }),
  tensorflowBackend({
    choice: "node",
    name: "tensorflow",
    pkg: "@tensorflow/tfjs-node",
    installOn: "Linux, macOS or Windows x64 where the install can reach the network",
    reinstall: "reinstall it where libtensorflow can be downloaded (npm rebuild @tensorflow/tfjs-node)",
    runsOn: () => "TensorFlow C library on the CPU (@tensorflow/tfjs-node)",
  }),
  {
    choice: "webgpu",
    name: "webgpu",
    tfBackend: "webgpu",
    pkg: WEBGPU_BACKEND_PACKAGE,
    async start({ loader }) {
      const probe = await probeWebGpu(loader);
      if (!probe.ok || !probe.gpu) return { ok: false, reason: probe.reason, remedy: probe.remedy };
      installNavigatorGpu(probe);
      try {
        loader.load(WEBGPU_BACKEND_PACKAGE);
      } catch (e) {
        return {
          ok: false,
          reason: `${WEBGPU_BACKEND_PACKAGE} failed to load: ${firstLine(e)}`,
          remedy: `reinstall it: npm install ${WEBGPU_BACKEND_PACKAGE}@${tf.version_core}`,
        };
      }
      if (!tf.findBackendFactory("webgpu")) {
        return {
          ok: false,
          reason: `${WEBGPU_BACKEND_PACKAGE} registered no 'webgpu' backend with this tfjs-core`,
          remedy: `install ${WEBGPU_BACKEND_PACKAGE}@${tf.version_core}, the version of @tensorflow/tfjs`,
        };
      }
      if (!(await tf.setBackend("webgpu"))) {
        return {
          ok: false,
          reason: `tfjs-backend-webgpu could not create a device on ${probe.adapter}`,
          remedy: "update the GPU driver, or use TFJS_BACKEND=wasm",
        };
      }
      const versions: Record<string, string> = {};
      const dawnVersion = packageVersion(loader, DAWN_PACKAGE);
      if (dawnVersion) versions[DAWN_PACKAGE] = dawnVersion;
      return {
        ok: true,
        reason: `WebGPU through Dawn on ${probe.adapter}`,
        extra: { adapter: probe.adapter, versions },
      };
    },
    async status(loader) {
      const probe = await probeWebGpu(loader);
      return probe.ok
        ? { available: "yes", reason: probe.reason }
        : { available: "no", reason: probe.reason, remedy: probe.remedy };
    },
    details: (info) => (info.adapter ? [`WebGPU adapter: ${info.adapter}`] : []),
  },
  {
    choice: "wasm",
    name: "wasm",
    tfBackend: "wasm",
    pkg: WASM_PACKAGE,
    async start({ loader, matmulFix }) {
      let wasm: { getThreadsCount?: () => number };
      try {
        wasm = loader.load(WASM_PACKAGE) as typeof wasm;
      } catch (e) {
        return {
          ok: false,
          reason: `${WASM_PACKAGE} failed to load: ${firstLine(e)}`,
          remedy: `reinstall it: npm install ${WASM_PACKAGE}@${tf.version_core}`,
        };
      }
      if (matmulFix) installWasmMatMulFix();
      else uninstallWasmMatMulFix();
      if (!(await tf.setBackend("wasm"))) {
        return {
          ok: false,
          reason: "the WASM backend failed to initialise (see the warning above)",
          remedy: `reinstall ${WASM_PACKAGE}; its .wasm files must sit in its dist/ folder`,
        };
      }
      const threads = wasm.getThreadsCount?.() ?? 1;
      const fix = matmulFix
        ? "the project's fast kernels (SIMD matrix products, fused attention, LayerNorm, GELU and Adam)"
        : "stock matmul kernels (transposed products run a scalar loop)";
      return {
        ok: true,
        reason: `WebAssembly with XNNPACK on the CPU, ${threads} thread${threads === 1 ? "" : "s"}; ${fix}`,
        extra: { matmulFix, threads },
      };
    },
    async status(loader) {
      return loader.resolve(WASM_PACKAGE) === undefined
        ? {
            available: "no",
            reason: `${WASM_PACKAGE} is not installed`,
            remedy: `npm install ${WASM_PACKAGE}@${tf.version_core}`,
          }
        : { available: "yes", reason: "WebAssembly with XNNPACK on the CPU, with the fast matmul kernels" };
    },
    // The matmul kernels are swapped in place, so a kept WASM backend is restarted to change them.
    restartFor: (info, opts) => info.matmulFix !== opts.matmulFix,
    details: (info) =>
      info.matmulFix === undefined
        ? []
        : [`WASM matmul fix: ${info.matmulFix ? "on" : "off"}, threads: ${info.threads ?? 1}`],
  },
  {
    choice: "cpu",
    name: "cpu",
    tfBackend: "cpu",
    pkg: "@tensorflow/tfjs-backend-cpu",
    async start() {
      await tf.setBackend("cpu");
      // tfjs prints its "install tfjs-node" banner on the first tensor written to the cpu
      // backend; this choice is deliberate and reported, so mark the backend as used.
      const be = tf.backend() as unknown as { firstUse?: boolean };
      if (typeof be.firstUse === "boolean") be.firstUse = false;
      return { ok: true, reason: "pure JavaScript on the CPU (slowest; plan for LESSON_SCALE=smoke)" };
    },
    status: async () => ({ available: "yes", reason: "pure JavaScript on the CPU" }),
  },
];

interface Request {
  /** The backend asked for; undefined for the automatic order. */
  backend?: Backend;
  source: BackendInfo["source"];
  /** How the request is named in errors: `TFJS_BACKEND=gpu` or `setupBackend({backend: "gpu"})`. */
  where: string;
  /** How to drop the request, for remedies. */
  undo: string;
}

function parseRequest(args: SetupBackendArgs): Request {
  const env = process.env.TFJS_BACKEND;
  const fromArgs = args.backend !== undefined && args.backend !== "";
  if (!fromArgs && (env === undefined || env.trim() === "")) return { source: "automatic", where: "", undo: "" };
  const raw = fromArgs ? String(args.backend) : String(env);
  const where = fromArgs ? `setupBackend({backend: ${JSON.stringify(raw)}})` : `TFJS_BACKEND=${raw}`;
  const undo = fromArgs ? "choose another backend" : "unset TFJS_BACKEND";
  const source = fromArgs ? "args" : "TFJS_BACKEND";
  const v = raw.trim().toLowerCase();
  if (v === "auto") return { source, where, undo };
  const backend = BACKENDS.find((b) => b.choice === v);
  if (!backend) {
    throw new Error(
      `${where}: unknown backend ${JSON.stringify(raw)}; use one of ${BACKENDS.map((b) => b.choice).join(", ")} (or auto), or ${undo}`,
    );
  }
  return { backend, source, where, undo };
}

/** The error an explicit choice that cannot be met gives (thrown, or described). */
const requestError = (request: Request, a: { reason: string; remedy?: string }) =>
  `${request.where}: ${a.reason}; ${a.remedy ? `${a.remedy}, or ` : ""}${request.undo}`;

/** The backend setupBackend chose in this process, and how it was picked (the tail of its reason). */
let current: { info: BackendInfo; backend: Backend; how: string } | undefined;
let pending: Promise<unknown> | undefined;

/**
 * Chooses and initialises the tfjs backend; call it before any tensor op. Throws when an explicit
 * choice cannot be met, naming the reason and the remedy. Calling it again keeps the backend
 * chosen before unless a different one is named explicitly.
 */
export async function setupBackend(args: SetupBackendArgs = {}): Promise<BackendInfo> {
  const request = parseRequest(args);
  while (pending) await pending.catch(() => undefined);
  const run = choose(request, args);
  pending = run;
  try {
    return { ...(await run) };
  } finally {
    pending = undefined;
  }
}

async function choose(request: Request, args: SetupBackendArgs): Promise<BackendInfo> {
  const opts: StartOptions = { loader: args.loader ?? nodeLoader, matmulFix: args.matmulFix ?? DEFAULT_MATMUL_FIX };
  if (
    current &&
    tf.getBackend() === current.info.tfBackend &&
    (!request.backend || request.backend === current.backend)
  ) {
    if (current.backend.restartFor?.(current.info, opts)) {
      const a = await current.backend.start(opts);
      if (a.ok) current.info = { ...current.info, ...a.extra, reason: `${a.reason}; ${current.how}` };
    }
    return current.info;
  }
  const finish = (backend: Backend, a: Attempt, skipped: SkippedBackend[], how: string): BackendInfo => {
    const versions: Record<string, string> = { tfjs: tf.version.tfjs, "tfjs-core": tf.version_core };
    const v = packageVersion(opts.loader, backend.pkg);
    if (v) versions[backend.pkg] = v;
    Object.assign(versions, a.extra?.versions ?? {}, { node: process.versions.node });
    const info: BackendInfo = {
      ...a.extra,
      name: backend.name,
      tfBackend: tf.getBackend(),
      source: request.source,
      reason: `${a.reason}; ${how}`,
      skipped,
      versions,
    };
    current = { info, backend, how };
    return info;
  };
  if (request.backend) {
    const a = await request.backend.start(opts);
    if (!a.ok) throw new Error(requestError(request, a));
    return finish(request.backend, a, [], `requested by ${request.where}`);
  }
  const skipped: SkippedBackend[] = [];
  for (const backend of BACKENDS) {
    const a = await backend.start(opts);
    if (a.ok)
      return finish(
        backend,
        a,
        skipped,
        `first that works in the automatic order (${BACKENDS.map((b) => b.name).join(", ")})`,
      );
    skipped.push({ candidate: backend.name, reason: a.reason, remedy: a.remedy });
  }
  throw new Error("setupBackend: no backend could be initialised, not even the pure-JS cpu backend");
}

async function statusOf(backend: Backend, loader: PackageLoader): Promise<CandidateStatus> {
  return { candidate: backend.name, ...(await backend.status(loader)) };
}

/**
 * What setupBackend would choose, without changing tfjs's backend or loading native TensorFlow
 * (it looks for a WebGPU adapter, which loads Dawn only where a Vulkan loader exists). Used by
 * `npm run kernel:doctor`. An unknown TFJS_BACKEND throws as setupBackend would.
 */
export async function describeBackendChoice(args: SetupBackendArgs = {}): Promise<BackendChoiceDescription> {
  const request = parseRequest(args);
  const loader = args.loader ?? nodeLoader;
  if (request.backend) {
    const s = await statusOf(request.backend, loader);
    if (s.available === "no") {
      const error = requestError(request, s);
      return { name: "none", reason: error, source: request.source, candidates: [s], error };
    }
    return {
      name: s.candidate,
      reason: `${s.reason}; requested by ${request.where}`,
      source: request.source,
      candidates: [s],
    };
  }
  const candidates: CandidateStatus[] = [];
  for (const backend of BACKENDS) candidates.push(await statusOf(backend, loader));
  const pick = candidates.find((c) => c.available !== "no") ?? candidates[candidates.length - 1];
  const passed = candidates.slice(0, candidates.indexOf(pick)).map((c) => `${c.candidate}: ${c.reason}`);
  const reason = `${pick.reason}${passed.length ? `; skipped ${passed.join("; ")}` : ""}`;
  return { name: pick.candidate, reason, source: "automatic", candidates };
}

/** Human text for a BackendInfo; the first line is `backend: <name>` (the lesson runner parses it). */
export function formatBackendInfo(info: BackendInfo): string {
  const details = BACKENDS.find((b) => b.name === info.name)?.details?.(info) ?? [];
  const lines = [
    `backend: ${info.name}`,
    `  tf.getBackend(): ${info.tfBackend}`,
    `  why: ${info.reason}`,
    ...details.map((d) => `  ${d}`),
  ];
  for (const s of info.skipped) {
    lines.push(`  skipped ${s.candidate}: ${s.reason}`);
    if (s.remedy) lines.push(`    to use it: ${s.remedy}`);
  }
  lines.push(
    `  versions: ${Object.entries(info.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  return lines.join("\n");
}
