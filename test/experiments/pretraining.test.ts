import { describe, it, expect, beforeAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  epochsFor,
  labeledSubset,
  runPretrainingExperiment,
  summarizePretraining,
  recordPretrainingRuns,
  cachedEncoders,
  type PretrainingRun,
} from "../../src/experiments/pretraining";
import { getRecipe } from "../../src/models/recipes";
import { readResults } from "../../src/store/results";
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

describe("runPretrainingExperiment", () => {
  it("runs every method × budget × seed, scores them, and leaks no tensors", async () => {
    const train = protos(60, 2);
    const test = protos(30, 3);
    const sizes = [8, 6];
    const before = tf.memory().numTensors;
    const seen: PretrainingRun[] = [];
    const runs = await runPretrainingExperiment({
      train,
      test,
      sizes,
      labelBudgets: [2, "all"],
      seeds: [0, 1],
      recipe,
      budget: { epochs: 1, minSteps: 2 },
      encoders: async (seed) => (await cachedEncodersFor(train, sizes, seed)).encoders,
      onRun: (r) => void seen.push(r),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(runs).toHaveLength(2 * 2 * 3);
    expect(seen).toEqual(runs);
    for (const r of runs) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.gradientNorms.map((g) => g.layer)).toEqual(["hidden1", "hidden2", "head"]);
      expect(r.labeled).toBe(r.labelsPerClass === "all" ? 60 : 6);
    }
    const summary = summarizePretraining(runs);
    expect(summary).toHaveLength(6);
    expect(summary.every((s) => s.runs === 2)).toBe(true);
  });

  it("asks for encoders when the pretrained method is requested without them", async () => {
    const d = protos(12, 4);
    await expect(
      runPretrainingExperiment({
        train: d,
        test: d,
        sizes: [4],
        labelBudgets: [1],
        seeds: [0],
        budget: { epochs: 1, minSteps: 1 },
      }),
    ).rejects.toThrow(/pass encoders/);
  });
});

let cacheDir = "";
function cachedEncodersFor(data: Dataset, sizes: number[], seed: number) {
  if (!cacheDir) cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-pretrain-"));
  return cachedEncoders({ data, sizes, recipe, scale: "smoke", seed, dir: cacheDir, log: false });
}

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

  it("records one result row per run, with 'all' as null labels per class", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-results-"));
    const d = protos(30, 6);
    const runs = await runPretrainingExperiment({
      train: d,
      test: d,
      sizes: [4],
      labelBudgets: [1, "all"],
      seeds: [0],
      methods: ["scratch", "modern"],
      recipe,
      budget: { epochs: 1, minSteps: 1 },
    });
    recordPretrainingRuns(runs, { backend: "cpu", scale: "smoke" }, dir);
    const rows = readResults({ lesson: "01", dir });
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.method).sort()).toEqual([
      "scratch-historical",
      "scratch-historical",
      "scratch-modern",
      "scratch-modern",
    ]);
    expect(rows.filter((r) => r.labelsPerClass === null)).toHaveLength(2);
    expect(rows.every((r) => r.task === "clean" && typeof r.extra?.gradientRatio === "number")).toBe(true);
  });
});
