// WebGPU in Node: Dawn's binding (the `webgpu` npm package) provides navigator.gpu and
// @tensorflow/tfjs-backend-webgpu runs on it. Needs only a GPU with a Vulkan driver (no CUDA);
// on CPU-only machines there is no adapter (Dawn rejects Mesa's lavapipe) and we say why.
import * as fs from "fs";
import * as path from "path";

export const WEBGPU_BACKEND_PACKAGE = "@tensorflow/tfjs-backend-webgpu";
export const DAWN_PACKAGE = "webgpu";
export const WEBGPU_REMEDY =
  "WebGPU needs a GPU whose driver provides Vulkan (NVIDIA's driver with its Vulkan ICD, or Mesa radv/anv for AMD/Intel); " +
  "on CPU-only machines use TFJS_BACKEND=wasm";

/** How backend packages are found and loaded; tests substitute fakes. */
export interface PackageLoader {
  /** The resolved entry of a package, or undefined when it is not installed. */
  resolve(id: string): string | undefined;
  /** Loads a package (require); throws what loading throws. */
  load(id: string): unknown;
}

/** Node's own resolution from this project's node_modules. */
export const nodeLoader: PackageLoader = {
  resolve(id) {
    try {
      return require.resolve(id);
    } catch {
      return undefined;
    }
  },
  load: (id) => require(id),
};

/** Outcome of looking for a WebGPU adapter. */
export interface WebGpuProbe {
  ok: boolean;
  /** Why it can or cannot run: the adapter's name, or what is missing. */
  reason: string;
  /** What to do about a failure. */
  remedy?: string;
  /** Adapter description (vendor, architecture, device) when one was found. */
  adapter?: string;
  /** The GPU object to install as navigator.gpu when ok. */
  gpu?: GpuLike;
  /** Dawn's WebGPU globals (GPUBufferUsage, ...) that tfjs-backend-webgpu reads. */
  globals?: Record<string, unknown>;
}

/** The part of the WebGPU API the probe touches (Dawn's `create()` result). */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

const VULKAN_LIB_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/lib/x86_64-linux-gnu",
  "/usr/local/lib",
];
const VULKAN_ICD_DIRS = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];

/** What Vulkan this Linux machine has: the loader library and the driver manifests (ICDs). */
export function vulkanStatus(): { loader: boolean; icds: string[] } {
  const extraDirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean);
  const loader = [...extraDirs, ...VULKAN_LIB_DIRS].some((d) => fs.existsSync(path.join(d, "libvulkan.so.1")));
  const icdFiles = (process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? "").split(":").filter(Boolean);
  const icds =
    icdFiles.length > 0
      ? icdFiles.map((f) => path.basename(f))
      : VULKAN_ICD_DIRS.flatMap((d) => {
          try {
            return fs.readdirSync(d).filter((f) => f.endsWith(".json"));
          } catch {
            return [];
          }
        });
  return { loader, icds };
}

/** Why Dawn found no adapter here, in words (Linux: from the Vulkan loader and ICDs). */
export function explainNoAdapter(status = process.platform === "linux" ? vulkanStatus() : undefined): string {
  if (!status) return `Dawn found no WebGPU adapter on ${process.platform}`;
  if (!status.loader) return "no Vulkan loader (libvulkan.so.1 not found), so Dawn has no GPU to use";
  if (status.icds.length === 0)
    return "no Vulkan driver installed (no ICD manifest in /usr/share/vulkan/icd.d), so Dawn found no adapter";
  const soft = status.icds.filter((f) => /^lvp_icd|lavapipe|swiftshader/i.test(f));
  if (soft.length === status.icds.length) {
    return (
      `only software Vulkan is installed (${status.icds.join(", ")}: Mesa lavapipe), which Dawn rejects ` +
      "(it lacks shaderUniform*ArrayDynamicIndexing), so there is no WebGPU adapter"
    );
  }
  return `Vulkan drivers are installed (${status.icds.join(", ")}) but Dawn returned no adapter (is the GPU driver loaded?)`;
}

/** Loads Dawn's binding. The `webgpu` package is ESM; Node >= 20.19 can require() it. */
function loadDawn(loader: PackageLoader): DawnModule {
  const mod = loader.load(DAWN_PACKAGE) as Partial<DawnModule> & { default?: Partial<DawnModule> };
  const dawn = typeof mod.create === "function" ? mod : mod.default;
  if (!dawn || typeof dawn.create !== "function") throw new Error("the webgpu package exports no create()");
  return dawn as DawnModule;
}

/** Looks for a WebGPU adapter without touching tfjs: packages, Vulkan, Dawn, adapter. */
export async function probeWebGpu(loader: PackageLoader = nodeLoader): Promise<WebGpuProbe> {
  const install = `npm install ${WEBGPU_BACKEND_PACKAGE}@4.22.0 ${DAWN_PACKAGE}`;
  const missing = [WEBGPU_BACKEND_PACKAGE, DAWN_PACKAGE].filter((p) => loader.resolve(p) === undefined);
  if (missing.length > 0) {
    const what = missing.map((p) => (p === DAWN_PACKAGE ? "webgpu (Dawn's Node binding)" : p)).join(" and ");
    return {
      ok: false,
      reason: `${what} ${missing.length > 1 ? "are" : "is"} not installed`,
      remedy: `${install}, on a machine with a GPU whose driver provides Vulkan`,
    };
  }
  if (process.platform === "linux" && loader === nodeLoader) {
    // Without a Vulkan loader Dawn cannot find a GPU; skip loading it (and its stderr warnings).
    const status = vulkanStatus();
    if (!status.loader) return { ok: false, reason: explainNoAdapter(status), remedy: WEBGPU_REMEDY };
  }
  let dawn: DawnModule;
  try {
    dawn = loadDawn(loader);
  } catch (e) {
    const msg = String((e as Error).message).split("\n")[0];
    return {
      ok: false,
      reason: `the webgpu package (Dawn) failed to load: ${msg}`,
      remedy: `reinstall it (${install}); it ships prebuilt dawn.node for linux-x64, darwin and win32 and needs Node >= 20.19`,
    };
  }
  try {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) return { ok: false, reason: explainNoAdapter(), remedy: WEBGPU_REMEDY };
    const info = adapter.info ?? {};
    const name =
      [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(" ") || "unnamed adapter";
    return { ok: true, reason: `WebGPU adapter found: ${name}`, adapter: name, gpu, globals: dawn.globals };
  } catch (e) {
    return {
      ok: false,
      reason: `Dawn could not request an adapter: ${String((e as Error).message).split("\n")[0]}`,
      remedy: WEBGPU_REMEDY,
    };
  }
}

/** Makes a probed GPU navigator.gpu and defines Dawn's WebGPU globals (GPUBufferUsage, ...),
 * which tfjs-backend-webgpu reads when it loads. Node 20 has no navigator; 21+ has one without gpu. */
export function installNavigatorGpu(probe: WebGpuProbe): void {
  for (const [k, v] of Object.entries(probe.globals ?? {})) {
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  const g = globalThis as unknown as { navigator?: object };
  if (g.navigator && typeof g.navigator === "object") {
    Object.defineProperty(g.navigator, "gpu", { value: probe.gpu, configurable: true, writable: true });
  } else {
    Object.defineProperty(globalThis, "navigator", { value: { gpu: probe.gpu }, configurable: true, writable: true });
  }
}
