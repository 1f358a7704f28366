import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { runTransfer, transferLabel } from "../../src/experiments/transfer";
import {
  runTransferExperiment,
  summarizeTransfer,
  transferResultsFromRecords,
} from "../../src/experiments/transfer-sweep";
import { pct } from "../../src/core/format";
import {
  accuracyVsLabelsPlot,
  freezeSweepPlot,
  gainOverBaseline,
  transferGainPlot,
} from "../../src/experiments/transfer-plots";
import { TRANSFER_BUDGETS } from "../../src/core/settings";
import { getSourceModel, sourceTasks, type SourceModel } from "../../src/experiments/source";
import { snapshotWeights, compareWeights } from "../../src/adapt/freezing";
import { readResults } from "../../src/store/results";
import type { TransferTasks } from "../../src/data/tasks";

let dir: string;
let src: SourceModel;
let tasks: TransferTasks;
const budget = { epochs: 1, minSteps: 2 };

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "exp-transfer-"));
  process.env.TRANSFER_LAB_CACHE = dir;
  tasks = sourceTasks({ scale: "smoke", seed: 0, shift: "mild" });
  src = await getSourceModel({ scale: "smoke", seed: 0, tasks, log: false });
});

afterAll(() => {
  src.model.dispose();
  delete process.env.TRANSFER_LAB_CACHE;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("runTransfer", () => {
  it("freezes what each method says and reports counts, retention and timing", async () => {
    const srcSnap = snapshotWeights(src.model);
    const before = tf.memory().numTensors;
    const common = { source: src.model, tasks, labelsPerClass: 2, seed: 1, scale: "smoke" as const, budget };
    const scratch = await runTransfer({ ...common, method: "scratch" });
    const fe = await runTransfer({ ...common, method: "feature-extraction" });
    const half = await runTransfer({ ...common, method: "freeze-ratio", freezeRatio: 0.5 });
    const full = await runTransfer({ ...common, method: "full-ft", head: "source" });
    const first = await runTransfer({ ...common, method: "tune-layers", trainLayers: ["hidden1"] });
    const zero = await runTransfer({ ...common, method: "zero-shot", head: "source" });
    expect(tf.memory().numTensors).toBe(before);
    expect(compareWeights(src.model, srcSnap).some((c) => c.changed)).toBe(false); // runs work on copies

    expect([scratch.trainableParams, scratch.retention, scratch.head]).toEqual([242762, null, null]);
    expect(fe.frozenLayers).toEqual(["hidden1", "hidden2", "hidden3"]);
    expect(fe.trainableParams).toBe(650);
    expect(fe.retention).toBe(src.testAccuracy); // frozen base + original head = the source model
    expect(half.frozenLayers).toEqual(["hidden1", "hidden2"]);
    expect(half.trainableParams).toBe(8256 + 650);
    expect(half.label).toBe("freeze-0.50");
    expect(full.frozenLayers).toEqual([]);
    expect(full.label).toBe("full-ft+source-head");
    expect(first.frozenLayers).toEqual(["hidden2", "hidden3"]);
    expect(first.label).toBe("tune-hidden1");
    expect(zero.steps).toBe(0);
    expect(zero.trainableParams).toBe(0);
    for (const r of [scratch, fe, half, full, first]) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.steps).toBeGreaterThanOrEqual(2);
      expect(r.secondsPerEpoch).toBeGreaterThan(0);
      expect(r.task).toBe("mild");
      expect(r.totalParams).toBe(242762);
    }
  });

  it("names variants by method, head and non-default rates", () => {
    expect(transferLabel({ method: "full-ft", learningRate: 1e-3 })).toBe("full-ft@lr=1e-3");
    expect(transferLabel({ method: "full-ft", learningRate: 1e-4 })).toBe("full-ft");
    expect(transferLabel({ method: "feature-extraction", head: "source", learningRate: 5 })).toBe(
      "head-only+source-head",
    );
    expect(transferLabel({ method: "full-ft", layerDecay: 1 / 2.6 })).toBe("full-ft@decay=0.385");
    expect(transferLabel({ method: "freeze-ratio", freezeRatio: 0.25, learningRate: 1e-3 })).toBe(
      "freeze-0.25@lr=1e-3",
    );
  });

  it("rejects a source head for the class split and a freeze-ratio run without a ratio", async () => {
    const split = sourceTasks({ scale: "smoke", seed: 0, scenario: "class-split" });
    await expect(
      runTransfer({
        method: "full-ft",
        head: "source",
        source: src.model,
        tasks: split,
        labelsPerClass: 1,
        scale: "smoke",
        budget,
      }),
    ).rejects.toThrow(/head "source" needs task B to share task A's classes/);
    await expect(
      runTransfer({ method: "freeze-ratio", source: src.model, tasks, labelsPerClass: 1, scale: "smoke", budget }),
    ).rejects.toThrow(/runTransfer: freezeRatio must be a number in \[0, 1\], got undefined/);
  });
});

describe("runTransferExperiment", () => {
  it("refuses an unwritable cache before any run trains, naming TRANSFER_LAB_CACHE", async () => {
    const saved = process.env.TRANSFER_LAB_CACHE;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tl-unwritable-")), "a-file");
    fs.writeFileSync(file, "not a folder");
    process.env.TRANSFER_LAB_CACHE = file;
    const before = tf.memory().numTensors;
    let seen = 0;
    try {
      await expect(
        runTransferExperiment({
          lesson: "03",
          variants: [{ method: "full-ft", budget }],
          labelsPerClass: [2],
          seeds: [0],
          scale: "smoke",
          progress: false,
          onResult: () => seen++,
        }),
      ).rejects.toThrow(
        /runTransferExperiment: the cache folder .*a-file \(set by TRANSFER_LAB_CACHE\) is not writable/,
      );
    } finally {
      process.env.TRANSFER_LAB_CACHE = saved;
    }
    expect(seen).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("records every run; re-runs with another ratio accumulate; equal runs are read back", async () => {
    const run = (r: number) =>
      runTransferExperiment({
        lesson: "03",
        variants: [{ method: "freeze-ratio", freezeRatio: r, budget }],
        labelsPerClass: [2],
        seeds: [0],
        scale: "smoke",
        progress: false,
      });
    const a = await run(0.5);
    expect(a.map((x) => [x.label, x.reused])).toEqual([["freeze-0.50", false]]);
    const b = await run(0.25);
    expect(b.map((x) => [x.label, x.reused])).toEqual([["freeze-0.25", false]]);
    const c = await run(0.5);
    expect(c[0].reused).toBe(true);
    expect(c[0].accuracy).toBe(a[0].accuracy);
    const rows = readResults({ lesson: "03", scale: "smoke" });
    expect(rows).toHaveLength(2); // the repeated 0.5 added nothing
    const summary = summarizeTransfer(transferResultsFromRecords(rows));
    expect(summary.map((s) => [s.label, s.freezeRatio, s.frozenLayers, s.runs]).sort()).toEqual([
      ["freeze-0.25", 0.25, 1, 1],
      ["freeze-0.50", 0.5, 2, 1],
    ]);
    expect(rows[0].extra!.secondsPerEpoch).toBeGreaterThan(0);
  });

  it("records zero-shot and summarizes mean ± std over seeds", async () => {
    const res = await runTransferExperiment({
      lesson: "02",
      variants: [{ method: "feature-extraction", budget }],
      labelsPerClass: [1],
      seeds: [0, 1],
      scale: "smoke",
      zeroShot: true,
      progress: false,
    });
    expect(res.map((r) => r.label)).toEqual(["zero-shot", "head-only", "zero-shot", "head-only"]);
    const s = summarizeTransfer(res).find((r) => r.label === "head-only")!;
    expect(s.runs).toBe(2);
    const accs = res.filter((r) => r.label === "head-only").map((r) => r.accuracy);
    expect(s.accuracyMean).toBeCloseTo((accs[0] + accs[1]) / 2, 12);
    expect(readResults({ lesson: "02" }).find((r) => r.method === "zero-shot")!.labelsPerClass).toBeNull();
    expect(pct(0.8123, 0.0261)).toBe("81.2 ± 2.6");
    expect(pct(null)).toBe("–");
  });
});

describe("transfer plots", () => {
  const res = (
    label: string,
    k: number,
    seed: number,
    accuracy: number,
    extra: Partial<import("../../src/experiments/transfer").TransferResult> = {},
  ) => ({
    method: "full-ft" as const,
    label,
    task: "mild",
    labelsPerClass: k,
    seed,
    head: null,
    freezeRatio: null,
    frozenLayers: [],
    learningRate: 1e-4,
    headLearningRate: 1e-3,
    accuracy,
    valAccuracy: accuracy,
    retention: 0.9,
    forgetting: 0.05,
    trainableParams: 10,
    totalParams: 20,
    secondsPerEpoch: 0.1,
    seconds: 1,
    epochs: 1,
    steps: 1,
    loss: [],
    ...extra,
  });

  it("gainOverBaseline pairs runs by seed", () => {
    const rows = [
      res("scratch", 1, 0, 0.4),
      res("scratch", 1, 1, 0.5),
      res("ft", 1, 0, 0.6),
      res("ft", 1, 1, 0.8),
      res("ft", 5, 0, 0.9),
    ];
    const g = gainOverBaseline(rows);
    expect(g).toHaveLength(1); // k=5 has no scratch run to compare with
    expect(g[0].gainMean).toBeCloseTo(0.25, 12);
    expect(g[0].gainStd).toBeCloseTo(Math.SQRT2 * 0.05, 12);
    const spec = transferGainPlot(g, { task: "mild" });
    expect(spec.data.map((t) => t.name)).toEqual(["ft", "no gain"]);
  });

  it("freezeSweepPlot draws four panels with one line per task", () => {
    const rows = summarizeTransfer([
      res("full-ft@lr=1e-3", 5, 0, 0.7, { freezeRatio: 0, task: "mild" }),
      res("head-only", 5, 0, 0.6, { freezeRatio: 1, task: "mild" }),
      res("full-ft@lr=1e-3", 5, 0, 0.5, { freezeRatio: 0, task: "inverted" }),
      res("head-only", 5, 0, 0.2, { freezeRatio: 1, task: "inverted" }),
      // The same method run outside the sweep keeps its own row, so the sweep's r = 0 point stays.
      res("full-ft@lr=1e-3", 5, 0, 0.69, { freezeRatio: null, task: "mild" }),
    ]);
    expect(
      rows
        .filter((r) => r.label === "full-ft@lr=1e-3" && r.task === "mild")
        .map((r) => r.freezeRatio)
        .sort(),
    ).toEqual([0, null]);
    const spec = freezeSweepPlot(rows, { highlight: 1 });
    const names = spec.data.map((t) => t.name);
    expect(names.filter((n) => n === "mild")).toHaveLength(4);
    expect(names.filter((n) => n === "inverted")).toHaveLength(4);
    expect(names).toContain("this run (r = 1)");
    expect(spec.data[0].y).toEqual([70, 60]);
    const acc = accuracyVsLabelsPlot(rows, { task: "mild" });
    expect(acc.layout).toBeDefined();
  });
});
