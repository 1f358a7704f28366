// `ensure` (pretest / prelessons): make Jupyter present and the kernel registered. When Jupyter
// is missing and we may install system packages (root or passwordless sudo, apt-get present),
// install Debian's Jupyter packages; otherwise print the remedy and fail.
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

/** What decides whether `ensure` may install Jupyter itself. */
export interface InstallEnvironment {
  isRoot: boolean;
  /** `sudo -n true` succeeded. */
  passwordlessSudo: boolean;
  /** Absolute path of apt-get, or null. */
  aptGet: string | null;
}

/** The commands that install Debian's Jupyter, or null when this environment cannot run them. */
export function aptInstallCommands(env: InstallEnvironment, packages: string[] = DEBIAN_PACKAGES): string[][] | null {
  if (!env.aptGet) return null;
  const prefix = env.isRoot ? [] : env.passwordlessSudo ? ["sudo", "-n"] : null;
  if (!prefix) return null;
  const apt = [...prefix, "env", "DEBIAN_FRONTEND=noninteractive", env.aptGet];
  return [
    [...apt, "update"],
    [...apt, "install", "-y", "--no-install-recommends", ...packages],
  ];
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

/** Finds Jupyter, installing Debian's packages when allowed; throws with the remedy otherwise. */
export function ensureJupyter(log: (line: string) => void = console.log, forTests = false): JupyterProbe {
  const hasJupyter = (p: JupyterProbe): boolean => Boolean(p.nbclient && p.nbformat);
  const ready = (p: JupyterProbe): boolean => hasJupyter(p) && (!forTests || Boolean(p.jupyterKernelTest));
  const first = findJupyter().found;
  if (first && ready(first)) return first;
  const packages = forTests ? [...DEBIAN_PACKAGES, ...DEBIAN_TEST_PACKAGES] : DEBIAN_PACKAGES;
  const commands = aptInstallCommands(detectInstallEnvironment(), packages);
  if (!commands) {
    if (forTests && first && hasJupyter(first)) {
      throw new Error(
        `${first.python} has Jupyter but not jupyter_kernel_test, which npm test needs for the kernel conformance suite.\n` +
          `  Debian/Ubuntu: sudo apt-get install -y --no-install-recommends ${DEBIAN_TEST_PACKAGES.join(" ")}\n` +
          "  pip: pip install jupyter_kernel_test\n(not installing it myself: needs root or passwordless sudo, and apt-get)",
      );
    }
    throw new Error(`${JUPYTER_REMEDY}\n(not installing it myself: needs root or passwordless sudo, and apt-get)`);
  }
  for (const cmd of commands) {
    log(`$ ${cmd.join(" ")}`);
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`\`${cmd.join(" ")}\` failed (exit ${r.status})\n${JUPYTER_REMEDY}`);
  }
  const after = findJupyter().found;
  if (!after || !ready(after)) {
    throw new Error(
      `installed ${packages.join(" ")} but still no Python with jupyter_client+nbclient+nbformat\n${JUPYTER_REMEDY}`,
    );
  }
  return after;
}

/** ensureJupyter, then register the kernel (a no-op when the identical spec is already there). */
export function ensureKernel(
  log: (line: string) => void = console.log,
  forTests = false,
): { python: string; dir: string; changed: boolean } {
  const jupyter = ensureJupyter(log, forTests);
  const { dir, changed } = installKernelSpec(jupyter.python);
  return { python: jupyter.python, dir, changed };
}
