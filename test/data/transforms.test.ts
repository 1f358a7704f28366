import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { loadEmbeddedMnist } from "../../src/data/mnist";
import { subset } from "../../src/data/subset";
import {
  compose,
  gaussianNoise,
  invert,
  rotate,
  SHIFT_NAMES,
  shiftTransform,
  transformDataset,
} from "../../src/data/transforms";
import { rng } from "../../src/core/random";
import { maxAbsDiff } from "../../src/evaluate/compare";

const few = () =>
  subset(
    loadEmbeddedMnist(),
    Array.from({ length: 50 }, (_, i) => i),
  );

describe("image transforms", () => {
  it("rotate(0) is the identity and rotate keeps mass near the centre", () => {
    const ds = few();
    const img = ds.x.subarray(0, 784);
    expect(Array.from(rotate(0).apply(img, 28, rng(1)))).toEqual(Array.from(img));
    const r = rotate(20).apply(img, 28, rng(1));
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    // Digits sit inside the central 20×20 box, so rotating by 20° keeps almost all ink.
    expect(Math.abs(sum(r) - sum(img)) / sum(img)).toBeLessThan(0.05);
    expect(maxAbsDiff(r, img)).toBeGreaterThan(0.3);
  });

  it("rotates counter-clockwise about the centre, bilinear", () => {
    const img = new Float32Array(784);
    img[2 * 28 + 13] = 1; // top, near the middle column
    const r = rotate(90).apply(img, 28, rng(0));
    // (x, y) = (13, 2) is offset (-0.5, -11.5) from the centre (13.5, 13.5); a quarter turn
    // counter-clockwise on screen moves it to offset (-11.5, 0.5): pixel (2, 14).
    expect(r[14 * 28 + 2]).toBeCloseTo(1, 6);
    expect(r.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    const back = rotate(-90).apply(r, 28, rng(0));
    expect(maxAbsDiff(back, img)).toBeLessThan(1e-6);
    // A half-pixel shift of a 1-pixel impulse spreads it over neighbours with weights summing to 1.
    const r45 = rotate(45).apply(img, 28, rng(0));
    expect(r45.reduce((s, v) => s + v, 0)).toBeLessThanOrEqual(1 + 1e-6);
  });

  it("invert twice is the identity; every transform stays in [0, 1]", () => {
    const img = few().x.subarray(784, 2 * 784);
    const twice = compose(invert(), invert()).apply(img, 28, rng(0));
    expect(maxAbsDiff(twice, img)).toBeLessThan(1e-7);
    for (const t of [rotate(33), gaussianNoise(0.5), invert(), ...SHIFT_NAMES.map(shiftTransform)]) {
      const out = t.apply(img, 28, rng(3));
      expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...out)).toBeLessThanOrEqual(1);
    }
  });

  it("noise has the asked sigma (before clamping) and zero noise is the identity", () => {
    const grey = new Float32Array(784).fill(0.5);
    const out = gaussianNoise(0.1).apply(grey, 28, rng(0));
    const mean = out.reduce((s, v) => s + v, 0) / 784;
    const sd = Math.sqrt(out.reduce((s, v) => s + (v - mean) ** 2, 0) / 784);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(sd).toBeGreaterThan(0.08);
    expect(sd).toBeLessThan(0.12);
    expect(Array.from(gaussianNoise(0).apply(grey, 28, rng(0)))).toEqual(Array.from(grey));
  });

  it("validates its parameters", () => {
    expect(() => gaussianNoise(-1)).toThrow("gaussianNoise: sigma must be a finite number >= 0, got -1");
    expect(() => rotate(NaN)).toThrow(/rotate: degrees must be a finite number/);
    expect(() => shiftTransform("wild" as never)).toThrow(
      /shift must be one of none, mild, heavy, inverted, got "wild"/,
    );
    expect(() => transformDataset({ ...few(), dim: 10 }, invert(), 0)).toThrow(/dim 10 is not a square image/);
  });
});

describe("named shifts on datasets", () => {
  it("are deterministic per seed, differ across seeds, keep labels and create no tensors", () => {
    const ds = few();
    const before = tf.memory().numTensors;
    for (const shift of ["mild", "heavy", "inverted"] as const) {
      const a = transformDataset(ds, shiftTransform(shift), 7);
      const b = transformDataset(ds, shiftTransform(shift), 7);
      const c = transformDataset(ds, shiftTransform(shift), 8);
      expect(a.x).toEqual(b.x);
      expect(maxAbsDiff(a.x, c.x)).toBeGreaterThan(0.1);
      expect(Array.from(a.y)).toEqual(Array.from(ds.y));
      expect(a.name).toContain("rotate(");
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(shiftTransform("inverted").name).toBe("rotate(35°) ∘ invert ∘ noise(σ=0.15)");
    // inverted: the background (0) becomes bright, so the mean pixel rises well above MNIST's.
    const inv = transformDataset(ds, shiftTransform("inverted"), 1);
    expect(inv.x.reduce((s, v) => s + v, 0) / inv.x.length).toBeGreaterThan(0.7);
    // none: pixels unchanged.
    expect(transformDataset(ds, shiftTransform("none"), 1).x).toEqual(ds.x);
  });
});
