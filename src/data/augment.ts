// What self-supervised pretraining does to an image before the network sees it: random views for
// contrastive learning (SimCLR's "two augmentations of one image": a random affine warp plus pixel
// noise) and patch masks for masked autoencoding (MAE's "hide most patches, reconstruct them").
// Pure JS on Float32Arrays with a seeded stream: no tensors, so nothing can leak.
import { normalSampler } from "../core/random";
import { argError, checkFinite, checkPositiveInt, show } from "../core/validate";
import type { ImageTransform } from "./transforms";

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** The background of a square image: the median of its outer ring of pixels (0 for a dark digit on
 * black, 1 for an inverted one). A pixel that is hidden, or that a warp brings in from outside the
 * frame, is set to this value, so it reads as background, never as ink: 0 is not neutral when the
 * background is 1 (an inverted digit). */
export function borderValue(img: ArrayLike<number>, side: number): number {
  if (side === 1) return img[0];
  const ring: number[] = [];
  for (let q = 0; q < side; q++) ring.push(img[q], img[(side - 1) * side + q]);
  for (let r = 1; r < side - 1; r++) ring.push(img[r * side], img[r * side + side - 1]);
  ring.sort((a, b) => a - b);
  const m = ring.length >> 1;
  return ring.length % 2 ? ring[m] : (ring[m - 1] + ring[m]) / 2;
}

/** borderValue of every row of x ([n, side·side]): [n]. */
export function borderValues(x: Float32Array, n: number, side: number): Float32Array {
  const dim = side * side;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = borderValue(x.subarray(i * dim, (i + 1) * dim), side);
  return out;
}

/** x with its hidden pixels (mask = 1) set to each image's background (borderValue): what the masked
 * autoencoder sees. x and mask are [n, side·side]; returns a new array. */
export function fillMasked(x: Float32Array, mask: Float32Array, n: number, side: number): Float32Array {
  const dim = side * side;
  if (x.length < n * dim || mask.length < n * dim)
    throw argError("fillMasked", "mask", `n·side² = ${n * dim} values like x`, `${mask.length} (x: ${x.length})`);
  const fill = borderValues(x, n, side);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let p = i * dim; p < (i + 1) * dim; p++) out[p] = mask[p] > 0 ? fill[i] : x[p];
  return out;
}

/** One affine warp of a square image (side × side, row-major), bilinear: output pixel p samples the input at
 * c + R(−θ)·(p − c − t) / scale, so the content turns by θ (radians), grows by `scale` and moves by t = (tx, ty)
 * pixels; samples from outside the frame read `fill`. Written into `out` at `offset` when given. */
export function warpImage(
  img: ArrayLike<number>,
  side: number,
  w: { theta: number; scale?: number; tx: number; ty: number; fill: number },
  out: Float32Array = new Float32Array(side * side),
  offset = 0,
): Float32Array {
  const scale = w.scale ?? 1;
  const cos = Math.cos(w.theta) / scale;
  const sin = Math.sin(w.theta) / scale;
  const c = (side - 1) / 2;
  const at = (x: number, y: number) => (x >= 0 && x < side && y >= 0 && y < side ? img[y * side + x] : w.fill);
  for (let r = 0; r < side; r++) {
    for (let q = 0; q < side; q++) {
      const dx = q - c - w.tx;
      const dy = r - c - w.ty;
      const xs = c + dx * cos + dy * sin;
      const ys = c - dx * sin + dy * cos;
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const fx = xs - x0;
      const fy = ys - y0;
      out[offset + r * side + q] =
        (1 - fx) * (1 - fy) * at(x0, y0) +
        fx * (1 - fy) * at(x0 + 1, y0) +
        (1 - fx) * fy * at(x0, y0 + 1) +
        fx * fy * at(x0 + 1, y0 + 1);
    }
  }
  return out;
}

/** The random views of contrastive pretraining (SimCLR's augmentations, for 28×28 digits: no crop
 * and no colour jitter, which have nothing to act on here, but the geometric part of a crop). */
export interface ViewArgs {
  /** Largest rotation, degrees, either way (uniform in ±maxDegrees). */
  maxDegrees: number;
  /** Largest translation, pixels, on each axis (uniform in ±maxShift). */
  maxShift: number;
  /** Zoom range [minScale, maxScale] (uniform): >1 enlarges the digit, <1 shrinks it. */
  minScale: number;
  maxScale: number;
  /** Standard deviation of Gaussian pixel noise added after the warp (then clamped to [0, 1]). */
  noise: number;
}

/** Default views: ±15°, ±2 px, zoom 0.9-1.1, noise σ 0.1. Mild enough to keep every digit a digit
 * (a 6 is not rotated into a 9), strong enough that two views differ in most pixels. */
export const DEFAULT_VIEW: Readonly<ViewArgs> = {
  maxDegrees: 15,
  maxShift: 2,
  minScale: 0.9,
  maxScale: 1.1,
  noise: 0.1,
};

