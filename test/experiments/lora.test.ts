// The lesson 04/05 experiment functions at smoke scale: rows, parameter orderings, rate grids,
// recording and reading back, choices on validation, the plot spec, merge check, attention
// pictures; in a private artifact cache, with no leaks.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  chooseLoraArms,
  gridEndOf,
  loraArmValues,
  loraSweepPlot,
  mergeCheck,
  recordLoraArms,
  recordLoraRuns,
  runLora,
  runLoraSweep,
  summarizeLoraArms,
  summarizeLoraRuns,
  type LoraSweepRun,
} from "../../src/experiments/lora";
import {
  attentionHeatmaps,
  attentionReceivedImages,
  getPretrainedViT,
  runViTSweep,
  type ViTRun,
} from "../../src/experiments/vit";
import { VIT_RECIPES } from "../../src/core/settings";
import { attentionMaps } from "../../src/models/transformer";
import { describeReuse, readResults } from "../../src/store/results";
import { meanCI } from "../../src/core/stats";
import { getSourceModel, sourceTasks } from "../../src/experiments/source";
import { applyLora } from "../../src/adapt/lora/inject";
import { lessonSettings } from "../../src/core/settings";

let cache: string;
const saved = process.env.TRANSFER_LAB_CACHE;

beforeAll(async () => {
  await tf.setBackend("cpu");
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "tl-exp-lora-"));
  process.env.TRANSFER_LAB_CACHE = cache;
});

afterAll(() => {
  if (saved === undefined) delete process.env.TRANSFER_LAB_CACHE;
  else process.env.TRANSFER_LAB_CACHE = saved;
  fs.rmSync(cache, { recursive: true, force: true });
});

describe("LoRA sweep on the source MLP", () => {
  let runs: LoraSweepRun[];

  it("runs head-only, each rank and full fine-tuning with ordered parameter counts, leaking nothing", async () => {
    const n0 = tf.memory().numTensors;
    const seen: string[] = [];
    runs = await runLoraSweep({ scale: "smoke", seeds: [0], ranks: [1, 4], onRun: (r) => seen.push(r.method) });
    expect(tf.memory().numTensors).toBe(n0);
    expect(seen).toEqual([
      "head-only+source-head",
      "lora-r1+source-head",
      "lora-r4+source-head",
      "full-ft+source-head",
    ]);
    const p = Object.fromEntries(runs.map((r) => [r.method, r.trainableParams]));
    // r·(in + out) per hidden layer of 784-256-128-128-64, plus the 650-parameter head.
    const adapters = (r: number) => r * (784 + 256) + r * (256 + 128) + r * (128 + 128) + r * (128 + 64);
    expect(p["head-only+source-head"]).toBe(650);
    expect(p["lora-r1+source-head"]).toBe(adapters(1) + 650);
    expect(p["lora-r4+source-head"]).toBe(adapters(4) + 650);
    expect(p["full-ft+source-head"]).toBe(259274);
    const lora4 = runs.find((r) => r.method === "lora-r4+source-head")!;
    expect(lora4.totalParams).toBe(259274 + adapters(4));
    for (const r of runs) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.retention).not.toBeNull();
      expect(r.forgetting).toBeCloseTo(runs[0].retention! + runs[0].forgetting! - r.retention!, 6);
      expect(r.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.valAccuracy).toBeLessThanOrEqual(1);
      expect(r.task).toBe("mild");
      expect(r.steps).toBeGreaterThan(0);
      expect(r.reused).toBe(false);
    }
    // Without a lesson nothing is written.
    expect(readResults({ lesson: "04", scale: "smoke" })).toHaveLength(0);
    expect(lessonSettings("04", "default").ranks).toEqual([1, 2, 4, 8, 16]);
  });

  it("records runs for lesson 10 and summarises them for the plot", () => {
    const recs = recordLoraRuns(runs, { lesson: "04", backend: "cpu", scale: "smoke" });
    expect(recs).toHaveLength(runs.length);
    const back = readResults({ lesson: "04", scale: "smoke" });
    expect(back.map((r) => r.method)).toEqual(runs.map((r) => r.method));
    expect(back[1].extra).toMatchObject({ r: 1 });
    const summary = summarizeLoraRuns(runs);
    const spec = loraSweepPlot(summary);
    expect((spec.layout.xaxis as { type?: string }).type).toBe("log");
    expect(spec.data.map((t) => t.name)).toEqual(["LoRA r=1,4", "head-only+source-head", "full-ft+source-head"]);
    expect(spec.data[0].x).toEqual([runs[1].trainableParams, runs[2].trainableParams]);
  });

  it("checks merges on a trained adapter", async () => {
    const tasks = sourceTasks({ scale: "smoke", seed: 0 });
    const { model: source } = await getSourceModel({ scale: "smoke", seed: 0, tasks, log: false });
    let check: { maxAbsDiff: number; labelsAgree: boolean } | undefined;
    const run = await runLora({
      source,
      tasks,
      labelsPerClass: 5,
      r: 2,
      scale: "smoke",
      inspect: (m) => {
        check = mergeCheck(m, tasks.target.test);
      },
    });
    expect(run.method).toBe("lora-r2+source-head");
    expect(check!.maxAbsDiff).toBeLessThan(1e-5);
    expect(check!.labelsAgree).toBe(true);
    const fresh = await runLora({ source, tasks, labelsPerClass: 1, r: 1, head: "fresh", scale: "smoke" });
    expect(fresh.trainableParams).toBe(1 * (784 + 256 + 256 + 128 + 128 + 128 + 128 + 64) + 650);
    expect(fresh.method).toBe("lora-r1");
    source.dispose();
  });
});

