// Unit tests for the lesson runner's pure parts: --set parsing, type checks and parameter
// injection, planning sets over lessons, the scale of a run, lesson selection, unreadable
// notebooks, notebook hygiene, and reading results out of executed notebooks; and the CLI's
// decisions that need no kernel (LESSON_SCALE, bad --set values, a notebook that does not parse).
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { describe, expect, it } from "vitest";
import {
  checkSetType,
  declaredParameters,
  declarationFor,
  describeSetPlan,
  injectParameters,
  parseSetArg,
  parseSetArgs,
  planSets,
  valueLiteral,
} from "../../src/cli/runner/inject";
import {
  INJECTED_TAG,
  NotebookReadError,
  cellSource,
  hygieneProblems,
  lessonId,
  listLessons,
  readNotebook,
  selectLessons,
  writeNotebook,
  type Notebook,
  type NotebookCell,
} from "../../src/cli/runner/notebook";
import { readLessons, resolveScale, scaleSource } from "../../src/cli/runner/options";
import { cellErrorAt, executedCells, findBackend, findCellError, stripAnsi } from "../../src/cli/runner/outputs";
import {
  formatType,
  libraryTypeAliases,
  matchesType,
  notebookTypeResolver,
  parseType,
  typeAliasesInSource,
} from "../../src/cli/runner/param-types";
import {
  RUNNER_ERROR,
  UNREADABLE_NOTEBOOK,
  describeFailure,
  formatResult,
  notRunResult,
  runLessons,
  deadKernelCause,
  type LessonResult,
} from "../../src/cli/runner/run";
import { PROJECT_ROOT } from "../../src/cli/jupyter";

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
    expect(parseSetArg("freezeRatio=0.25")).toEqual({ name: "freezeRatio", literal: "0.25", text: "0.25" });
    expect(parseSetArg("expr=a=b")).toEqual({ name: "expr", literal: '"a=b"', text: "a=b" });
  });
  it("rejects missing = and non-identifiers", () => {
    expect(() => parseSetArg("freezeRatio")).toThrow(/--set: expected name=value, got "freezeRatio"/);
    expect(() => parseSetArg("=1")).toThrow(/expected name=value/);
    expect(() => parseSetArg("freeze-ratio=1")).toThrow(/"freeze-ratio" is not a TypeScript identifier/);
  });
  it("lets a later value win", () => {
    expect(parseSetArgs(["r=1", "alpha=2", "r=4"])).toEqual([
      { name: "alpha", literal: "2", text: "2" },
      { name: "r", literal: "4", text: "4" },
    ]);
  });
});

