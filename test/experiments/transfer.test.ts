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
  armResults,
  choiceTableRows,
  freezeSweepPlot,
  gainOverBaseline,
  probePlot,
  transferGainPlot,
} from "../../src/experiments/transfer-plots";
import { summarizeProbes, type ProbeRun } from "../../src/experiments/probes";
import type { ValidatedArm } from "../../src/experiments/validated";
import { chooseOnValidation } from "../../src/evaluate/select";
import { TRANSFER_BUDGETS } from "../../src/core/settings";
import { getSourceModel, sourceTasks, type SourceModel } from "../../src/experiments/source";
import { snapshotWeights, compareWeights } from "../../src/adapt/freezing";
import { readResults, type ResultRecord } from "../../src/store/results";
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

    // 784-256-128-128-64-10: four hidden layers, so a freeze ratio of 0.5 freezes two of them.
    expect([scratch.trainableParams, scratch.retention, scratch.head]).toEqual([259274, null, null]);
    expect(fe.frozenLayers).toEqual(["hidden1", "hidden2", "hidden3", "hidden4"]);
    expect(fe.trainableParams).toBe(650);
    expect(fe.retention).toBe(src.testAccuracy); // frozen base + original head = the source model
    expect(half.frozenLayers).toEqual(["hidden1", "hidden2"]);
    expect(half.trainableParams).toBe(16512 + 8256 + 650);
    expect(half.label).toBe("freeze-0.50");
    expect(full.frozenLayers).toEqual([]);
    expect(full.label).toBe("full-ft+source-head");
    expect(first.frozenLayers).toEqual(["hidden2", "hidden3", "hidden4"]);
    expect(first.label).toBe("tune-hidden1");
    expect(zero.steps).toBe(0);
    expect(zero.trainableParams).toBe(0);
    for (const r of [scratch, fe, half, full, first]) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.steps).toBeGreaterThanOrEqual(2);
      expect(r.secondsPerEpoch).toBeGreaterThan(0);
      expect(r.task).toBe("mild");
      expect(r.totalParams).toBe(259274);
      expect(r.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.valAccuracy).toBeLessThanOrEqual(1);
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
    // Gains 0.2 and 0.3: sd 0.0707, t(0.975, 1) = 12.706 -> half-width 12.706 · 0.0707 / √2 = 0.6353.
    expect(g[0].gainHalfWidth).toBeCloseTo(0.635310236808735, 9);
    expect(g[0].comparison.verdict).toBe("not significant");
    expect(g[0].comparison.seeds).toEqual([0, 1]);
    const spec = transferGainPlot(g, { task: "mild" });
    expect(spec.data.map((t) => t.name)).toEqual(["ft", "no gain"]);
    // Error bars are the 95 % half-width in points, not the std.
    expect((spec.data[0] as { error_y?: { array: number[] } }).error_y?.array[0]).toBeCloseTo(63.5310236808735, 6);
  });

  it("gainOverBaseline's verdict holds when every seed gains", () => {
    const rows = [0, 1, 2, 3].flatMap((seed) => [
      res("scratch", 1, seed, 0.5 + 0.01 * seed),
      res("ft", 1, seed, 0.6 + 0.01 * seed + 0.001 * (seed % 2)),
    ]);
    const [g] = gainOverBaseline(rows);
    expect(g.runs).toBe(4);
    expect(g.comparison.verdict).toBe("holds");
    expect(g.comparison.text).toMatch(/^holds \(Δ \+10\.\d points, 95 % CI \[/);
  });

  const arm = (label: string, learningRate: number, k: number, accs: number[]) => ({
    key: { method: "full-ft" as const, learningRate },
    runs: accs.map((a, seed) => ({
      ...res(label, k, seed, a, { valAccuracy: a - 0.01 }),
      reused: false,
      record: {} as ResultRecord,
    })),
  });

  it("armResults names each arm's chosen runs by the arm; choiceTableRows shows validation for all, test for the chosen", () => {
    const cands = [arm("full-ft", 1e-4, 5, [0.7, 0.72]), arm("full-ft@lr=1e-3", 1e-3, 5, [0.8, 0.78])];
    const choice = chooseOnValidation(cands);
    expect(choice.index).toBe(1);
    const validated: ValidatedArm = {
      task: "mild",
      labelsPerClass: 5,
      mode: "shared",
      by: "valAccuracy",
      runs: cands[1].runs,
      choice,
      counts: cands.map((c, i) => ({ label: c.runs[0].label, variant: c.key, times: i === 1 ? 2 : 0 })),
    };
    const named = [{ name: "full-ft", arms: [validated] }];
    expect(armResults(named).map((r) => [r.label, r.seed, r.accuracy])).toEqual([
      ["full-ft", 0, 0.8],
      ["full-ft", 1, 0.78],
    ]);
    expect(() => armResults([...named, ...named])).toThrow(/armResults: named must be arms with distinct names/);
    const rows = choiceTableRows(named);
    expect(rows.map((r) => [r.candidate, r["validation %"], r.chosen, r["test % (chosen)"]])).toEqual([
      ["full-ft", "70.0 ± 12.7", "", ""],
      ["full-ft@lr=1e-3", "78.0 ± 12.7", "✓", "79.0 ± 12.7"],
    ]);
  });

  it("probePlot draws one line per (task, base) over the layers, with 95 % error bars", () => {
    const runs: ProbeRun[] = [0, 1].flatMap((seed) =>
      ["input", "hidden1"].flatMap((layer, i) =>
        (["source", "random"] as const).map((base) => ({
          seed,
          task: "mild",
          base,
          layer,
          dim: i === 0 ? 784 : 256,
          accuracy: 0.5 + 0.1 * i + (base === "source" ? 0.1 : 0) + 0.02 * seed,
          valAccuracy: 0.5,
          epochs: 3 + seed,
          separation: 0.2,
        })),
      ),
    );
    const spec = probePlot(summarizeProbes(runs));
    expect(spec.data.map((t) => t.name)).toEqual(["task B (mild), source base", "task B (mild), random base"]);
    expect(spec.data[0].x).toEqual(["input", "hidden1"]);
    expect(spec.data[0].y).toEqual([61, 71].map((v) => expect.closeTo(v, 9)));
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