/** Checks the augmentation settings, naming the field and the value. */
export function checkViewArgs(where: string, a: ViewArgs): void {
  if (typeof a !== "object" || a === null)
    throw argError(where, "augment", "{ maxDegrees, maxShift, minScale, maxScale, noise }", show(a));
  for (const f of ["maxDegrees", "maxShift", "noise"] as const) {
    checkFinite(where, `augment.${f}`, a[f]);
    if (a[f] < 0) throw argError(where, `augment.${f}`, "a finite number >= 0", show(a[f]));
  }
  for (const f of ["minScale", "maxScale"] as const) {
    checkFinite(where, `augment.${f}`, a[f]);
    if (!(a[f] > 0)) throw argError(where, `augment.${f}`, "a finite number > 0", show(a[f]));
  }
  if (a.minScale > a.maxScale)
    throw argError(where, "augment.minScale", `at most maxScale (${a.maxScale})`, show(a.minScale));
}

/**
 * A random view of a square image: rotate by θ, zoom by s and translate by (tx, ty), each drawn per
 * image from `uniform`, sampled bilinearly about the centre (pixels from outside the frame read as
 * the image's background, borderValue: 0 for dark digits, 1 for inverted ones), then
 * N(0, noise²) per pixel, clamped to [0, 1]. Output pixel p samples the input at
 * c + R(−θ)·(p − c − t) / s, so the digit itself turns by θ, grows by s and moves by t.
 */
export function randomView(args: ViewArgs = DEFAULT_VIEW): ImageTransform {
  checkViewArgs("randomView", args);
  const a = { ...args };
  return {
    name: `view(±${a.maxDegrees}°, ±${a.maxShift}px, ×${a.minScale}-${a.maxScale}, σ=${a.noise})`,
    apply(img, side, uniform) {
      const theta = ((2 * uniform() - 1) * a.maxDegrees * Math.PI) / 180;
      const s = a.minScale + uniform() * (a.maxScale - a.minScale);
      const tx = (2 * uniform() - 1) * a.maxShift;
      const ty = (2 * uniform() - 1) * a.maxShift;
      const out = warpImage(img, side, { theta, scale: s, tx, ty, fill: borderValue(img, side) });
      if (a.noise > 0) {
        const normal = normalSampler(uniform);
        for (let p = 0; p < out.length; p++) out[p] = clamp01(out[p] + a.noise * normal());
      } else {
        for (let p = 0; p < out.length; p++) out[p] = clamp01(out[p]);
      }
      return out;
    },
  };
}

/** Every row of x ([n, side·side] row-major) through `transform` with one stream: [n, side·side]. */
export function augmentRows(
  x: Float32Array,
  n: number,
  side: number,
  transform: ImageTransform,
  uniform: () => number,
): Float32Array {
  checkPositiveInt("augmentRows", "side", side);
  const dim = side * side;
  if (!Number.isInteger(n) || n < 0 || x.length < n * dim)
    throw argError("augmentRows", "x", `at least n·side² = ${n}·${dim} values`, `${x.length} values`);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) out.set(transform.apply(x.subarray(i * dim, (i + 1) * dim), side, uniform), i * dim);
  return out;
}

/** Where MAE-style masking hides pixels: non-overlapping patchSize×patchSize patches of a side×side image. */
export interface PatchMaskArgs {
  side: number;
  patchSize: number;
  /** Fraction of the patches hidden, in (0, 1): exactly round(ratio · patches) of them, at least 1. */
  ratio: number;
}

/** Patches of an image and how many a mask hides; checks that the patches tile the image. */
export function maskedPatchCount(args: PatchMaskArgs): { patches: number; hidden: number } {
  const where = "patchMask";
  checkPositiveInt(where, "side", args.side);
  checkPositiveInt(where, "patchSize", args.patchSize);
  if (args.side % args.patchSize !== 0)
    throw argError(
      where,
      "patchSize",
      `a divisor of the image side ${args.side} (patches tile the image)`,
      show(args.patchSize),
      "e.g. 4 or 7 for 28×28 digits",
    );
  if (typeof args.ratio !== "number" || !(args.ratio > 0 && args.ratio < 1))
    throw argError(where, "ratio", "a number in (0, 1) (the fraction of patches hidden)", show(args.ratio));
  const perSide = args.side / args.patchSize;
  const patches = perSide * perSide;
  return { patches, hidden: Math.min(patches - 1, Math.max(1, Math.round(args.ratio * patches))) };
}

/** One random patch mask, [side·side] with 1 = hidden and 0 = shown: a uniformly random subset of
 * exactly maskedPatchCount(args).hidden patches (partial Fisher-Yates over the patch indices). */
export function patchMask(args: PatchMaskArgs, uniform: () => number): Float32Array {
  const { patches, hidden } = maskedPatchCount(args);
  const perSide = args.side / args.patchSize;
  const order = Array.from({ length: patches }, (_, i) => i);
  for (let i = 0; i < hidden; i++) {
    const j = i + Math.floor(uniform() * (patches - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mask = new Float32Array(args.side * args.side);
  for (let h = 0; h < hidden; h++) {
    const pr = Math.floor(order[h] / perSide);
    const pc = order[h] % perSide;
    for (let r = pr * args.patchSize; r < (pr + 1) * args.patchSize; r++)
      mask.fill(1, r * args.side + pc * args.patchSize, r * args.side + (pc + 1) * args.patchSize);
  }
  return mask;
}

/** n masks, one per row, [n, side·side]. */
export function patchMasks(n: number, args: PatchMaskArgs, uniform: () => number): Float32Array {
  const dim = args.side * args.side;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) out.set(patchMask(args, uniform), i * dim);
  return out;
}
