// The transfer-lab kernel against Jupyter's protocol: jupyter_kernel_test's suite
// (test/kernel_conformance.py) passes every check that applies to tslab, and the tslab
// behaviours lessons rely on come through as protocol messages: a type error is an error reply
// with the diagnostic, `const` can be redeclared, top-level await works, a value is an
// execute_result, an interrupt ends the cell and counts. And what the wrapper fixes in tslab:
// heavy output arrives whole without killing the kernel, a failure aborts only the requests
// already queued, an object shorthand can name an earlier cell's variable, and a value shows as
// util.inspect shows it. Uses a throwaway JUPYTER_DATA_DIR.
import { createRequire } from "module";
import path from "path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/cli/jupyter";
import {
  cellText,
  resultText,
  runCells as runCellsIn,
  runPython,
  streamText,
  useThrowawayJupyter,
  type CellRequest,
  type CellRun,
} from "./helpers/kernel";

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
const requireCjs = createRequire(__filename);
/** kernel-setup/tslab-protocol.js (CommonJS, loaded by the launcher before tslab). */
const protocol = requireCjs(path.join(PROJECT_ROOT, "kernel-setup", "tslab-protocol.js")) as {
  describeFailure: (errorCalls: unknown[][], thrownOutside?: unknown) => Failure;
};
/** kernel-setup/shorthand.js, and the TypeScript tslab compiles with. */
const shorthand = requireCjs(path.join(PROJECT_ROOT, "kernel-setup", "shorthand.js")) as {
  expandShorthands: (
    ts: unknown,
    src: string,
    names: Set<string>,
  ) => { src: string; insertions: { at: number; length: number }[] } | null;
  originalOffset: (offset: number, insertions: { at: number; length: number }[]) => number;
  declaredValueNames: (ts: unknown, decl: string) => Set<string>;
};
const ts: unknown = requireCjs(
  requireCjs.resolve("@tslab/typescript-for-tslab", {
    paths: [path.join(PROJECT_ROOT, "node_modules", "tslab", "dist")],
  }),
);

const jupyter = useThrowawayJupyter("tl-conformance-", async (python) => {
  const probe = await runPython(python, ["-c", "import jupyter_kernel_test; print(jupyter_kernel_test.__version__)"]);
  if (probe.code !== 0) {
    throw new Error(
      `${python} has no jupyter_kernel_test (${probe.stderr.trim().split("\n").pop()}); ` +
        "install it: sudo apt-get install python3-jupyter-kernel-test, or pip install jupyter_kernel_test",
    );
  }
});

const runCells = (cells: CellRequest[]): Promise<CellRun[]> =>
  runCellsIn(jupyter.python(), cells, { timeoutSeconds: CELL_TIMEOUT_S });

describe("jupyter_kernel_test against the transfer-lab kernel", () => {
  it("passes every applicable check and skips only pager, history and clear_output", async () => {
    const r = await runPython(jupyter.python(), [CONFORMANCE]);
    const last = r.stdout.trim().split("\n").pop() ?? "";
    const outcomes = (JSON.parse(last.startsWith("{") ? last : "{}") as { tests?: Record<string, string> }).tests;
    console.log(
      `jupyter_kernel_test outcomes:\n${Object.entries(outcomes ?? {})
        .map(([t, o]) => `  ${t}: ${o}`)
        .join("\n")}`,
    );
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
      {
        code: 'console.log("waiting");\nawait new Promise((r) => setTimeout(r, 60_000));',
        stopOnError: false,
        interruptAfterOutput: 1,
      },
      { code: 'globalThis[Symbol.for("transfer-lab.interrupts")]' },
    ]);
    const [typeError, first, redeclared, awaited, value, thrown, interrupted, interrupts] = runs;

    // A type error: an error reply and one `error` message carrying the diagnostic, no stderr.
    expect(typeError.reply).toMatchObject({ status: "error", ename: "CompileError" });
    expect(typeError.reply.evalue).toMatch(/^1:5 - Type 'string' is not assignable to type 'number'/);
    expect(typeError.outputs).toEqual([
      {
        msg_type: "error",
        content: { ename: "CompileError", evalue: typeError.reply.evalue, traceback: typeError.reply.traceback },
      },
    ]);

    expect(resultText(first)).toBe("1");
    expect(redeclared.reply.status).toBe("ok");
    expect(resultText(redeclared)).toBe("'two'"); // shown as util.inspect shows it
    expect(resultText(awaited)).toBe("42");

    // The value is an execute_result numbered like the reply; the cell's own output stays a stream.
    expect(value.outputs.map((o) => o.msg_type)).toEqual(["stream", "execute_result"]);
    expect(value.outputs[1].content).toEqual({
      execution_count: value.reply.execution_count,
      data: { "text/plain": "42" },
      metadata: {},
    });

    expect(thrown.reply).toMatchObject({ status: "error", ename: "RangeError", evalue: "n must be positive, got 0" });
    expect(thrown.reply.traceback?.join("\n")).toContain("RangeError: n must be positive, got 0");
    expect(thrown.reply.traceback?.join("\n")).not.toContain("tslab/dist");

    // SIGINT: tslab abandons the awaited promise, and the launcher's counter saw it.
    expect(interrupted.reply).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(interrupted.outputs.map((o) => o.msg_type)).toEqual(["stream", "error"]);
    expect(resultText(interrupts)).toBe("1");
  }, 300_000);
});

