// Lines of results.jsonl that are not result records: null, an array, a number, a record missing a
// required field or with a wrong type, a torn write. Reading names each by file and line in one
// warning that says how to repair, and returns the valid rows; `npm run results -- --repair`
// (repairResults) keeps the valid records and moves the bad lines to a side file.
//
// Before: `echo null >> results.jsonl` made every reader fail with "TypeError: Cannot read
// properties of null (reading 'lesson') at readResults", naming neither file nor line; a record
// without `accuracy` was accepted silently.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/core/paths";
import {
  PROTOCOL_VERSION,
  readResults,
  recordResult,
  repairResults,
  resultRecordProblem,
  RESULTS_FILE,
  summarizeResults,
  type ResultRecord,
} from "../../src/store/results";
import { tempDir } from "../data/idx-helpers";
import { SAMPLE_RESULT } from "../helpers/fixtures";

const base: ResultRecord = SAMPLE_RESULT;

/** A results file with two valid records around every kind of bad line; returns the folder. */
function damagedLog(name: string): string {
  const dir = path.join(root, name);
  recordResult(base, dir);
  const { accuracy: _dropped, ...noAccuracy } = { ...base, seed: 9 };
  const bad = [
    "null",
    "[1,2,3]",
    "42",
    JSON.stringify(noAccuracy),
    JSON.stringify({ ...base, accuracy: "0.8" }),
    JSON.stringify({ ...base, seconds: "fast" }),
    '{"lesson":"03","method":"lora-r4","ta',
  ];
  fs.appendFileSync(path.join(dir, RESULTS_FILE), bad.join("\n") + "\n");
  recordResult({ ...base, seed: 1 }, dir);
  return dir;
}

const EXPECTED_PROBLEMS = [
  "  line 2: null, not a result record",
  "  line 3: an array, not a result record",
  "  line 4: a number (42), not a result record",
  '  line 5: missing required field "accuracy"',
  '  line 6: field "accuracy" is a string ("0.8"), expected a number in [0, 1]',
  '  line 7: field "seconds" is a string ("fast"), expected a number',
  "  line 8: not valid JSON (a write cut off by a crash?)",
];

let root = "";
beforeAll(() => {
  root = tempDir("results-bad-");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("reading a results file with bad lines", () => {
  it("names the file and every bad line in one warning with the repair, and returns the valid rows", () => {
    const dir = damagedLog("read");
    const warnings: string[] = [];
    const rows = readResults({ dir, warn: (m) => warnings.push(m) });
    expect(rows.map((r) => r.seed)).toEqual([0, 1]);
    expect(rows.skipped).toBe(7);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].split("\n")).toEqual([
      `readResults: skipped 7 bad line(s) of ${path.join(dir, RESULTS_FILE)}, kept the other 2 results:`,
      ...EXPECTED_PROBLEMS,
      `To repair: npm run results -- --repair --dir ${JSON.stringify(dir)} (keeps the valid records, moves the bad lines to results.jsonl.rejected-<time> beside it)`,
    ]);
    // The readers downstream see only whole records.
    expect(summarizeResults(rows)[0]).toMatchObject({ runs: 2, accuracyMean: 0.8 });
    expect(readResults({ dir, lesson: "03", warn: false })).toHaveLength(2);
  });

  it("names every bad line, also when there are many", () => {
    const dir = path.join(root, "many");
    recordResult(base, dir);
    fs.appendFileSync(path.join(dir, RESULTS_FILE), "null\n".repeat(25));
    const warnings: string[] = [];
    expect(readResults({ dir, warn: (m) => warnings.push(m) })).toHaveLength(1);
    const lines = warnings[0].split("\n");
    expect(lines.filter((l) => l.startsWith("  line "))).toHaveLength(20);
    expect(lines).toContain("  and line(s) 22, 23, 24, 25, 26");
  });

  it("explains why a value is not a record", () => {
    expect(resultRecordProblem(base)).toBeNull();
    expect(resultRecordProblem({ ...base, labelsPerClass: null, retention: null, extra: { k: 1 } })).toBeNull();
    expect(resultRecordProblem("x")).toBe('a string ("x"), not a result record');
    expect(resultRecordProblem(true)).toBe("a boolean (true), not a result record");
    expect(resultRecordProblem({ lesson: "01" })).toBe(
      'missing required fields "method", "task", "labelsPerClass", "accuracy", "backend", "scale", "seed"',
    );
    expect(resultRecordProblem({ ...base, accuracy: 1.5, extra: [1] })).toBe(
      'field "accuracy" is a number (1.5), expected a number in [0, 1], field "extra" is an array, expected an object',
    );
  });

  it("recordResult refuses a record that would not read back", () => {
    const dir = path.join(root, "write");
    expect(() => recordResult({ ...base, seed: "0" as never }, dir)).toThrow(
      'recordResult: field "seed" is a string ("0"), expected a number (method freeze-0.50)',
    );
    expect(() => recordResult({ ...base, backend: undefined as never }, dir)).toThrow(
      /recordResult: missing required field "backend"/,
    );
    expect(fs.existsSync(path.join(dir, RESULTS_FILE))).toBe(false);
  });
});

