// The cost of a training step: matrix-product FLOPs counted by hand on a ViT small enough to count
// (4×4 images, 2×2 patches, width 4, one block), for full training, frozen blocks and LoRA; the
// 3 / (1 + 2f) bound; and the memory accounting of a measured step (gradients and Adam's state
// against tf.memory() deltas), with no tensor leaked.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { buildViT } from "../../src/models/transformer";
import { freezeBlocks, unfreeze } from "../../src/adapt/freezing";
import { applyLora, mergeLora } from "../../src/adapt/lora/inject";
import {
  FLOAT32_BYTES,
  freezeFlopBound,
  inferenceMs,
  measureTrainingStep,
  trainingStepFlops,
} from "../../src/evaluate/cost";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// T = 4 tokens of 4 pixels, d = 4, one head, MLP 4 -> 4 -> 4, 2 classes.
const TINY = { imageSize: 4, patchSize: 2, width: 4, depth: 1, numHeads: 1, mlpRatio: 1, numClasses: 2 };
// Forward FLOPs per example (2 per multiply-add): patch_embed 2·4·4·4 = 128; q, k, v, o 128 each;
// attention Q·Kᵀ and A·V 2·(2·4·4·4) = 256; mlp1, mlp2 128 each; head (pooled, one row) 2·4·2 = 16.
const FORWARD = 128 + 4 * 128 + 256 + 2 * 128 + 16;

describe("trainingStepFlops (counted by hand)", () => {
  it("full training: forward 1168, backward = weight grads of every product + input grads above patch_embed", () => {
    const m = buildViT(TINY);
    try {
      unfreeze(m);
      const c = trainingStepFlops(m);
      expect(c.forward).toBe(FORWARD);
      expect(FORWARD).toBe(1168);
      // weight grads: every Dense as its forward (128·7 + 16); input grads: everything above
      // patch_embed (q, k, v, o, mlp1, mlp2 at 128, attention at 2·256, head at 16).
      const weightGrads = 7 * 128 + 16;
      const inputGrads = 6 * 128 + 512 + 16;
      expect(c.backward).toBe(weightGrads + inputGrads);
      expect(c.backward).toBe(2 * FORWARD - 128); // patch_embed needs no gradient of the pixels
      expect(c.total).toBe(3 * FORWARD - 128);
      expect(c.trainableParams).toBe(m.countParams());
    } finally {
      m.dispose();
    }
  });

  it("every block frozen: the forward runs through all, the backward only through the head", () => {
    const m = buildViT(TINY);
    try {
      freezeBlocks(m, 1); // embeddings and block 0 frozen; final_ln and head train
      const c = trainingStepFlops(m);
      expect(c.forward).toBe(FORWARD);
      // head: its weight gradient (16) and the gradient of its input, for final_ln's gamma and beta (16)
      expect(c.backward).toBe(32);
      expect(c.ops.find((o) => o.op === "block0_q")).toMatchObject({ weightGrad: 0, inputGrad: 0 });
    } finally {
      m.dispose();
    }
  });

  it("freeze-0 (embeddings only): every product above the first LayerNorm passes gradients down", () => {
    const m = buildViT(TINY);
    try {
      freezeBlocks(m, 0);
      const c = trainingStepFlops(m);
      expect(c.ops.find((o) => o.op === "patch_embed")).toMatchObject({ weightGrad: 0, inputGrad: 0 });
      expect(c.backward).toBe(2 * FORWARD - 2 * 128);
    } finally {
      m.dispose();
    }
  });

  it("LoRA r = 1 on q and v: adapters add 2·(2·4·4·1 + 2·4·1·4) forward; the base passes gradients only above block 0's adapters", () => {
    const base = buildViT(TINY);
    const m = applyLora(base, { r: 1, alpha: 1, targets: /^block\d+_(q|v)$/, trainHead: true });
    try {
      const c = trainingStepFlops(m);
      const adapters = 2 * (32 + 32);
      expect(c.forward).toBe(FORWARD + adapters);
      // Trainable: A, B of q and v, head (and nothing else). A (lowest trainable) needs only its
      // weight grad; B its weight and input grads; k's product lies below q's adapter in layer order.
      const byOp = Object.fromEntries(c.ops.map((o) => [o.op, o]));
      expect(byOp["block0_q:base"]).toMatchObject({ weightGrad: 0, inputGrad: 0 });
      expect(byOp["block0_q:A"]).toMatchObject({ weightGrad: 32, inputGrad: 0 });
      expect(byOp["block0_q:B"]).toMatchObject({ weightGrad: 32, inputGrad: 32 });
      expect(byOp.block0_attn.inputGrad).toBe(512);
      const merged = mergeLora(m);
      try {
        expect(trainingStepFlops(merged).forward).toBe(FORWARD); // merged: no adapter products
      } finally {
        merged.dispose();
      }
    } finally {
      m.dispose();
      base.dispose();
    }
  });

  it("the bound 3 / (1 + 2f): 3× with nothing trainable, 2× at a quarter, 1× at all", () => {
    expect(freezeFlopBound(0)).toBe(3);
    expect(freezeFlopBound(0.25)).toBe(2);
    expect(freezeFlopBound(1)).toBe(1);
    expect(freezeFlopBound(0.2)).toBeCloseTo(2.142857, 5);
    expect(() => freezeFlopBound(1.5)).toThrow(/trainableFraction must be in \[0, 1\], got 1.5/);
  });
});

