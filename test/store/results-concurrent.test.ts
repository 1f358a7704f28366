// The results log under concurrent appends and after a killed writer: two processes append 500
// records each (some over 4 KB) to one results.jsonl at once, and every line must still be one
// whole record; a torn last line costs only itself, with a warning naming the file and line and
// the command that repairs it.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/core/paths";
import { readResults, recordResult, RESULTS_FILE, type ResultRecord } from "../../src/store/results";
import { tempDir } from "../data/idx-helpers";
import { SAMPLE_RESULT } from "../helpers/fixtures";

const APPENDER = path.join(__dirname, "..", "helpers", "append-results.ts");
const PER_PROCESS = 500;

/** Starts an appender; resolves `ready` on its READY line and `done` when it exits cleanly. */
function appender(dir: string, proc: string, goFile: string): { ready: Promise<void>; done: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", APPENDER, dir, proc, String(PER_PROCESS), goFile], {
    cwd: projectRoot(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const ready = new Promise<void>((resolve) =>
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("READY\n")) resolve();
    }),
  );
  const done = new Promise<void>((resolve, reject) =>
    child.on("exit", (code) => {
      if (code === 0 && out.includes("DONE\n")) resolve();
      else reject(new Error(`append-results ${proc} exited ${code}\nstdout: ${out}\nstderr: ${err}`));
    }),
  );
  return { ready, done };
}

const base: ResultRecord = SAMPLE_RESULT;

let root = "";
beforeAll(() => {
  root = tempDir("results-concurrent-");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("results log", () => {
  it("stays one whole record per line under concurrent appends from two processes", async () => {
    const dir = path.join(root, "both");
    const goFile = path.join(root, "go");
    const a = appender(dir, "A", goFile);
    const b = appender(dir, "B", goFile);
    await Promise.all([a.ready, b.ready]);
    fs.writeFileSync(goFile, ""); // both start appending now
    await Promise.all([a.done, b.done]);

    const lines = fs.readFileSync(path.join(dir, RESULTS_FILE), "utf8").split("\n");
    expect(lines.pop()).toBe(""); // ends with a newline
    expect(lines).toHaveLength(2 * PER_PROCESS);
    const recs = lines.map((l) => JSON.parse(l) as ResultRecord); // throws on any torn or mixed line
    const turns = recs.filter((r, k) => k > 0 && r.extra!.proc !== recs[k - 1].extra!.proc).length;
    expect(turns, "the two processes did not append at the same time").toBeGreaterThan(0);
    for (const proc of ["A", "B"]) {
      const mine = recs.filter((r) => r.extra?.proc === proc);
      expect(mine.map((r) => r.extra!.i)).toEqual([...Array(PER_PROCESS).keys()]); // all there, in order
      expect(mine.every((r) => r.extra!.pad === proc.repeat((r.extra!.i as number) % 5 === 0 ? 6000 : 1))).toBe(true);
    }
    const warnings: string[] = [];
    expect(readResults({ dir, warn: (m) => warnings.push(m) })).toHaveLength(2 * PER_PROCESS);
    expect(warnings).toEqual([]);
  });

  it("keeps the other results when a killed writer left a torn last line, and the record appended after it", () => {
    const dir = path.join(root, "torn");
    recordResult(base, dir);
    recordResult({ ...base, seed: 1 }, dir);
    // What a writer killed mid-record leaves: part of a line, no newline.
    fs.appendFileSync(path.join(dir, RESULTS_FILE), '{"lesson":"03","method":"lora-r4","extra":{"lesson":"x');
    const warnings: string[] = [];
    const rows = readResults({ dir, warn: (m) => warnings.push(m) });
    expect(rows.map((r) => r.seed)).toEqual([0, 1]);
    expect(rows.skipped).toBe(1);
    expect(warnings).toEqual([
      [
        `readResults: skipped 1 bad line(s) of ${path.join(dir, RESULTS_FILE)}, kept the other 2 results:`,
        "  line 3: not valid JSON (a write cut off by a crash?)",
        `To repair: npm run results -- --repair --dir ${JSON.stringify(dir)} (keeps the valid records, moves the bad lines to results.jsonl.rejected-<time> beside it)`,
      ].join("\n"),
    ]);

    // The next record is glued to the torn one (appends never look at the file's end, which another
    // process may be writing); it is still read back, and so are those after it.
    recordResult({ ...base, seed: 2, extra: { lesson: "nested key, not a record start" } }, dir);
    recordResult({ ...base, seed: 3 }, dir);
    const after = readResults({ dir, warn: false });
    expect(after.map((r) => r.seed)).toEqual([0, 1, 2, 3]);
    expect(after[2].extra).toEqual({ lesson: "nested key, not a record start" });
    expect(after.skipped).toBe(1);
  });
});
