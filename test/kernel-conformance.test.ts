// The transfer-lab kernel against Jupyter's protocol: jupyter_kernel_test's suite
// (test/kernel_conformance.py) passes every check that applies to tslab, and the tslab
// behaviours lessons rely on come through as protocol messages: a type error is an error reply
// with the diagnostic, `const` can be redeclared, top-level await works, a value is an
// execute_result, an interrupt ends the cell and counts. Uses a throwaway JUPYTER_DATA_DIR.
import { createRequire } from "module";
import path from "path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/cli/jupyter";
import { resultText, runCells as runCellsIn, runPython, useThrowawayJupyter, type CellRequest, type CellRun } from "./helpers/kernel";

const CONFORMANCE = path.join(PROJECT_ROOT, "test", "kernel_conformance.py");
/** Seconds one cell may take in kernel_session.py; the first compile is slow on a busy CPU. */
const CELL_TIMEOUT_S = 120;

/** Every jupyter_kernel_test 0.4.5 check: the ones tslab supports pass; pager, history and
 * clear_output skip (tslab has none of them, so their samples are left unset). */
const EXPECTED_OUTCOMES: Record<string, "pass" | "skip"> = {
  test_clear_output: "skip",
  test_completion: "pass",
  test_display_data: "pass",
  test_error: "pass",
  test_execute_result: "pass",
  test_execute_stderr: "pass",
  test_execute_stdout: "pass",
  test_history: "skip",
  test_inspect: "pass",
  test_is_complete: "pass",
  test_kernel_info: "pass",
  test_pager: "skip",
};

interface Failure {
  ename: string;
  evalue: string;
  traceback: string[];
}
/** kernel-setup/tslab-protocol.js (CommonJS, loaded by the launcher before tslab). */
const protocol = createRequire(__filename)(path.join(PROJECT_ROOT, "kernel-setup", "tslab-protocol.js")) as {
  describeFailure: (errorCalls: unknown[][], thrownOutside?: unknown) => Failure;
};

const jupyter = useThrowawayJupyter("tl-conformance-", async (python) => {
  const probe = await runPython(python, ["-c", "import jupyter_kernel_test; print(jupyter_kernel_test.__version__)"]);
  if (probe.code !== 0) {
    throw new Error(
      `${python} has no jupyter_kernel_test (${probe.stderr.trim().split("\n").pop()}); ` +
        "install it: sudo apt-get install python3-jupyter-kernel-test, or pip install jupyter_kernel_test",
    );
  }
});

const runCells = (cells: CellRequest[]): Promise<CellRun[]> => runCellsIn(jupyter.python(), cells, { timeoutSeconds: CELL_TIMEOUT_S });

