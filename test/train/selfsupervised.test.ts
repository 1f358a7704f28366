// Self-supervised objectives: NT-Xent against values computed by hand, the masked loss scores hidden
// pixels only, every pretraining objective (greedy stages included) lowers its loss on a small set,
// step memory of greedy stages vs end to end, no leaked tensors, bad input named.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  backgroundMaskingNoise,
  maskedReconstructionLoss,
  ntXentLoss,
  pretrainSelfSupervised,
  SSL_OBJECTIVES,
} from "../../src/train/selfsupervised";
import { endToEndMemory, greedyStageMemory } from "../../src/train/step-memory";
import { pretrainGreedy } from "../../src/train/greedy";
import { getRecipe } from "../../src/models/recipes";
import { blobs } from "../helpers/fixtures";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** NT-Xent written from its definition with loops, in float64. */
function ntXentByHand(z1: number[][], z2: number[][], tau: number): number {
  const z = [...z1, ...z2].map((v) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const n = z1.length;
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const p = i < n ? i + n : i - n;
    let denom = 0;
    for (let k = 0; k < 2 * n; k++) if (k !== i) denom += Math.exp(dot(z[i], z[k]) / tau);
    total += -Math.log(Math.exp(dot(z[i], z[p]) / tau) / denom);
  }
  return total / (2 * n);
}

describe("ntXentLoss", () => {
  it("equals the hand-computed value on a 3-sample batch: orthonormal, identical views, τ = 1 → ln(1 + 4/e)", () => {
    // Each view: its partner at cosine 1, the 4 views of the other two images at cosine 0.
    const e = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const loss = tf.tidy(() => ntXentLoss(tf.tensor2d(e), tf.tensor2d(e), 1).dataSync()[0]);
    expect(loss).toBeCloseTo(Math.log(1 + 4 / Math.E), 5);
  });

  it("equals the definition on a 3-sample batch of arbitrary (unnormalised) vectors at τ = 0.5", () => {
    const z1 = [
      [0.3, -1.2, 2.0],
      [1.5, 0.4, -0.7],
      [-0.2, 0.9, 0.1],
    ];
    const z2 = [
      [0.5, -1.0, 1.4],
      [2.0, 0.1, -0.3],
      [0.7, 0.3, -1.1],
    ];
    const before = tf.memory().numTensors;
    const t = ntXentLoss(tf.tensor2d(z1), tf.tensor2d(z2), 0.5);
    expect(t.dataSync()[0]).toBeCloseTo(ntXentByHand(z1, z2, 0.5), 5);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before + 2); // only the two inputs created here
  });

  it("names bad input", () => {
    const a = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => ntXentLoss(a, a, 0)).toThrow(/ntXentLoss: temperature must be a finite number > 0, got 0/);
    const b = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(() => ntXentLoss(a, b, 1)).toThrow(/ntXentLoss: z2 must be a \[N, d\] tensor like z1/);
    tf.dispose([a, b]);
  });
});

describe("maskedReconstructionLoss", () => {
  it("scores only the hidden pixels", () => {
    const losses = tf.tidy(() => {
      const target = tf.tensor2d([[0.9, 0.1, 0.8, 0.2]]);
      const mask = tf.tensor2d([[1, 0, 1, 0]]);
      const a = maskedReconstructionLoss(tf.tensor2d([[0.7, 0.5, 0.6, 0.5]]), target, mask);
      const b = maskedReconstructionLoss(tf.tensor2d([[0.7, 0.99, 0.6, 0.01]]), target, mask); // visible pixels changed
      return [a.dataSync()[0], b.dataSync()[0]];
    });
    const bce = (x: number, p: number) => -(x * Math.log(p) + (1 - x) * Math.log(1 - p));
    expect(losses[0]).toBeCloseTo((bce(0.9, 0.7) + bce(0.8, 0.6)) / 2, 5);
    expect(losses[1]).toBeCloseTo(losses[0], 6);
  });
});

