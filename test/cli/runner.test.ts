// Unit tests for the lesson runner's pure parts: --set parsing and parameter injection,
// lesson selection, notebook hygiene, and reading results out of executed notebooks.
import fs from "fs";
import os from "os";
import path from "path";
import { describe, expect, it } from "vitest";
import {
  declaredParameters,
  declarationFor,
  injectParameters,
  parseSetArg,
  parseSetArgs,
  valueLiteral,
} from "../../src/cli/runner/inject";
import {
  INJECTED_TAG,
  cellSource,
  hygieneProblems,
  lessonId,
  listLessons,
  selectLessons,
  type Notebook,
  type NotebookCell,
} from "../../src/cli/runner/notebook";
import { cellErrorAt, executedCells, findBackend, findCellError, stripAnsi } from "../../src/cli/runner/outputs";
import { describeFailure, formatResult, type LessonResult } from "../../src/cli/runner/run";

function code(source: string, tags?: string[], extra: Partial<NotebookCell> = {}): NotebookCell {
  return { cell_type: "code", source, metadata: tags ? { tags } : {}, outputs: [], execution_count: null, ...extra };
}

function notebook(cells: NotebookCell[], minor = 5): Notebook {
  return {
    cells,
    metadata: {
      kernelspec: { name: "transfer-lab", display_name: "TypeScript (transfer-lab)", language: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: minor,
  };
}

const PARAMS =
  'let freezeRatio = 0.5;\nconst shift: Shift = "mild";\nexport let labelsPerClass: number = 5;\n// let commented = 1;';

describe("valueLiteral", () => {
  it("keeps JSON numbers, booleans, arrays, objects and null", () => {
    expect(valueLiteral("0.25")).toBe("0.25");
    expect(valueLiteral("-3")).toBe("-3");
    expect(valueLiteral("true")).toBe("true");
    expect(valueLiteral("[1, 5, 10]")).toBe("[1,5,10]");
    expect(valueLiteral('{"a": 1}')).toBe('{"a":1}');
    expect(valueLiteral("null")).toBe("null");
  });
  it("turns anything else into a string literal, escaping quotes", () => {
    expect(valueLiteral("mild")).toBe('"mild"');
    expect(valueLiteral('"mild"')).toBe('"mild"');
    expect(valueLiteral('it\'s "x"')).toBe('"it\'s \\"x\\""');
    expect(valueLiteral("")).toBe('""');
    expect(valueLiteral("1e999")).toBe('"1e999"');
  });
});

describe("parseSetArg(s)", () => {
  it("splits at the first =", () => {
    expect(parseSetArg("freezeRatio=0.25")).toEqual({ name: "freezeRatio", literal: "0.25" });
    expect(parseSetArg("expr=a=b")).toEqual({ name: "expr", literal: '"a=b"' });
  });
  it("rejects missing = and non-identifiers", () => {
    expect(() => parseSetArg("freezeRatio")).toThrow(/--set: expected name=value, got "freezeRatio"/);
    expect(() => parseSetArg("=1")).toThrow(/expected name=value/);
    expect(() => parseSetArg("freeze-ratio=1")).toThrow(/"freeze-ratio" is not a TypeScript identifier/);
  });
  it("lets a later value win", () => {
    expect(parseSetArgs(["r=1", "alpha=2", "r=4"])).toEqual([
      { name: "alpha", literal: "2" },
      { name: "r", literal: "4" },
    ]);
  });
});

describe("declaredParameters", () => {
  it("finds let/const/var with keyword and annotation, skipping comments", () => {
    expect(declaredParameters(PARAMS)).toEqual([
      { keyword: "let", name: "freezeRatio", annotation: null },
      { keyword: "const", name: "shift", annotation: "Shift" },
      { keyword: "let", name: "labelsPerClass", annotation: "number" },
    ]);
  });
  it("keeps function types whole and handles declarations without a value", () => {
    expect(declaredParameters("let f: (x: number) => number = (x) => x;\nlet later: string;")).toEqual([
      { keyword: "let", name: "f", annotation: "(x: number) => number" },
      { keyword: "let", name: "later", annotation: "string" },
    ]);
  });
  it("redeclares with the original keyword and type", () => {
    expect(
      declarationFor({ keyword: "const", name: "shift", annotation: "Shift" }, { name: "shift", literal: '"heavy"' }),
    ).toBe('const shift: Shift = "heavy";');
    expect(declarationFor({ keyword: "let", name: "r", annotation: null }, { name: "r", literal: "2" })).toBe(
      "let r = 2;",
    );
  });
});

describe("injectParameters", () => {
  const nb = notebook([
    code("import * as tl from './src';"),
    code(PARAMS, ["parameters"]),
    code("console.log(freezeRatio)"),
  ]);

  it("inserts one tagged cell right after the parameters cell, leaving the input untouched", () => {
    const out = injectParameters(nb, parseSetArgs(["freezeRatio=0.25", "shift=heavy"]), "03");
    expect(out.cells).toHaveLength(4);
    expect(nb.cells).toHaveLength(3);
    const cell = out.cells[2];
    expect(cell.metadata.tags).toEqual([INJECTED_TAG]);
    expect(cell.id).toBe(INJECTED_TAG);
    expect(cellSource(cell)).toBe(
      '// Parameters injected by the lesson runner (--set)\nlet freezeRatio = 0.25;\nconst shift: Shift = "heavy";',
    );
    expect(cellSource(out.cells[3])).toBe("console.log(freezeRatio)");
  });
  it("replaces an earlier injected cell instead of stacking", () => {
    const once = injectParameters(nb, parseSetArgs(["freezeRatio=0.25"]), "03");
    const twice = injectParameters(once, parseSetArgs(["freezeRatio=1"]), "03");
    expect(twice.cells.filter((c) => c.metadata.tags?.includes(INJECTED_TAG))).toHaveLength(1);
    expect(cellSource(twice.cells[2])).toContain("let freezeRatio = 1;");
  });
  it("gives no id to cells of notebooks older than nbformat 4.5", () => {
    const old = injectParameters({ ...nb, nbformat_minor: 4 }, parseSetArgs(["freezeRatio=0"]), "03");
    expect(old.cells[2].id).toBeUndefined();
  });
  it("returns a plain copy without sets", () => {
    expect(injectParameters(nb, [], "03")).toEqual(nb);
  });
  it("names notebook, parameter and the declared ones when the name is unknown", () => {
    expect(() => injectParameters(nb, parseSetArgs(["foo=1"]), "03")).toThrow(
      "--set foo: notebook 03 has no parameter foo (has: freezeRatio, shift, labelsPerClass)",
    );
  });
  it("fails when there is no parameters cell", () => {
    const bare = notebook([code("let a = 1;")]);
    expect(() => injectParameters(bare, parseSetArgs(["a=2"]), "04")).toThrow(
      /--set a: notebook 04 has no code cell tagged "parameters"/,
    );
  });
});

describe("lesson files", () => {
  it("takes the two-digit id of NN-title.ipynb only", () => {
    expect(lessonId("/x/03-fine-tuning.ipynb")).toBe("03");
    expect(lessonId("3-fine-tuning.ipynb")).toBeNull();
    expect(lessonId("scratch.ipynb")).toBeNull();
    expect(lessonId("03-fine-tuning.py")).toBeNull();
  });
  it("lists lessons sorted and ignores other files", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-lessons-"));
    for (const f of ["01-b.ipynb", "00-a.ipynb", "notes.ipynb", "02-c.txt"]) fs.writeFileSync(path.join(dir, f), "{}");
    expect(listLessons(dir).map((f) => path.basename(f))).toEqual(["00-a.ipynb", "01-b.ipynb"]);
    fs.rmSync(dir, { recursive: true });
  });
  it("selects by number, comma list or repeat, and names a missing one", () => {
    const files = ["/n/00-a.ipynb", "/n/03-b.ipynb", "/n/04-c.ipynb"];
    expect(selectLessons(files, [])).toEqual(files);
    expect(selectLessons(files, ["3"])).toEqual(["/n/03-b.ipynb"]);
    expect(selectLessons(files, ["04,00"])).toEqual(["/n/00-a.ipynb", "/n/04-c.ipynb"]);
    expect(selectLessons(files, ["03", "04"])).toEqual(["/n/03-b.ipynb", "/n/04-c.ipynb"]);
    expect(() => selectLessons(files, ["07"])).toThrow("--only 07: no notebook 07-*.ipynb (have: 00, 03, 04)");
    expect(() => selectLessons(files, ["x"])).toThrow(/--only: expected a lesson number like 03, got "x"/);
  });
});

describe("hygieneProblems", () => {
  it("accepts a clean notebook", () => {
    expect(
      hygieneProblems(
        notebook([code("let a = 1;", ["parameters"]), { cell_type: "markdown", source: "# T", metadata: {} }]),
      ),
    ).toEqual([]);
  });
  it("reports outputs, execution counts, injected cells, wrong kernel and parameters cells", () => {
    const dirty = notebook([
      code("let a = 1;", [], { execution_count: 3, outputs: [{ output_type: "stream", name: "stdout", text: "1" }] }),
      code("let a = 2;", [INJECTED_TAG]),
    ]);
    dirty.metadata.kernelspec = { name: "tslab" };
    expect(hygieneProblems(dirty)).toEqual([
      "cell 0 has outputs (clear outputs before committing)",
      "cell 0 has execution_count 3 (clear outputs before committing)",
      "cell 1 is an injected-parameters cell left by the runner (delete it)",
      'metadata.kernelspec.name is "tslab", expected "transfer-lab" (pick the kernel "TypeScript (transfer-lab)")',
      'expected exactly one code cell tagged "parameters", found 0',
    ]);
  });
});

describe("reading executed notebooks", () => {
  const ran = notebook([
    code("setup", [], {
      execution_count: 1,
      outputs: [{ output_type: "stream", name: "stdout", text: ["tfjs 4.22.0\n", "backend: wasm\n"] }],
    }),
    code("later", [], {
      execution_count: 2,
      outputs: [{ output_type: "stream", name: "stdout", text: "backend: cpu\n" }],
    }),
    code("never ran"),
  ]);

  it("reads the first backend line from streams or text/plain", () => {
    expect(findBackend(ran)).toBe("wasm");
    const shown = notebook([
      code("x", [], { outputs: [{ output_type: "execute_result", data: { "text/plain": "'backend: tensorflow'" } }] }),
    ]);
    expect(findBackend(shown)).toBe("tensorflow");
    expect(findBackend(notebook([code("x")]))).toBeNull();
  });
  it("counts executed code cells", () => {
    expect(executedCells(ran)).toBe(2);
  });
  it("builds the failure from the first error output; stderr text is not an error", () => {
    const withError = notebook([
      code("ok"),
      code("boom()", [], {
        outputs: [
          {
            output_type: "error",
            ename: "TypeError",
            evalue: "\u001b[31mx is not a function\u001b[0m",
            traceback: ["l1", "l2"],
          },
        ],
      }),
      code("later()", [], { outputs: [{ output_type: "error", ename: "RangeError", evalue: "later", traceback: [] }] }),
    ]);
    expect(findCellError(withError)).toEqual({
      cellIndex: 1,
      ename: "TypeError",
      evalue: "x is not a function",
      traceback: "l1\nl2",
      firstLine: "boom()",
    });
    expect(cellErrorAt(withError, 2)).toMatchObject({
      cellIndex: 2,
      ename: "RangeError",
      evalue: "later",
      firstLine: "later()",
    });
    expect(cellErrorAt(withError, 0)).toBeNull();
    expect(cellErrorAt(withError, 9)).toBeNull();
    const withStderr = notebook([
      code("\n  warnIt();", [], { outputs: [{ output_type: "stream", name: "stderr", text: "Error: it\n" }] }),
    ]);
    expect(findCellError(withStderr)).toBeNull();
    expect(stripAnsi("\u001b[1;31mred\u001b[0m")).toBe("red");
  });
});

describe("result lines", () => {
  const ok: LessonResult = {
    name: "03-fine-tuning.ipynb",
    output: "build/lessons/03-fine-tuning.ipynb",
    cells: 24,
    seconds: 12.34,
    backend: "wasm",
    ok: true,
    stderrTail: "",
  };
  it("prints name, cells, seconds, backend", () => {
    expect(formatResult(ok)).toMatch(/^03-fine-tuning\.ipynb\s+cells\s+24\s+12\.3 s\s+backend wasm\s+ok$/);
  });
  it("names notebook, cell index and error on failure, without tslab frames", () => {
    const failed: LessonResult = {
      ...ok,
      ok: false,
      backend: null,
      failure: {
        kind: "RangeError",
        message: "freezeRatio must be in [0, 1], got 2",
        cellIndex: 7,
        firstLine: "const ft = tl.freezeByRatio(model, freezeRatio);",
        details:
          "RangeError: freezeRatio must be in [0, 1], got 2\n    at Object.execute (/p/node_modules/tslab/dist/executor.js:160:38)",
      },
    };
    const text = formatResult(failed);
    expect(text).toContain("backend ?  FAILED");
    expect(text).toContain(
      "03-fine-tuning.ipynb, cell 7 (see build/lessons/03-fine-tuning.ipynb): RangeError: freezeRatio must be in [0, 1], got 2",
    );
    expect(text).toContain("cell starts: const ft = tl.freezeByRatio(model, freezeRatio);");
    expect(text).not.toContain("tslab/dist");
    expect(describeFailure(ok)).toBe("");
    const compile = {
      ...failed,
      failure: {
        ...failed.failure!,
        kind: "CompileError",
        message: "1:5 - Bad type.\n2:1 - Cannot find name 'x'.",
        details: "",
      },
    };
    expect(describeFailure(compile)).toContain("CompileError: 1:5 - Bad type.\n    2:1 - Cannot find name 'x'.");
  });
});
