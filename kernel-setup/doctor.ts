// `npm run kernel:doctor`: one OK/MISSING/FAIL line per thing the lessons need — Jupyter, the
// registered kernel, a kernel that starts and answers 1+1, the backend that would be chosen,
// what the tests also need (kernel test suite, Chromium, MathJax) and what the GPU backend needs.
// Only Jupyter/kernel problems make it exit non-zero.
import fs from "fs";
import path from "path";
import { performance } from "perf_hooks";
import { GPU_LIBRARIES, findLibraries, nvidiaDriver, visibleLibraries, type LibraryEntry } from "./gpu";
import { detectInstallEnvironment, manualAptCommand, missingNeeds, probeSystem, type SystemState } from "./ensure";
import {
  JUPYTER_REMEDY,
  KERNEL_NAME,
  PROJECT_ROOT,
  findJupyter,
  getKernelSpec,
  kernelSpecJson,
  smokeKernel,
  specMatches,
} from "../src/cli/jupyter";

export type CheckStatus = "OK" | "MISSING" | "FAIL" | "INFO";

export interface Check {
  status: CheckStatus;
  label: string;
  detail: string;
  remedy?: string;
  /** A critical check that is not OK makes the doctor exit 1. */
  critical: boolean;
}

export function formatCheck(c: Check): string {
  const head = `${c.status.padEnd(8)} ${c.label}: ${c.detail}`;
  return c.remedy && c.status !== "OK" ? `${head}\n         -> ${c.remedy}` : head;
}

export function doctorExitCode(checks: Check[]): number {
  return checks.some((c) => c.critical && c.status !== "OK" && c.status !== "INFO") ? 1 : 0;
}

/** What src/backend/backend.ts's describeBackendChoice() returns (only the fields the doctor prints). */
interface BackendChoiceLike {
  name: string;
  reason: string;
  /** Set when an explicitly requested backend cannot be used. */
  error?: string;
}

async function backendCheck(): Promise<Check> {
  const label = "backend";
  const modPath = path.join(PROJECT_ROOT, "src", "backend", "backend");
  if (!fs.existsSync(`${modPath}.ts`)) {
    return { status: "INFO", label, detail: "src/backend/backend.ts is not in this checkout", critical: false };
  }
  try {
    const mod = (await import(modPath)) as {
      describeBackendChoice?: () => BackendChoiceLike | Promise<BackendChoiceLike>;
    };
    if (typeof mod.describeBackendChoice !== "function") {
      return {
        status: "INFO",
        label,
        detail: "src/backend/backend.ts exports no describeBackendChoice()",
        critical: false,
      };
    }
    const choice = await mod.describeBackendChoice();
    if (choice.error) return { status: "FAIL", label, detail: `${choice.name}: ${choice.error}`, critical: false };
    return { status: "INFO", label, detail: `${choice.name} (${choice.reason})`, critical: false };
  } catch (e) {
    return { status: "FAIL", label, detail: `describeBackendChoice() threw: ${(e as Error).message}`, critical: false };
  }
}

