// The proxy A-distance: a domain against itself reads near 0, two separable domains read 2, bad
// input is refused by name, and no tensor is left behind.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { domainDistance, distanceProfile, rocAuc } from "../../src/evaluate/domain-distance";
import { spearmanPermutationTest } from "../../src/experiments/domain";
import { buildSourceModel } from "../../src/models/mlp";
import { normalSampler, rng } from "../../src/core/random";
import type { Dataset } from "../../src/data/types";

/** n rows of `dim` Gaussian features around `mean` (σ = `sd`), labels 0. */
function blob(n: number, dim: number, mean: number, sd: number, seed: string): Dataset {
  const g = normalSampler(rng(seed));
  const x = Float32Array.from({ length: n * dim }, () => mean + sd * g());
  return { x, y: new Int32Array(n), n, dim, numClasses: 1, name: `blob(${mean})` };
}

describe("domainDistance", () => {
  const model = buildSourceModel({ seed: 0, inputDim: 16, hiddenUnits: [8, 8] });

  it("of a set with itself (two independent draws of one distribution) is near 0: |d_A| ≤ 0.5 with 200 test images", async () => {
    // 400 per domain → 100 test images per domain: ε has sd ≈ 0.035, so d_A = 2(1 − 2ε) has sd ≈ 0.14;
    // 0.5 is about 3.5 sd. Every value of ε is legal, so d_A may come out slightly negative.
    const a = blob(800, 16, 0.5, 0.2, "a");
    for (const layer of ["input", "hidden2"]) {
      const d = await domainDistance(model, a, a, { layer, seed: 1, imagesPerDomain: 400 });
      expect(Math.abs(d.distance)).toBeLessThanOrEqual(0.5);
      expect(d.test).toBe(100);
      expect(Math.abs(d.auc - 0.5)).toBeLessThanOrEqual(0.15);
      expect(d.logLoss).toBeGreaterThan(0.6);
    }
  });

  it("of two separable sets is 2 (error 0) at the pixels and through the model", async () => {
    const a = blob(200, 16, 0, 0.05, "a");
    const b = blob(200, 16, 1, 0.05, "b");
    const [px, h] = await distanceProfile(model, a, b, { layers: ["input", "hidden1"], seed: 0, imagesPerDomain: 200 });
    expect(px.distance).toBeGreaterThanOrEqual(1.95);
    expect(h.distance).toBeGreaterThanOrEqual(1.9);
    expect(px.error).toBeLessThanOrEqual(0.0125);
    expect(px.auc).toBeGreaterThanOrEqual(0.99);
    expect(px.logLoss).toBeLessThan(0.3);
  });

  it("leaves no tensors behind", async () => {
    const a = blob(64, 16, 0, 1, "a");
    const before = tf.memory().numTensors;
    await domainDistance(model, a, blob(64, 16, 1, 1, "b"), { layer: "hidden1", seed: 0, epochs: 3 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses bad input with a message naming the parameter", async () => {
    const a = blob(64, 16, 0, 1, "a");
    await expect(domainDistance(model, a, blob(64, 8, 0, 1, "c"), { layer: "input" })).rejects.toThrow(
      /domainDistance: targetImages.dim must be the width of sourceImages \(16\), got 8/,
    );
    await expect(domainDistance(model, a, blob(4, 16, 0, 1, "d"), { layer: "input" })).rejects.toThrow(
      /at least 8 images each/,
    );
    await expect(domainDistance(model, a, a, { layer: "nope" })).rejects.toThrow(
      /layerName must be "input" or a layer of the model/,
    );
    await expect(domainDistance(model, a, a, { layer: "input", imagesPerDomain: 0 })).rejects.toThrow(
      /imagesPerDomain must be a positive integer, got 0/,
    );
  });
});

describe("rocAuc and the exact permutation test of Spearman's ρ", () => {
  it("AUC: 1 when every positive ranks above every negative, ½ for ties, 0 reversed", () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it("perfectly reversed ranks of 5 tasks: ρ = −1 and p = 1/120 (the smallest possible with n = 5)", () => {
    const t = spearmanPermutationTest([1, 2, 3, 4, 5], [50, 40, 30, 20, 10], "less");
    expect(t.rho).toBeCloseTo(-1, 12);
    expect(t.permutations).toBe(120);
    expect(t.p).toBeCloseTo(1 / 120, 12);
    const g = spearmanPermutationTest([1, 2, 3, 4, 5], [50, 40, 30, 20, 10], "greater");
    expect(g.p).toBe(1);
    expect(spearmanPermutationTest([1, 2, 3], [5, 5, 5], "less").p).toBeNaN();
    expect(() => spearmanPermutationTest([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9], "less")).toThrow(
      /at most 8 pairs/,
    );
  });
});
