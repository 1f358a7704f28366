import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  classSeparation,
  compareFeatureCache,
  extractFeatures,
  INPUT_FEATURES,
  linearProbe,
  pca,
  trainingFlopsPerExample,
} from "../../src/evaluate/features";
import { freezeTo } from "../../src/adapt/freezing";
import { blobs, tinySource } from "../helpers/fixtures";
import { normalSampler, rng } from "../../src/core/random";

const tiny = tinySource;

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("features", () => {
  it("extractFeatures returns a layer's outputs as a dataset with the same labels", () => {
    const m = tiny(1);
    const d = blobs(7, 12, 0);
    const f = extractFeatures(m, "hidden2", d, 3);
    expect([f.n, f.dim, f.numClasses]).toEqual([7, 6, 3]);
    expect(f.y).toBe(d.y);
    const ref = tf.tidy(
      () =>
        tf
          .model({ inputs: m.inputs, outputs: m.getLayer("hidden2").output as tf.SymbolicTensor })
          .predict(tf.tensor2d(d.x, [7, 12])) as tf.Tensor,
    );
    expect(Array.from(f.x)).toEqual(Array.from(ref.dataSync()));
    ref.dispose();
    expect(extractFeatures(m, INPUT_FEATURES, d).x).toBe(d.x);
    expect(() => extractFeatures(m, "nope", d)).toThrow(
      /extractFeatures: layerName must be "input" or a layer of the model \(layers: .*hidden2.*\), got "nope"/,
    );
  });

  it("PCA recovers known principal axes and variances", () => {
    const n = 3000;
    const g = normalSampler(rng(1));
    const x = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const a = 3 * g(),
        b = 1.5 * g(),
        c = 0.5 * g();
      // axes rotated 45° in the first two coordinates: u = (1, 1, 0)/√2 has variance 9.
      x[3 * i] = (a - b) / Math.SQRT2 + 2;
      x[3 * i + 1] = (a + b) / Math.SQRT2 - 1;
      x[3 * i + 2] = c;
    }
    const before = tf.memory().numTensors;
    const p = pca(x, n, 3, { components: 2 });
    expect(tf.memory().numTensors).toBe(before);
    // Exact check against the sample covariance: C v = λ v for each component.
    const mean = [0, 1, 2].map((j) => Array.from({ length: n }, (_, i) => x[3 * i + j]).reduce((a, b) => a + b, 0) / n);
    const C = [0, 1, 2].map((a) =>
      [0, 1, 2].map((b) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += (x[3 * i + a] - mean[a]) * (x[3 * i + b] - mean[b]);
        return s / (n - 1);
      }),
    );
    p.components.forEach((v, c) => {
      const Cv = C.map((row) => row[0] * v[0] + row[1] * v[1] + row[2] * v[2]);
      Cv.forEach((val, j) =>
        expect(Math.abs(val - p.explainedVariance[c] * v[j])).toBeLessThan(1e-3 * p.explainedVariance[0]),
      );
    });
    expect(Math.abs(p.components[0][0])).toBeCloseTo(Math.SQRT1_2, 1);
    expect(Math.abs(p.components[0][1])).toBeCloseTo(Math.SQRT1_2, 1);
    expect(Math.abs(p.components[1][0])).toBeCloseTo(Math.SQRT1_2, 1);
    expect(p.components[1][0] * p.components[1][1]).toBeLessThan(0); // (1, -1)/√2 direction
    expect(p.explainedVariance[0] / 9).toBeGreaterThan(0.9);
    expect(p.explainedVariance[0] / 9).toBeLessThan(1.1);
    expect(p.explainedVariance[1] / 2.25).toBeGreaterThan(0.9);
    expect(p.explainedRatio[0] + p.explainedRatio[1]).toBeGreaterThan(0.95);
    expect(p.projection).toHaveLength(2 * n);
    // Projections have the component's variance.
    const v0 = Array.from({ length: n }, (_, i) => p.projection[2 * i] ** 2).reduce((a, b) => a + b, 0) / (n - 1);
    expect(v0).toBeCloseTo(p.explainedVariance[0], 1);
    expect(() => pca(x, n, 3, { components: 4 })).toThrow(/components must be an integer in \[1, 3\]/);
    // Seeded, seed 0 included (tf.randomNormal would ignore seed 0): two calls agree bit for bit.
    expect(Array.from(pca(x, n, 3, { seed: 0, iterations: 5 }).projection)).toEqual(
      Array.from(pca(x, n, 3, { seed: 0, iterations: 5 }).projection),
    );
  });

  it("linearProbe scores the input and every base layer", async () => {
    const d = blobs(60, 12, 2);
    const rows = await linearProbe({ model: tiny(3), train: d, test: d, epochs: 60, learningRate: 0.05 });
    expect(rows.map((r) => [r.layer, r.dim])).toEqual([
      ["input", 12],
      ["hidden1", 8],
      ["hidden2", 6],
      ["hidden3", 4],
    ]);
    expect(rows[0].accuracy).toBeGreaterThan(0.9); // separable on raw inputs
    rows.forEach((r) => expect(r.accuracy).toBeGreaterThanOrEqual(0));
  });

  it("classSeparation is 1 for collapsed classes and ≈ 0 for labels that carry no information", () => {
    expect(classSeparation(Float32Array.from([0, 0, 0, 0, 2, 2, 2, 2]), 4, 2, [0, 0, 1, 1], 2)).toBeCloseTo(1, 12);
    const r = rng(5);
    const x = Float32Array.from({ length: 2000 }, () => r());
    expect(
      classSeparation(
        x,
        1000,
        2,
        Array.from({ length: 1000 }, (_, i) => i % 2),
        2,
      ),
    ).toBeLessThan(0.01);
    expect(() => classSeparation(x, 10, 2, [0], 2)).toThrow(/classSeparation: x must hold/);
  });

  it("counts training FLOPs: frozen base skips its backward pass", () => {
    const m = tiny(4); // dense params 104, 54, 28, 15
    expect(trainingFlopsPerExample(m)).toEqual({
      forward: 402,
      backward: 402 + 2 * (54 + 28 + 15),
      total: 402 + 402 + 194,
    });
    freezeTo(m, -1);
    expect(trainingFlopsPerExample(m)).toEqual({ forward: 402, backward: 30, total: 432 });
    freezeTo(m, 2);
    expect(trainingFlopsPerExample(m).backward).toBe(2 * (28 + 15) + 2 * 15);
  });

  it("the feature cache trains the same head, and leaks nothing", async () => {
    const m = tiny(5);
    const d = blobs(90, 12, 3);
    const before = tf.memory().numTensors;
    const r = await compareFeatureCache({ model: m, train: d, test: d, epochs: 3, batchSize: 16 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.cached.accuracy).toBeCloseTo(r.endToEnd.accuracy, 6);
    expect(r.speedupPerEpoch).toBeGreaterThan(0);
    expect(r.cached.extractSeconds).toBeGreaterThanOrEqual(0);
    expect(m.getLayer("hidden1").trainable).toBe(true); // the input model is untouched
  });
});