describe("declaredParameters", () => {
  it("finds let/const/var with keyword and annotation, skipping comments", () => {
    expect(declaredParameters(PARAMS)).toEqual([
      { keyword: "let", name: "freezeRatio", annotation: null, initializer: "0.5" },
      { keyword: "const", name: "shift", annotation: "Shift", initializer: '"mild"' },
      { keyword: "let", name: "labelsPerClass", annotation: "number", initializer: "5" },
    ]);
  });
  it("keeps function types whole and handles declarations without a value", () => {
    expect(declaredParameters("let f: (x: number) => number = (x) => x;\nlet later: string;")).toEqual([
      { keyword: "let", name: "f", annotation: "(x: number) => number", initializer: "(x) => x" },
      { keyword: "let", name: "later", annotation: "string" },
    ]);
    expect(declaredParameters("let r: number = settings.r; // LoRA rank")[0].initializer).toBe("settings.r");
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

describe("parameter types", () => {
  const aliases = new Map<string, string | null>([
    ["ShiftName", '"none" | "mild" | "heavy" | "inverted"'],
    ["LabelBudget", 'number | "all"'],
    ["Twice", "ShiftName"],
    ["Ambiguous", null],
  ]);
  const resolve = (name: string) => aliases.get(name.replace(/^tl\./, "")) ?? null;

  it("parses keywords, literals, unions, arrays and names it can expand", () => {
    expect(parseType("number")).toEqual({ kind: "number" });
    expect(formatType(parseType("tl.ShiftName", resolve)!)).toBe('"none" | "mild" | "heavy" | "inverted"');
    expect(formatType(parseType("tl.LabelBudget[]", resolve)!)).toBe('(number | "all")[]');
    expect(formatType(parseType("Array<boolean>")!)).toBe("boolean[]");
    expect(formatType(parseType("readonly string[]")!)).toBe("string[]");
    expect(formatType(parseType("(1 | 2) | null")!)).toBe("1 | 2 | null");
    expect(formatType(parseType("Twice", resolve)!)).toBe('"none" | "mild" | "heavy" | "inverted"');
  });
  it("gives up (null: not checked) on what it cannot read", () => {
    for (const t of ["tl.Ambiguous", "tl.Unknown", "Record<string, number>", "{ a: number }", "(x: number) => number"])
      expect(parseType(t, resolve), t).toBeNull();
    expect(parseType("number | tl.Unknown", resolve)).toBeNull();
  });
  it("matches JSON values", () => {
    const shift = parseType("tl.ShiftName", resolve)!;
    expect(matchesType(shift, "mild")).toBe(true);
    expect(matchesType(shift, "huge")).toBe(false);
    const budgets = parseType("tl.LabelBudget[]", resolve)!;
    expect(matchesType(budgets, [1, 5, "all"])).toBe(true);
    expect(matchesType(budgets, [1, "some"])).toBe(false);
    expect(matchesType(budgets, 5)).toBe(false);
  });
  it("reads a notebook's library imports and its own type aliases", () => {
    const nb = notebook([
      code('import * as tl from "./src";\nimport { type Compute as C } from "./src";\ntype Mine = "a" | "b";'),
    ]);
    const r = notebookTypeResolver(
      nb,
      new Map([
        ["ShiftName", '"mild"'],
        ["Compute", '"low" | "high"'],
      ]),
    );
    expect(r("tl.ShiftName")).toBe('"mild"');
    expect(r("other.ShiftName")).toBeNull();
    expect(r("C")).toBe('"low" | "high"');
    expect(r("Mine")).toBe('"a" | "b"');
    expect(r("ShiftName")).toBeNull();
    expect(typeAliasesInSource("export type A = 1;\ntype B = 2;\nexport type G<T> = T[];", true)).toEqual([["A", "1"]]);
  });
  it("finds the library's own aliases (tl.ShiftName, tl.Scale)", () => {
    const lib = libraryTypeAliases();
    expect(formatType(parseType("ShiftName", (n) => lib.get(n) ?? null)!)).toBe(
      '"none" | "mild" | "heavy" | "inverted"',
    );
    expect(formatType(parseType("Scale", (n) => lib.get(n) ?? null)!)).toBe('"smoke" | "default" | "full"');
  });
});

describe("--set values of the wrong type are refused before any kernel starts", () => {
  const lesson = notebook([
    code('import * as tl from "./src";'),
    code(
      [
        "let scale: tl.Scale = tl.getScale();",
        "let freezeRatio: number = settings.freezeRatio; // bottom fraction",
        "let shift: tl.ShiftName = settings.shift;",
        "let fillMissing: boolean = true;",
        "let label: string = 'x';",
        "let seed = 0;",
        "let sweepShifts: tl.ShiftName[] = settings.sweepShifts;",
        "let custom: tl.Unknown = settings.custom;",
      ].join("\n"),
      ["parameters"],
    ),
  ]);
  const inject = (...sets: string[]) => injectParameters(lesson, parseSetArgs(sets), "03");

  it("names the parameter, the value and the declared type", () => {
    expect(() => inject("freezeRatio=abc")).toThrow(
      '--set freezeRatio=abc: lesson 03 declares freezeRatio as number, got the string "abc"',
    );
    expect(() => inject("shift=huge")).toThrow(
      '--set shift=huge: lesson 03 declares shift as tl.ShiftName ("none" | "mild" | "heavy" | "inverted"), got the string "huge"',
    );
    expect(() => inject("fillMissing=1")).toThrow(
      "--set fillMissing=1: lesson 03 declares fillMissing as boolean, got the number 1",
    );
    expect(() => inject("scale=huge")).toThrow(/declares scale as tl\.Scale \("smoke" \| "default" \| "full"\)/);
    expect(() => inject('sweepShifts=["mild","x"]')).toThrow(/declares sweepShifts as tl\.ShiftName\[\]/);
    // unannotated: the type of its literal initializer
    expect(() => inject("seed=abc")).toThrow('--set seed=abc: lesson 03 declares seed as number, got the string "abc"');
  });
  it("accepts values of the declared type, and text for a string", () => {
    const src = cellSource(
      inject("freezeRatio=0.25", "shift=inverted", "label=5", 'sweepShifts=["mild","heavy"]').cells[2],
    );
    expect(src).toContain("let freezeRatio: number = 0.25;");
    expect(src).toContain('let shift: tl.ShiftName = "inverted";');
    expect(src).toContain('let label: string = "5";');
    expect(src).toContain('let sweepShifts: tl.ShiftName[] = ["mild","heavy"];');
  });
  it("lets through what it cannot check (the kernel's compiler still does)", () => {
    expect(cellSource(inject("custom=abc").cells[2])).toContain('let custom: tl.Unknown = "abc";');
    expect(
      checkSetType({ keyword: "let", name: "f", annotation: "(x: number) => number" }, parseSetArg("f=1"), "03"),
    ).toEqual(parseSetArg("f=1"));
  });
});

describe("planSets: a --set goes to the lessons that declare it", () => {
  const lessons = [
    { label: "00", nb: notebook([code("let seed = 0;", ["parameters"])]) },
    { label: "03", nb: notebook([code("let freezeRatio: number = 0.5;\nlet seed = 0;", ["parameters"])]) },
    { label: "04", nb: notebook([code("let r: number = 4;\nlet seed = 0;", ["parameters"])]) },
  ];

  it("applies each set where it is declared and reports the lessons it skipped", () => {
    const plan = planSets(lessons, parseSetArgs(["freezeRatio=0.25", "seed=3"]));
    expect([...plan.perLesson.entries()].map(([l, sets]) => [l, sets.map((s) => s.name)])).toEqual([
      ["00", ["seed"]],
      ["03", ["freezeRatio", "seed"]],
      ["04", ["seed"]],
    ]);
    expect(plan.report.map(describeSetPlan)).toEqual([
      "--set freezeRatio=0.25: lesson 03; skipped 00, 04 (no parameter freezeRatio)",
      "--set seed=3: lessons 00, 03, 04",
    ]);
  });
  it("fails only when no selected lesson declares it", () => {
    expect(() => planSets(lessons, parseSetArgs(["nope=1"]))).toThrow(
      "--set nope: none of the selected lessons (00, 03, 04) has a parameter nope",
    );
    expect(() => planSets([lessons[0]], parseSetArgs(["freezeRatio=1"]))).toThrow(
      "--set freezeRatio: notebook 00 has no parameter freezeRatio (has: seed)",
    );
    expect(() => planSets([{ label: "05", nb: notebook([code("let a = 1;")]) }], parseSetArgs(["a=2"]))).toThrow(
      /--set a: notebook 05 has no code cell tagged "parameters"/,
    );
  });
  it("checks the type in every lesson it goes to", () => {
    expect(() => planSets(lessons, parseSetArgs(["freezeRatio=abc"]))).toThrow(
      '--set freezeRatio=abc: lesson 03 declares freezeRatio as number, got the string "abc"',
    );
  });
});

describe("the scale of a run", () => {
  it("takes --scale, else LESSON_SCALE, else default", () => {
    expect(resolveScale("full", { LESSON_SCALE: "smoke" })).toBe("full");
    expect(resolveScale(undefined, { LESSON_SCALE: "smoke" })).toBe("smoke");
    expect(resolveScale(undefined, { LESSON_SCALE: " Smoke " })).toBe("smoke");
    expect(resolveScale(undefined, {})).toBe("default");
    expect(resolveScale(undefined, { LESSON_SCALE: "" })).toBe("default");
    expect(scaleSource(undefined, { LESSON_SCALE: "smoke" })).toBe("LESSON_SCALE");
    expect(scaleSource("full", { LESSON_SCALE: "smoke" })).toBe("--scale");
  });
  it("names LESSON_SCALE when its value is bad", () => {
    expect(() => resolveScale(undefined, { LESSON_SCALE: "huge" })).toThrow(
      'LESSON_SCALE must be one of smoke, default, full, got "huge"',
    );
  });
});

describe("a notebook that does not parse", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-broken-"));
  const broken = path.join(dir, "01-broken.ipynb");
  fs.writeFileSync(broken, '{\n "cells": [\n  {"source": "unterminated\n');
  const good = path.join(dir, "00-good.ipynb");
  writeNotebook(good, notebook([code("let a = 1;", ["parameters"])]));

  it("names the file, and where in it", () => {
    expect(() => readNotebook(broken)).toThrow(NotebookReadError);
    expect(() => readNotebook(broken)).toThrow(
      new RegExp(`^${broken.replace(/[.]/g, "\\.")}: not valid JSON: .*\\(line 3 column \\d+\\)$`),
    );
    const { readable, unreadable } = readLessons([good, broken]);
    expect(readable.map((l) => l.label)).toEqual(["00"]);
    expect(unreadable.map((u) => u.file)).toEqual([broken]);
  });
  it("is a failed lesson, its old executed copy removed, and the other lessons still run", async () => {
    const out = path.join(dir, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "01-broken.ipynb"), "{} from an earlier run");
    const seen: string[] = [];
    // The second "lesson" cannot start its executor either (no such Python): reported, not thrown.
    const results = await runLessons([broken, good], { outDir: out, python: path.join(dir, "no-python") }, (r) =>
      seen.push(r.name),
    );
    expect(seen).toEqual(["01-broken.ipynb", "00-good.ipynb"]);
    expect(results.map((r) => [r.ok, r.failure?.kind])).toEqual([
      [false, UNREADABLE_NOTEBOOK],
      [false, RUNNER_ERROR],
    ]);
    expect(results[0].failure?.message).toContain(`${broken}: not valid JSON: `);
    expect(fs.existsSync(path.join(out, "01-broken.ipynb"))).toBe(false);
    const line = formatResult(results[0]);
    expect(line).toMatch(/^01-broken\.ipynb\s+cells\s+0\s+0\.0 s\s+backend \?\s+FAILED\n/);
    expect(line).toContain("01-broken.ipynb, before any cell: unreadable-notebook: ");
    expect(line).not.toContain("(see ");
    expect(notRunResult(good, new Error("x"), out).failure?.kind).toBe(RUNNER_ERROR);
  });
});

describe("the lessons CLI, up to the first kernel", () => {
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(
      process.execPath,
      [path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "src/cli/runner/lessons.ts", ...args],
      { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, LESSON_SCALE: "", ...env }, timeout: 60_000 },
    );
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const tmpOut = fs.mkdtempSync(path.join(os.tmpdir(), "tl-cli-"));

  it("refuses a bad LESSON_SCALE, naming it", () => {
    const r = cli(["--only", "03", "--no-site", "--out", tmpOut], { LESSON_SCALE: "huge" });
    expect(r.code).toBe(1);
    expect(r.out).toContain('LESSON_SCALE must be one of smoke, default, full, got "huge"');
  });
  it("refuses --set freezeRatio=abc before running anything", () => {
    const r = cli(["--scale", "smoke", "--set", "freezeRatio=abc", "--no-site", "--out", tmpOut]);
    expect(r.code).toBe(1);
    expect(r.out.trim()).toBe('--set freezeRatio=abc: lesson 03 declares freezeRatio as number, got the string "abc"');
  });
  it("refuses --data (or TRANSFER_LAB_DATA) that is not a folder before any kernel starts", () => {
    const r = cli(["--scale", "smoke", "--data", "/no/such/idx", "--only", "00", "--no-site", "--out", tmpOut]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /TRANSFER_LAB_DATA must be a folder holding IDX files .*got "\/no\/such\/idx" \(no such folder\)/,
    );
    const e = cli(["--scale", "smoke", "--only", "00", "--no-site", "--out", tmpOut], {
      TRANSFER_LAB_DATA: "/no/such/idx",
    });
    expect(e.code).toBe(1);
    expect(e.out).toContain("TRANSFER_LAB_DATA must be a folder holding IDX files");
  });
  it("runs at LESSON_SCALE, and reports a notebook that does not parse as a failed lesson", () => {
    const nbs = fs.mkdtempSync(path.join(os.tmpdir(), "tl-cli-nbs-"));
    fs.writeFileSync(path.join(nbs, "07-broken.ipynb"), '{"cells": [');
    const r = cli(["--notebooks", nbs, "--no-site", "--out", tmpOut], { LESSON_SCALE: "smoke" });
    expect(r.out).toContain("running 1 lesson(s) at scale smoke (LESSON_SCALE)");
    expect(r.out).toMatch(/07-broken\.ipynb\s+cells\s+0 .* FAILED/);
    expect(r.out).toContain(`${path.join(nbs, "07-broken.ipynb")}: not valid JSON`);
    expect(r.out).toContain("1 of 1 lesson(s) failed: 07-broken.ipynb");
    expect(r.code).toBe(1);
  });
});

describe("deadKernelCause", () => {
  it("reads V8's out-of-memory crash and the kernel's low-memory warning from the kernel log", () => {
    const crash =
      "<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n";
    expect(deadKernelCause(crash)).toMatch(/^the kernel ran out of memory: .*NODE_OPTIONS=--max-old-space-size=<MB>$/);
    const warned =
      "transfer-lab kernel: low on memory: JavaScript heap 90 MB of 96 MB (94 %); the kernel dies when it is full\n";
    expect(deadKernelCause(warned)).toMatch(/its last warning: JavaScript heap 90 MB of 96 MB \(94 %\)\)/);
    expect(deadKernelCause("Kernel restarting: segfault")).toBeNull();
  });
});