describe("LoRA sweep over candidate rates, chosen on validation", () => {
  const grid = {
    scale: "smoke" as const,
    seeds: [0, 1],
    ranks: [1],
    loraLearningRates: [1e-3, 3e-3],
    fullFtLearningRates: [1e-4],
    headLearningRates: [1e-3, 1e-2],
    lesson: "04x",
  };
  let runs: LoraSweepRun[];

  it("runs every method at every rate, names each with its rate and records it as it finishes", async () => {
    const n0 = tf.memory().numTensors;
    runs = await runLoraSweep(grid);
    expect(tf.memory().numTensors).toBe(n0);
    const perSeed = [
      "head-only+source-head@headLr=1e-3",
      "head-only+source-head@headLr=1e-2",
      "lora-r1+source-head@lr=1e-3",
      "lora-r1+source-head@lr=3e-3",
      "full-ft+source-head@lr=1e-4",
    ];
    expect(runs.map((r) => r.method)).toEqual([...perSeed, ...perSeed]);
    expect(runs.map((r) => r.arm).slice(0, 5)).toEqual([
      "head-only+source-head",
      "head-only+source-head",
      "lora-r1+source-head",
      "lora-r1+source-head",
      "full-ft+source-head",
    ]);
    expect(runs.map((r) => r.learningRate).slice(0, 5)).toEqual([1e-3, 1e-2, 1e-3, 3e-3, 1e-4]);
    expect(runs.every((r) => !r.reused)).toBe(true);
    const back = readResults({ lesson: "04x", scale: "smoke" });
    expect(back.map((r) => r.method)).toEqual(runs.map((r) => r.method));
    expect(back.every((r) => typeof r.extra?.runKey === "string" && typeof r.valAccuracy === "number")).toBe(true);
    expect(describeReuse(runs)).toBe("trained 10 runs now");
  });

  it("reads the recorded runs back instead of training them again, and trains only what is new", async () => {
    const again = await runLoraSweep(grid);
    expect(again.every((r) => r.reused)).toBe(true);
    expect(again.map((r) => [r.method, r.seed, r.accuracy, r.valAccuracy, r.forgetting])).toEqual(
      runs.map((r) => [r.method, r.seed, r.accuracy, r.valAccuracy, r.forgetting]),
    );
    expect(describeReuse(again)).toMatch(/^trained 0 runs now; read back 10 recorded .* UTC \(protocol \d+\)$/);
    const more = await runLoraSweep({ ...grid, ranks: [1, 2, 1] });
    expect(more.filter((r) => !r.reused).map((r) => r.method)).toEqual([
      "lora-r2+source-head@lr=1e-3",
      "lora-r2+source-head@lr=3e-3",
      "lora-r2+source-head@lr=1e-3",
      "lora-r2+source-head@lr=3e-3",
    ]);
    const fresh = await runLoraSweep({ ...grid, reuse: false, seeds: [0], ranks: [], baselines: true });
    expect(fresh.every((r) => !r.reused)).toBe(true);
  });

  it("chooses each method's rate on validation, one rate for all seeds, and records the arms by plain name", () => {
    const arms = chooseLoraArms(runs);
    expect(arms.map((a) => a.method)).toEqual(["head-only+source-head", "lora-r1+source-head", "full-ft+source-head"]);
    for (const arm of arms) {
      const rates = arm.choice.candidates.map((c) => c.key);
      const valMean = (lr: number) =>
        meanCI(runs.filter((r) => r.arm === arm.method && r.learningRate === lr).map((r) => r.valAccuracy)).mean;
      const best = Math.max(...rates.map(valMean));
      expect(valMean(arm.learningRate)).toBe(best);
      expect(rates.findIndex((lr) => valMean(lr) === best)).toBe(arm.choice.index); // ties: the lower rate
      expect(arm.atGridEdge).toBe(rates.length > 1);
      // Two candidates: the choice is at one end or the other; one candidate: no end to speak of.
      expect(arm.gridEnd).toBe(rates.length < 2 ? null : arm.choice.index === 0 ? "lowest" : "highest");
      expect(arm.runs.map((r) => r.seed)).toEqual([0, 1]);
      expect(arm.runs.every((r) => r.method === arm.method && r.learningRate === arm.learningRate)).toBe(true);
      expect(loraArmValues(arm).map((v) => v.value)).toEqual(arm.runs.map((r) => r.accuracy));
      expect(loraArmValues(arm, "forgetting")).toHaveLength(2);
    }
    const onTest = chooseLoraArms(runs, "accuracy");
    for (const arm of onTest) {
      const best = Math.max(...arm.choice.candidates.map((c) => c.testMean));
      expect(arm.choice.candidates[arm.choice.index].testMean).toBe(best);
    }
    const summary = summarizeLoraArms(arms);
    expect(summary.map((x) => x.gridEnd)).toEqual(arms.map((a) => a.gridEnd));
    expect(summary[1].accuracyHalfWidth).toBeCloseTo(meanCI(arms[1].runs.map((r) => r.accuracy)).halfWidth, 12);
    expect(summary[1].trainableParams).toBe(1 * (784 + 256 + 256 + 128 + 128 + 128 + 128 + 64) + 650);
    const recs = recordLoraArms(arms, { lesson: "04x", backend: "cpu", scale: "smoke" });
    expect(recs.map((r) => r.method)).toEqual(arms.flatMap((a) => a.runs.map(() => a.method)));
    expect(recs.every((r) => r.extra?.chosenOn === "validation" && r.extra?.runKey === undefined)).toBe(true);
    expect(recs[2].extra?.candidateRates).toBe("0.001,0.003");
    // Error bars: the 95 % half-width of the mean, not the std.
    const spec = loraSweepPlot(summarizeLoraRuns(arms.flatMap((a) => a.runs)));
    const bar = (spec.data[0] as { error_y?: { array: number[] } }).error_y!.array[0];
    expect(bar).toBeCloseTo(100 * summary[1].accuracyHalfWidth, 9);
  });

  it("names the end of its grid a chosen rate lies at", () => {
    expect(gridEndOf(0, 1)).toBe(null);
    expect(gridEndOf(0, 3)).toBe("lowest");
    expect(gridEndOf(1, 3)).toBe(null);
    expect(gridEndOf(2, 3)).toBe("highest");
  });

  it("rejects a rate grid given twice, empty or with a bad rate, naming the option", async () => {
    await expect(runLoraSweep({ scale: "smoke", loraLearningRate: 1e-3, loraLearningRates: [1e-3] })).rejects.toThrow(
      /runLoraSweep: loraLearningRates must be absent when loraLearningRate is given, got \[0\.001\] \(give one rate or a list of rates, not both\)/,
    );
    await expect(runLoraSweep({ scale: "smoke", fullFtLearningRates: [] })).rejects.toThrow(
      /fullFtLearningRates must be a non-empty list/,
    );
    await expect(runLoraSweep({ scale: "smoke", headLearningRates: [1e-2, -1] })).rejects.toThrow(
      /headLearningRates\[1\] must be a finite number > 0, got -1/,
    );
    expect(() => chooseLoraArms([])).toThrow(/chooseLoraArms: runs must be a non-empty list/);
  });
});