describe("pretrainSelfSupervised", () => {
  const data = blobs(96, 64, 5, 0.2); // 8×8 images

  it.each(SSL_OBJECTIVES)("%s lowers its loss on a small set and leaks no tensor", async (objective) => {
    const before = tf.memory().numTensors;
    const r = await pretrainSelfSupervised({
      objective,
      data,
      sizes: [32, 16],
      epochs: 8,
      batchSize: 32,
      learningRate: 3e-3,
      seed: 1,
      mask: { patchSize: 2, ratio: 0.5 },
      augment: { maxDegrees: 10, maxShift: 1, minScale: 0.9, maxScale: 1.1, noise: 0.05 },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.loss.length).toBe(8);
    expect(r.loss[7]).toBeLessThan(r.loss[0]);
    expect(r.encoders.map((w) => [w.inputDim, w.units])).toEqual([
      [64, 32],
      [32, 16],
    ]);
    expect(r.steps).toBe(8 * 3); // 96 images in batches of 32 (contrastive drops no batch here)
  });

  it("greedy stacked denoising autoencoders lower each stage's loss too", async () => {
    const recipe = getRecipe("modern", { pretrain: { epochs: 8, batchSize: 32, learningRate: 3e-3 } });
    const g = await pretrainGreedy({ data, sizes: [32, 16], recipe, seed: 1 });
    for (const s of g.stages) expect(s.history.loss[7]).toBeLessThan(s.history.loss[0]);
  });

  it("continues from given encoder weights (domain-adaptive pretraining)", async () => {
    const first = await pretrainSelfSupervised({
      objective: "denoising",
      data,
      sizes: [16, 8],
      epochs: 1,
      batchSize: 32,
      learningRate: 1e-3,
    });
    const cont = await pretrainSelfSupervised({
      objective: "contrastive",
      data,
      init: first.encoders,
      epochs: 1,
      batchSize: 32,
      learningRate: 1e-9,
    });
    // A negligible rate: the encoder is still (almost exactly) the one it started from.
    expect(Math.abs(cont.encoders[0].kernel[5] - first.encoders[0].kernel[5])).toBeLessThan(1e-6);
  });

  it("names bad input before building anything", async () => {
    const base = { data, sizes: [8], epochs: 1, batchSize: 16, learningRate: 1e-3 };
    const before = tf.memory().numTensors;
    await expect(pretrainSelfSupervised({ ...base, objective: "rotation" as never })).rejects.toThrow(
      /objective must be one of denoising, masked, contrastive, got "rotation"/,
    );
    await expect(pretrainSelfSupervised({ ...base, objective: "contrastive", batchSize: 1 })).rejects.toThrow(
      /batchSize must be at least 2 for contrastive/,
    );
    await expect(
      pretrainSelfSupervised({ ...base, objective: "masked", mask: { patchSize: 3, ratio: 0.5 } }),
    ).rejects.toThrow(/patchSize must be a divisor of the image side 8/);
    await expect(pretrainSelfSupervised({ ...base, objective: "denoising", data: blobs(10, 10, 1) })).rejects.toThrow(
      /not a square image/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("step memory", () => {
  it("measures each greedy stage below end-to-end training of the same depth, and leaks nothing", async () => {
    const data = blobs(64, 64, 7);
    const before = tf.memory().numTensors;
    const stages = await greedyStageMemory(data, [32, 16], 32);
    const e2e = await endToEndMemory(data, [32, 16], 32);
    expect(tf.memory().numTensors).toBe(before);
    expect(stages.map((s) => [s.inputDim, s.units])).toEqual([
      [64, 32],
      [32, 16],
    ]);
    // Tied stage 1: kernel 64·32 + biases 32 + 64, float32.
    expect(stages[0].weightBytes).toBe(4 * (64 * 32 + 32 + 64));
    // Stage 2 holds the whole set's stage-1 codes (n × 32 float32); stage 1 reads the images themselves.
    expect(stages[0].codeCacheBytes).toBe(0);
    expect(stages[1].codeCacheBytes).toBe(4 * data.n * 32);
    expect(stages[1].withCodesBytes).toBe(stages[1].peakBytes + stages[1].codeCacheBytes);
    for (const s of stages) {
      expect(s.stepBytes).toBeGreaterThan(0);
      expect(s.peakBytes).toBeLessThan(e2e.peakBytes);
    }
  });
});

describe("backgroundMaskingNoise", () => {
  it("hides about the stated fraction, filling with the image's background: 1 on an inverted image", () => {
    const side = 28;
    const inverted = new Float32Array(side * side).fill(1);
    for (let r = 8; r < 20; r++) for (let q = 8; q < 20; q++) inverted[r * side + q] = 0;
    const normal = inverted.map((v) => 1 - v);
    let u = 0;
    const uniform = () => ((u = (u * 9301 + 49297) % 233280), u / 233280);
    const inv = backgroundMaskingNoise(inverted, 1, side, 0.25, uniform);
    const nor = backgroundMaskingNoise(normal, 1, side, 0.25, uniform);
    // No pixel becomes ink: the inverted image keeps every background pixel at 1, ink is only hidden (→ 1).
    for (let p = 0; p < side * side; p++) {
      expect(inv[p] === inverted[p] || inv[p] === 1).toBe(true);
      expect(nor[p] === normal[p] || nor[p] === 0).toBe(true);
    }
    const hiddenInk = Array.from(inverted).filter((v, p) => v === 0 && inv[p] === 1).length;
    expect(hiddenInk / 144).toBeGreaterThan(0.1); // ≈ 25 % of the 144 ink pixels
    expect(hiddenInk / 144).toBeLessThan(0.4);
    expect(() => backgroundMaskingNoise(inverted, 1, side, 1, uniform)).toThrow(/level must be a number in \[0, 1\)/);
  });
});
