// The proxy A-distance: a domain against itself reads near 0, two separable domains read 2, bad
// input is refused by name, and no tensor is left behind.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { domainDistance, distanceProfile } from "../../src/evaluate/domain-distance";
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
    }
  });

  it("of two separable sets is 2 (error 0) at the pixels and through the model", async () => {
    const a = blob(200, 16, 0, 0.05, "a");
    const b = blob(200, 16, 1, 0.05, "b");
    const [px, h] = await distanceProfile(model, a, b, { layers: ["input", "hidden1"], seed: 0, imagesPerDomain: 200 });
    expect(px.distance).toBeGreaterThanOrEqual(1.95);
    expect(h.distance).toBeGreaterThanOrEqual(1.9);
    expect(px.error).toBeLessThanOrEqual(0.0125);
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
