// Domain-adversarial training: the gradient-reversal layer (identity forward, −λ × the gradient back),
// DANN raising target accuracy on a small synthetic two-domain problem, no leaked tensors, bad input.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { buildDannModel, GradientReversal, gradientReversal } from "../../src/adapt/dann";
import { trainDann } from "../../src/train/dann";
import { buildSourceModel } from "../../src/models/mlp";
import { evaluateAccuracy } from "../../src/models/predict";
import { fit } from "../../src/train/fit";
import { normalSampler, rng } from "../../src/core/random";
import type { Dataset } from "../../src/data/types";

describe("gradient reversal", () => {
  it("forward is the identity; the gradient is −λ times the incoming one", () => {
    for (const lambda of [0, 0.5, 2]) {
      const [fwd, grad] = tf.tidy(() => {
        const x = tf.tensor2d([
          [1, -2, 3],
          [0.5, 0, -1],
        ]);
        const dy = tf.tensor2d([
          [0.1, 0.2, -0.3],
          [1, -1, 2],
        ]);
        const f = gradientReversal(x, lambda).sub(x).abs().max().dataSync()[0];
        const g = tf.grad((t: tf.Tensor) => gradientReversal(t, lambda).mul(dy).sum())(x);
        return [f, g.sub(dy.mul(-lambda)).abs().max().dataSync()[0]];
      });
      expect(fwd).toBe(0);
      expect(grad).toBeLessThan(1e-6);
    }
  });

  it("as a layer, serializes its λ and refuses a non-finite one", () => {
    const l = new GradientReversal({ lambda: 0.3 });
    expect(l.getConfig().lambda).toBe(0.3);
    expect(() => new GradientReversal({ lambda: NaN })).toThrow(/lambda must be a finite number, got NaN/);
  });
});

/** Two Gaussian classes in 2-D (centres (−1, −1) and (1, 1), boundary x0 + x1 = 0), the target domain
 * moved by `shift` along x0 (an input shift, labels kept: part of class 0 crosses the boundary),
 * padded to `dim` features with noise. */
function twoClasses(n: number, shift: number, seed: string, dim = 8): Dataset {
  const g = normalSampler(rng(seed));
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    const c = y[i] === 0 ? -1 : 1;
    x[i * dim] = c + 0.4 * g() + shift;
    x[i * dim + 1] = c + 0.4 * g();
    for (let j = 2; j < dim; j++) x[i * dim + j] = 0.3 * g();
  }
  return { x, y, n, dim, numClasses: 2, name: `two-classes(${shift})` };
}

describe("DANN", () => {
  it("raises target accuracy over the same training without the adversary on a shifted two-domain problem", async () => {
    const source = twoClasses(400, 0, "s");
    const target = twoClasses(400, 2, "t"); // labels never read in training
    const test = twoClasses(400, 2, "test");
    const accs: Record<string, number> = {};
    for (const lambda of [0, 1]) {
      const base = buildSourceModel({ seed: 0, inputDim: 8, hiddenUnits: [16, 16], numClasses: 2 });
      await fit(base, source, { epochs: 5, batchSize: 32, learningRate: 1e-2, seed: 0 });
      const dann = buildDannModel(base, { seed: 0, domainUnits: 16 });
      try {
        await trainDann(dann, { source, target, steps: 400, lambda, learningRate: 1e-3, schedule: "ramp", seed: 0 });
        accs[lambda] = evaluateAccuracy(dann.classifier, test);
      } finally {
        dann.dispose();
        base.dispose();
      }
    }
    // Measured: about 0.84 without the adversary, above 0.99 with it.
    expect(accs[1]).toBeGreaterThan(accs[0] + 0.05);
  });

  it("leaves no tensors behind and changes only what it trains (the source model is copied)", async () => {
    const base = buildSourceModel({ seed: 0, inputDim: 8, hiddenUnits: [8], numClasses: 2 });
    const before = base.getWeights().map((w) => w.dataSync().slice());
    const n0 = tf.memory().numTensors;
    const ds = twoClasses(64, 0, "a");
    const dann = buildDannModel(base);
    await trainDann(dann, { source: ds, target: twoClasses(64, 1, "b"), targetLabeled: ds, steps: 30, lambda: 1 });
    dann.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    base.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i])));
    base.dispose();
  });

  it("refuses bad input by name", async () => {
    const base = buildSourceModel({ seed: 0, inputDim: 8, hiddenUnits: [8], numClasses: 2 });
    const ds = twoClasses(32, 0, "a");
    expect(() => buildDannModel(base, { featureLayer: "head" })).toThrow(/featureLayer must be a layer below the head/);
    const dann = buildDannModel(base);
    await expect(trainDann(dann, { source: ds, target: ds, steps: 5, lambda: -1 })).rejects.toThrow(
      /trainDann: lambda must be a number >= 0/,
    );
    await expect(
      trainDann(dann, { source: ds, target: twoClasses(32, 0, "b", 4), steps: 5, lambda: 1 }),
    ).rejects.toThrow(/trainDann: target\.dim/);
    dann.dispose();
    base.dispose();
  });
});
