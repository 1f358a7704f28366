// `ensure` (prelessons / pretest): make present what the lessons (and, with --tests, the tests)
// need, and register the kernel. The lessons need Jupyter; the tests also need Jupyter's kernel
// test suite, Chromium (test/browser) and a local MathJax (the site pages it opens). What is
// missing is installed from Debian's packages when we may (root or passwordless sudo, apt-get
// present; `apt-get update` first when apt does not know a package), otherwise the error prints
// the exact command to run. The decisions are pure functions (missingNeeds, installPlan); the
// probes and commands are injectable (EnsureDeps) so tests check them without installing.
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import {
  DEBIAN_PACKAGES,
  DEBIAN_TEST_PACKAGES,
  JUPYTER_REMEDY,
  type JupyterProbe,
  findJupyter,
  installKernelSpec,
} from "../src/cli/jupyter";
import { findMathJax } from "../src/cli/site/export";

/** Debian package of the browser the browser test drives (at /usr/bin/chromium). */
export const DEBIAN_CHROMIUM_PACKAGES = ["chromium"];
/** Debian package of the MathJax 2 the site copies (/usr/share/javascript/mathjax). */
export const DEBIAN_MATHJAX_PACKAGES = ["libjs-mathjax"];
/** Env var naming another Chromium/Chrome binary for the browser test. */
export const CHROMIUM_ENV_VAR = "TRANSFER_LAB_CHROMIUM";
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** The Chromium the browser test launches: $TRANSFER_LAB_CHROMIUM, else Debian's. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[CHROMIUM_ENV_VAR] || DEFAULT_CHROMIUM;
}

/** What decides whether `ensure` may install packages itself. */
export interface InstallEnvironment {
  isRoot: boolean;
  /** `sudo -n true` succeeded. */
  passwordlessSudo: boolean;
  /** Absolute path of apt-get, or null. */
  aptGet: string | null;
}

/** What `ensure` found on this machine. */
export interface SystemState {
  /** The Jupyter Python findJupyter chose, or null. */
  jupyter: JupyterProbe | null;
  /** The Chromium the browser test would launch. */
  chromium: { path: string; present: boolean; fromEnv: boolean };
  /** Folder of a local MathJax 2 with every part the site needs, or null. */
  mathjax: string | null;
}

/** One missing thing: what it is, who needs it, the Debian packages that provide it (empty: no
 * package helps) and what to do without apt-get. */
export interface Need {
  what: string;
  neededBy: string;
  packages: string[];
  otherwise: string;
}

/** What is missing, in install order. Without `forTests` only Jupyter counts. */
export function missingNeeds(state: SystemState, forTests: boolean): Need[] {
  const needs: Need[] = [];
  const j = state.jupyter;
  if (!j || !j.nbclient || !j.nbformat) {
    needs.push({
      what: "Jupyter (a Python with jupyter_client, nbclient and nbformat)",
      neededBy: "the kernel and the lesson runner",
      packages: DEBIAN_PACKAGES,
      otherwise: JUPYTER_REMEDY.split("\n")
        .find((l) => l.includes("pip"))!
        .trim()
        .replace(/^any OS:\s+/, ""),
    });
  }
  if (!forTests) return needs;
  if (!j?.jupyterKernelTest) {
    needs.push({
      what: "jupyter_kernel_test",
      neededBy: "the kernel conformance test",
      packages: DEBIAN_TEST_PACKAGES,
      otherwise: "pip install jupyter_kernel_test (into the Jupyter Python)",
    });
  }
  if (!state.chromium.present) {
    needs.push(
      state.chromium.fromEnv
        ? {
            what: `Chromium at ${CHROMIUM_ENV_VAR}=${state.chromium.path} (no such file)`,
            neededBy: "the browser test (test/browser)",
            packages: [],
            otherwise: `point ${CHROMIUM_ENV_VAR} at a Chromium or Chrome binary, or unset it to use Debian's ${DEFAULT_CHROMIUM}`,
          }
        : {
            what: `Chromium (${state.chromium.path})`,
            neededBy: "the browser test (test/browser)",
            packages: DEBIAN_CHROMIUM_PACKAGES,
            otherwise: `install Chromium or Chrome and set ${CHROMIUM_ENV_VAR}=/path/to/it`,
          },
    );
  }
  if (!state.mathjax) {
    needs.push({
      what: "MathJax 2 (/usr/share/javascript/mathjax)",
      neededBy: "the formulas of the site pages the browser test opens",
      packages: DEBIAN_MATHJAX_PACKAGES,
      otherwise: "npm install --no-save mathjax@2 (the site also finds node_modules/mathjax)",
    });
  }
  return needs;
}

