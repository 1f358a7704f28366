// GPU readiness for @tensorflow/tfjs-node-gpu 4.22 (libtensorflow 2.9.1: CUDA 11.x, cuDNN 8):
// pure parsers for `ldconfig -p`, /proc/driver/nvidia/version and nvidia-smi, plus the probes
// that feed them. Used by `npm run kernel:doctor`.
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";

/** One shared library the dynamic loader can find. */
export interface LibraryEntry {
  soname: string;
  path: string;
}

/** A group of libraries checked together, with the fix when any is missing. */
export interface LibraryRequirement {
  label: string;
  /** Soname prefixes, e.g. `libcudart.so.11` (matches libcudart.so.11 and libcudart.so.11.0, not .110). */
  sonames: string[];
  remedy: string;
}

export const GPU_LIBRARIES: LibraryRequirement[] = [
  {
    label: "CUDA 11 runtime (libcudart.so.11*)",
    sonames: ["libcudart.so.11"],
    remedy:
      "install a CUDA 11.x runtime (11.2 or later 11.x): NVIDIA's apt repo `cuda-cudart-11-8`, or `pip install nvidia-cuda-runtime-cu11`, and put its lib folder on LD_LIBRARY_PATH",
  },
  {
    label: "CUDA 11 math libraries (cublas, cublasLt, cufft, curand, cusolver, cusparse)",
    sonames: [
      "libcublas.so.11",
      "libcublasLt.so.11",
      "libcufft.so.10",
      "libcurand.so.10",
      "libcusolver.so.11",
      "libcusparse.so.11",
    ],
    remedy:
      "install the CUDA 11.x math libraries: NVIDIA's `cuda-libraries-11-8`, or `pip install nvidia-cublas-cu11 nvidia-cufft-cu11 nvidia-curand-cu11 nvidia-cusolver-cu11 nvidia-cusparse-cu11`, and put their lib folders on LD_LIBRARY_PATH",
  },
  {
    label: "cuDNN 8 (libcudnn.so.8*)",
    sonames: ["libcudnn.so.8"],
    remedy:
      "install cuDNN 8 for CUDA 11: NVIDIA's `libcudnn8` package, or `pip install nvidia-cudnn-cu11==8.9.*`, and put its lib folder on LD_LIBRARY_PATH",
  },
];

/** Parses `ldconfig -p`: lines like `\tlibcudart.so.11.0 (libc6,x86-64) => /usr/lib/libcudart.so.11.0`. */
export function parseLdconfig(text: string): LibraryEntry[] {
  const out: LibraryEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\S+)\s+\([^)]*\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (m) out.push({ soname: m[1], path: m[2] });
  }
  return out;
}

/** Library files in the given folders (LD_LIBRARY_PATH); unreadable folders are skipped. */
export function listLibraryDirs(dirs: string[], readdir: (d: string) => string[] = fs.readdirSync): LibraryEntry[] {
  const out: LibraryEntry[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) if (name.includes(".so")) out.push({ soname: name, path: path.join(dir, name) });
  }
  return out;
}

/** True when `file` is the soname `prefix` or a more specific version of it (`prefix.N...`). */
export function sonameMatches(prefix: string, file: string): boolean {
  return file === prefix || file.startsWith(`${prefix}.`);
}

/** For each soname prefix, the first matching entry's path, or null when none matches. */
export function findLibraries(sonames: string[], entries: LibraryEntry[]): { soname: string; path: string | null }[] {
  return sonames.map((soname) => ({
    soname,
    path: entries.find((e) => sonameMatches(soname, e.soname))?.path ?? null,
  }));
}

/** Driver version from /proc/driver/nvidia/version (`NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05 ...`). */
export function parseNvidiaProcVersion(text: string): string | null {
  const m = /NVRM version:.*?\s(\d+\.\d+(?:\.\d+)?)\s/.exec(text + " ");
  return m ? m[1] : null;
}

export interface GpuInfo {
  name: string;
  driver: string;
  memory: string;
}

/** Parses `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => l.split(",").map((f) => f.trim()))
    .filter((f) => f.length >= 3)
    .map(([name, driver, memory]) => ({ name, driver, memory }));
}

/** Every library the loader can see: `ldconfig -p` plus LD_LIBRARY_PATH folders. */
export function visibleLibraries(ldLibraryPath: string = process.env.LD_LIBRARY_PATH ?? ""): LibraryEntry[] {
  const entries = listLibraryDirs(ldLibraryPath.split(":").filter((d) => d !== ""));
  for (const ldconfig of ["ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"]) {
    const r = spawnSync(ldconfig, ["-p"], { encoding: "utf8", timeout: 10_000 });
    if (!r.error && r.status === 0) {
      entries.push(...parseLdconfig(r.stdout));
      break;
    }
  }
  return entries;
}

export interface DriverInfo {
  driver: string | null;
  gpus: GpuInfo[];
}

/** The NVIDIA driver version and GPUs, from /proc and nvidia-smi; nulls/empty when absent. */
export function nvidiaDriver(): DriverInfo {
  let driver: string | null = null;
  try {
    driver = parseNvidiaProcVersion(fs.readFileSync("/proc/driver/nvidia/version", "utf8"));
  } catch {
    driver = null;
  }
  const r = spawnSync("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  const gpus = !r.error && r.status === 0 ? parseNvidiaSmi(r.stdout) : [];
  return { driver: driver ?? gpus[0]?.driver ?? null, gpus };
}
