// The transfer-lab kernel as lessons see it, through the real runner and Jupyter: cwd is the
// project root, folder imports resolve to index.ts, writing files under the root does not
// break later cells, the runner's env and --set (const + annotation) reach the kernel, a cell's
// value is an execute_result, a failing cell is reported by index with the kernel's error, and a
// `raises-exception` cell does not stop the lesson. Uses a throwaway JUPYTER_DATA_DIR.
import fs from "fs";
import path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/cli/jupyter";
import { parseSetArgs } from "../src/cli/runner/inject";
import { writeNotebook, type Notebook, type NotebookCell } from "../src/cli/runner/notebook";
import { outputText } from "../src/cli/runner/outputs";
import { formatResult, runLesson } from "../src/cli/runner/run";
import { useThrowawayJupyter } from "./helpers/kernel";

const jupyter = useThrowawayJupyter("tl-kernel-");
const tmp = jupyter.tmp;
const fixtureDir = path.join(PROJECT_ROOT, "test", "notebooks", "fixtures");
const scratchFile = path.join(fixtureDir, `scratch-${process.pid}.json`);

afterAll(() => fs.rmSync(scratchFile, { force: true }));

function code(source: string, tags?: string[]): NotebookCell {
  return { cell_type: "code", source, metadata: tags ? { tags } : {}, outputs: [], execution_count: null };
}

