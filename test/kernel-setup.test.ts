// Tests for kernel-setup: finding the Jupyter Python on a fake PATH, the kernelspec we write,
// what `ensure --tests` installs for what is missing (on a fake machine: nothing is installed), the doctor's GPU-library/driver parsing, and (with the real Jupyter,
// in a throwaway JUPYTER_DATA_DIR) install -> start -> 1+1 -> uninstall.
import fs from "fs";
import os from "os";
import path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctorExitCode, formatCheck, libraryChecks, testToolChecks, type Check } from "../kernel-setup/doctor";
import {
  aptInstallCommands,
  ensureRequirements,
  installPlan,
  manualAptCommand,
  missingMessage,
  missingNeeds,
  parseAptPolicy,
  type EnsureDeps,
  type InstallEnvironment,
  type SystemState,
} from "../kernel-setup/ensure";
import {
  findLibraries,
  listLibraryDirs,
  parseLdconfig,
  parseNvidiaProcVersion,
  parseNvidiaSmi,
  sonameMatches,
} from "../kernel-setup/gpu";
import {
  DEBIAN_PACKAGES,
  DEBIAN_TEST_PACKAGES,
  KERNEL_DISPLAY_NAME,
  PROJECT_ROOT,
  findJupyter,
  getKernelSpec,
  installKernelSpec,
  kernelSpecJson,
  lastJsonLine,
  pythonCandidates,
  removeKernelSpec,
  requireJupyter,
  shebangPython,
  smokeKernel,
  specMatches,
  type JupyterProbe,
} from "../src/cli/jupyter";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tl-kernel-setup-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function script(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
  return file;
}

/** A fake interpreter that answers `probe` like jupyter_helper.py would. */
function fakePython(file: string, probe: Partial<JupyterProbe> | null): string {
  if (probe === null) return script(file, "#!/bin/sh\necho 'ModuleNotFoundError' >&2\nexit 1\n");
  const answer = JSON.stringify({
    python: file,
    pythonVersion: "3.11.0",
    jupyterClient: null,
    jupyterCore: null,
    nbclient: null,
    nbformat: null,
    ...probe,
  });
  return script(file, `#!/bin/sh\necho 'some noise'\necho '${answer}'\n`);
}

describe("finding Jupyter", () => {
  const pyenv = path.join(tmp, "pyenv", "shims");
  const venv = path.join(tmp, "venv", "bin");
  const usr = path.join(tmp, "usr", "bin");
  beforeAll(() => {
    fakePython(path.join(pyenv, "python3"), { jupyterClient: null });
    fakePython(path.join(venv, "python3"), { jupyterClient: "8.6.0" });
    fakePython(path.join(venv, "python"), { jupyterClient: "8.6.0" });
    fakePython(path.join(usr, "python3"), {
      jupyterClient: "7.4.9",
      jupyterCore: "4.12.0",
      nbclient: "0.7.2",
      nbformat: "5.5.0",
    });
    fs.writeFileSync(path.join(usr, "python3.txt"), "not executable");
    script(path.join(usr, "jupyter"), `#!${path.join(usr, "python3")}\nimport sys\n`);
  });

  it("lists override, PATH pythons, jupyter's interpreter, then fixed paths, without duplicates", () => {
    const pathEnv = [pyenv, venv, path.join(tmp, "missing"), usr].join(path.delimiter);
    expect(
      pythonCandidates(pathEnv, "/opt/py/bin/python3", [path.join(usr, "python3"), "/nonexistent/python3"]),
    ).toEqual([
      "/opt/py/bin/python3",
      path.join(pyenv, "python3"),
      path.join(venv, "python3"),
      path.join(venv, "python"),
      path.join(usr, "python3"),
    ]);
  });
  it("reads absolute shebangs only", () => {
    expect(shebangPython(path.join(usr, "jupyter"))).toBe(path.join(usr, "python3"));
    expect(shebangPython(script(path.join(tmp, "envjup"), "#!/usr/bin/env python3\n"))).toBeNull();
    expect(shebangPython(path.join(tmp, "nope"))).toBeNull();
  });
  it("skips a pyenv python without jupyter_client and prefers one that also has nbclient", () => {
    const { found, tried } = findJupyter({ pathEnv: [pyenv, venv, usr].join(path.delimiter), override: "", fixed: [] });
    expect(tried.map((t) => t.python)).toEqual([
      path.join(pyenv, "python3"),
      path.join(venv, "python3"),
      path.join(venv, "python"),
      path.join(usr, "python3"),
    ]);
    expect(found?.python).toBe(path.join(usr, "python3"));
    expect(found?.nbclient).toBe("0.7.2");
  });
  it("falls back to jupyter_client alone, and to null with the apt remedy", () => {
    expect(findJupyter({ pathEnv: [pyenv, venv].join(path.delimiter), override: "", fixed: [] }).found?.python).toBe(
      path.join(venv, "python3"),
    );
    const broken = fakePython(path.join(tmp, "broken", "python3"), null);
    expect(findJupyter({ pathEnv: path.dirname(broken), override: "", fixed: [] }).found).toBeNull();
    expect(() => requireJupyter({ pathEnv: pyenv, override: "", fixed: [] })).toThrow(
      /apt-get install -y --no-install-recommends jupyter-client jupyter-nbconvert python3-nbclient python3-nbformat[\s\S]*pyenv\/shims\/python3: no jupyter_client/,
    );
  });
  it("uses an injected probe", () => {
    const probe = (python: string): JupyterProbe | null =>
      python.includes("venv")
        ? { python, pythonVersion: "3", jupyterClient: "8", jupyterCore: "5", nbclient: "0.10", nbformat: "5" }
        : null;
    expect(
      findJupyter({ pathEnv: [pyenv, venv].join(path.delimiter), override: "", fixed: [], probe }).found?.nbclient,
    ).toBe("0.10");
  });
  it("takes the last JSON line of noisy output", () => {
    expect(lastJsonLine<{ a: number }>('warning {\n{"a": 1}\n{"a": 2}\n  \n')).toEqual({ a: 2 });
    expect(lastJsonLine("no json")).toBeNull();
  });
});

