// fit's two optional arguments for fine-tuning without forgetting: `penalty` (a scalar added to the
// data loss at every step; History.dataLoss keeps the data loss alone) and `replay` (rows of another
// dataset appended to every batch; their labels must be class ids).
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { fit } from "../../src/train/fit";
import { evaluateAccuracy } from "../../src/models/predict";
import { buildSourceModel } from "../../src/models/mlp";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

/** 4 classes in 8-D: class c is a bump on feature c (task "a") or on feature c + 4 with labels
 * permuted (task "b"), so a model that learned only a does not solve b. */
function task(kind: "a" | "b", n: number, seed: number): Dataset {
  const r = rng(`${kind}${seed}`);
  const dim = 8;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 4;
    const hot = kind === "a" ? y[i] : 4 + ((y[i] + 1) % 4);
    for (let j = 0; j < dim; j++) x[i * dim + j] = 0.2 * r() + (j === hot ? 0.8 : 0);
  }
  return { x, y, n, dim, numClasses: 4, name: `task-${kind}` };
}

const tiny = (seed = 0) => buildSourceModel({ seed, inputDim: 8, numClasses: 4, hiddenUnits: [12] });
const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("fit with penalty", () => {
  it("a zero penalty changes nothing; the reported loss includes the penalty", async () => {
    const data = task("a", 64, 0);
    const plain = tiny();
    const zero = tiny();
    const shifted = tiny();
    const hp = await fit(plain, data, { epochs: 2, batchSize: 16, seed: 3, progress: false });
    const hz = await fit(zero, data, {
      epochs: 2,
      batchSize: 16,
      seed: 3,
      progress: false,
      penalty: () => tf.scalar(0),
    });
    expect(weights(zero)).toEqual(weights(plain));
    expect(hz.loss).toEqual(hp.loss);
    // A constant penalty has no gradient: same weights, loss shifted by the constant.
    const hs = await fit(shifted, data, {
      epochs: 2,
      batchSize: 16,
      seed: 3,
      progress: false,
      penalty: () => tf.scalar(2),
    });
    expect(weights(shifted)).toEqual(weights(plain));
    hs.loss.forEach((l, i) => expect(l).toBeCloseTo(hp.loss[i] + 2, 5));
    [plain, zero, shifted].forEach((m) => m.dispose());
  });

  it("records the data loss alone in History.dataLoss (and EpochLogs.dataLoss), only with a penalty", async () => {
    const data = task("a", 64, 2);
    const plain = tiny();
    const shifted = tiny();
    const pulled = tiny();
    const args = { epochs: 3, batchSize: 16, seed: 4, progress: false } as const;
    const hp = await fit(plain, data, args);
    expect(hp.dataLoss).toBeUndefined();
    const logged: (number | undefined)[] = [];
    const hs = await fit(shifted, data, {
      ...args,
      penalty: () => tf.scalar(2),
      onEpochEnd: (_, logs) => void logged.push(logs.dataLoss),
    });
    // Same weights as without the constant penalty, so the same data loss; loss = data loss + 2.
    expect(hs.dataLoss).toHaveLength(3);
    hs.dataLoss!.forEach((d, i) => expect(d).toBeCloseTo(hp.loss[i], 6));
    hs.loss.forEach((l, i) => expect(l - hs.dataLoss![i]).toBeCloseTo(2, 5));
    expect(logged).toEqual(hs.dataLoss);
    // A real penalty: the gap is the (positive, mean over the epoch's steps) penalty.
    const v = pulled.getLayer("hidden1").weights[0].read();
    const hr = await fit(pulled, data, { ...args, penalty: () => v.square().sum() });
    hr.loss.forEach((l, i) => expect(l - hr.dataLoss![i]).toBeGreaterThan(0));
    [plain, shifted, pulled].forEach((m) => m.dispose());
  });

  it("a penalty on the weights pulls them (sum of squares shrinks the kernel norm)", async () => {
    const data = task("a", 64, 1);
    const free = tiny();
    const pulled = tiny();
    await fit(free, data, { epochs: 3, batchSize: 16, seed: 1, learningRate: 0.01, progress: false });
    const v = pulled.getLayer("hidden1").weights[0].read();
    await fit(pulled, data, {
      epochs: 3,
      batchSize: 16,
      seed: 1,
      learningRate: 0.01,
      progress: false,
      penalty: () => v.square().sum().mul(10),
    });
    const norm = (m: tf.LayersModel) =>
      tf.tidy(() => m.getLayer("hidden1").getWeights()[0].square().sum().dataSync()[0]);
    expect(norm(pulled)).toBeLessThan(0.5 * norm(free));
    free.dispose();
    pulled.dispose();
  });
});