describe("ViT sweep", () => {
  let runs: ViTRun[];

  it("pretrains once (cached) and runs every method with ordered parameter counts", async () => {
    const first = await getPretrainedViT({ scale: "smoke", seed: 0, progress: false, log: false });
    expect(first.fromCache).toBe(false);
    const again = await getPretrainedViT({ scale: "smoke", seed: 0, progress: false, log: false });
    expect(again.fromCache).toBe(true);
    again.model.dispose();
    const n0 = tf.memory().numTensors;
    runs = await runViTSweep({ scale: "smoke", seeds: [0], source: first.model, r: 2 });
    expect(tf.memory().numTensors).toBe(n0);
    const { width, depth } = VIT_RECIPES.smoke.model as { width: number; depth: number };
    expect(runs.map((r) => r.method)).toEqual([
      "head-only",
      ...Array.from({ length: depth + 1 }, (_, k) => `freeze-blocks-${k}`),
      "full-ft",
      "lora-qv-r2",
    ]);
    const p = Object.fromEntries(runs.map((r) => [r.method, r.trainableParams]));
    expect(p["head-only"]).toBe(width * 10 + 10);
    expect(p[`freeze-blocks-${depth}`]).toBeGreaterThan(p["head-only"]);
    expect(p["freeze-blocks-0"]).toBeGreaterThan(p[`freeze-blocks-${depth}`]);
    expect(p["full-ft"]).toBeGreaterThan(p["freeze-blocks-0"]);
    expect(p["lora-qv-r2"]).toBe(depth * 2 * 2 * (width + width) + width * 10 + 10);
    expect(runs.every((r) => r.retention !== null && r.accuracy >= 0)).toBe(true);
    expect(runs.find((r) => r.method === "freeze-blocks-1")!.frozenBlocks).toBe(1);
    first.model.dispose();
  });

  it("draws attention pictures", async () => {
    const { model } = await getPretrainedViT({ scale: "smoke", seed: 0, progress: false, log: false });
    const tasks = sourceTasks({ scale: "smoke", seed: 0 });
    const x = tf.tensor2d(tasks.source.test.x.subarray(0, 2 * 784), [2, 784]);
    const n0 = tf.memory().numTensors;
    const maps = attentionMaps(model, x, 0);
    const imgs = attentionReceivedImages(maps);
    const heads = maps.shape[1];
    expect(imgs.length).toBe(2 * heads * 784);
    expect(Math.max(...imgs)).toBeLessThanOrEqual(1);
    expect(Math.min(...imgs)).toBeGreaterThanOrEqual(0);
    maps.dispose();
    const spec = attentionHeatmaps(model, x, 1, 1);
    expect(spec.data).toHaveLength(heads);
    expect(tf.memory().numTensors).toBe(n0);
    const lora = applyLora(model, { r: 1, targets: /_(q|v)$/ });
    const m2 = attentionMaps(lora, x, 0);
    expect(m2.shape).toEqual([2, heads, 16, 16]);
    [m2, x].forEach((t) => t.dispose());
    lora.dispose();
    model.dispose();
  });
});
