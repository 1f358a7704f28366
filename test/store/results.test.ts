import { describe, it, expect } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  describeReuse,
  PROTOCOL_VERSION,
  recordResult,
  readResults,
  resultRecordProblem,
  summarizeResults,
  RESULTS_FILE,
  type ResultRecord,
} from "../../src/store/results";
import { meanCI } from "../../src/core/stats";
import type { TransferResult } from "../../src/experiments/transfer";
import { summarizeTransfer } from "../../src/experiments/transfer-sweep";
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

describe("the measurement protocol of a record", () => {
  it("recordResult fills in the current protocol and keeps a given one", () => {
    const dir = tmp();
    expect(recordResult(base, dir).protocol).toBe(PROTOCOL_VERSION);
    expect(PROTOCOL_VERSION).toBe(2);
    expect(recordResult({ ...base, seed: 1, protocol: 1 }, dir).protocol).toBe(1);
    const lines = fs.readFileSync(path.join(dir, RESULTS_FILE), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).protocol)).toEqual([2, 1]);
  });

  it("readResults returns the current protocol's rows, counts the others, and all with protocol: 'any'", () => {
    const dir = tmp();
    // A line from before versioning (no protocol field: version 1), then one of each version.
    fs.writeFileSync(path.join(dir, RESULTS_FILE), JSON.stringify({ ...base, seed: 10 }) + "\n");
    recordResult({ ...base, seed: 11, protocol: 1 }, dir);
    recordResult({ ...base, seed: 12 }, dir);
    recordResult({ ...base, seed: 13, lesson: "02" }, dir);
    const now = readResults({ dir });
    expect(now.map((r) => r.seed)).toEqual([12, 13]);
    expect([now.olderProtocol, now.skipped]).toEqual([2, 0]);
    const all = readResults({ dir, protocol: "any" });
    expect(all.map((r) => r.seed)).toEqual([10, 11, 12, 13]);
    expect(all.olderProtocol).toBe(0);
    expect(readResults({ dir, protocol: 1 }).map((r) => r.seed)).toEqual([10, 11]);
    // Only rows the other filters keep are counted.
    const lesson02 = readResults({ dir, lesson: "02" });
    expect([lesson02.length, lesson02.olderProtocol]).toEqual([1, 0]);
    expect(() => readResults({ dir, protocol: "2" as never })).toThrow(
      'readResults: protocol must be a protocol version (a positive integer) or "any", got "2"',
    );
    expect(() => readResults({ dir, protocol: 0 })).toThrow(/readResults: protocol must be .*got 0/);
  });

  it("checks valAccuracy, forgetting and protocol like the other fields: bad values are bad lines", () => {
    expect(resultRecordProblem({ ...base, valAccuracy: 0.7, forgetting: -0.01, protocol: 2 })).toBeNull();
    expect(resultRecordProblem({ ...base, valAccuracy: null, forgetting: null })).toBeNull();
    expect(resultRecordProblem({ ...base, valAccuracy: 1.2 })).toBe(
      'field "valAccuracy" is a number (1.2), expected a number in [0, 1] or null',
    );
    expect(resultRecordProblem({ ...base, valAccuracy: "0.7" })).toBe(
      'field "valAccuracy" is a string ("0.7"), expected a number in [0, 1] or null',
    );
    expect(resultRecordProblem({ ...base, forgetting: "a lot" })).toBe(
      'field "forgetting" is a string ("a lot"), expected a number or null',
    );
    expect(resultRecordProblem({ ...base, protocol: 1.5 })).toBe(
      'field "protocol" is a number (1.5), expected a positive integer',
    );
    const dir = tmp();
    recordResult({ ...base, valAccuracy: 0.75, forgetting: 0.02 }, dir);
    fs.appendFileSync(
      path.join(dir, RESULTS_FILE),
      [
        JSON.stringify({ ...base, seed: 1, valAccuracy: -0.1, protocol: 2 }),
        JSON.stringify({ ...base, seed: 2, forgetting: true, protocol: 2 }),
        JSON.stringify({ ...base, seed: 3, protocol: "2" }),
      ].join("\n") + "\n",
    );
    const warnings: string[] = [];
    const rows = readResults({ dir, warn: (m) => warnings.push(m) });
    expect(rows.map((r) => [r.seed, r.valAccuracy, r.forgetting])).toEqual([[0, 0.75, 0.02]]);
    expect(rows.skipped).toBe(3);
    expect(warnings[0]).toContain(
      'line 2: field "valAccuracy" is a number (-0.1), expected a number in [0, 1] or null',
    );
    expect(warnings[0]).toContain('line 3: field "forgetting" is a boolean (true), expected a number or null');
    expect(warnings[0]).toContain('line 4: field "protocol" is a string ("2"), expected a positive integer');
    expect(() => recordResult({ ...base, valAccuracy: 2 }, dir)).toThrow(/field "valAccuracy" is a number \(2\)/);
  });
});

