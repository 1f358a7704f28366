import { describe, it, expect, beforeAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  cachedEncoders,
  cleanSplit,
  DEFAULT_PRETRAINING_METHODS,
  epochsFor,
  labeledSubset,
  methodRecipe,
  PRETRAINING_METHODS,
  pretrainingGain,
  pretrainingValues,
  recordPretrainingRuns,
  runPretrainingExperiment,
  summarizePretraining,
  type PretrainingRun,
  type PretrainingSplit,
} from "../../src/experiments/pretraining";
import { getRecipe, RECIPES, type Recipe } from "../../src/models/recipes";
import { meanCI } from "../../src/core/stats";
import { readResults } from "../../src/store/results";
import { baseIndicesOf, classCounts } from "../../src/data/subset";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

// Three classes of noisy prototypes in 20-D, values in [0, 1].
function protos(n: number, seed: number, dim = 20, classes = 3): Dataset {
  const r = rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => r()));
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < dim; j++) x[i * dim + j] = Math.min(1, Math.max(0, centres[y[i]][j] + 0.1 * (r() - 0.5)));
  }
  return { x, y, n, dim, numClasses: classes, name: "protos" };
}

const recipe = getRecipe("historical", { pretrain: { epochs: 1, learningRate: 0.01, batchSize: 16 } });
const modern = getRecipe("modern", { pretrain: { epochs: 1, learningRate: 0.01, batchSize: 16 } });

/** A split per seed: its own training, validation and test prototypes. */
const splitOf = (seed: number): PretrainingSplit => ({
  train: protos(60, 10 + seed),
  val: protos(15, 20 + seed),
  test: protos(30, 30 + seed),
});