describe("jupyter_kernel_test against the transfer-lab kernel", () => {
  it("passes every applicable check and skips only pager, history and clear_output", async () => {
    const r = await runPython(jupyter.python(), [CONFORMANCE]);
    const last = r.stdout.trim().split("\n").pop() ?? "";
    const outcomes = (JSON.parse(last.startsWith("{") ? last : "{}") as { tests?: Record<string, string> }).tests;
    console.log(`jupyter_kernel_test outcomes:\n${Object.entries(outcomes ?? {}).map(([t, o]) => `  ${t}: ${o}`).join("\n")}`);
    // unittest prints each failure's traceback last.
    expect(r.code, `kernel_conformance.py failed:\n${r.stderr.trim().split("\n").slice(-80).join("\n")}`).toBe(0);
    expect(outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(Object.values(outcomes ?? {}).filter((o) => o === "pass")).toHaveLength(9);
  }, 300_000);
});

describe("tslab behaviours as protocol messages", () => {
  it("type errors, const redeclaration, top-level await, values, thrown errors and interrupts", async () => {
    const runs = await runCells([
      { code: 'let s: number = "x";', stopOnError: false },
      { code: "const k = 1;\nk" },
      { code: 'const k = "two";\nk' },
      { code: "const v = await Promise.resolve(41);\nv + 1" },
      { code: 'console.log("out");\n6 * 7' },
      { code: 'throw new RangeError("n must be positive, got 0");', stopOnError: false },
      { code: 'console.log("waiting");\nawait new Promise((r) => setTimeout(r, 60_000));', stopOnError: false, interruptAfterOutput: 1 },
      { code: 'globalThis[Symbol.for("transfer-lab.interrupts")]' },
    ]);
    const [typeError, first, redeclared, awaited, value, thrown, interrupted, interrupts] = runs;

    // A type error: an error reply and one `error` message carrying the diagnostic, no stderr.
    expect(typeError.reply).toMatchObject({ status: "error", ename: "CompileError" });
    expect(typeError.reply.evalue).toMatch(/^1:5 - Type 'string' is not assignable to type 'number'/);
    expect(typeError.outputs).toEqual([{ msg_type: "error", content: { ename: "CompileError", evalue: typeError.reply.evalue, traceback: typeError.reply.traceback } }]);

    expect(resultText(first)).toBe("1");
    expect(redeclared.reply.status).toBe("ok");
    expect(resultText(redeclared)).toBe("two"); // strings print raw, as tslab's console.log did
    expect(resultText(awaited)).toBe("42");

    // The value is an execute_result numbered like the reply; the cell's own output stays a stream.
    expect(value.outputs.map((o) => o.msg_type)).toEqual(["stream", "execute_result"]);
    expect(value.outputs[1].content).toEqual({ execution_count: value.reply.execution_count, data: { "text/plain": "42" }, metadata: {} });

    expect(thrown.reply).toMatchObject({ status: "error", ename: "RangeError", evalue: "n must be positive, got 0" });
    expect(thrown.reply.traceback?.join("\n")).toContain("RangeError: n must be positive, got 0");
    expect(thrown.reply.traceback?.join("\n")).not.toContain("tslab/dist");

    // SIGINT: tslab abandons the awaited promise, and the launcher's counter saw it.
    expect(interrupted.reply).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(interrupted.outputs.map((o) => o.msg_type)).toEqual(["stream", "error"]);
    expect(resultText(interrupts)).toBe("1");
  }, 300_000);
});

describe("describeFailure: what tslab's executor reported, as ename/evalue/traceback", () => {
  it("turns diagnostics into a CompileError with one line each", () => {
    const f = protocol.describeFailure([
      ["%s%d:%d - %s", "", 1, 5, "Type 'string' is not assignable to type 'number'."],
      ["%s%d:%d - %s", "", 2, 1, "Cannot find name 'x'."],
    ]);
    expect(f).toEqual({
      ename: "CompileError",
      evalue: "1:5 - Type 'string' is not assignable to type 'number'.\n2:1 - Cannot find name 'x'.",
      traceback: ["1:5 - Type 'string' is not assignable to type 'number'.", "2:1 - Cannot find name 'x'."],
    });
  });
  it("names a thrown error by its class and drops the kernel's own frames", () => {
    const e = new RangeError("r must be a positive integer, got 0");
    e.stack = [
      "RangeError: r must be a positive integer, got 0",
      "    at evalmachine.<anonymous>:2:7",
      "    at Script.runInThisContext (node:vm:135:14)",
      "    at Object.execute (/p/node_modules/tslab/dist/executor.js:160:38)",
      "    at applyLora (/p/src/lora.ts:40:11)",
    ].join("\n");
    const f = protocol.describeFailure([[e]]);
    expect(f.ename).toBe("RangeError");
    expect(f.evalue).toBe("r must be a positive integer, got 0");
    expect(f.traceback).toEqual([
      "RangeError: r must be a positive integer, got 0",
      "    at evalmachine.<anonymous>:2:7",
      "    at applyLora (/p/src/lora.ts:40:11)",
    ]);
  });
  it("reports both kinds of interrupt as Interrupted, and non-errors as Uncaught", () => {
    expect(protocol.describeFailure([[new Error("Interrupted asynchronously")]]).ename).toBe("Interrupted");
    const sync = Object.assign(new Error("Script execution was interrupted by `SIGINT`"), { code: "ERR_SCRIPT_EXECUTION_INTERRUPTED" });
    expect(protocol.describeFailure([[sync]]).ename).toBe("Interrupted");
    expect(protocol.describeFailure([["just a string"]])).toEqual({ ename: "Uncaught", evalue: "'just a string'", traceback: ["Uncaught 'just a string'"] });
    expect(protocol.describeFailure([], new TypeError("tslab broke")).ename).toBe("TypeError");
  });
});
