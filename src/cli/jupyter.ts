// Finds the Python that has Jupyter (jupyter_client, nbclient) and talks to it through
// src/cli/jupyter_helper.py: probe interpreters, read/install/remove the `transfer-lab`
// kernelspec, start the kernel once. Shared by the kernel:* scripts and the lesson runner.
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

export const KERNEL_NAME = "transfer-lab";
export const KERNEL_DISPLAY_NAME = "TypeScript (transfer-lab)";
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const LAUNCHER = path.join(PROJECT_ROOT, "kernel-setup", "launch-kernel.js");
export const HELPER = path.join(__dirname, "jupyter_helper.py");
/** Interpreters tried after the ones on PATH; Debian's Jupyter lives under /usr/bin/python3. */
export const DEFAULT_FIXED_PYTHONS = ["/usr/bin/python3", "/usr/local/bin/python3"];
/** Env var that names the Python to use, tried before anything else. */
export const PYTHON_ENV_VAR = "TRANSFER_LAB_PYTHON";
/** Debian packages that provide everything the kernel and the lesson runner need. */
export const DEBIAN_PACKAGES = ["jupyter-client", "jupyter-nbconvert", "python3-nbclient", "python3-nbformat"];
/** Only the test suite needs these: Jupyter's kernel conformance suite. */
export const DEBIAN_TEST_PACKAGES = ["python3-jupyter-kernel-test"];
const PROBE_TIMEOUT_MS = 30_000;

export const JUPYTER_REMEDY = [
  "Jupyter (a Python with jupyter_client, nbclient and nbformat) was not found.",
  `  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES.join(" ")}`,
  "  any OS:        python3 -m pip install --user jupyter   (or: pip install jupyter in your venv/conda env)",
  `  then run \`npm run kernel:install\`; to force an interpreter set ${PYTHON_ENV_VAR}=/path/to/python3.`,
].join("\n");

/** What one interpreter offers; module versions are null when the module is missing. */
export interface JupyterProbe {
  python: string;
  pythonVersion: string;
  jupyterClient: string | null;
  jupyterCore: string | null;
  nbclient: string | null;
  nbformat: string | null;
  /** jupyter_kernel_test (the conformance suite npm test runs); absent from older probes. */
  jupyterKernelTest?: string | null;
}

/** The kernel.json we register. */
export interface KernelSpecJson {
  argv: string[];
  display_name: string;
  language: string;
  metadata: { transferLabRoot: string };
}

export function kernelSpecJson(nodePath: string = process.execPath, root: string = PROJECT_ROOT): KernelSpecJson {
  return {
    argv: [
      nodePath,
      path.join(root, "kernel-setup", "launch-kernel.js"),
      "kernel",
      "--config-path",
      "{connection_file}",
    ],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    metadata: { transferLabRoot: root },
  };
}

function isExecutableFile(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The interpreter named by a script's `#!/abs/python` line; null for `#!/usr/bin/env ...`. */
export function shebangPython(scriptPath: string): string | null {
  let head: string;
  try {
    head = fs.readFileSync(scriptPath, "utf8").slice(0, 300).split("\n")[0];
  } catch {
    return null;
  }
  const m = /^#!\s*(\/\S*python[\d.]*)\s*$/.exec(head);
  return m ? m[1] : null;
}

/** Interpreters to probe, in order: $TRANSFER_LAB_PYTHON, python3/python in each PATH folder,
 * the interpreter behind each `jupyter` on PATH, then the fixed system paths. No duplicates. */
export function pythonCandidates(
  pathEnv: string = process.env.PATH ?? "",
  override: string | undefined = process.env[PYTHON_ENV_VAR],
  fixed: string[] = DEFAULT_FIXED_PYTHONS,
): string[] {
  const out: string[] = [];
  const add = (p: string | null | undefined) => {
    if (p && !out.includes(p)) out.push(p);
  };
  if (override) add(override);
  const dirs = pathEnv.split(path.delimiter).filter((d) => d !== "");
  for (const dir of dirs) {
    for (const name of ["python3", "python"]) {
      const p = path.join(dir, name);
      if (isExecutableFile(p)) add(p);
    }
  }
  for (const dir of dirs) {
    const jupyter = path.join(dir, "jupyter");
    if (isExecutableFile(jupyter)) add(shebangPython(jupyter));
  }
  for (const p of fixed) if (isExecutableFile(p)) add(p);
  return out;
}

/** The last line of stdout that parses as a JSON object, or null. */
export function lastJsonLine<T>(stdout: string): T | null {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]) as T;
    } catch {
      continue;
    }
  }
  return null;
}