/** 20,000 lines: far past the 1000 messages the iopub socket queues, and tslab's one send per line. */
const HEAVY_LINES = 20_000;
const HEAVY_OUTPUT = `for (let i = 0; i < ${HEAVY_LINES}; i++) console.log("line " + i);`;
const HEAVY_EXPECTED = Array.from({ length: HEAVY_LINES }, (_, i) => `line ${i}\n`).join("");

describe("the kernel wrapper's fixes to tslab, through jupyter_client", () => {
  // tslab sent one stream message per line without waiting for the socket: zeromq 6 rejected the
  // overlapping sends (EBUSY), output stopped near 500 lines and the cell never went idle; with
  // the WASM backend loaded (its emscripten runtime rethrows uncaught errors) the kernel died.
  // The backend is the one tl.setupBackend() picks for "wasm", loaded here directly.
  it("heavy output arrives whole and in order, with and without the WASM backend, and the kernel goes on", async () => {
    const [plain, backend, heavy, mixed] = await runCells([
      { code: HEAVY_OUTPUT },
      {
        code: 'import * as tf from "@tensorflow/tfjs";\nimport "@tensorflow/tfjs-backend-wasm";\nawait tf.setBackend("wasm");\ntf.getBackend()',
      },
      { code: HEAVY_OUTPUT },
      { code: 'console.log("a");\nconsole.error("b");\nconsole.log("c");\n6 * 7' },
    ]);
    expect(plain.reply.status).toBe("ok");
    expect(streamText(plain, "stdout")).toBe(HEAVY_EXPECTED);
    expect(backend.reply.status, JSON.stringify(backend.outputs)).toBe("ok");
    expect(resultText(backend)).toBe("'wasm'");
    expect(heavy.reply.status).toBe("ok");
    expect(streamText(heavy, "stdout")).toBe(HEAVY_EXPECTED);
    // Batched into a few messages, not one per line.
    expect(heavy.outputs.length).toBeLessThan(100);
    // Writes to the two streams keep their order; the value comes after the output.
    expect(
      mixed.outputs.map((o) => [o.msg_type, o.content.name ?? "", o.content.text ?? o.content.data?.["text/plain"]]),
    ).toEqual([
      ["stream", "stdout", "a\n"],
      ["stream", "stderr", "b\n"],
      ["stream", "stdout", "c\n"],
      ["execute_result", "", "42"],
    ]);
  }, 300_000);

  // tslab aborted every execute request arriving in the 200 ms after a failed cell; ipykernel
  // aborts only the ones already waiting when the error happened.
  it("after an error aborts only the requests already queued; one sent after the error reply runs", async () => {
    const [failed, rerun, slowFailure, queued1, queued2, immediate, allowed, behindAllowed] = await runCells([
      { code: 'throw new Error("first failure");' },
      { code: 'console.log("ran 100 ms after the error reply");\n1', delayBefore: 0.1 },
      { code: 'await new Promise((r) => setTimeout(r, 500));\nthrow new Error("second failure");' },
      { code: 'console.log("queued 1");', pipelined: true },
      { code: 'console.log("queued 2");', pipelined: true },
      { code: 'console.log("ran right after the aborted ones");\n2' },
      { code: 'await new Promise((r) => setTimeout(r, 300));\nthrow new Error("allowed");', stopOnError: false },
      { code: 'console.log("ran behind an allowed error");', pipelined: true },
    ]);
    expect(failed.reply).toMatchObject({ status: "error", ename: "Error", evalue: "first failure" });
    expect(rerun.reply.status).toBe("ok");
    expect(cellText(rerun)).toBe("ran 100 ms after the error reply\n1");
    expect(slowFailure.reply).toMatchObject({ status: "error", evalue: "second failure" });
    // Queued behind the failing cell: answered "aborted" (ipykernel's word), not run.
    for (const queued of [queued1, queued2]) {
      expect(queued.reply.status).toBe("aborted");
      expect(queued.outputs).toEqual([]);
    }
    expect(immediate.reply.status).toBe("ok");
    expect(cellText(immediate)).toBe("ran right after the aborted ones\n2");
    // Execution counts go on from the cells that ran.
    expect(immediate.reply.execution_count).toBe((rerun.reply.execution_count ?? 0) + 2);
    expect(allowed.reply).toMatchObject({ status: "error", evalue: "allowed" });
    expect(behindAllowed.reply.status).toBe("ok");
    expect(cellText(behindAllowed)).toBe("ran behind an allowed error\n");
  }, 300_000);

  // tslab rewrote `seed` to `exports.seed` except as an object shorthand: `{ seed }` threw
  // "ReferenceError: seed is not defined".
  it("an object shorthand can name an earlier cell's variable", async () => {
    const [declare, shorthand, assigned, destructured, shadowed, typeError] = await runCells([
      { code: "const seed = 3;\nlet n = 1;\nfunction double(x: number) { return 2 * x; }" },
      { code: "const o = { seed };\no" },
      { code: "({ n } = { n: 7 });\nn" },
      { code: "const { seed } = { seed: 5 };\nconst { n: m } = { n: 8 };\n({ seed, m, double })" },
      { code: "function wrap(seed: number) { return { seed, n }; }\nwrap(9)" },
      { code: 'const p = { seed }; let z: number = "x";', stopOnError: false },
    ]);
    expect(declare.reply.status).toBe("ok");
    expect(shorthand.reply.status, cellText(shorthand)).toBe("ok");
    expect(resultText(shorthand)).toBe("{ seed: 3 }");
    // A destructuring assignment sets the earlier `let`, not a new global.
    expect(resultText(assigned)).toBe("7");
    // Binding patterns declare this cell's own names; the shorthand then means them.
    expect(resultText(destructured)).toBe("{ seed: 5, m: 8, double: [Function: double] }");
    // A parameter shadows the earlier `seed`.
    expect(resultText(shadowed)).toBe("{ seed: 9, n: 7 }");
    // Diagnostics point into the cell as written, not as rewritten (`z` is at 1:25).
    expect(typeError.reply).toMatchObject({ status: "error", ename: "CompileError" });
    expect(typeError.reply.evalue).toMatch(/^1:25 - Type 'string' is not assignable to type 'number'/);
  }, 300_000);

  it("shows a cell's value as util.inspect does", async () => {
    const runs = await runCells([
      { code: '"ab" + "cd"' },
      { code: "1" },
      { code: '({ a: [1, 2], s: "x", nested: { deep: { deeper: { deepest: 1 } } } })' },
      { code: 'new Map([["k", 1]])' },
      { code: 'console.log("printed raw");' },
    ]);
    expect(runs.map(resultText)).toEqual([
      "'abcd'",
      "1",
      "{ a: [ 1, 2 ], s: 'x', nested: { deep: { deeper: [Object] } } }",
      "Map(1) { 'k' => 1 }",
      undefined,
    ]);
    expect(streamText(runs[4], "stdout")).toBe("printed raw\n");
  }, 300_000);
});

