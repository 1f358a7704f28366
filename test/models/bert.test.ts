// The tiny BERT: padding changes nothing (masked keys, masked pooling), the masked-LM head is tied to the
// token embedding, the embedding's scatter-add gradient equals tf.gather's, serialization, freezing the
// first k blocks (embeddings included) leaves them unchanged by training, LoRA on q and v starts equal to
// the source and merges exactly, bad sizes are named, and nothing leaks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { roundTrip } from "../helpers/fixtures";
import {
  bertDepth,
  bertEncoder,
  bertLayersBelow,
  bertMlmLogits,
  BERT_LORA_TARGETS,
  buildBert,
  embeddingLookup,
  maskedAttentionProbs,
  paddingDifference,
  pooledSpread,
  setPoolStandardization,
} from "../../src/models/bert";
import { assertFrozenUnchanged, freeze, snapshotWeights, unfreeze } from "../../src/adapt/freezing";
import { applyLora, loraLayers, mergeLora } from "../../src/adapt/lora/inject";
import { fit } from "../../src/train/fit";
import { maxOutputDiff } from "../../src/evaluate/compare";

const ARGS = { vocabSize: 40, seqLength: 8, width: 16, depth: 2, numHeads: 2, numClasses: 3, seed: 1 };

let before = 0;
beforeAll(async () => {
  await tf.setBackend("cpu");
  before = tf.memory().numTensors;
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(before);
});

function windows(n: number, T: number, seed = 0): Float32Array {
  const x = new Float32Array(n * T);
  for (let i = 0; i < n; i++) {
    x[i * T] = 2; // [CLS]
    const len = 2 + ((i * 7 + seed) % (T - 2));
    for (let j = 1; j <= len && j < T; j++) x[i * T + j] = 4 + ((i * 13 + j * 5 + seed) % 36);
  }
  return x;
}

