import { describe, it, expect } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { recordResult, readResults, summarizeResults, RESULTS_FILE, type ResultRecord } from "../../src/store/results";
import { SAMPLE_RESULT } from "../helpers/fixtures";

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tl-results-"));
}

const base: ResultRecord = SAMPLE_RESULT;

describe("results", () => {
  it("appends and reads back, never overwriting", () => {
    const dir = tmp();
    recordResult(base, dir);
    recordResult({ ...base, seed: 1, accuracy: 0.6 }, dir);
    recordResult({ ...base, lesson: "02", method: "scratch" }, dir);
    const all = readResults({ dir });
    expect(all).toHaveLength(3);
    expect(all[0].timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(readResults({ dir, lesson: "03" })).toHaveLength(2);
    expect(fs.readFileSync(path.join(dir, RESULTS_FILE), "utf8").trim().split("\n")).toHaveLength(3);
  });

  it("summarizes mean and std per method", () => {
    const dir = tmp();
    recordResult(base, dir);
    recordResult({ ...base, seed: 1, accuracy: 0.6, retention: 0.9 }, dir);
    const [row] = summarizeResults(readResults({ dir }));
    expect(row.runs).toBe(2);
    expect(row.accuracyMean).toBeCloseTo(0.7, 10);
    expect(row.accuracyStd).toBeCloseTo(Math.sqrt(0.02), 10);
    expect(row.retentionMean).toBeCloseTo(0.9, 10);
  });

  it("skips a damaged line and counts it", () => {
    const dir = tmp();
    recordResult(base, dir);
    fs.appendFileSync(path.join(dir, RESULTS_FILE), '{"lesson": "03", "meth');
    const rows = readResults({ dir, warn: false });
    expect(rows).toHaveLength(1);
    expect(rows.skipped).toBe(1);
  });

  it("rejects bad records naming the field", () => {
    const dir = tmp();
    expect(() => recordResult({ ...base, accuracy: 1.5 }, dir)).toThrow(/accuracy must be in \[0, 1\], got 1.5/);
    expect(() => recordResult({ ...base, method: "" }, dir)).toThrow(/lesson, method and task are required/);
    expect(readResults({ dir })).toHaveLength(0);
  });
});