describe("expandShorthands: `{ x }` naming an earlier cell's variable becomes `{ x: x }`", () => {
  const names = new Set(["x", "y"]);
  it("rewrites shorthand properties only, and maps offsets back", () => {
    const src = "const o = { x, z, y = 1 } ; const { x: a } = o; const { y } = o; f({ x });";
    const expanded = shorthand.expandShorthands(ts, src, names);
    expect(expanded?.src).toBe("const o = { x: x, z, y: y = 1 } ; const { x: a } = o; const { y } = o; f({ x: x });");
    // After the first insertion (3 chars after `x`), `z` is 3 chars further on; inside it, the insertion point.
    const z = src.indexOf("z");
    expect(shorthand.originalOffset(z + 3, expanded?.insertions ?? [])).toBe(z);
    expect(shorthand.originalOffset(src.indexOf("x") + 2, expanded?.insertions ?? [])).toBe(src.indexOf("x") + 1);
    expect(shorthand.expandShorthands(ts, "const { x } = o; ({ w });", names)).toBeNull();
  });
  it("takes the names from the earlier cells' declarations", () => {
    const decl =
      'declare const seed = 3;\ndeclare let a: number, b: string;\ndeclare function f(): void;\nimport * as path from "path";\nimport { join as j, type Stats } from "fs";\ninterface I {}\ntype T = 1;\ndeclare class K {}\n';
    expect([...shorthand.declaredValueNames(ts, decl)].sort()).toEqual(["K", "a", "b", "f", "j", "path", "seed"]);
  });
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
      "    at applyLora (/p/src/adapt/lora/inject.ts:40:11)",
    ].join("\n");
    const f = protocol.describeFailure([[e]]);
    expect(f.ename).toBe("RangeError");
    expect(f.evalue).toBe("r must be a positive integer, got 0");
    expect(f.traceback).toEqual([
      "RangeError: r must be a positive integer, got 0",
      "    at evalmachine.<anonymous>:2:7",
      "    at applyLora (/p/src/adapt/lora/inject.ts:40:11)",
    ]);
  });
  it("reports both kinds of interrupt as Interrupted, and non-errors as Uncaught", () => {
    expect(protocol.describeFailure([[new Error("Interrupted asynchronously")]]).ename).toBe("Interrupted");
    const sync = Object.assign(new Error("Script execution was interrupted by `SIGINT`"), {
      code: "ERR_SCRIPT_EXECUTION_INTERRUPTED",
    });
    expect(protocol.describeFailure([[sync]]).ename).toBe("Interrupted");
    expect(protocol.describeFailure([["just a string"]])).toEqual({
      ename: "Uncaught",
      evalue: "'just a string'",
      traceback: ["Uncaught 'just a string'"],
    });
    expect(protocol.describeFailure([], new TypeError("tslab broke")).ename).toBe("TypeError");
  });
});