describe("repairing the results file", () => {
  it("keeps the valid records, moves the bad lines to a side file, and leaves nothing bad", async () => {
    const dir = damagedLog("repair");
    const file = path.join(dir, RESULTS_FILE);
    const before = fs.readFileSync(file, "utf8").split("\n");
    // A torn record with a whole one glued after it: the whole one is kept, on its own line.
    // (written as recordResult writes it: with the protocol it was measured under, so it reads back)
    const glued = { ...base, seed: 2, protocol: PROTOCOL_VERSION };
    fs.appendFileSync(file, '{"lesson":"03","meth' + JSON.stringify(glued) + "\n");

    const report = await repairResults({ dir });
    expect(report).toMatchObject({ file, kept: 3, rejected: 8 });
    expect(path.basename(report.rejectedFile!)).toMatch(/^results\.jsonl\.rejected-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    expect(path.dirname(report.rejectedFile!)).toBe(dir);
    // The valid lines, byte for byte as they were, then the recovered one.
    expect(fs.readFileSync(file, "utf8")).toBe([before[0], before[8], JSON.stringify(glued)].join("\n") + "\n");
    expect(fs.readFileSync(report.rejectedFile!, "utf8").split("\n")).toEqual([
      ...before.slice(1, 8),
      '{"lesson":"03","meth',
      "",
    ]);
    const warnings: string[] = [];
    const rows = readResults({ dir, warn: (m) => warnings.push(m) });
    expect(rows.map((r) => r.seed)).toEqual([0, 1, 2]);
    expect([rows.skipped, warnings]).toEqual([0, []]);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);

    // Nothing left to repair: nothing is written.
    const again = await repairResults({ dir });
    expect(again).toMatchObject({ kept: 3, rejected: 0, rejectedFile: null });
    expect(fs.readdirSync(dir).filter((f) => f.includes("rejected"))).toHaveLength(1);
  });

  it("npm run results checks and repairs, reporting counts", () => {
    const dir = damagedLog("cli");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", path.join("src", "cli", "results.ts"), "--dir", dir, ...args], {
        cwd: projectRoot(),
        encoding: "utf8",
      });
    const check = run();
    expect(check.status).toBe(1);
    expect(check.stdout).toContain(`results: skipped 7 bad line(s) of ${path.join(dir, RESULTS_FILE)}`);
    expect(check.stdout).toContain(EXPECTED_PROBLEMS[3]);
    expect(check.stdout).toContain("To repair: npm run results -- --repair");

    const repair = run("--repair");
    expect(repair.status, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(
      new RegExp(
        `results: repaired ${path.join(dir, RESULTS_FILE).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: kept 2 valid record\\(s\\), moved 7 bad line\\(s\\) to .*results\\.jsonl\\.rejected-`,
      ),
    );
    const after = run();
    expect(after.status).toBe(0);
    expect(after.stdout.trim()).toBe(`results: ${path.join(dir, RESULTS_FILE)}: 2 valid record(s), no bad lines`);
  });
});