/** The apt-get argv prefix for this environment (sudo -n when not root), or null when we may not run it. */
function aptPrefix(env: InstallEnvironment): string[] | null {
  if (!env.aptGet) return null;
  const prefix = env.isRoot ? [] : env.passwordlessSudo ? ["sudo", "-n"] : null;
  return prefix ? [...prefix, "env", "DEBIAN_FRONTEND=noninteractive", env.aptGet] : null;
}

/** The commands that install `packages`: `apt-get update` first when `update`, then one
 * `apt-get install`; null when this environment may not run them. */
export function aptInstallCommands(
  env: InstallEnvironment,
  packages: string[] = DEBIAN_PACKAGES,
  update = true,
): string[][] | null {
  const apt = aptPrefix(env);
  if (!apt) return null;
  const install = [...apt, "install", "-y", "--no-install-recommends", ...packages];
  return update ? [[...apt, "update"], install] : [install];
}

/** The apt-get line for a person to run (always with `apt-get update`: their lists may be old). */
export function manualAptCommand(packages: string[], isRoot = false): string {
  const sudo = isRoot ? "" : "sudo ";
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(" ")}`;
}

/** Packages -> their install candidate, from `apt-cache policy <packages>` (a package apt does not
 * know has no section; one it knows but cannot install has `Candidate: (none)`: both are null). */
export function parseAptPolicy(text: string, packages: string[]): Map<string, string | null> {
  const out = new Map<string, string | null>(packages.map((p) => [p, null]));
  let current: string | null = null;
  for (const line of text.split("\n")) {
    const head = /^(\S+):\s*$/.exec(line);
    if (head) {
      current = head[1].replace(/:[a-z0-9]+$/, ""); // chromium:amd64 -> chromium
      continue;
    }
    const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (cand && current && out.has(current)) out.set(current, cand[1] === "(none)" ? null : cand[1]);
  }
  return out;
}

export interface InstallPlan {
  /** Every Debian package to install, without duplicates, in need order. */
  packages: string[];
  /** What ensure runs itself; null when it may not (see `reason`) or nothing is to install. */
  commands: string[][] | null;
  /** Whether `commands` starts with `apt-get update` (a package apt's lists do not have). */
  update: boolean;
  /** Why ensure will not install (null when it will). */
  reason: string | null;
}

/** What to run for `needs`: `apt-get update` only when a package has no candidate in apt's
 * current lists (`unknown`), then one install of every package. */
export function installPlan(needs: Need[], env: InstallEnvironment, unknown: string[] = []): InstallPlan {
  const packages = [...new Set(needs.flatMap((n) => n.packages))];
  const update = packages.some((p) => unknown.includes(p));
  const unpackaged = needs.filter((n) => n.packages.length === 0);
  let reason: string | null = null;
  if (unpackaged.length > 0) reason = `no Debian package provides ${unpackaged.map((n) => n.what).join(", ")}`;
  else if (!env.aptGet) reason = "apt-get not found (not a Debian/Ubuntu system)";
  else if (!env.isRoot && !env.passwordlessSudo) reason = "needs root or passwordless sudo";
  const commands = reason === null && packages.length > 0 ? aptInstallCommands(env, packages, update) : null;
  return { packages, commands, update, reason };
}

/** The error text when something is missing and ensure does not (or could not) install it. */
export function missingMessage(needs: Need[], env: InstallEnvironment, reason: string | null): string {
  const lines = ["Missing:"];
  for (const n of needs) lines.push(`  - ${n.what}, for ${n.neededBy}`);
  const packages = [...new Set(needs.flatMap((n) => n.packages))];
  if (packages.length > 0) lines.push("Install them (Debian/Ubuntu):", `  ${manualAptCommand(packages, env.isRoot)}`);
  lines.push("Without apt-get:", ...needs.map((n) => `  - ${n.what}: ${n.otherwise}`));
  lines.push("then run the npm command again.");
  if (reason) lines.push(`(not installing it myself: ${reason})`);
  return lines.join("\n");
}

function which(cmd: string, pathEnv = process.env.PATH ?? ""): string | null {
  for (const dir of [...pathEnv.split(path.delimiter), "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      continue;
    }
  }
  return null;
}

export function detectInstallEnvironment(): InstallEnvironment {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const sudo = isRoot ? null : which("sudo");
  const passwordlessSudo =
    sudo !== null && spawnSync(sudo, ["-n", "true"], { stdio: "ignore", timeout: 10_000 }).status === 0;
  return { isRoot, passwordlessSudo, aptGet: which("apt-get") };
}

/** Looks at this machine: Jupyter, the Chromium, a local MathJax. */
export function probeSystem(env: NodeJS.ProcessEnv = process.env): SystemState {
  const chromium = chromiumPath(env);
  let present = false;
  try {
    fs.accessSync(chromium, fs.constants.X_OK);
    present = fs.statSync(chromium).isFile();
  } catch {
    present = false;
  }
  return {
    jupyter: findJupyter().found,
    chromium: { path: chromium, present, fromEnv: Boolean(env[CHROMIUM_ENV_VAR]) },
    mathjax: findMathJax(),
  };
}

/** Packages of `packages` that apt's current lists have no candidate for. */
export function unknownPackages(packages: string[]): string[] {
  const aptCache = which("apt-cache");
  if (!aptCache || packages.length === 0) return [];
  const r = spawnSync(aptCache, ["policy", ...packages], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) return packages;
  const candidates = parseAptPolicy(r.stdout ?? "", packages);
  return packages.filter((p) => candidates.get(p) === null);
}

function runInherit(cmd: string[]): number | null {
  return spawnSync(cmd[0], cmd.slice(1), { stdio: "inherit" }).status;
}

/** The machine-facing parts of ensure, replaceable in tests. */
export interface EnsureDeps {
  probe: () => SystemState;
  environment: () => InstallEnvironment;
  /** Packages apt has no candidate for (they need `apt-get update` first). */
  unknown: (packages: string[]) => string[];
  /** Runs a command with the terminal attached; returns its exit status. */
  run: (cmd: string[]) => number | null;
}

export const SYSTEM_DEPS: EnsureDeps = {
  probe: () => probeSystem(),
  environment: detectInstallEnvironment,
  unknown: unknownPackages,
  run: runInherit,
};

/** Makes present what the lessons (and with `forTests` the tests) need, installing Debian's
 * packages when allowed; throws with the exact command otherwise. Returns what it found. */
export function ensureRequirements(
  log: (line: string) => void = console.log,
  forTests = false,
  deps: EnsureDeps = SYSTEM_DEPS,
): SystemState {
  const before = deps.probe();
  const needs = missingNeeds(before, forTests);
  if (needs.length === 0) return before;
  const env = deps.environment();
  const plan = installPlan(needs, env, env.aptGet ? deps.unknown(needs.flatMap((n) => n.packages)) : []);
  if (!plan.commands) throw new Error(missingMessage(needs, env, plan.reason));

  for (const n of needs) log(`missing: ${n.what}, for ${n.neededBy}`);
  const run = (cmd: string[]) => {
    log(`$ ${cmd.join(" ")}`);
    return deps.run(cmd);
  };
  let failed: string[] | null = null;
  for (const cmd of plan.commands) {
    if (run(cmd) !== 0) {
      failed = cmd;
      break;
    }
  }
  // Lists that know a package but are older than the archive fail with 404s: refresh, retry once.
  if (failed && !plan.update) {
    log("apt-get install failed; updating apt's package lists and trying again");
    const retry = aptInstallCommands(env, plan.packages, true)!;
    failed = null;
    for (const cmd of retry) {
      if (run(cmd) !== 0) {
        failed = cmd;
        break;
      }
    }
  }
  if (failed) {
    throw new Error(`\`${failed.join(" ")}\` failed\n${missingMessage(needs, env, "the install failed")}`);
  }
  const after = deps.probe();
  const still = missingNeeds(after, forTests);
  if (still.length > 0) {
    throw new Error(
      `installed ${plan.packages.join(" ")}, but still missing:\n${missingMessage(still, env, "installing did not help")}`,
    );
  }
  return after;
}

/** Finds Jupyter (and with `forTests` everything the tests need), installing when allowed. */
export function ensureJupyter(log: (line: string) => void = console.log, forTests = false): JupyterProbe {
  return ensureRequirements(log, forTests).jupyter!;
}

/** ensureRequirements, then register the kernel (a no-op when the identical spec is already there). */
export function ensureKernel(
  log: (line: string) => void = console.log,
  forTests = false,
): { python: string; dir: string; changed: boolean } {
  const jupyter = ensureJupyter(log, forTests);
  const { dir, changed } = installKernelSpec(jupyter.python);
  return { python: jupyter.python, dir, changed };
}
