import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  buildAutoencoder,
  autoencoderWeights,
  applyDense,
  encodeDataset,
  TiedAutoencoder,
} from "../../src/models/autoencoder";
import { maskingNoise, trainAutoencoder } from "../../src/train/autoencoder";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

// Inputs on a 3-D manifold in 16-D, squashed into (0, 1): an autoencoder with 4 units can learn it.
function manifold(n: number, seed: number, dim = 16): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const z = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
    for (let j = 0; j < dim; j++)
      x[i * dim + j] = 1 / (1 + Math.exp(-2 * (z[j % 3] * Math.cos(j) + z[(j + 1) % 3] * Math.sin(j))));
  }
  return { x, y: new Int32Array(n), n, dim, numClasses: 1, name: "manifold" };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("buildAutoencoder", () => {
  it("tied: one kernel shared by encoder and decoder, output shape = input shape", () => {
    const m = buildAutoencoder({ inputDim: 16, units: 4, activation: "sigmoid", seed: 1 });
    expect(m.layers[0]).toBeInstanceOf(TiedAutoencoder);
    expect(m.getWeights().map((w) => w.shape)).toEqual([[16, 4], [4], [16]]);
    const out = tf.tidy(() => (m.predict(tf.ones([3, 16])) as tf.Tensor).shape);
    expect(out).toEqual([3, 16]);
    const { encoder, decoder } = autoencoderWeights(m);
    expect([encoder.inputDim, encoder.units, decoder.inputDim, decoder.units]).toEqual([16, 4, 4, 16]);
    // decoder kernel [4, 16] is the encoder kernel [16, 4] transposed
    for (let i = 0; i < 16; i++)
      for (let j = 0; j < 4; j++) expect(decoder.kernel[j * 16 + i]).toBe(encoder.kernel[i * 4 + j]);
    m.dispose();
  });

  it("tied: the decoder output equals the formula sigmoid(sigmoid(xW + b)Wᵀ + c)", () => {
    const m = buildAutoencoder({ inputDim: 6, units: 3, activation: "sigmoid", seed: 2 });
    const x = tf.randomUniform([5, 6], 0, 1, "float32", 3);
    const { encoder, decoder } = autoencoderWeights(m);
    const ours = applyDense(decoder, applyDense(encoder, x.dataSync() as Float32Array));
    const model = (m.predict(x) as tf.Tensor).dataSync();
    ours.forEach((v, i) => expect(v).toBeCloseTo(model[i], 5));
    x.dispose();
    m.dispose();
  });

  it("untied: encoder and decoder Dense layers with their own kernels", () => {
    const m = buildAutoencoder({ inputDim: 16, units: 4, activation: "relu", outputActivation: "linear", tied: false });
    expect(m.getWeights().map((w) => w.shape)).toEqual([[16, 4], [4], [4, 16], [16]]);
    const { encoder, decoder } = autoencoderWeights(m);
    expect(encoder.activation).toBe("relu");
    expect(decoder.activation).toBe("linear");
    m.dispose();
  });

  it("rejects bad sizes with the parameter and value", () => {
    expect(() => buildAutoencoder({ inputDim: 16, units: 0, activation: "sigmoid" })).toThrow(
      /units must be a positive integer, got 0/,
    );
    expect(() => buildAutoencoder({ inputDim: 2.5, units: 3, activation: "sigmoid" })).toThrow(
      /inputDim must be a positive integer, got 2.5/,
    );
  });

  it("the tied layer serializes (getConfig + registerClass) and reloads with identical outputs", async () => {
    const m = buildAutoencoder({
      inputDim: 8,
      units: 3,
      activation: "sigmoid",
      kernelInit: { kind: "normal", stddev: 0.5 },
      seed: 4,
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }),
      ),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.layers[0]).toBeInstanceOf(TiedAutoencoder);
    expect((loaded.layers[0] as TiedAutoencoder).kernelInit).toEqual({ kind: "normal", stddev: 0.5 });
    const x = tf.randomUniform([4, 8], 0, 1, "float32", 5);
    const a = (m.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose([x]);
    m.dispose();
    loaded.dispose();
  });
});

describe("maskingNoise", () => {
  it("zeros about `level` of the entries, keeps the rest, and is reproducible per seed and step", () => {
    const t = maskingNoise(0.25, 7);
    const x = tf.ones([100, 50]) as tf.Tensor2D;
    const a = tf.tidy(() => t(x, 3).dataSync());
    const b = tf.tidy(() => t(x, 3).dataSync());
    const c = tf.tidy(() => t(x, 4).dataSync());
    const zeros = Array.from(a).filter((v) => v === 0).length / a.length;
    expect(zeros).toBeGreaterThan(0.2);
    expect(zeros).toBeLessThan(0.3);
    expect(Array.from(a).every((v) => v === 0 || v === 1)).toBe(true);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    x.dispose();
  });

  it("rejects a level outside [0, 1)", () => {
    expect(() => maskingNoise(1)).toThrow(/level must be in \[0, 1\), got 1/);
  });
});

describe("trainAutoencoder", () => {
  it("lowers the reconstruction loss (denoising, tied) and leaks no tensors", async () => {
    const data = manifold(256, 1);
    const m = buildAutoencoder({ inputDim: 16, units: 4, activation: "sigmoid", seed: 1 });
    const before = tf.memory().numTensors;
    const h = await trainAutoencoder(m, data, {
      epochs: 6,
      noise: 0.2,
      learningRate: 0.02,
      batchSize: 32,
      progress: false,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(h.loss[h.loss.length - 1]).toBeLessThan(h.loss[0]);
    expect(h.trainableParams).toBe(16 * 4 + 4 + 16);
    m.dispose();
  });
});

describe("encodeDataset", () => {
  it("matches the encoder applied by tfjs and keeps labels", () => {
    const data = manifold(40, 2, 8);
    const m = buildAutoencoder({
      inputDim: 8,
      units: 3,
      activation: "relu",
      outputActivation: "linear",
      tied: false,
      seed: 3,
    });
    const { encoder } = autoencoderWeights(m);
    const codes = encodeDataset([encoder], data);
    expect([codes.n, codes.dim]).toEqual([40, 3]);
    expect(codes.y).toBe(data.y);
    const ref = tf.tidy(() => m.layers[0].apply(tf.tensor2d(data.x, [40, 8])) as tf.Tensor).dataSync();
    codes.x.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
    expect(() => encodeDataset([encoder, encoder], data)).toThrow(/layer 2 takes 8 features but gets 3/);
    m.dispose();
  });
});