function tfjsNodeGpuCheck(): Check {
  const label = "@tensorflow/tfjs-node-gpu";
  try {
    const pkg = require.resolve("@tensorflow/tfjs-node-gpu/package.json", { paths: [PROJECT_ROOT] });
    const version = (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
    return { status: "OK", label, detail: `installed, ${version}`, critical: false };
  } catch {
    return {
      status: "MISSING",
      label,
      detail: "not installed (lessons use WASM/CPU)",
      remedy:
        "on a machine with internet and an NVIDIA GPU: `npm install @tensorflow/tfjs-node-gpu@4.22.0` (its install downloads libtensorflow 2.9.1)",
      critical: false,
    };
  }
}

function driverCheck(): Check {
  const label = "NVIDIA driver";
  const { driver, gpus } = nvidiaDriver();
  if (!driver) {
    return {
      status: "MISSING",
      label,
      detail: "no /proc/driver/nvidia/version and no nvidia-smi",
      remedy:
        "needed only for the GPU backend: install the NVIDIA driver for your GPU (Debian: `nvidia-driver` from non-free; Ubuntu: `ubuntu-drivers install`)",
      critical: false,
    };
  }
  const names = gpus.map((g) => `${g.name} ${g.memory}`).join("; ");
  return { status: "OK", label, detail: `driver ${driver}${names ? `, ${names}` : ""}`, critical: false };
}

export function libraryChecks(entries: LibraryEntry[]): Check[] {
  return GPU_LIBRARIES.map((req): Check => {
    const found = findLibraries(req.sonames, entries);
    const missing = found.filter((f) => f.path === null).map((f) => `${f.soname}*`);
    if (missing.length === 0) {
      return { status: "OK", label: req.label, detail: found.map((f) => f.path).join(", "), critical: false };
    }
    return {
      status: "MISSING",
      label: req.label,
      detail: `not found via ldconfig -p or LD_LIBRARY_PATH: ${missing.join(", ")}`,
      remedy: req.remedy,
      critical: false,
    };
  });
}

/** What `npm test` needs beyond the lessons (ensure --tests installs it), one non-critical check each. */
export function testToolChecks(state: SystemState, isRoot = false): Check[] {
  const missing = missingNeeds(state, true);
  const check = (label: string, present: boolean, detail: string, match: (what: string) => boolean): Check => {
    const need = missing.find((n) => match(n.what));
    return {
      status: present ? "OK" : "MISSING",
      label,
      detail: present ? detail : `${need?.what ?? "not found"} (needed by ${need?.neededBy ?? "npm test"})`,
      remedy: need
        ? need.packages.length > 0
          ? `${manualAptCommand(need.packages, isRoot)} (npm test installs it itself as root or with passwordless sudo); or ${need.otherwise}`
          : need.otherwise
        : undefined,
      critical: false,
    };
  };
  return [
    check(
      "jupyter_kernel_test (npm test)",
      Boolean(state.jupyter?.jupyterKernelTest),
      `${state.jupyter?.jupyterKernelTest ?? ""}`,
      (w) => w === "jupyter_kernel_test",
    ),
    check("Chromium (browser test)", state.chromium.present, state.chromium.path, (w) => w.startsWith("Chromium")),
    check("MathJax (site formulas)", state.mathjax !== null, state.mathjax ?? "", (w) => w.startsWith("MathJax")),
  ];
}

export async function runDoctor(log: (line: string) => void = console.log): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => {
    checks.push(c);
    log(formatCheck(c));
  };
  const { found } = findJupyter();
  if (!found) {
    add({
      status: "MISSING",
      label: "Jupyter",
      detail: "no Python with jupyter_client",
      remedy: JUPYTER_REMEDY,
      critical: true,
    });
  } else {
    const missing = (["nbclient", "nbformat"] as const).filter((m) => found[m] === null);
    const versions = `Python ${found.pythonVersion}, jupyter_client ${found.jupyterClient}, jupyter_core ${found.jupyterCore}, nbclient ${found.nbclient}, nbformat ${found.nbformat}`;
    add({
      status: missing.length === 0 ? "OK" : "MISSING",
      label: "Jupyter",
      detail: `${found.python} (${versions})`,
      remedy: `the lesson runner also needs ${missing.join(", ")}: ${JUPYTER_REMEDY.split("\n")[1].trim()}`,
      critical: true,
    });
    const wanted = kernelSpecJson();
    const spec = getKernelSpec(found.python);
    const registered = specMatches(spec, wanted);
    add({
      status: registered ? "OK" : spec.found ? "FAIL" : "MISSING",
      label: `kernel ${KERNEL_NAME}`,
      detail: !spec.found
        ? `not registered (user kernels dir ${spec.userKernelsDir})`
        : `${spec.resourceDir}: ${registered ? "points at this checkout" : `argv ${JSON.stringify(spec.spec?.argv)} differs from ${JSON.stringify(wanted.argv)}`}`,
      remedy: "run `npm run kernel:install`",
      critical: true,
    });
    if (spec.found) {
      const t0 = performance.now();
      const notebooks = path.join(PROJECT_ROOT, "notebooks");
      const smoke = smokeKernel(found.python, fs.existsSync(notebooks) ? notebooks : PROJECT_ROOT);
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const ok = smoke.status === "ok" && smoke.text === "2";
      add({
        status: ok ? "OK" : "FAIL",
        label: "kernel starts",
        detail: ok
          ? `1+1 = 2 (${seconds} s)`
          : `status ${smoke.status}, result ${JSON.stringify(smoke.text)}, ${smoke.error ?? "no error text"}`,
        remedy:
          "run `npm install` (tslab), then `npm run kernel:install`; start Jupyter with --debug to see the kernel's log",
        critical: true,
      });
    }
  }
  if (found) for (const c of testToolChecks(probeSystem(), detectInstallEnvironment().isRoot)) add(c);
  add(await backendCheck());
  add(tfjsNodeGpuCheck());
  add(driverCheck());
  for (const c of libraryChecks(visibleLibraries())) add(c);
  return checks;
}
