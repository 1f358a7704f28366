import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  pretrainGreedy,
  stackEncoders,
  buildClassifier,
  encoderStackModel,
  encodersFromModel,
  reconstructThrough,
  encoderFilters,
  type GreedyStage,
} from "../../src/train/greedy";
import { getRecipe } from "../../src/models/recipes";
import { fit } from "../../src/train/fit";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

// Two classes of noisy binary-ish patterns in 24-D: structure an autoencoder can compress.
function patterns(n: number, seed: number, dim = 24): Dataset {
  const r = rng(seed);
  const protos = [0, 1, 2].map(() => Array.from({ length: dim }, () => (r() < 0.5 ? 0.1 : 0.9)));
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i % 3;
    const b = (i + 1) % 3;
    const t = r();
    y[i] = a === 0 ? 0 : 1;
    for (let j = 0; j < dim; j++)
      x[i * dim + j] = Math.min(1, Math.max(0, t * protos[a][j] + (1 - t) * protos[b][j] + 0.05 * (r() - 0.5)));
  }
  return { x, y, n, dim, numClasses: 2, name: "patterns" };
}

const recipe = getRecipe("historical", { pretrain: { epochs: 4, learningRate: 0.02, batchSize: 16 } });

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("pretrainGreedy", () => {
  it("each stage lowers its reconstruction loss; earlier encoders stay bit-identical; no tensor leaks", async () => {
    const data = patterns(192, 1);
    const snapshots: { stage: number; kernels: Float32Array[]; biases: Float32Array[] }[] = [];
    const seen: GreedyStage[] = [];
    const before = tf.memory().numTensors;
    const result = await pretrainGreedy({
      data,
      sizes: [12, 8, 6],
      recipe,
      noise: 0.25,
      seed: 3,
      progress: false,
      onStage: (s) => {
        seen.push(s);
        snapshots.push({
          stage: s.stage,
          kernels: seen.map((t) => t.encoder.kernel.slice()),
          biases: seen.map((t) => t.encoder.bias.slice()),
        });
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.stages.map((s) => [s.inputDim, s.units])).toEqual([
      [24, 12],
      [12, 8],
      [8, 6],
    ]);
    for (const s of result.stages) {
      expect(s.history.loss).toHaveLength(4);
      expect(s.history.loss[3]).toBeLessThan(s.history.loss[0]);
      // Only the stage's own autoencoder trains: tied kernel + encoder bias + decoder bias.
      expect(s.history.trainableParams).toBe(s.inputDim * s.units + s.units + s.inputDim);
    }
    // Every encoder equals, bit for bit, what it was when its stage ended.
    for (const snap of snapshots) {
      snap.kernels.forEach((k, i) => expect(Array.from(result.encoders[i].kernel)).toEqual(Array.from(k)));
      snap.biases.forEach((b, i) => expect(Array.from(result.encoders[i].bias)).toEqual(Array.from(b)));
    }
    expect(result.pretrain.noise).toBe(0.25);
  });

  it("is reproducible for a seed", async () => {
    const data = patterns(64, 2);
    const a = await pretrainGreedy({ data, sizes: [6, 4], recipe, epochs: 1, seed: 5, progress: false });
    const b = await pretrainGreedy({ data, sizes: [6, 4], recipe, epochs: 1, seed: 5, progress: false });
    expect(Array.from(b.encoders[1].kernel)).toEqual(Array.from(a.encoders[1].kernel));
  });

  it("ReLU (modern) stages above the first reconstruct codes with a linear decoder", async () => {
    const data = patterns(64, 3);
    const r = await pretrainGreedy({
      data,
      sizes: [8, 4],
      recipe: getRecipe("modern", { pretrain: { epochs: 1 } }),
      progress: false,
    });
    expect(r.stages.map((s) => [s.encoder.activation, s.decoder.activation])).toEqual([
      ["relu", "sigmoid"],
      ["relu", "linear"],
    ]);
  });

  it("rejects bad sizes and noise with the value", async () => {
    const data = patterns(16, 4);
    await expect(pretrainGreedy({ data, sizes: [], recipe })).rejects.toThrow(
      /sizes must be a non-empty list of positive integers/,
    );
    await expect(pretrainGreedy({ data, sizes: [4], recipe, noise: 1.2 })).rejects.toThrow(
      /noise must be in \[0, 1\), got 1.2/,
    );
  });
});

describe("stackEncoders / buildClassifier", () => {
  it("stack the encoders under a softmax head with the scratch classifier's shapes", async () => {
    const data = patterns(64, 5);
    const { encoders, stages } = await pretrainGreedy({ data, sizes: [10, 7, 5], recipe, epochs: 1, progress: false });
    const stacked = stackEncoders(encoders, { numClasses: 2 });
    const scratch = buildClassifier({
      inputDim: 24,
      sizes: [10, 7, 5],
      numClasses: 2,
      activation: "sigmoid",
      kernelInit: recipe.kernelInit,
    });
    const shapes = (m: tf.LayersModel) => m.getWeights().map((w) => w.shape);
    expect(shapes(stacked)).toEqual([[24, 10], [10], [10, 7], [7], [7, 5], [5], [5, 2], [2]]);
    expect(shapes(scratch)).toEqual(shapes(stacked));
    expect(stacked.layers.map((l) => l.name)).toEqual(["hidden1", "hidden2", "hidden3", "head"]);
    // The hidden layers start as the encoders.
    encoders.forEach((w, i) =>
      expect(
        Array.from(
          stacked
            .getLayer(`hidden${i + 1}`)
            .getWeights()[0]
            .dataSync(),
        ),
      ).toEqual(Array.from(w.kernel)),
    );
    const probs = tf.tidy(() =>
      (stacked.predict(tf.tensor2d(data.x.subarray(0, 3 * 24), [3, 24])) as tf.Tensor).sum(-1).dataSync(),
    );
    probs.forEach((p) => expect(p).toBeCloseTo(1, 5));
    // Fine-tuning the stack trains copies: the encoders keep their values.
    const kept = encoders.map((w) => w.kernel.slice());
    await fit(stacked, data, { epochs: 1, optimizer: "sgd", learningRate: 0.5, progress: false });
    encoders.forEach((w, i) => expect(Array.from(w.kernel)).toEqual(Array.from(kept[i])));
    expect(Array.from(stacked.getLayer("hidden1").getWeights()[0].dataSync())).not.toEqual(Array.from(kept[0]));
    // Reconstructions and filters have the input's shape.
    expect(reconstructThrough(stages, 3, data.x.subarray(0, 2 * 24))).toHaveLength(2 * 24);
    expect(encoderFilters(encoders[0], 4)).toHaveLength(4 * 24);
    stacked.dispose();
    scratch.dispose();
  });

  it("round-trips the encoder stack through a model", async () => {
    const data = patterns(32, 6);
    const { encoders } = await pretrainGreedy({ data, sizes: [5, 3], recipe, epochs: 1, progress: false });
    const before = tf.memory().numTensors;
    const m = encoderStackModel(encoders);
    expect(m.outputs[0].shape).toEqual([null, 3]);
    const back = encodersFromModel(m);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    back.forEach((w, i) => {
      expect(Array.from(w.kernel)).toEqual(Array.from(encoders[i].kernel));
      expect(Array.from(w.bias)).toEqual(Array.from(encoders[i].bias));
      expect(w.activation).toBe("sigmoid");
    });
  });

  it("rejects encoders that do not chain", () => {
    const w = (i: number, u: number) => ({
      kernel: new Float32Array(i * u),
      bias: new Float32Array(u),
      inputDim: i,
      units: u,
      activation: "sigmoid" as const,
    });
    expect(() => stackEncoders([w(4, 3), w(5, 2)], { numClasses: 2 })).toThrow(
      /encoder 2 takes 5 features but encoder 1 gives 3/,
    );
  });
});