describe("tiny BERT", () => {
  it("standardises the pooled features for the head with the training windows' mean and spread", () => {
    const model = buildBert(ARGS);
    const data = { x: windows(12, 8), n: 12, dim: 8 };
    const identity = pooledSpread(model, data); // pool_norm starts as the identity
    const spread = setPoolStandardization(model, data);
    expect(spread.medianStd).toBeCloseTo(identity.medianStd, 6);
    const view = tf.model({ inputs: model.inputs, outputs: model.getLayer("pool_norm").output as tf.SymbolicTensor });
    const [mean, sd] = tf.tidy(() => {
      const { mean: m, variance } = tf.moments(view.predict(tf.tensor2d(data.x, [12, 8])) as tf.Tensor, 0);
      return [m.abs().max(), variance.sqrt().sub(1).abs().max()];
    });
    expect(mean.dataSync()[0]).toBeLessThan(1e-4);
    expect(sd.dataSync()[0]).toBeLessThan(1e-3);
    tf.dispose([mean, sd]);
    // Buffers, not parameters: training never moves them.
    expect(model.getLayer("pool_norm").trainableWeights).toHaveLength(0);
    model.dispose();
  });

  it("gives a window the same outputs with extra padding, and padded keys zero attention", () => {
    const x = windows(1, 8);
    x.fill(0, 5); // 4 real tokens after [CLS], then padding
    expect(paddingDifference(ARGS, x, 4)).toBeLessThan(1e-6);
    const probs = tf.tidy(() => {
      const q = tf.randomNormal([1, 8, 16], 0, 1, "float32", 3);
      const ids = tf.tensor2d(x, [1, 8]);
      return maskedAttentionProbs(q, q, ids, 2);
    });
    const p = probs.arraySync() as number[][][][];
    probs.dispose();
    for (const head of p[0]) for (const row of head) expect(row.slice(5).every((v) => v === 0)).toBe(true);
  });

  it("ties the masked-LM head to the token embedding", () => {
    const m = buildBert(ARGS);
    const [logits, manual] = tf.tidy(() => {
      const h = tf.randomNormal([3, 16], 0, 1, "float32", 5) as tf.Tensor2D;
      const e = m.getLayer("token_embed").getWeights()[0];
      return [bertMlmLogits(m, h), tf.matMul(h, e, false, true)];
    });
    expect(logits.shape).toEqual([3, 40]);
    expect(tf.tidy(() => logits.sub(manual).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    tf.dispose([logits, manual]);
    m.dispose();
  });

  it("computes the embedding gradient by scatter-add, as tf.gather's own gradient", () => {
    const [a, b] = tf.tidy(() => {
      const table = tf.randomNormal([6, 3], 0, 1, "float32", 2);
      const ids = tf.tensor2d(
        [
          [1, 1, 4],
          [0, 4, 4],
        ],
        [2, 3],
        "int32",
      );
      const w = tf.randomNormal([2, 3, 3], 0, 1, "float32", 4);
      const g1 = tf.grad((t: tf.Tensor) => embeddingLookup(t, ids).mul(w).sum())(table);
      const g2 = tf.grad((t: tf.Tensor) => tf.gather(t, ids).mul(w).sum())(table);
      return [g1, g2];
    });
    expect(Array.from(a.dataSync()).map((v, i) => Math.abs(v - b.dataSync()[i]))).toSatisfy((d: number[]) =>
      d.every((v) => v < 1e-6),
    );
    tf.dispose([a, b]);
  });

  it("round-trips through save and load with the same outputs", async () => {
    const m = buildBert(ARGS);
    const back = await roundTrip(m);
    const x = tf.tensor2d(windows(4, 8), [4, 8]);
    expect(maxOutputDiff(m, back, x)).toBeLessThan(1e-6);
    x.dispose();
    expect(bertDepth(back)).toBe(2);
    m.dispose();
    back.dispose();
  });

  it("freezes the embeddings and the first k blocks; training leaves them unchanged", async () => {
    const m = buildBert(ARGS);
    expect(bertLayersBelow(m, 0)).toEqual([]);
    const below = bertLayersBelow(m, 1);
    expect(below).toContain("token_embed");
    expect(below).toContain("pos_embed");
    expect(below).toContain("block0_q");
    expect(below.some((n) => n.startsWith("block1_"))).toBe(false);
    unfreeze(m);
    freeze(m, below);
    const snap = snapshotWeights(m);
    const data = {
      x: windows(12, 8),
      y: Int32Array.from({ length: 12 }, (_, i) => i % 3),
      n: 12,
      dim: 8,
      numClasses: 3,
      name: "t",
    };
    await fit(m, data, { epochs: 2, batchSize: 4, learningRate: 1e-2, progress: false });
    const changes = assertFrozenUnchanged(m, snap);
    expect(changes.some((c) => !c.frozen && c.changed)).toBe(true);
    expect(() => bertLayersBelow(m, 3)).toThrow(/bertLayersBelow: k must be an integer in \[0, 2\].*got 3/);
    m.dispose();
  });

  it("puts LoRA on every block's q and v: equal outputs before training, merged = unmerged after", async () => {
    const m = buildBert(ARGS);
    const lora = applyLora(m, { r: 2, targets: BERT_LORA_TARGETS, trainHead: true, seed: 1 });
    expect(loraLayers(lora).map((l) => l.name)).toEqual(["block0_q", "block0_v", "block1_q", "block1_v"]);
    const xs = tf.tensor2d(windows(5, 8, 3), [5, 8]);
    const x = () => xs;
    expect(maxOutputDiff(m, lora, x())).toBeLessThan(1e-6);
    const data = {
      x: windows(12, 8),
      y: Int32Array.from({ length: 12 }, (_, i) => i % 3),
      n: 12,
      dim: 8,
      numClasses: 3,
      name: "t",
    };
    const snap = snapshotWeights(lora);
    await fit(lora, data, { epochs: 2, batchSize: 4, learningRate: 1e-2, progress: false });
    assertFrozenUnchanged(lora, snap);
    const merged = mergeLora(lora);
    expect(maxOutputDiff(lora, merged, x())).toBeLessThan(1e-5);
    expect(maxOutputDiff(m, lora, x())).toBeGreaterThan(0);
    // The encoder view shares the weights and gives [b, T, d].
    const h = tf.tidy(() => bertEncoder(lora).predict(tf.tensor2d(windows(2, 8), [2, 8])) as tf.Tensor);
    expect(h.shape).toEqual([2, 8, 16]);
    h.dispose();
    xs.dispose();
    [m, lora, merged].forEach((k) => k.dispose());
  });

  it("names the parameter, the value and what is allowed", () => {
    expect(() => buildBert({ ...ARGS, seqLength: 16, maxPositions: 8 })).toThrow(
      /buildBert: seqLength must be at most maxPositions = 8.*got 16/,
    );
    expect(() => buildBert({ ...ARGS, numHeads: 3 })).toThrow(/numHeads must be a divisor of width 16, got 3/);
    expect(() => buildBert({ ...ARGS, vocabSize: 2 })).toThrow(/vocabSize/);
  });
});