describe("kernelspec", () => {
  it("runs the launcher with an absolute node and Jupyter's connection file", () => {
    expect(kernelSpecJson("/usr/bin/node", "/p")).toEqual({
      argv: ["/usr/bin/node", "/p/kernel-setup/launch-kernel.js", "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript (transfer-lab)",
      language: "typescript",
      metadata: { transferLabRoot: "/p" },
    });
    const spec = kernelSpecJson();
    expect(path.isAbsolute(spec.argv[0])).toBe(true);
    expect(fs.existsSync(spec.argv[1])).toBe(true);
    expect(KERNEL_DISPLAY_NAME).toBe("TypeScript (transfer-lab)");
  });
  it("matches only an identical argv", () => {
    const wanted = kernelSpecJson("/usr/bin/node", "/p");
    expect(specMatches({ found: true, userKernelsDir: "/k", spec: wanted }, wanted)).toBe(true);
    expect(
      specMatches({ found: true, userKernelsDir: "/k", spec: kernelSpecJson("/usr/bin/node", "/other") }, wanted),
    ).toBe(false);
    expect(specMatches({ found: false, userKernelsDir: "/k" }, wanted)).toBe(false);
  });
});

describe("ensure: what is missing -> what command", () => {
  const jupyter: JupyterProbe = {
    python: "/usr/bin/python3",
    pythonVersion: "3.11.2",
    jupyterClient: "7.4.9",
    jupyterCore: "4.12.0",
    nbclient: "0.7.2",
    nbformat: "5.7.0",
    jupyterKernelTest: "0.4.6",
  };
  const all: SystemState = {
    jupyter,
    chromium: { path: "/usr/bin/chromium", present: true, fromEnv: false },
    mathjax: "/usr/share/javascript/mathjax",
  };
  const root: InstallEnvironment = { isRoot: true, passwordlessSudo: false, aptGet: "/usr/bin/apt-get" };
  const sudo: InstallEnvironment = { isRoot: false, passwordlessSudo: true, aptGet: "/usr/bin/apt-get" };
  const user: InstallEnvironment = { isRoot: false, passwordlessSudo: false, aptGet: "/usr/bin/apt-get" };
  const apt = "env DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get";
  const jupyterPackages = "jupyter-client jupyter-nbconvert python3-nbclient python3-nbformat";
  const packagesOf = (s: SystemState, forTests = true) => missingNeeds(s, forTests).flatMap((n) => n.packages);

  it("needs nothing when everything is there", () => {
    expect(missingNeeds(all, true)).toEqual([]);
    expect(installPlan([], root)).toEqual({ packages: [], commands: null, update: false, reason: null });
  });
  it("maps each missing thing to its Debian package; without --tests only Jupyter counts", () => {
    const bare: SystemState = {
      jupyter: null,
      chromium: { path: "/usr/bin/chromium", present: false, fromEnv: false },
      mathjax: null,
    };
    expect(packagesOf(bare)).toEqual([...DEBIAN_PACKAGES, ...DEBIAN_TEST_PACKAGES, "chromium", "libjs-mathjax"]);
    expect(packagesOf(bare, false)).toEqual(DEBIAN_PACKAGES);
    expect(packagesOf({ ...all, chromium: bare.chromium })).toEqual(["chromium"]);
    expect(packagesOf({ ...all, chromium: bare.chromium }, false)).toEqual([]);
    expect(packagesOf({ ...all, mathjax: null })).toEqual(["libjs-mathjax"]);
    expect(packagesOf({ ...all, jupyter: { ...jupyter, jupyterKernelTest: null } })).toEqual([
      "python3-jupyter-kernel-test",
    ]);
    expect(packagesOf({ ...all, jupyter: { ...jupyter, nbclient: null } })).toEqual(DEBIAN_PACKAGES);
  });
  it("installs as root without apt-get update when apt knows every package", () => {
    const needs = missingNeeds({ ...all, chromium: { ...all.chromium, present: false }, mathjax: null }, true);
    expect(installPlan(needs, root, [])).toEqual({
      packages: ["chromium", "libjs-mathjax"],
      commands: [[...apt.split(" "), "install", "-y", "--no-install-recommends", "chromium", "libjs-mathjax"]],
      update: false,
      reason: null,
    });
  });
  it("runs apt-get update first when a package is not in apt's lists", () => {
    const needs = missingNeeds({ ...all, chromium: { ...all.chromium, present: false } }, true);
    expect(installPlan(needs, root, ["chromium"]).commands?.map((c) => c.join(" "))).toEqual([
      `${apt} update`,
      `${apt} install -y --no-install-recommends chromium`,
    ]);
    expect(aptInstallCommands(root)?.map((c) => c.join(" "))).toEqual([
      `${apt} update`,
      `${apt} install -y --no-install-recommends ${jupyterPackages}`,
    ]);
  });
  it("uses sudo -n when it needs no password", () => {
    const needs = missingNeeds({ ...all, mathjax: null }, true);
    expect(installPlan(needs, sudo).commands).toEqual([
      ["sudo", "-n", ...apt.split(" "), "install", "-y", "--no-install-recommends", "libjs-mathjax"],
    ]);
  });
  it("does not install without root/sudo or apt-get, or for a TRANSFER_LAB_CHROMIUM that is not there", () => {
    const needs = missingNeeds({ ...all, mathjax: null }, true);
    expect(installPlan(needs, user)).toMatchObject({ commands: null, reason: "needs root or passwordless sudo" });
    expect(installPlan(needs, { ...root, aptGet: null })).toMatchObject({
      commands: null,
      reason: "apt-get not found (not a Debian/Ubuntu system)",
    });
    const custom = missingNeeds({ ...all, chromium: { path: "/opt/chrome", present: false, fromEnv: true } }, true);
    expect(custom.map((n) => n.packages)).toEqual([[]]);
    expect(installPlan(custom, root)).toMatchObject({
      commands: null,
      reason: "no Debian package provides Chromium at TRANSFER_LAB_CHROMIUM=/opt/chrome (no such file)",
    });
  });
  it("prints the exact command when it may not install", () => {
    const needs = missingNeeds(
      { ...all, chromium: { ...all.chromium, present: false }, jupyter: { ...jupyter, jupyterKernelTest: null } },
      true,
    );
    const text = missingMessage(needs, user, "needs root or passwordless sudo");
    expect(text).toContain("  - jupyter_kernel_test, for the kernel conformance test");
    expect(text).toContain("  - Chromium (/usr/bin/chromium), for the browser test (test/browser)");
    expect(text).toContain(
      "  sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-jupyter-kernel-test chromium",
    );
    expect(text).toContain("jupyter_kernel_test: pip install jupyter_kernel_test");
    expect(text).toContain("(not installing it myself: needs root or passwordless sudo)");
    expect(manualAptCommand(["chromium"], true)).toBe(
      "apt-get update && apt-get install -y --no-install-recommends chromium",
    );
  });
  it("reads install candidates from apt-cache policy", () => {
    const policy = [
      "chromium:",
      "  Installed: (none)",
      "  Candidate: 156.0.8078.114-1~deb12u1",
      "  Version table:",
      "     156.0.8078.114-1~deb12u1 500",
      "libjs-mathjax:",
      "  Installed: (none)",
      "  Candidate: (none)",
    ].join("\n");
    const c = parseAptPolicy(policy, ["chromium", "libjs-mathjax", "python3-jupyter-kernel-test"]);
    expect([...c.entries()]).toEqual([
      ["chromium", "156.0.8078.114-1~deb12u1"],
      ["libjs-mathjax", null],
      ["python3-jupyter-kernel-test", null],
    ]);
  });

  it("doctor: reports the test tools, with the command that installs a missing one", () => {
    const checks = testToolChecks({ ...all, chromium: { ...all.chromium, present: false } });
    expect(checks.map((c) => [c.label, c.status, c.critical])).toEqual([
      ["jupyter_kernel_test (npm test)", "OK", false],
      ["Chromium (browser test)", "MISSING", false],
      ["MathJax (site formulas)", "OK", false],
    ]);
    expect(formatCheck(checks[1])).toContain(
      "-> sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium (npm test installs it itself",
    );
  });

  /** ensureRequirements with a fake machine: the state before and after installing, the commands' exit codes. */
  function fakeEnsure(
    before: SystemState,
    after: SystemState,
    opts: { env?: InstallEnvironment; unknown?: string[]; fail?: (cmd: string) => boolean } = {},
  ) {
    const ran: string[] = [];
    let installed = false;
    const deps: EnsureDeps = {
      probe: () => (installed ? after : before),
      environment: () => opts.env ?? root,
      unknown: (pkgs) => pkgs.filter((p) => (opts.unknown ?? []).includes(p)),
      run: (cmd) => {
        const line = cmd.join(" ");
        ran.push(line.replace(`${apt} `, "apt-get "));
        if (opts.fail?.(line)) return 100;
        if (line.includes(" install ")) installed = true;
        return 0;
      },
    };
    const log: string[] = [];
    return { ran, log, go: () => ensureRequirements((l) => log.push(l), true, deps) };
  }

  it("installs what is missing, then checks again", () => {
    const noBrowser = { ...all, chromium: { ...all.chromium, present: false }, mathjax: null };
    const f = fakeEnsure(noBrowser, all);
    expect(f.go()).toBe(all);
    expect(f.ran).toEqual(["apt-get install -y --no-install-recommends chromium libjs-mathjax"]);
    expect(f.log[0]).toBe("missing: Chromium (/usr/bin/chromium), for the browser test (test/browser)");
  });
  it("runs nothing when nothing is missing, and updates first for a package apt does not know", () => {
    const none = fakeEnsure(all, all);
    none.go();
    expect(none.ran).toEqual([]);
    const f = fakeEnsure({ ...all, mathjax: null }, all, { unknown: ["libjs-mathjax"] });
    f.go();
    expect(f.ran).toEqual(["apt-get update", "apt-get install -y --no-install-recommends libjs-mathjax"]);
  });
  it("retries once after apt-get update when the install fails on old lists", () => {
    let first = true;
    const f = fakeEnsure({ ...all, mathjax: null }, all, {
      fail: (cmd) => {
        if (first && cmd.includes(" install ")) {
          first = false;
          return true;
        }
        return false;
      },
    });
    f.go();
    expect(f.ran).toEqual([
      "apt-get install -y --no-install-recommends libjs-mathjax",
      "apt-get update",
      "apt-get install -y --no-install-recommends libjs-mathjax",
    ]);
  });
  it("throws with the command when it may not install, or when installing did not help", () => {
    const missing = { ...all, chromium: { ...all.chromium, present: false } };
    const f = fakeEnsure(missing, all, { env: user });
    expect(() => f.go()).toThrow(/sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium/);
    expect(f.ran).toEqual([]);
    expect(() => fakeEnsure(missing, missing).go()).toThrow(/installed chromium, but still missing:\n[\s\S]*Chromium/);
    // install fails, and so does the apt-get update of the retry
    expect(() => fakeEnsure(missing, all, { fail: () => true }).go()).toThrow(/apt-get update` failed\nMissing:/);
  });
});

describe("doctor: GPU libraries and driver", () => {
  const ldconfig = [
    "1234 libs found in cache `/etc/ld.so.cache'",
    "\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8",
    "\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda-12/lib64/libcudart.so.12",
    "\tlibcudart.so.110 (libc6,x86-64) => /weird/libcudart.so.110",
    "\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6",
    "Cache generated by: ldconfig (GNU libc) stable release version 2.36",
  ].join("\n");

  it("parses ldconfig -p", () => {
    expect(parseLdconfig(ldconfig)).toEqual([
      { soname: "libcudnn.so.8", path: "/usr/lib/x86_64-linux-gnu/libcudnn.so.8" },
      { soname: "libcudart.so.12", path: "/usr/local/cuda-12/lib64/libcudart.so.12" },
      { soname: "libcudart.so.110", path: "/weird/libcudart.so.110" },
      { soname: "libc.so.6", path: "/lib/x86_64-linux-gnu/libc.so.6" },
    ]);
  });
  it("matches a soname and its longer versions only", () => {
    expect(sonameMatches("libcudart.so.11", "libcudart.so.11")).toBe(true);
    expect(sonameMatches("libcudart.so.11", "libcudart.so.11.0")).toBe(true);
    expect(sonameMatches("libcudart.so.11", "libcudart.so.110")).toBe(false);
    expect(sonameMatches("libcudart.so.11", "libcudart.so.12")).toBe(false);
  });
  it("finds libraries in ldconfig output and LD_LIBRARY_PATH folders", () => {
    const dirs: Record<string, string[]> = {
      "/venv/nvidia/cuda_runtime/lib": ["libcudart.so.11.0", "README"],
      "/gone": [],
    };
    const readdir = (d: string) => {
      if (d === "/gone") throw new Error("ENOENT");
      return dirs[d];
    };
    const entries = [
      ...listLibraryDirs(["/venv/nvidia/cuda_runtime/lib", "/gone"], readdir),
      ...parseLdconfig(ldconfig),
    ];
    expect(findLibraries(["libcudart.so.11", "libcudnn.so.8", "libcublas.so.11"], entries)).toEqual([
      { soname: "libcudart.so.11", path: "/venv/nvidia/cuda_runtime/lib/libcudart.so.11.0" },
      { soname: "libcudnn.so.8", path: "/usr/lib/x86_64-linux-gnu/libcudnn.so.8" },
      { soname: "libcublas.so.11", path: null },
    ]);
  });
  it("reports each requirement OK or MISSING with a remedy", () => {
    const checks = libraryChecks(parseLdconfig(ldconfig));
    expect(checks.map((c) => [c.label, c.status])).toEqual([
      ["CUDA 11 runtime (libcudart.so.11*)", "MISSING"],
      ["CUDA 11 math libraries (cublas, cublasLt, cufft, curand, cusolver, cusparse)", "MISSING"],
      ["cuDNN 8 (libcudnn.so.8*)", "OK"],
    ]);
    expect(formatCheck(checks[0])).toMatch(
      /^MISSING  CUDA 11 runtime \(libcudart.so.11\*\): not found .*libcudart.so.11\*\n\s+-> install a CUDA 11.x runtime/,
    );
    expect(formatCheck(checks[2])).toBe("OK       cuDNN 8 (libcudnn.so.8*): /usr/lib/x86_64-linux-gnu/libcudnn.so.8");
  });
  it("parses the driver version from /proc and nvidia-smi", () => {
    expect(
      parseNvidiaProcVersion(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc 12",
      ),
    ).toBe("535.104.05");
    expect(
      parseNvidiaProcVersion("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build"),
    ).toBe("550.54.15");
    expect(parseNvidiaProcVersion("")).toBeNull();
    expect(parseNvidiaSmi("NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\n\n")).toEqual([
      { name: "NVIDIA H100 80GB HBM3", driver: "550.54.15", memory: "81559 MiB" },
    ]);
  });
  it("fails only on critical checks", () => {
    const gpu: Check = { status: "MISSING", label: "cuDNN", detail: "", critical: false };
    const kernel: Check = { status: "FAIL", label: "kernel", detail: "", critical: true };
    const info: Check = { status: "INFO", label: "backend", detail: "", critical: true };
    expect(doctorExitCode([gpu, info])).toBe(0);
    expect(doctorExitCode([gpu, kernel])).toBe(1);
  });
});

describe("with the real Jupyter, in a throwaway JUPYTER_DATA_DIR", () => {
  const dataDir = path.join(tmp, "jupyter-data");
  const saved = process.env.JUPYTER_DATA_DIR;
  beforeAll(() => {
    process.env.JUPYTER_DATA_DIR = dataDir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
    else process.env.JUPYTER_DATA_DIR = saved;
  });

  it("installs once, starts the kernel (1+1 = 2), and uninstalls", () => {
    const { python } = requireJupyter();
    const first = installKernelSpec(python);
    expect(first).toEqual({ dir: path.join(dataDir, "kernels", "transfer-lab"), changed: true });
    expect(JSON.parse(fs.readFileSync(path.join(first.dir, "kernel.json"), "utf8"))).toEqual(kernelSpecJson());
    expect(installKernelSpec(python).changed).toBe(false);
    expect(getKernelSpec(python).resourceDir).toBe(first.dir);

    const smoke = smokeKernel(python, path.join(PROJECT_ROOT, "notebooks"), 90);
    expect(smoke).toEqual({ status: "ok", text: "2", error: null });

    expect(removeKernelSpec(python)).toBe(first.dir);
    expect(fs.existsSync(first.dir)).toBe(false);
  }, 180_000);
});
