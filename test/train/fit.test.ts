import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { fit, countTrainable } from "../../src/train/fit";
import { evaluateAccuracy, predictLabels } from "../../src/models/predict";
import { gatherRows } from "../../src/data/batches";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

// Two Gaussian blobs in 8-D: learnable in a few steps.
function blobs(n: number, seed: number): Dataset {
  const r = rng(seed);
  const dim = 8;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < dim; j++) x[i * dim + j] = (y[i] ? 0.7 : 0.3) + 0.15 * (r() - 0.5);
  }
  return { x, y, n, dim, numClasses: 2, name: "blobs" };
}

function mlp(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [8],
      units: 6,
      activation: "relu",
      name: "h1",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 2,
      activation: "softmax",
      name: "head",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  return m;
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("fit", () => {
  it("lowers the loss and learns a separable task", async () => {
    const data = blobs(200, 0);
    const m = mlp();
    const h = await fit(m, data, { epochs: 8, batchSize: 32, learningRate: 0.05, progress: false, validation: data });
    expect(h.loss[h.loss.length - 1]).toBeLessThan(h.loss[0]);
    expect(h.valAccuracy![h.valAccuracy!.length - 1]).toBeGreaterThan(0.95);
    expect(h.secondsPerEpoch).toHaveLength(8);
    expect(h.trainableParams).toBe(8 * 6 + 6 + 6 * 2 + 2);
    expect(h.steps).toBe(8 * Math.ceil(200 / 32));
  });

  it("is reproducible for a seed", async () => {
    const data = blobs(100, 1);
    const a = mlp();
    const b = mlp();
    const ha = await fit(a, data, { epochs: 2, seed: 7, progress: false });
    const hb = await fit(b, data, { epochs: 2, seed: 7, progress: false });
    expect(ha.loss).toEqual(hb.loss);
  });

  it("leaves frozen layers bit-identical and picks up trainable changes without recompiling", async () => {
    const data = blobs(100, 2);
    const m = mlp();
    const h1Before = m
      .getLayer("h1")
      .getWeights()
      .map((w) => w.dataSync().slice());
    m.getLayer("h1").trainable = false;
    expect(countTrainable(m)).toBe(6 * 2 + 2);
    const headBefore = m.getLayer("head").getWeights()[0].dataSync().slice();
    const h = await fit(m, data, { epochs: 2, progress: false, learningRate: 0.05 });
    expect(h.trainableParams).toBe(14);
    m.getLayer("h1")
      .getWeights()
      .forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(h1Before[i])));
    expect(Array.from(m.getLayer("head").getWeights()[0].dataSync())).not.toEqual(Array.from(headBefore));
    m.getLayer("h1").trainable = true;
    await fit(m, data, { epochs: 1, progress: false, learningRate: 0.05 });
    expect(Array.from(m.getLayer("h1").getWeights()[0].dataSync())).not.toEqual(Array.from(h1Before[0]));
  });

  it("scales SGD steps per layer by layerLearningRates", async () => {
    const data = blobs(64, 3);
    const base = mlp();
    const scaled = mlp();
    const w0 = base.getWeights().map((w) => w.dataSync().slice());
    // One full-batch step: update = -lr * mult * grad, so scaled/base update ratio = mult.
    await fit(base, data, { epochs: 1, batchSize: 64, optimizer: "sgd", learningRate: 0.1, progress: false });
    await fit(scaled, data, {
      epochs: 1,
      batchSize: 64,
      optimizer: "sgd",
      learningRate: 0.1,
      progress: false,
      layerLearningRates: { h1: 0.25 },
    });
    const dBase = base.getLayer("h1").getWeights()[0].dataSync();
    const dScaled = scaled.getLayer("h1").getWeights()[0].dataSync();
    let num = 0;
    let den = 0;
    for (let i = 0; i < dBase.length; i++) {
      num += dScaled[i] - w0[0][i];
      den += dBase[i] - w0[0][i];
    }
    expect(num / den).toBeCloseTo(0.25, 4);
    const headBase = base.getLayer("head").getWeights()[0].dataSync();
    const headScaled = scaled.getLayer("head").getWeights()[0].dataSync();
    expect(Array.from(headScaled)).toEqual(Array.from(headBase));
  });

  it("rejects bad arguments with the parameter name", async () => {
    const data = blobs(10, 4);
    await expect(fit(mlp(), data, { epochs: -1, progress: false })).rejects.toThrow(
      /epochs must be a non-negative integer, got -1/,
    );
    await expect(fit(mlp(), data, { epochs: 1, batchSize: 0, progress: false })).rejects.toThrow(
      /batchSize must be a positive integer, got 0/,
    );
    await expect(fit(mlp(), data, { epochs: 1, progress: false, layerLearningRates: { nope: 1 } })).rejects.toThrow(
      /layer "nope".*layers: h1, head/,
    );
    const wrong: Dataset = { ...data, dim: 4, x: new Float32Array(40) };
    await expect(fit(mlp(), wrong, { epochs: 1, progress: false })).rejects.toThrow(
      /data\.dim must be 8 \(the model's input is \[batch, 8\]\), got 4/,
    );
  });

  it("trains autoencoders on their inputs with an input transform", async () => {
    const data = blobs(128, 5);
    const ae = tf.sequential();
    ae.add(tf.layers.dense({ inputShape: [8], units: 3, activation: "sigmoid" }));
    ae.add(tf.layers.dense({ units: 8, activation: "sigmoid" }));
    const h = await fit(ae, data, {
      epochs: 10,
      target: "inputs",
      learningRate: 0.05,
      progress: false,
      inputTransform: (x) => x.mul(tf.randomUniform(x.shape, 0, 1, "float32", 3).greater(0.25).toFloat()),
    });
    expect(h.loss[9]).toBeLessThan(h.loss[0]);
  });

  it("leaks no tensors", async () => {
    const data = blobs(64, 6);
    const m = mlp();
    await fit(m, data, { epochs: 1, progress: false }); // optimizer slots etc. created and freed
    const before = tf.memory().numTensors;
    await fit(m, data, { epochs: 2, progress: false, validation: data, layerLearningRates: { h1: 0.5 } });
    evaluateAccuracy(m, data);
    predictLabels(m, data, 7);
    expect(tf.memory().numTensors).toBe(before);
  });
});
