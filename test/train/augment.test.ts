// The pretraining recipe's pieces: shiftRotate moves and turns images as stated (identity at zero,
// an integer shift moves every pixel, a quarter turn maps rows to columns), randomShiftRotate draws the
// same augmentation for the same seed and step and leaks nothing, and the warm-up + cosine rate rises
// linearly, peaks, and decays to its floor.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { randomShiftRotate, shiftRotate, warmupCosineAdam, warmupCosineRate } from "../../src/train/augment";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const SIDE = 5;
const image = Float32Array.from({ length: SIDE * SIDE }, (_, i) => i + 1); // pixel (y, x) = 5y + x + 1

describe("shiftRotate", () => {
  it("is the identity at zero shift and angle", () => {
    expect(Array.from(shiftRotate(image, SIDE, [[0, 0, 0]]))).toEqual(Array.from(image));
  });

  it("an integer shift (dx = 1, dy = 2) moves every pixel, zero where it came from outside", () => {
    const out = shiftRotate(image, SIDE, [[1, 2, 0]]);
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const sy = y - 2;
        const sx = x - 1;
        const want = sy >= 0 && sx >= 0 ? image[sy * SIDE + sx] : 0;
        expect(out[y * SIDE + x]).toBeCloseTo(want, 5);
      }
  });

  it("a quarter turn maps the image onto itself rotated about its centre", () => {
    const out = shiftRotate(image, SIDE, [[0, 0, Math.PI / 2]]);
    // output (x, y) reads source R(−90°)·(x − c, y − c) + c = (y, 2c − x) with c = 2
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) expect(out[y * SIDE + x]).toBeCloseTo(image[(4 - x) * SIDE + y], 4);
  });

  it("names a size mismatch", () => {
    expect(() =>
      shiftRotate(image, SIDE, [
        [0, 0, 0],
        [0, 0, 0],
      ]),
    ).toThrow(/25 values, expected 2 images of 5×5/);
  });
});

describe("randomShiftRotate", () => {
  it("draws the same augmentation for the same seed and step, another for another step, and leaks nothing", () => {
    const f = randomShiftRotate({ imageSize: SIDE, shift: 1, rotate: 10, seed: 3 });
    const before = tf.memory().numTensors;
    const run = (step: number) => tf.tidy(() => Array.from(f(tf.tensor2d(image, [1, SIDE * SIDE]), step).dataSync()));
    expect(run(0)).toEqual(run(0));
    expect(run(0)).not.toEqual(run(1));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a negative shift", () => {
    expect(() => randomShiftRotate({ imageSize: SIDE, shift: -1, rotate: 0 })).toThrow(/shift must be >= 0, got -1/);
  });
});

describe("warm-up + cosine", () => {
  const s = { totalSteps: 100, warmupSteps: 10 };
  it("rises linearly to the peak, then decays along a cosine to the floor", () => {
    expect(warmupCosineRate(1, 0, s)).toBeCloseTo(0.1);
    expect(warmupCosineRate(1, 9, s)).toBeCloseTo(1);
    expect(warmupCosineRate(1, 10, s)).toBeCloseTo(1);
    expect(warmupCosineRate(1, 55, s)).toBeCloseTo(0.5);
    expect(warmupCosineRate(1, 100, s)).toBeCloseTo(0);
    expect(warmupCosineRate(2, 100, { ...s, floor: 0.1 })).toBeCloseTo(0.2);
  });

  it("warmupCosineAdam steps Adam at the scheduled rate (a first step of size ≈ the first rate)", () => {
    const v = tf.variable(tf.scalar(0));
    const opt = warmupCosineAdam(s)(1e-2);
    try {
      const g = tf.scalar(1);
      opt.applyGradients({ [v.name]: g });
      g.dispose();
      // Adam's first step moves by ≈ the rate (bias-corrected m/√v = 1): 1e-2 · 1/10 at step 0.
      expect(v.dataSync()[0]).toBeCloseTo(-1e-3, 5);
    } finally {
      opt.dispose();
      v.dispose();
    }
  });
});