function lesson(cells: NotebookCell[]): Notebook {
  return {
    cells,
    metadata: { kernelspec: { name: "transfer-lab", display_name: "TypeScript (transfer-lab)" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

describe("the transfer-lab kernel through the lesson runner", () => {
  it("runs from the project root with the notebook dir, env and injected parameters", async () => {
    const nbDir = path.join(tmp, "notebooks");
    const file = path.join(nbDir, "00-kernel-check.ipynb");
    writeNotebook(
      file,
      lesson([
        code(
          'import { answer } from "./test/notebooks/fixtures/folder-module";\ntype Shift = "mild" | "heavy";\nconst describeShift = (s: Shift): string => `shift=${s}`;',
        ),
        code('const shift: Shift = "mild";\nlet freezeRatio = 0.5;\nlet budgets: number[] = [1];', ["parameters"]),
        code(
          'console.log("backend: test-backend");\nconsole.log(`cwd=${process.cwd()}`);\nconsole.log(`nbdir=${process.env.TRANSFER_LAB_NOTEBOOK_DIR}`);\nconsole.log(`scale=${process.env.LESSON_SCALE} headless=${process.env.TRANSFER_LAB_HEADLESS}`);',
        ),
        code(`require("fs").writeFileSync(${JSON.stringify(scratchFile)}, "{}");\nanswer`),
        code("console.log(`${describeShift(shift)} r=${freezeRatio} k=${budgets.join('/')} answer=${answer}`);"),
      ]),
    );
    const result = await runLesson({
      notebook: file,
      scale: "smoke",
      sets: parseSetArgs(["shift=heavy", "freezeRatio=0.25", "budgets=[1,5]"]),
      outDir: path.join(tmp, "out"),
      python: jupyter.python(),
    });
    expect(result.ok, formatResult(result)).toBe(true);
    expect(result.cells).toBe(6);
    expect(result.backend).toBe("test-backend");
    const executed = JSON.parse(fs.readFileSync(result.output, "utf8")) as Notebook;
    const text = executed.cells.map((c) => outputText(c.outputs ?? [])).join("\n");
    expect(text).toContain(`cwd=${PROJECT_ROOT}`);
    expect(text).toContain(`nbdir=${nbDir}`);
    expect(text).toContain("scale=smoke headless=1");
    expect(text).toContain("shift=heavy r=0.25 k=1/5 answer=42");
    // `answer`, the last expression of cell 4 (after the injected one), is the cell's result.
    const answerCell = executed.cells[4].outputs ?? [];
    expect(answerCell.map((o) => o.output_type)).toEqual(["execute_result"]);
    expect(outputText(answerCell)).toBe("42");
  }, 300_000);

  it("reports the failing cell's index and error, and a type error as a CompileError", async () => {
    const file = path.join(tmp, "bad", "01-bad.ipynb");
    writeNotebook(file, lesson([code("let n = 1;", ["parameters"]), code('let s: number = "x";')]));
    const typeError = await runLesson({ notebook: file, outDir: path.join(tmp, "out-bad"), python: jupyter.python() });
    expect(typeError.ok).toBe(false);
    expect(typeError.failure).toMatchObject({ kind: "CompileError", cellIndex: 1, firstLine: 'let s: number = "x";' });
    expect(typeError.failure?.message).toMatch(/Type 'string' is not assignable to type 'number'/);

    writeNotebook(
      file,
      lesson([code("let n = 1;", ["parameters"]), code('throw new RangeError("n must be positive, got " + n);')]),
    );
    const thrown = await runLesson({ notebook: file, outDir: path.join(tmp, "out-bad"), python: jupyter.python() });
    expect(thrown.failure).toMatchObject({ kind: "RangeError", message: "n must be positive, got 1", cellIndex: 1 });
    expect(thrown.failure?.details).toContain("RangeError: n must be positive, got 1");
    expect(formatResult(thrown)).toContain("01-bad.ipynb, cell 1");
  }, 300_000);

  it("runs on after a cell tagged raises-exception, keeping its error output", async () => {
    const file = path.join(tmp, "raises", "02-raises.ipynb");
    writeNotebook(
      file,
      lesson([
        code("let n = 1;", ["parameters"]),
        code('throw new Error("expected");', ["raises-exception"]),
        code("n + 1"),
      ]),
    );
    const result = await runLesson({ notebook: file, outDir: path.join(tmp, "out-raises"), python: jupyter.python() });
    expect(result.ok, formatResult(result)).toBe(true);
    const executed = JSON.parse(fs.readFileSync(result.output, "utf8")) as Notebook;
    expect(executed.cells[1].outputs).toContainEqual(
      expect.objectContaining({ output_type: "error", ename: "Error", evalue: "expected" }),
    );
    expect(outputText(executed.cells[2].outputs ?? [])).toBe("2");

    // A later failure is reported at its own cell, not at the allowed error before it.
    writeNotebook(
      file,
      lesson([
        code("let n = 1;", ["parameters"]),
        code('throw new Error("expected");', ["raises-exception"]),
        code('throw new TypeError("real");'),
      ]),
    );
    const failed = await runLesson({ notebook: file, outDir: path.join(tmp, "out-raises"), python: jupyter.python() });
    expect(failed.failure).toMatchObject({ kind: "TypeError", message: "real", cellIndex: 2 });
  }, 300_000);

  it("says when memory runs out: a refused allocation is 'too large for memory', a kernel killed by a full heap 'ran out of memory'", async () => {
    const file = path.join(tmp, "memory", "03-memory.ipynb");
    writeNotebook(file, lesson([code("let n = 1;", ["parameters"]), code("new Float32Array(2 ** 40).length")]));
    const refused = await runLesson({ notebook: file, outDir: path.join(tmp, "out-memory"), python: jupyter.python() });
    expect(refused.failure?.kind).toBe("RangeError");
    expect(refused.failure?.message).toMatch(
      /^Invalid typed array length: \d+: too large for memory: .*NODE_OPTIONS=--max-old-space-size/,
    );

    // A heap of 96 MB fills in a second; V8 then kills the kernel, and its log explains why.
    writeNotebook(
      file,
      lesson([
        code("let n = 1;", ["parameters"]),
        code("const keep: number[][] = [];\nfor (;;) keep.push(new Array(1_000_000).fill(n));"),
      ]),
    );
    const died = await runLesson({
      notebook: file,
      outDir: path.join(tmp, "out-memory"),
      python: jupyter.python(),
      env: { NODE_OPTIONS: "--max-old-space-size=96" },
    });
    expect(died.ok).toBe(false);
    expect(died.failure?.kind).toBe("dead-kernel");
    expect(died.failure?.message).toMatch(/the kernel ran out of memory.*NODE_OPTIONS=--max-old-space-size=<MB>/);
  }, 300_000);
});