/** Runs jupyter_helper.py with `python`; returns its JSON answer or throws with its stderr. */
export function runHelper<T>(python: string, args: string[], timeoutMs = PROBE_TIMEOUT_MS, cwd = PROJECT_ROOT): T {
  const r = spawnSync(python, [HELPER, ...args], { encoding: "utf8", timeout: timeoutMs, cwd });
  const answer = r.error ? null : lastJsonLine<T>(r.stdout ?? "");
  if (answer === null || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr ?? "").trim().split("\n").slice(-8).join("\n");
    throw new Error(`${path.basename(HELPER)} ${args[0]} with ${python} failed (exit ${r.status}): ${why}`);
  }
  return answer;
}

export function probePython(python: string): JupyterProbe | null {
  try {
    return runHelper<JupyterProbe>(python, ["probe"]);
  } catch {
    return null;
  }
}

export interface FindJupyterArgs {
  /** PATH to search; default process.env.PATH. */
  pathEnv?: string;
  /** Interpreter tried first; default $TRANSFER_LAB_PYTHON. */
  override?: string;
  /** Interpreters tried after PATH; default DEFAULT_FIXED_PYTHONS. */
  fixed?: string[];
  /** How to ask one interpreter what it has; default runs jupyter_helper.py probe. */
  probe?: (python: string) => JupyterProbe | null;
}

export interface FindJupyterResult {
  /** The chosen interpreter: first with jupyter_client+nbclient+nbformat, else first with jupyter_client. */
  found: JupyterProbe | null;
  /** Every interpreter asked, with its answer (null: it did not run). */
  tried: { python: string; probe: JupyterProbe | null }[];
}

export function findJupyter(args: FindJupyterArgs = {}): FindJupyterResult {
  const probe = args.probe ?? probePython;
  const tried = pythonCandidates(args.pathEnv, args.override, args.fixed).map((python) => ({
    python,
    probe: probe(python),
  }));
  const ok = tried.map((t) => t.probe).filter((p): p is JupyterProbe => p !== null && p.jupyterClient !== null);
  const complete = ok.find((p) => p.nbclient !== null && p.nbformat !== null);
  return { found: complete ?? ok[0] ?? null, tried };
}

/** The Jupyter Python, or an error carrying the install remedy. */
export function requireJupyter(args: FindJupyterArgs = {}): JupyterProbe {
  const { found, tried } = findJupyter(args);
  if (!found) {
    const asked = tried.map((t) => `  ${t.python}: ${t.probe ? "no jupyter_client" : "did not run"}`).join("\n");
    throw new Error(`${JUPYTER_REMEDY}\nInterpreters tried:\n${asked || "  (none found)"}`);
  }
  return found;
}

export interface InstalledSpec {
  found: boolean;
  userKernelsDir: string;
  resourceDir?: string;
  spec?: KernelSpecJson;
}

export function getKernelSpec(python: string, name = KERNEL_NAME): InstalledSpec {
  return runHelper<InstalledSpec>(python, ["get", name]);
}

/** True when the registered spec is exactly what kernelSpecJson() would write. */
export function specMatches(installed: InstalledSpec, wanted: KernelSpecJson): boolean {
  if (!installed.found || !installed.spec) return false;
  const s = installed.spec;
  return (
    JSON.stringify(s.argv) === JSON.stringify(wanted.argv) &&
    s.display_name === wanted.display_name &&
    s.language === wanted.language
  );
}

/** Writes the kernelspec into the user's Jupyter data dir unless an identical one is there.
 * Returns the kernelspec folder and whether it was (re)written. */
export function installKernelSpec(
  python: string,
  wanted: KernelSpecJson = kernelSpecJson(),
): { dir: string; changed: boolean } {
  const before = getKernelSpec(python);
  if (specMatches(before, wanted) && before.resourceDir?.startsWith(before.userKernelsDir)) {
    return { dir: before.resourceDir, changed: false };
  }
  const tmp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "transfer-lab-spec-"));
  try {
    const src = path.join(tmp, KERNEL_NAME);
    fs.mkdirSync(src, { mode: 0o755 });
    fs.writeFileSync(path.join(src, "kernel.json"), JSON.stringify(wanted, null, 2) + "\n");
    const r = runHelper<{ installed: string }>(python, ["install", src, KERNEL_NAME]);
    return { dir: r.installed, changed: true };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function removeKernelSpec(python: string, name = KERNEL_NAME): string | null {
  return runHelper<{ removed: string | null }>(python, ["remove", name]).removed;
}

export interface SmokeResult {
  status: string | null;
  text: string | null;
  error: string | null;
}

/** Starts the registered kernel from `cwd`, evaluates `1+1` and shuts it down. */
export function smokeKernel(python: string, cwd: string, timeoutSeconds = 120): SmokeResult {
  return runHelper<SmokeResult>(
    python,
    ["smoke", KERNEL_NAME, cwd, String(timeoutSeconds)],
    (timeoutSeconds * 2 + 30) * 1000,
  );
}