describe("fit with replay", () => {
  it("replay rows reach the batches: trained on a plus replay of b, the model learns b too", async () => {
    const a = task("a", 128, 2);
    const b = task("b", 32, 3);
    const onlyA = tiny(1);
    const mixed = tiny(1);
    const args = { epochs: 15, batchSize: 16, seed: 0, learningRate: 0.01, progress: false } as const;
    await fit(onlyA, a, args);
    await fit(mixed, a, { ...args, replay: { data: b, perBatch: 8 } });
    const bTest = task("b", 200, 9);
    const aTest = task("a", 200, 8);
    expect(evaluateAccuracy(onlyA, bTest)).toBeLessThan(0.5);
    expect(evaluateAccuracy(mixed, bTest)).toBeGreaterThan(0.9);
    expect(evaluateAccuracy(mixed, aTest)).toBeGreaterThan(0.9);
    onlyA.dispose();
    mixed.dispose();
  });

  it("appends perBatch rows to every step, seeded by fit's seed, cycling through the replay data", async () => {
    const a = task("a", 40, 4);
    const b = task("b", 24, 5);
    // Record the rows every forward pass sees through an input transform.
    const seenRows = async (seed: number): Promise<number[]> => {
      const m = tiny();
      const sizes: number[] = [];
      await fit(m, a, {
        epochs: 2,
        batchSize: 16,
        seed,
        progress: false,
        replay: { data: b, perBatch: 5 },
        inputTransform: (x) => {
          sizes.push(x.shape[0]);
          return x.clone();
        },
      });
      m.dispose();
      return sizes;
    };
    // 40 rows in batches of 16: 16, 16, 8 per epoch, each plus 5 replay rows.
    expect(await seenRows(0)).toEqual([21, 21, 13, 21, 21, 13]);
    const firstRows = async (seed: number) => {
      const m = tiny();
      const rows: number[][] = [];
      await fit(m, a, {
        epochs: 1,
        batchSize: 40,
        seed,
        progress: false,
        replay: { data: b, perBatch: 24 },
        inputTransform: (x) => {
          rows.push(Array.from(x.slice([40, 0], [24, 8]).dataSync()));
          return x.clone();
        },
      });
      m.dispose();
      return rows[0];
    };
    const r0 = await firstRows(0);
    expect(await firstRows(0)).toEqual(r0);
    expect(await firstRows(1)).not.toEqual(r0);
    // perBatch = replay size: one whole permutation of b, each row exactly once.
    const key = (xs: number[], i: number) => xs.slice(i * 8, i * 8 + 8).join(",");
    const got = Array.from({ length: 24 }, (_, i) => key(r0, i)).sort();
    const want = Array.from({ length: 24 }, (_, i) => key(Array.from(b.x), i)).sort();
    expect(got).toEqual(want);
  });

  it("rejects bad penalty and replay arguments with named errors", async () => {
    const a = task("a", 16, 6);
    const m = tiny();
    const before = tf.memory().numTensors;
    const run = (extra: object) => fit(m, a, { epochs: 1, progress: false, ...extra });
    await expect(run({ penalty: 3 })).rejects.toThrow(/fit: penalty must be a function/);
    await expect(run({ penalty: () => tf.zeros([2]) })).rejects.toThrow(
      /fit: penalty must be a function returning a scalar \(rank-0 tensor\), got a rank-1 tensor/,
    );
    await expect(run({ replay: null })).rejects.toThrow(/fit: replay must be an object/);
    await expect(run({ replay: { data: task("b", 8, 1), perBatch: 0 } })).rejects.toThrow(
      /fit: replay.perBatch must be a positive integer, got 0/,
    );
    await expect(run({ replay: { data: { x: [], y: [] }, perBatch: 2 } })).rejects.toThrow(/fit: replay.data/);
    const wide: Dataset = { ...task("b", 8, 1), x: new Float32Array(8 * 9), dim: 9 };
    await expect(run({ replay: { data: wide, perBatch: 2 } })).rejects.toThrow(/fit: replay.data.dim must be 8/);
    // A label outside 0..C−1 would one-hot to a zero row and add no loss: refused, by name.
    const unlabelled: Dataset = { ...task("b", 8, 1), y: new Int32Array(8).fill(-1) };
    await expect(run({ replay: { data: unlabelled, perBatch: 2 } })).rejects.toThrow(
      /fit: replay.data.y must be class ids in 0..3, got -1 \(row 0 of dataset "task-b": replay needs labelled rows\)/,
    );
    const outOfRange: Dataset = { ...task("b", 8, 1), y: new Int32Array([0, 1, 2, 3, 4, 0, 1, 2]) };
    await expect(run({ replay: { data: outOfRange, perBatch: 2 } })).rejects.toThrow(
      /fit: replay.data.y must be class ids in 0..3, got 4 \(row 4 of/,
    );
    const moreClasses: Dataset = { ...task("b", 8, 1), numClasses: 5 };
    await expect(run({ replay: { data: moreClasses, perBatch: 2 } })).rejects.toThrow(
      /fit: replay.data.numClasses must be the training data's numClasses 4, got 5/,
    );
    // A failing penalty is caught before the first step: nothing left behind (tape, optimizers, sums).
    await expect(
      run({
        penalty: () => {
          throw new Error("boom");
        },
      }),
    ).rejects.toThrow(/boom/);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it("leaks no tensors with penalty and replay", async () => {
    const a = task("a", 48, 7);
    const b = task("b", 16, 7);
    const m = tiny();
    const v = m.getLayer("head").weights[0].read();
    await fit(m, a, { epochs: 1, progress: false, penalty: () => v.square().sum(), replay: { data: b, perBatch: 4 } });
    const before = tf.memory().numTensors;
    await fit(m, a, {
      epochs: 2,
      batchSize: 16,
      progress: false,
      penalty: () => v.square().sum(),
      replay: { data: b, perBatch: 4 },
    });
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
