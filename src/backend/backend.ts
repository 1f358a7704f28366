// Backend choice, the one call notebooks make first: the backend TFJS_BACKEND (or the argument)
// names, else the first that works of tfjs-node-gpu, tfjs-node, WebGPU, WASM (with the fast
// matmul kernels) and pure JS; it reports what it chose, what it skipped and why.
import * as tf from "@tensorflow/tfjs";
import { installWasmMatMulFix, uninstallWasmMatMulFix } from "./wasm-matmul";
import { DAWN_PACKAGE, PackageLoader, WEBGPU_BACKEND_PACKAGE, installNavigatorGpu, nodeLoader, probeWebGpu } from "./webgpu";

/** Names TFJS_BACKEND and `setupBackend({backend})` accept, in the automatic order. */
export const BACKEND_CHOICES = ["gpu", "node", "webgpu", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** What was chosen: tf.getBackend()'s value, with the two TensorFlow builds told apart. */
export type BackendName = "tensorflow-gpu" | "tensorflow" | "webgpu" | "wasm" | "cpu";
export const BACKEND_LABELS: Readonly<Record<BackendChoice, BackendName>> = {
  gpu: "tensorflow-gpu", node: "tensorflow", webgpu: "webgpu", wasm: "wasm", cpu: "cpu",
};
/** The npm package behind each choice. */
export const BACKEND_PACKAGES: Readonly<Record<BackendChoice, string>> = {
  gpu: "@tensorflow/tfjs-node-gpu", node: "@tensorflow/tfjs-node", webgpu: WEBGPU_BACKEND_PACKAGE,
  wasm: "@tensorflow/tfjs-backend-wasm", cpu: "@tensorflow/tfjs-backend-cpu",
};
export const DEFAULT_MATMUL_FIX = true;

export interface SetupBackendArgs {
  /** 'gpu' | 'node' | 'webgpu' | 'wasm' | 'cpu', or 'auto'; wins over TFJS_BACKEND (default: TFJS_BACKEND, else automatic). */
  backend?: string;
  /** On WASM, run transposed and batched matmuls through XNNPACK (default true; false keeps the stock kernels, for comparisons). */
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

interface Request {
  choice: BackendChoice | "auto";
  source: BackendInfo["source"];
  /** How the request is named in errors: `TFJS_BACKEND=gpu` or `setupBackend({backend: "gpu"})`. */
  where: string;
  /** How to drop the request, for remedies. */
  undo: string;
}

function parseRequest(args: SetupBackendArgs): Request {
  const env = process.env.TFJS_BACKEND;
  const fromArgs = args.backend !== undefined && args.backend !== "";
  if (!fromArgs && (env === undefined || env.trim() === "")) return { choice: "auto", source: "automatic", where: "", undo: "" };
  const raw = fromArgs ? String(args.backend) : String(env);
  const where = fromArgs ? `setupBackend({backend: ${JSON.stringify(raw)}})` : `TFJS_BACKEND=${raw}`;
  const undo = fromArgs ? "choose another backend" : "unset TFJS_BACKEND";
  const v = raw.trim().toLowerCase();
  if (v === "auto") return { choice: "auto", source: fromArgs ? "args" : "TFJS_BACKEND", where, undo };
  if (!(BACKEND_CHOICES as readonly string[]).includes(v)) {
    throw new Error(`${where}: unknown backend ${JSON.stringify(raw)}; use one of ${BACKEND_CHOICES.join(", ")} (or auto), or ${undo}`);
  }
  return { choice: v as BackendChoice, source: fromArgs ? "args" : "TFJS_BACKEND", where, undo };
}

function packageVersion(loader: PackageLoader, pkg: string): string | undefined {
  try {
    return (loader.load(`${pkg}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const firstLine = (e: unknown) => String(e instanceof Error ? e.message : e).split("\n")[0];

const TF_NOT_INSTALLED = "is not installed (its install downloads libtensorflow, which needs network access)";
function tensorflowRemedy(choice: "gpu" | "node", installed: boolean): string {
  const pkg = BACKEND_PACKAGES[choice];
  if (choice === "gpu") {
    return installed
      ? "reinstall it where libtensorflow can be downloaded, and make the CUDA 11.2 and cuDNN 8.1 libraries visible (LD_LIBRARY_PATH); npm run kernel:doctor checks them"
      : `install it with npm install ${pkg}@${tf.version_core} on Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1`;
  }
  return installed
    ? `reinstall it where libtensorflow can be downloaded (npm rebuild ${pkg})`
    : `install it with npm install ${pkg}@${tf.version_core} on Linux, macOS or Windows x64 where the install can reach the network`;
}

/** Which TensorFlow package this process loaded; the two cannot share a process. */
let tensorflowPackage: string | undefined;

async function tryTensorflow(choice: "gpu" | "node", loader: PackageLoader): Promise<Attempt> {
  const pkg = BACKEND_PACKAGES[choice];
  if (loader.resolve(pkg) === undefined) return { ok: false, reason: `${pkg} ${TF_NOT_INSTALLED}`, remedy: tensorflowRemedy(choice, false) };
  if (tensorflowPackage !== undefined && tensorflowPackage !== pkg) {
    return { ok: false, reason: `${tensorflowPackage} is already loaded in this process and owns the 'tensorflow' backend`, remedy: "restart the kernel to switch between tfjs-node and tfjs-node-gpu" };
  }
  try {
    loader.load(pkg);
  } catch (e) {
    return { ok: false, reason: `${pkg} is installed but failed to load: ${firstLine(e)}`, remedy: tensorflowRemedy(choice, true) };
  }
  tensorflowPackage = pkg;
  if (!tf.findBackendFactory("tensorflow")) {
    return { ok: false, reason: `${pkg} loaded but registered its backend with another copy of @tensorflow/tfjs-core`, remedy: `install ${pkg}@${tf.version_core}, the version of @tensorflow/tfjs, so npm shares one tfjs-core` };
  }
  if (!(await tf.setBackend("tensorflow"))) {
    return { ok: false, reason: `${pkg} loaded but the 'tensorflow' backend failed to initialise`, remedy: tensorflowRemedy(choice, true) };
  }
  // NodeJSKernelBackend's public fields, not in tfjs-core's KernelBackend type.
  const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: string } };
  const cudaGpuVisible = be.isUsingGpuDevice === true;
  const versions: Record<string, string> = {};
  if (be.binding?.TF_Version) versions.libtensorflow = be.binding.TF_Version;
  const what = choice === "gpu"
    ? `TensorFlow C library with CUDA (${pkg}); ${cudaGpuVisible ? "ops run on a CUDA GPU" : "no CUDA GPU visible, so TensorFlow runs on the CPU"}`
    : `TensorFlow C library on the CPU (${pkg})`;
  return { ok: true, reason: what, extra: { cudaGpuVisible, versions } };
}

async function tryWebGpu(loader: PackageLoader): Promise<Attempt> {
  const probe = await probeWebGpu(loader);
  if (!probe.ok || !probe.gpu) return { ok: false, reason: probe.reason, remedy: probe.remedy };
  installNavigatorGpu(probe);
  try {
    loader.load(WEBGPU_BACKEND_PACKAGE);
  } catch (e) {
    return { ok: false, reason: `${WEBGPU_BACKEND_PACKAGE} failed to load: ${firstLine(e)}`, remedy: `reinstall it: npm install ${WEBGPU_BACKEND_PACKAGE}@${tf.version_core}` };
  }
  if (!tf.findBackendFactory("webgpu")) {
    return { ok: false, reason: `${WEBGPU_BACKEND_PACKAGE} registered no 'webgpu' backend with this tfjs-core`, remedy: `install ${WEBGPU_BACKEND_PACKAGE}@${tf.version_core}, the version of @tensorflow/tfjs` };
  }
  if (!(await tf.setBackend("webgpu"))) {
    return { ok: false, reason: `tfjs-backend-webgpu could not create a device on ${probe.adapter}`, remedy: "update the GPU driver, or use TFJS_BACKEND=wasm" };
  }
  const versions: Record<string, string> = {};
  const dawnVersion = packageVersion(loader, DAWN_PACKAGE);
  if (dawnVersion) versions[DAWN_PACKAGE] = dawnVersion;
  return { ok: true, reason: `WebGPU through Dawn on ${probe.adapter}`, extra: { adapter: probe.adapter, versions } };
}

async function tryWasm(loader: PackageLoader, matmulFix: boolean): Promise<Attempt> {
  let wasm: { getThreadsCount?: () => number };
  try {
    wasm = loader.load(BACKEND_PACKAGES.wasm) as typeof wasm;
  } catch (e) {
    return { ok: false, reason: `${BACKEND_PACKAGES.wasm} failed to load: ${firstLine(e)}`, remedy: `reinstall it: npm install ${BACKEND_PACKAGES.wasm}@${tf.version_core}` };
  }
  if (matmulFix) installWasmMatMulFix();
  else uninstallWasmMatMulFix();
  if (!(await tf.setBackend("wasm"))) {
    return { ok: false, reason: "the WASM backend failed to initialise (see the warning above)", remedy: `reinstall ${BACKEND_PACKAGES.wasm}; its .wasm files must sit in its dist/ folder` };
  }
  const threads = wasm.getThreadsCount?.() ?? 1;
  const fix = matmulFix ? "transposed and batched matmuls run through XNNPACK" : "stock matmul kernels (transposed products run a scalar loop)";
  return { ok: true, reason: `WebAssembly with XNNPACK on the CPU, ${threads} thread${threads === 1 ? "" : "s"}; ${fix}`, extra: { matmulFix, threads } };
}

async function tryCpu(): Promise<Attempt> {
  await tf.setBackend("cpu");
  // tfjs prints its "install tfjs-node" banner on the first tensor written to the cpu
  // backend; this choice is deliberate and reported, so mark the backend as used.
  const be = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof be.firstUse === "boolean") be.firstUse = false;
  return { ok: true, reason: "pure JavaScript on the CPU (slowest; plan for LESSON_SCALE=smoke)" };
}

function attempt(choice: BackendChoice, loader: PackageLoader, matmulFix: boolean): Promise<Attempt> {
  switch (choice) {
    case "gpu":
    case "node":
      return tryTensorflow(choice, loader);
    case "webgpu":
      return tryWebGpu(loader);
    case "wasm":
      return tryWasm(loader, matmulFix);
    case "cpu":
      return tryCpu();
  }
}

let current: BackendInfo | undefined;
/** How `current` was picked (the tail of its reason). */
let currentHow = "";
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
  const loader = args.loader ?? nodeLoader;
  const matmulFix = args.matmulFix ?? DEFAULT_MATMUL_FIX;
  const keep = current !== undefined && tf.getBackend() === current.tfBackend &&
    (request.choice === "auto" || BACKEND_LABELS[request.choice] === current.name);
  if (current && keep) {
    if (current.name === "wasm" && current.matmulFix !== matmulFix) {
      const a = await tryWasm(loader, matmulFix);
      if (a.ok) current = { ...current, ...a.extra, reason: `${a.reason}; ${currentHow}` };
    }
    return current;
  }
  const base = { tfjs: tf.version.tfjs, "tfjs-core": tf.version_core };
  const finish = (choice: BackendChoice, a: Attempt, skipped: SkippedBackend[], how: string): BackendInfo => {
    const pkg = BACKEND_PACKAGES[choice];
    const versions: Record<string, string> = { ...base };
    const v = packageVersion(loader, pkg);
    if (v) versions[pkg] = v;
    Object.assign(versions, a.extra?.versions ?? {}, { node: process.versions.node });
    currentHow = how;
    current = { ...a.extra, name: BACKEND_LABELS[choice], tfBackend: tf.getBackend(), source: request.source, reason: `${a.reason}; ${how}`, skipped, versions };
    return current;
  };
  if (request.choice !== "auto") {
    const a = await attempt(request.choice, loader, matmulFix);
    if (!a.ok) throw new Error(`${request.where}: ${a.reason}; ${a.remedy ? `${a.remedy}, or ` : ""}${request.undo}`);
    return finish(request.choice, a, [], `requested by ${request.where}`);
  }
  const skipped: SkippedBackend[] = [];
  for (const choice of BACKEND_CHOICES) {
    const a = await attempt(choice, loader, matmulFix);
    if (a.ok) return finish(choice, a, skipped, `first that works in the automatic order (${BACKEND_CHOICES.map((c) => BACKEND_LABELS[c]).join(", ")})`);
    skipped.push({ candidate: BACKEND_LABELS[choice], reason: a.reason, remedy: a.remedy });
  }
  throw new Error("setupBackend: no backend could be initialised, not even the pure-JS cpu backend");
}

/** The backend setupBackend chose in this process, if it ran. */
export function currentBackendInfo(): BackendInfo | undefined {
  return current ? { ...current } : undefined;
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

async function statusOf(choice: BackendChoice, loader: PackageLoader): Promise<CandidateStatus> {
  const candidate = BACKEND_LABELS[choice];
  const pkg = BACKEND_PACKAGES[choice];
  if (choice === "gpu" || choice === "node") {
    if (loader.resolve(pkg) === undefined) return { candidate, available: "no", reason: `${pkg} ${TF_NOT_INSTALLED}`, remedy: tensorflowRemedy(choice, false) };
    const version = packageVersion(loader, pkg);
    return { candidate, available: "maybe", reason: `${pkg}${version ? ` ${version}` : ""} is installed; setupBackend loads it (native libtensorflow) and uses it if it loads` };
  }
  if (choice === "webgpu") {
    const probe = await probeWebGpu(loader);
    return probe.ok
      ? { candidate, available: "yes", reason: probe.reason }
      : { candidate, available: "no", reason: probe.reason, remedy: probe.remedy };
  }
  if (choice === "wasm") {
    return loader.resolve(pkg) === undefined
      ? { candidate, available: "no", reason: `${pkg} is not installed`, remedy: `npm install ${pkg}@${tf.version_core}` }
      : { candidate, available: "yes", reason: "WebAssembly with XNNPACK on the CPU, with the fast matmul kernels" };
  }
  return { candidate, available: "yes", reason: "pure JavaScript on the CPU" };
}

/**
 * What setupBackend would choose, without changing tfjs's backend or loading native TensorFlow
 * (it looks for a WebGPU adapter, which loads Dawn only where a Vulkan loader exists). Used by
 * `npm run kernel:doctor`. An unknown TFJS_BACKEND throws as setupBackend would.
 */
export async function describeBackendChoice(args: SetupBackendArgs = {}): Promise<BackendChoiceDescription> {
  const request = parseRequest(args);
  const loader = args.loader ?? nodeLoader;
  if (request.choice !== "auto") {
    const s = await statusOf(request.choice, loader);
    if (s.available === "no") {
      const error = `${request.where}: ${s.reason}; ${s.remedy ? `${s.remedy}, or ` : ""}${request.undo}`;
      return { name: "none", reason: error, source: request.source, candidates: [s], error };
    }
    return { name: s.candidate, reason: `${s.reason}; requested by ${request.where}`, source: request.source, candidates: [s] };
  }
  const candidates: CandidateStatus[] = [];
  for (const choice of BACKEND_CHOICES) candidates.push(await statusOf(choice, loader));
  const pick = candidates.find((c) => c.available !== "no") ?? candidates[candidates.length - 1];
  const passed = candidates.slice(0, candidates.indexOf(pick)).map((c) => `${c.candidate}: ${c.reason}`);
  const reason = `${pick.reason}${passed.length ? `; skipped ${passed.join("; ")}` : ""}`;
  return { name: pick.candidate, reason, source: "automatic", candidates };
}

/** Human text for a BackendInfo; the first line is `backend: <name>` (the lesson runner parses it). */
export function formatBackendInfo(info: BackendInfo): string {
  const lines = [`backend: ${info.name}`, `  tf.getBackend(): ${info.tfBackend}`, `  why: ${info.reason}`];
  if (info.cudaGpuVisible !== undefined) lines.push(`  CUDA GPU visible: ${info.cudaGpuVisible ? "yes" : "no"}`);
  if (info.adapter) lines.push(`  WebGPU adapter: ${info.adapter}`);
  if (info.matmulFix !== undefined) lines.push(`  WASM matmul fix: ${info.matmulFix ? "on" : "off"}, threads: ${info.threads ?? 1}`);
  for (const s of info.skipped) {
    lines.push(`  skipped ${s.candidate}: ${s.reason}`);
    if (s.remedy) lines.push(`    to use it: ${s.remedy}`);
  }
  lines.push(`  versions: ${Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  return lines.join("\n");
}