describe("describeReuse", () => {
  const rec = (timestamp: string | undefined, protocol?: number): ResultRecord => ({ ...base, timestamp, protocol });
  const trained = (n: number) =>
    Array.from({ length: n }, () => ({ reused: false, record: rec("2026-12-03T12:00:00.000Z", 2) }));

  it("says how many runs were trained now when none was read back", () => {
    expect(describeReuse(trained(12))).toBe("trained 12 runs now");
    expect(describeReuse(trained(1))).toBe("trained 1 run now");
    expect(describeReuse([])).toBe("trained 0 runs now");
  });

  it("gives the span of the reused records' times: one day, one minute, several days", () => {
    const reused = (ts: string[]) => ts.map((t) => ({ reused: true, record: rec(t, 2) }));
    const sameDay = reused(["2026-12-03T10:02:41.000Z", "2026-12-03T09:51:07.000Z", "2026-12-03T09:58:00.000Z"]);
    expect(describeReuse([...trained(12), ...sameDay])).toBe(
      "trained 12 runs now; read back 3 recorded 2026-12-03 09:51–10:02 UTC (protocol 2)",
    );
    expect(describeReuse(reused(["2026-12-03T09:51:07.000Z", "2026-12-03T09:51:59.000Z"]))).toBe(
      "trained 0 runs now; read back 2 recorded 2026-12-03 09:51 UTC (protocol 2)",
    );
    expect(describeReuse([...trained(1), ...reused(["2026-12-03T08:00:00.000Z", "2026-11-30T23:59:00.000Z"])])).toBe(
      "trained 1 run now; read back 2 recorded between 2026-11-30 23:59 and 2026-12-03 08:00 UTC (protocol 2)",
    );
  });

  it("names the reused records' own protocol, and leaves out times it does not have", () => {
    expect(describeReuse([{ reused: true, record: rec(undefined, 2) }])).toBe(
      "trained 0 runs now; read back 1 (protocol 2)",
    );
    expect(
      describeReuse([
        { reused: true, record: rec("2026-12-03T09:00:00.000Z", 1) },
        { reused: true, record: rec("2026-12-03T09:30:00.000Z") },
        { reused: true, record: rec("2026-12-03T09:45:00.000Z", 2) },
      ]),
    ).toBe("trained 0 runs now; read back 3 recorded 2026-12-03 09:00–09:45 UTC (protocols 1, 2)");
  });
});

describe("summaries show mean ± the 95 % half-width meanCI gives", () => {
  it("summarizeResults: accuracyHalfWidth, valAccuracyMean and forgettingMean per group", () => {
    const accs = [0.81, 0.79, 0.84, 0.8, 0.83];
    const rows: ResultRecord[] = accs.map((accuracy, seed) => ({
      ...base,
      seed,
      accuracy,
      valAccuracy: seed < 4 ? accuracy - 0.01 : null,
      forgetting: seed % 2 === 0 ? 0.02 * seed : null,
    }));
    const [row] = summarizeResults([...rows, { ...base, method: "other", accuracy: 0.5 }]);
    const ci = meanCI(accs);
    expect(row.runs).toBe(5);
    expect(row.accuracyMean).toBeCloseTo(ci.mean, 12);
    expect(row.accuracyHalfWidth).toBeCloseTo(ci.halfWidth, 12);
    // by hand: sd 0.0207364, t(0.975, 4) = 2.7764451052 → 0.0257476
    expect(row.accuracyHalfWidth).toBeCloseTo((2.7764451052 * 0.02073644135332772) / Math.sqrt(5), 9);
    expect(row.accuracyStd).toBeCloseTo(ci.sd, 12);
    expect(row.valAccuracyMean).toBeCloseTo((0.81 + 0.79 + 0.84 + 0.8) / 4 - 0.01, 12);
    expect(row.forgettingMean).toBeCloseTo((0 + 0.04 + 0.08) / 3, 12);
    const [, single] = summarizeResults([...rows, { ...base, method: "other", accuracy: 0.5 }]);
    expect([single.runs, single.accuracyStd, single.accuracyHalfWidth]).toEqual([1, 0, Infinity]);
    expect([single.valAccuracyMean, single.forgettingMean]).toEqual([null, null]);
  });

  it("summarizeTransfer (lesson 03's table): accuracy and forgetting half-widths", () => {
    const accs = [0.7, 0.74, 0.69, 0.73, 0.71, 0.72];
    const forg = [0.01, 0.03, 0.02, 0.05, 0.02, 0.04];
    const runs = accs.map((accuracy, seed) =>
      transferResult({ seed, accuracy, valAccuracy: accuracy + 0.02, forgetting: forg[seed] }),
    );
    // A rerun of seed 0 replaces the first one: the latest run of a seed counts.
    const [row] = summarizeTransfer([transferResult({ seed: 0, accuracy: 0.1 }), ...runs]);
    expect(row.runs).toBe(6);
    expect(row.accuracyHalfWidth).toBeCloseTo(meanCI(accs).halfWidth, 12);
    expect(row.accuracyMean).toBeCloseTo(meanCI(accs).mean, 12);
    expect(row.forgettingHalfWidth).toBeCloseTo(meanCI(forg).halfWidth, 12);
    expect(row.forgettingMean).toBeCloseTo(meanCI(forg).mean, 12);
    expect(row.valAccuracyMean).toBeCloseTo(meanCI(accs).mean + 0.02, 12);
    const [lone] = summarizeTransfer([transferResult({ seed: 3, accuracy: 0.7, forgetting: null })]);
    expect([lone.accuracyHalfWidth, lone.forgettingMean, lone.forgettingHalfWidth]).toEqual([Infinity, null, null]);
  });
});

/** A lesson-03 run with the fields summarizeTransfer reads; the rest fixed. */
function transferResult(r: Partial<TransferResult> & { seed: number; accuracy: number }): TransferResult {
  return {
    method: "freeze-ratio",
    label: "freeze-0.50",
    task: "mild",
    labelsPerClass: 5,
    head: "fresh",
    freezeRatio: 0.5,
    frozenLayers: ["hidden1", "hidden2"],
    learningRate: 0.01,
    headLearningRate: 0.01,
    valAccuracy: 0.7,
    retention: 0.9,
    forgetting: 0.02,
    trainableParams: 25418,
    totalParams: 259274,
    secondsPerEpoch: 0.1,
    seconds: 1,
    epochs: 10,
    steps: 20,
    loss: [1, 0.5],
    ...r,
  };
}
