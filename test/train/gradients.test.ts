import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { gradientNormsPerLayer, gradientRatio } from "../../src/train/gradients";
import { buildClassifier } from "../../src/train/greedy";
import { RECIPES } from "../../src/models/recipes";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

function batch(n: number, dim: number, classes: number, seed: number): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * dim).map(() => r());
  const y = new Int32Array(n).map((_, i) => i % classes);
  return { x, y, n, dim, numClasses: classes, name: "synthetic" };
}

const data = batch(64, 49, 4, 1);
const deep = (recipe: typeof RECIPES.historical) =>
  buildClassifier({
    inputDim: 49,
    sizes: [32, 32, 32, 32, 32],
    numClasses: 4,
    activation: recipe.activation,
    kernelInit: recipe.kernelInit,
    seed: 2,
  });

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("gradientNormsPerLayer", () => {
  it("gives one finite positive norm per weighted layer, input layer first", () => {
    const m = deep(RECIPES.modern);
    const norms = gradientNormsPerLayer(m, data);
    expect(norms.map((g) => g.layer)).toEqual(["hidden1", "hidden2", "hidden3", "hidden4", "hidden5", "head"]);
    norms.forEach((g) => {
      expect(Number.isFinite(g.norm)).toBe(true);
      expect(g.norm).toBeGreaterThan(0);
    });
    m.dispose();
  });

  it("shows the historical picture: layer 1's gradient is orders of magnitude below the head's", () => {
    const hist = deep(RECIPES.historical);
    const modern = deep(RECIPES.modern);
    const h = gradientNormsPerLayer(hist, data);
    const m = gradientNormsPerLayer(modern, data);
    // sigmoid' <= 1/4 and ‖W‖ ~ 0.01·sqrt(32) per layer: each layer shrinks the signal ~50x.
    expect(h[0].norm).toBeLessThan(1e-5 * h[h.length - 1].norm);
    for (let i = 1; i < h.length; i++) expect(h[i].norm).toBeGreaterThan(h[i - 1].norm);
    expect(gradientRatio(h)).toBeGreaterThan(1e5);
    expect(gradientRatio(m)).toBeLessThan(1e2);
    hist.dispose();
    modern.dispose();
  });

  it("includes frozen layers, restores their flags, changes no weight and leaks no tensor", () => {
    const m = deep(RECIPES.historical);
    m.getLayer("hidden1").trainable = false;
    const w0 = m.getWeights().map((w) => Array.from(w.dataSync()));
    const before = tf.memory().numTensors;
    const norms = gradientNormsPerLayer(m, data, { rows: 16 });
    expect(tf.memory().numTensors).toBe(before);
    expect(norms[0].norm).toBeGreaterThan(0);
    expect(m.getLayer("hidden1").trainable).toBe(false);
    expect(m.getLayer("hidden1").trainableWeights).toHaveLength(0);
    expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(w0);
    m.dispose();
  });

  it("rejects a bad row count", () => {
    const m = deep(RECIPES.modern);
    expect(() => gradientNormsPerLayer(m, data, { rows: 0 })).toThrow(/rows must be a positive integer, got 0/);
    m.dispose();
  });
});
