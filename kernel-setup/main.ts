// CLI behind the kernel:* npm scripts: `install` registers the transfer-lab kernelspec,
// `ensure` also installs what is missing and allowed (Debian's Jupyter; with --tests also the
// kernel test suite, Chromium and MathJax), `uninstall` removes the spec, `doctor` reports what works. Run with tsx: `tsx kernel-setup/main.ts <command>`.
import { Command } from "commander";
import { doctorExitCode, runDoctor } from "./doctor";
import { ensureKernel } from "./ensure";
import { KERNEL_NAME, installKernelSpec, removeKernelSpec, requireJupyter } from "../src/cli/jupyter";

function fail(e: unknown): never {
  console.error((e as Error).message);
  process.exit(1);
}

const program = new Command("kernel-setup").description("Register and check the transfer-lab Jupyter kernel");

program
  .command("install")
  .description(`register the ${KERNEL_NAME} kernelspec in the user's Jupyter data dir`)
  .action(() => {
    try {
      const jupyter = requireJupyter();
      const { dir, changed } = installKernelSpec(jupyter.python);
      console.log(
        `${changed ? "registered" : "already registered"}: kernel ${KERNEL_NAME} in ${dir} (Jupyter of ${jupyter.python})`,
      );
    } catch (e) {
      fail(e);
    }
  });

program
  .command("ensure")
  .description(
    "install Debian's Jupyter if missing (root/sudo + apt-get only, else print the command), then register the kernel",
  )
  .option(
    "--tests",
    "also require (and install) what npm test needs: jupyter_kernel_test, Chromium (browser test), MathJax (site)",
  )
  .action((opts: { tests?: boolean }) => {
    try {
      const { python, dir, changed } = ensureKernel(console.log, Boolean(opts.tests));
      console.log(`${changed ? "registered" : "kernel ready"}: ${KERNEL_NAME} in ${dir} (Jupyter of ${python})`);
    } catch (e) {
      fail(e);
    }
  });

program
  .command("uninstall")
  .description(`remove the ${KERNEL_NAME} kernelspec`)
  .action(() => {
    try {
      const removed = removeKernelSpec(requireJupyter().python);
      console.log(removed ? `removed ${removed}` : `kernel ${KERNEL_NAME} was not registered`);
    } catch (e) {
      fail(e);
    }
  });

program
  .command("doctor")
  .description("check Jupyter, the kernel, the backend choice and GPU readiness")
  .action(async () => {
    try {
      const checks = await runDoctor();
      process.exitCode = doctorExitCode(checks);
    } catch (e) {
      fail(e);
    }
  });

program.parseAsync(process.argv).catch(fail);