describe("measureTrainingStep (memory adds up)", () => {
  // Tolerance: the loss scalar (4 bytes) rides along with the gradients; Adam's two moments are
  // exactly 2 · 4 bytes per trainable value (its step counters exist before the first step).
  const TOLERANCE_BYTES = 16;

  it("gradients = 4 bytes and Adam's state = 8 bytes per trainable value, for full training and frozen blocks", async () => {
    const m = buildViT({ ...TINY, depth: 2, numClasses: 3, seed: 1 });
    const x = tf.randomUniform([6, 16], 0, 1, "float32", 3) as tf.Tensor2D;
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const before = tf.memory().numTensors;
    try {
      for (const k of [null, 1, 2]) {
        if (k === null) unfreeze(m);
        else freezeBlocks(m, k);
        const c = await measureTrainingStep(m, { x, labels, numClasses: 3, steps: 2, warmup: 1 });
        const trainable = m.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
        expect(c.trainableParams).toBe(trainable);
        expect(c.expectedGradientBytes).toBe(FLOAT32_BYTES * trainable);
        expect(c.gradientBytes - c.expectedGradientBytes).toBeGreaterThanOrEqual(0);
        expect(c.gradientBytes - c.expectedGradientBytes).toBeLessThanOrEqual(TOLERANCE_BYTES);
        expect(Math.abs(c.optimizerBytes - c.expectedOptimizerBytes)).toBeLessThanOrEqual(TOLERANCE_BYTES);
        expect(c.weightBytes).toBe(FLOAT32_BYTES * m.countParams());
        expect(c.activationBytes).toBeGreaterThan(0);
        expect(c.peakStepBytes).toBeGreaterThanOrEqual(c.gradientBytes);
        for (const t of [c.forwardMs, c.backwardMs, c.updateMs, c.stepMs]) expect(t).toBeGreaterThanOrEqual(0);
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(inferenceMs(m, x, 2)).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose(x);
      m.dispose();
    }
  });

  it("names a bad batch", async () => {
    const m = buildViT(TINY);
    const x = tf.zeros([2, 16]) as tf.Tensor2D;
    try {
      await expect(measureTrainingStep(m, { x, labels: Int32Array.from([0]), numClasses: 2 })).rejects.toThrow(
        /labels has 1 entries, the batch x has 2 rows/,
      );
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});
