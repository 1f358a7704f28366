// Contrastive views and MAE patch masks: a view keeps the label, the pixel range and the image size,
// and is the identity when every augmentation is off; a mask hides exactly the stated fraction of
// whole patches; bad settings are named.
import { describe, expect, it } from "vitest";
import { rng } from "../../src/core/random";
import {
  augmentRows,
  borderValue,
  DEFAULT_VIEW,
  fillMasked,
  maskedPatchCount,
  patchMask,
  patchMasks,
  randomView,
} from "../../src/data/augment";
import { transformDataset } from "../../src/data/transforms";
import { blobs } from "../helpers/fixtures";

describe("randomView", () => {
  it("keeps labels, size and the [0, 1] range, and changes the pixels", () => {
    const ds = blobs(30, 64, 1); // 8×8 images in [0.05, 0.95]
    const views = transformDataset(ds, randomView(DEFAULT_VIEW), "views");
    expect(Array.from(views.y)).toEqual(Array.from(ds.y));
    expect(views.x.length).toBe(ds.x.length);
    expect(Math.min(...views.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...views.x)).toBeLessThanOrEqual(1);
    let moved = 0;
    for (let i = 0; i < ds.x.length; i++) moved += Math.abs(views.x[i] - ds.x[i]) > 1e-3 ? 1 : 0;
    expect(moved / ds.x.length).toBeGreaterThan(0.5);
  });

  it("is the identity with every augmentation off, and seeded", () => {
    const ds = blobs(5, 64, 2);
    const off = randomView({ maxDegrees: 0, maxShift: 0, minScale: 1, maxScale: 1, noise: 0 });
    const same = augmentRows(ds.x, ds.n, 8, off, rng(0));
    for (let i = 0; i < ds.x.length; i++) expect(same[i]).toBeCloseTo(ds.x[i], 5);
    const a = augmentRows(ds.x, ds.n, 8, randomView(), rng("s"));
    const b = augmentRows(ds.x, ds.n, 8, randomView(), rng("s"));
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("rejects bad settings by name", () => {
    expect(() => randomView({ ...DEFAULT_VIEW, noise: -1 })).toThrow(
      /augment\.noise must be a finite number >= 0, got -1/,
    );
    expect(() => randomView({ ...DEFAULT_VIEW, minScale: 2, maxScale: 1 })).toThrow(
      /augment\.minScale must be at most maxScale/,
    );
    expect(() => augmentRows(new Float32Array(10), 1, 8, randomView(), rng(0))).toThrow(
      /augmentRows: x must be at least/,
    );
  });
});

describe("patchMask", () => {
  it.each([
    [28, 4, 0.5],
    [28, 7, 0.75],
    [28, 4, 0.1],
    [8, 2, 0.3],
  ])(
    "side %i, %i×%i patches, ratio %f: hides exactly round(ratio · patches) whole patches",
    (side, patchSize, ratio) => {
      const { patches, hidden } = maskedPatchCount({ side, patchSize, ratio });
      expect(patches).toBe((side / patchSize) ** 2);
      expect(hidden).toBe(Math.round(ratio * patches));
      const uniform = rng(`${side}-${ratio}`);
      for (let t = 0; t < 5; t++) {
        const m = patchMask({ side, patchSize, ratio }, uniform);
        const fraction = m.reduce((a, v) => a + v, 0) / m.length;
        expect(fraction).toBeCloseTo(hidden / patches, 10);
        // Every patch is all hidden or all shown.
        for (let pr = 0; pr < side / patchSize; pr++)
          for (let pc = 0; pc < side / patchSize; pc++) {
            const vals = new Set<number>();
            for (let r = 0; r < patchSize; r++)
              for (let c = 0; c < patchSize; c++) vals.add(m[(pr * patchSize + r) * side + pc * patchSize + c]);
            expect(vals.size).toBe(1);
          }
      }
    },
  );

  it("draws different patches per image", () => {
    const ms = patchMasks(2, { side: 28, patchSize: 4, ratio: 0.5 }, rng(3));
    expect(Array.from(ms.subarray(0, 784))).not.toEqual(Array.from(ms.subarray(784)));
  });

  it("rejects patches that do not tile the image and ratios outside (0, 1)", () => {
    expect(() => maskedPatchCount({ side: 28, patchSize: 5, ratio: 0.5 })).toThrow(
      /patchMask: patchSize must be a divisor of the image side 28 .*got 5/,
    );
    expect(() => maskedPatchCount({ side: 28, patchSize: 4, ratio: 1 })).toThrow(/ratio must be a number in \(0, 1\)/);
    expect(() => maskedPatchCount({ side: 28, patchSize: 4, ratio: 0 })).toThrow(/ratio must be a number in \(0, 1\)/);
  });
});

describe("background fill (inverted digits: background 1, ink 0)", () => {
  // A 28×28 "inverted digit": white background, a dark 8×8 square of ink in the middle.
  const side = 28;
  const inverted = new Float32Array(side * side).fill(1);
  for (let r = 10; r < 18; r++) for (let q = 10; q < 18; q++) inverted[r * side + q] = 0;
  const normal = inverted.map((v) => 1 - v);
  const ink = (img: Float32Array, bg: number) => img.filter((v) => Math.abs(v - bg) > 0.5).length;

  it("borderValue reads the background: 1 on an inverted image, 0 on a normal one", () => {
    expect(borderValue(inverted, side)).toBe(1);
    expect(borderValue(normal, side)).toBe(0);
  });

  it("a view that moves the digit brings in background, not ink, from outside the frame", () => {
    const view = randomView({ maxDegrees: 30, maxShift: 6, minScale: 0.7, maxScale: 0.7, noise: 0 });
    const u = rng("fill");
    for (let t = 0; t < 5; t++) {
      const v = view.apply(inverted, side, u);
      // Corners are outside the source frame after a 0.7× zoom-out: they must read 1 (background), not 0.
      for (const p of [0, side - 1, (side - 1) * side, side * side - 1]) expect(v[p]).toBeCloseTo(1, 5);
      // Shrinking 0.7× keeps the ink area at most the original 64 pixels (plus bilinear edges), never the frame.
      expect(ink(v, 1)).toBeLessThan(64);
    }
  });

  it("fillMasked sets hidden patches to each image's background: no ink blobs on an inverted digit", () => {
    const mask = patchMasks(2, { side, patchSize: 4, ratio: 0.5 }, rng("m"));
    const x = new Float32Array(2 * side * side);
    x.set(inverted, 0);
    x.set(normal, side * side);
    const out = fillMasked(x, mask, 2, side);
    for (let p = 0; p < side * side; p++) {
      if (mask[p] > 0)
        expect(out[p]).toBe(1); // inverted image: hidden → background 1
      else expect(out[p]).toBe(x[p]);
      if (mask[side * side + p] > 0) expect(out[side * side + p]).toBe(0); // normal image: hidden → 0
    }
    expect(ink(out.subarray(0, side * side), 1)).toBeLessThanOrEqual(64); // hiding adds no ink
  });
});