let cacheDir = "";
function cachedEncodersFor(data: Dataset, sizes: number[], seed: number, r: Recipe = recipe) {
  if (!cacheDir) cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-pretrain-"));
  return cachedEncoders({ data, sizes, recipe: r, scale: "smoke", seed, dir: cacheDir, log: false });
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("budget helpers", () => {
  it("epochsFor gives the least epochs meeting both the epoch and the step minimum", () => {
    expect(epochsFor(100, 32, { epochs: 5, minSteps: 600 })).toBe(150); // 4 steps/epoch
    expect(epochsFor(6000, 32, { epochs: 5, minSteps: 600 })).toBe(5); // 188 steps/epoch
  });

  it("labeledSubset draws k per class, or returns the whole pool for 'all'", () => {
    const d = protos(60, 1);
    expect(labeledSubset(d, "all", 0)).toBe(d);
    const k2 = labeledSubset(d, 2, 0);
    expect(k2.n).toBe(6);
    expect(Array.from(k2.y).sort()).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

describe("methodRecipe: each arm one change away from its baseline", () => {
  const h = RECIPES.historical;
  const m = RECIPES.modern;
  const fields = (r: Recipe) => ({
    activation: r.activation,
    kernelInit: JSON.stringify(r.kernelInit),
    optimizer: `${r.optimizer}@${r.learningRate}`,
  });
  const changed = (a: Recipe, b: Recipe) =>
    (Object.keys(fields(a)) as (keyof ReturnType<typeof fields>)[]).filter((k) => fields(a)[k] !== fields(b)[k]);

  it("single-ingredient arms differ from the historical recipe in exactly that ingredient", () => {
    expect(changed(methodRecipe("relu-only", h, m), h)).toEqual(["activation"]);
    expect(changed(methodRecipe("glorot-only", h, m), h)).toEqual(["kernelInit"]);
    expect(changed(methodRecipe("adam-only", h, m), h)).toEqual(["optimizer"]);
    expect(methodRecipe("adam-only", h, m).learningRate).toBe(m.learningRate);
    expect(changed(methodRecipe("modern", h, m), h)).toEqual(["activation", "kernelInit", "optimizer"]);
  });

  it("pretrained arms share their baseline's recipe; the pretraining settings stay the base's", () => {
    expect(methodRecipe("pretrained", h, m)).toBe(h);
    expect(methodRecipe("modern-pretrained", h, m)).toBe(m);
    expect(methodRecipe("glorot-only", recipe, modern).pretrain).toEqual(recipe.pretrain);
  });
});

describe("cleanSplit", () => {
  it("gives each seed its own disjoint, stratified train / validation / test split", () => {
    const a = cleanSplit({ seed: 0, sourceSize: 200, testSize: 100, valPerClass: 4 });
    const b = cleanSplit({ seed: 1, sourceSize: 200, testSize: 100, valPerClass: 4 });
    const rows = (d: Dataset) => new Set(baseIndicesOf(d));
    for (const s of [a, b]) {
      expect([s.train.n, s.val.n, s.test.n, s.unlabeled.n]).toEqual([200, 40, 100, 200]);
      expect(classCounts(s.val)).toEqual(Array(10).fill(4));
      const [tr, va, te] = [rows(s.train), rows(s.val), rows(s.test)];
      expect([...va].some((i) => tr.has(i) || te.has(i))).toBe(false);
      expect([...te].some((i) => tr.has(i))).toBe(false);
      expect(Array.from(s.unlabeled.y).every((y) => y < 0)).toBe(true);
    }
    expect(Array.from(baseIndicesOf(a.val))).not.toEqual(Array.from(baseIndicesOf(b.val)));
  });
});

describe("runPretrainingExperiment", () => {
  it("runs every arm × budget × seed on each seed's split, scores validation and test, and leaks no tensors", async () => {
    const sizes = [8, 6];
    const before = tf.memory().numTensors;
    const seen: PretrainingRun[] = [];
    const asked: string[] = [];
    const splitCalls: number[] = [];
    const runs = await runPretrainingExperiment({
      splits: (seed) => {
        splitCalls.push(seed);
        return splitOf(seed);
      },
      sizes,
      labelBudgets: [2, "all"],
      seeds: [0, 1],
      methods: [...PRETRAINING_METHODS],
      recipe,
      modernRecipe: modern,
      budget: { epochs: 1, minSteps: 2 },
      encoders: async (seed, r, split) => {
        asked.push(`${seed}:${r.activation}`);
        return (await cachedEncodersFor(split.train, sizes, seed, r)).encoders;
      },
      onRun: (r) => void seen.push(r),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(splitCalls).toEqual([0, 1]);
    expect(asked).toEqual(["0:sigmoid", "0:relu", "1:sigmoid", "1:relu"]);
    expect(runs).toHaveLength(2 * 2 * PRETRAINING_METHODS.length);
    expect(seen).toEqual(runs);
    for (const r of runs) {
      for (const acc of [r.accuracy, r.valAccuracy, r.trainAccuracy]) {
        expect(acc).toBeGreaterThanOrEqual(0);
        expect(acc).toBeLessThanOrEqual(1);
      }
      // Validation is scored on 15 images, test on 30: multiples of 1/15 and 1/30.
      expect(Math.abs(r.valAccuracy * 15 - Math.round(r.valAccuracy * 15))).toBeLessThan(1e-6);
      expect(r.gradientNorms.map((g) => g.layer)).toEqual(["hidden1", "hidden2", "head"]);
      expect(r.labeled).toBe(r.labelsPerClass === "all" ? 60 : 6);
    }
    const summary = summarizePretraining(runs);
    expect(summary).toHaveLength(2 * PRETRAINING_METHODS.length);
    expect(summary.every((s) => s.runs === 2)).toBe(true);
    const s = summary.find((x) => x.method === "modern" && x.labelsPerClass === "all")!;
    const acc = runs.filter((r) => r.method === "modern" && r.labelsPerClass === "all").map((r) => r.accuracy);
    expect(s.mean).toBeCloseTo(meanCI(acc).mean, 12);
    expect(s.halfWidth).toBeCloseTo(meanCI(acc).halfWidth, 12);
  });

  it("with one pool, holds out a stratified validation split per seed, apart from the labels it trains on", async () => {
    const pool = protos(60, 3);
    const runs = await runPretrainingExperiment({
      train: pool,
      test: protos(30, 4),
      valPerClass: 5,
      sizes: [4],
      labelBudgets: [2],
      seeds: [0, 1],
      methods: ["scratch"],
      budget: { epochs: 1, minSteps: 1 },
    });
    expect(runs.map((r) => r.labeled)).toEqual([6, 6]);
    for (const r of runs) expect(Math.abs(r.valAccuracy * 15 - Math.round(r.valAccuracy * 15))).toBeLessThan(1e-6);
  });

  it("defaults to the three arms lesson 10 reads", () => {
    expect(DEFAULT_PRETRAINING_METHODS).toEqual(["scratch", "pretrained", "modern"]);
  });

  it("asks for encoders when a pretrained arm is requested without them", async () => {
    await expect(
      runPretrainingExperiment({
        splits: splitOf,
        sizes: [4],
        labelBudgets: [1],
        seeds: [0],
        methods: ["modern-pretrained"],
        budget: { epochs: 1, minSteps: 1 },
      }),
    ).rejects.toThrow(/pass encoders/);
  });

  it("refuses encoders pretrained with another recipe's activation (invariant)", async () => {
    const sizes = [4];
    await expect(
      runPretrainingExperiment({
        splits: splitOf,
        sizes,
        labelBudgets: [1],
        seeds: [0],
        methods: ["modern-pretrained"],
        recipe,
        modernRecipe: modern,
        budget: { epochs: 1, minSteps: 1 },
        // A sigmoid stack handed to the ReLU arm.
        encoders: async (seed, _r, split) => (await cachedEncodersFor(split.train, sizes, seed, recipe)).encoders,
      }),
    ).rejects.toThrow(/encoders for modern-pretrained use sigmoid, but its recipe uses relu/);
  });

  it("rejects splits given together with train, and a missing split, naming the parameter", async () => {
    const base = {
      sizes: [4],
      labelBudgets: [1] as (number | "all")[],
      seeds: [0],
      methods: ["scratch"] as PretrainingRun["method"][],
      budget: { epochs: 1, minSteps: 1 },
    };
    await expect(runPretrainingExperiment({ ...base, splits: splitOf, train: protos(30, 1) })).rejects.toThrow(
      /splits must be given alone/,
    );
    await expect(runPretrainingExperiment({ ...base })).rejects.toThrow(/splits must be given .* got neither/);
    await expect(
      runPretrainingExperiment({ ...base, splits: (s) => ({ ...splitOf(s), val: undefined as unknown as Dataset }) }),
    ).rejects.toThrow(/split of seed 0: val/);
  });
});

describe("pretrainingValues and pretrainingGain", () => {
  const run = (method: PretrainingRun["method"], seed: number, accuracy: number, ratio = 10): PretrainingRun => ({
    method,
    labelsPerClass: 10,
    labeled: 100,
    seed,
    accuracy,
    valAccuracy: accuracy - 0.01,
    trainAccuracy: 1,
    epochs: 1,
    loss: [1],
    seconds: 0,
    trainableParams: 0,
    gradientNorms: [
      { layer: "hidden1", norm: 1 },
      { layer: "head", norm: ratio },
    ],
  });
  const runs = [
    run("modern", 0, 0.7),
    run("modern", 1, 0.8, 1000),
    run("modern-pretrained", 1, 0.85),
    run("modern-pretrained", 0, 0.72),
  ];

  it("gives one number per seed, by measure", () => {
    expect(pretrainingValues(runs, "modern", 10)).toEqual([
      { seed: 0, value: 0.7 },
      { seed: 1, value: 0.8 },
    ]);
    expect(pretrainingValues(runs, "modern", 10, "log10GradientRatio").map((x) => x.value)).toEqual([1, 3]);
    expect(pretrainingValues(runs, "modern", "all")).toEqual([]);
    expect(() => pretrainingValues(runs, "modern", 10, "loss" as never)).toThrow(/by must be one of/);
  });

  it("pairs a minus b by seed", () => {
    const g = pretrainingGain(runs, "modern-pretrained", "modern", 10);
    expect(g.map((x) => x.seed)).toEqual([1, 0]);
    expect(g[0].value).toBeCloseTo(0.05, 12);
    expect(g[1].value).toBeCloseTo(0.02, 12);
  });
});

describe("cachedEncoders and recordPretrainingRuns", () => {
  it("pretrains once, then loads bit-identical encoders from the cache", async () => {
    const data = protos(40, 5);
    const a = await cachedEncodersFor(data, [5, 4], 7);
    const b = await cachedEncodersFor(data, [5, 4], 7);
    expect([a.fromCache, b.fromCache]).toEqual([false, true]);
    expect(b.key).toBe(a.key);
    b.encoders.forEach((w, i) => expect(Array.from(w.kernel)).toEqual(Array.from(a.encoders[i].kernel)));
    const c = await cachedEncodersFor(data, [5, 4], 8);
    expect(c.key).not.toBe(a.key);
  });

  it("records the arms lesson 10 reads, with validation accuracy, and 'all' as null labels per class", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-results-"));
    const runs = await runPretrainingExperiment({
      splits: splitOf,
      sizes: [4],
      labelBudgets: [1, "all"],
      seeds: [0],
      methods: ["scratch", "modern", "relu-only"],
      recipe,
      budget: { epochs: 1, minSteps: 1 },
    });
    const written = recordPretrainingRuns(runs, { backend: "cpu", scale: "smoke" }, dir);
    const rows = readResults({ lesson: "01", dir });
    expect(written).toHaveLength(4);
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.method).sort()).toEqual([
      "scratch-historical",
      "scratch-historical",
      "scratch-modern",
      "scratch-modern",
    ]);
    expect(rows.filter((r) => r.labelsPerClass === null)).toHaveLength(2);
    expect(rows.every((r) => r.task === "clean" && typeof r.extra?.gradientRatio === "number")).toBe(true);
    const scratchAll = runs.find((r) => r.method === "scratch" && r.labelsPerClass === "all")!;
    expect(rows.find((r) => r.method === "scratch-historical" && r.labelsPerClass === null)!.valAccuracy).toBe(
      scratchAll.valAccuracy,
    );
  });
});
