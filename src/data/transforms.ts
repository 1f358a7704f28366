// Image transforms for the target domain ("the same digits, scanned by a new machine"):
// rotate, Gaussian noise and inversion, composable, applied per image with a seeded stream.
// Pure JS on Float32Arrays: no tensors are created, so nothing can leak.
import { normalSampler, rng } from "../core/random";
import type { Dataset } from "./types";
import { argError, show } from "../core/validate";
import { checkDataset } from "./check";

/** A map from one flattened square image [side*side] in [0, 1] to a new one in [0, 1]. */
export interface ImageTransform {
  /** Readable description, e.g. "rotate(20°) ∘ noise(σ=0.1)". */
  name: string;
  /** Returns a new image; `uniform` is the seeded [0, 1) stream for random transforms. */
  apply(img: Float32Array, side: number, uniform: () => number): Float32Array;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Bilinear sampling table of one rotation: 4 source pixels and weights per output pixel. */
interface RotationTable {
  src: Int32Array; // [side*side*4], -1 = outside the image (reads as 0)
  w: Float64Array; // [side*side*4]
}

function rotationTable(degrees: number, side: number): RotationTable {
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const c = (side - 1) / 2; // rotate about the image centre (13.5, 13.5 for 28×28)
  const src = new Int32Array(side * side * 4).fill(-1);
  const w = new Float64Array(side * side * 4);
  for (let r = 0; r < side; r++) {
    for (let q = 0; q < side; q++) {
      // Output pixel (q, r) samples the input at the inverse rotation of its offset from the
      // centre; with rows pointing down this turns the picture counter-clockwise as displayed.
      const dx = q - c;
      const dy = r - c;
      const xs = c + dx * cos - dy * sin;
      const ys = c + dx * sin + dy * cos;
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const fx = xs - x0;
      const fy = ys - y0;
      const o = (r * side + q) * 4;
      const corners: [number, number, number][] = [
        [x0, y0, (1 - fx) * (1 - fy)],
        [x0 + 1, y0, fx * (1 - fy)],
        [x0, y0 + 1, (1 - fx) * fy],
        [x0 + 1, y0 + 1, fx * fy],
      ];
      corners.forEach(([x, y, weight], k) => {
        if (x >= 0 && x < side && y >= 0 && y < side && weight > 0) {
          src[o + k] = y * side + x;
          w[o + k] = weight;
        }
      });
    }
  }
  return { src, w };
}

/** Rotates by `degrees` (counter-clockwise as displayed) about the centre, bilinear; pixels
 * that come from outside the image are 0 (background). */
export function rotate(degrees: number): ImageTransform {
  if (!Number.isFinite(degrees)) throw new Error(`rotate: degrees must be a finite number, got ${degrees}`);
  const tables = new Map<number, RotationTable>();
  return {
    name: `rotate(${degrees}°)`,
    apply(img, side) {
      if (degrees === 0) return Float32Array.from(img);
      let t = tables.get(side);
      if (!t) tables.set(side, (t = rotationTable(degrees, side)));
      const out = new Float32Array(img.length);
      for (let p = 0; p < out.length; p++) {
        let v = 0;
        for (let k = p * 4; k < p * 4 + 4; k++) if (t.src[k] >= 0) v += t.w[k] * img[t.src[k]];
        out[p] = clamp01(v);
      }
      return out;
    },
  };
}

/** Adds N(0, sigma²) per pixel and clamps to [0, 1]. */
export function gaussianNoise(sigma: number): ImageTransform {
  if (!(sigma >= 0) || !Number.isFinite(sigma))
    throw new Error(`gaussianNoise: sigma must be a finite number >= 0, got ${sigma}`);
  return {
    name: `noise(σ=${sigma})`,
    apply(img, _side, uniform) {
      const out = new Float32Array(img.length);
      if (sigma === 0) {
        out.set(img);
        return out;
      }
      const normal = normalSampler(uniform);
      for (let p = 0; p < out.length; p++) out[p] = clamp01(img[p] + sigma * normal());
      return out;
    },
  };
}

/** 1 − x: dark strokes on a light background. */
export function invert(): ImageTransform {
  return {
    name: "invert",
    apply(img) {
      const out = new Float32Array(img.length);
      for (let p = 0; p < out.length; p++) out[p] = 1 - img[p];
      return out;
    },
  };
}

/** Applies transforms left to right: compose(a, b)(x) = b(a(x)). */
export function compose(...transforms: ImageTransform[]): ImageTransform {
  if (transforms.length === 0) return { name: "identity", apply: (img) => Float32Array.from(img) };
  return {
    name: transforms.map((t) => t.name).join(" ∘ "),
    apply(img, side, uniform) {
      let cur = img;
      for (const t of transforms) cur = t.apply(cur, side, uniform);
      return cur;
    },
  };
}

/** Side of the square images of a dataset (28 for MNIST); names the problem otherwise. */
export function imageSide(ds: Dataset): number {
  const side = Math.round(Math.sqrt(ds.dim));
  if (side * side !== ds.dim)
    throw new Error(`${ds.name}: dim ${ds.dim} is not a square image (transforms need side×side pixels)`);
  return side;
}

/** A transformed copy of every image, labels kept. One seeded stream runs over the rows in
 * order, so the same (dataset, transform, seed) gives the same pixels. */
export function transformDataset(
  ds: Dataset,
  transform: ImageTransform,
  seed: number | string,
  name?: string,
): Dataset {
  const side = imageSide(ds);
  checkDataset("transformDataset", "ds", ds, { nonEmpty: false });
  if (typeof transform?.apply !== "function")
    throw argError(
      "transformDataset",
      "transform",
      'an ImageTransform {name, apply} (e.g. rotate(20), shiftTransform("mild"))',
      show(transform),
    );
  const uniform = rng(seed);
  const x = new Float32Array(ds.n * ds.dim);
  for (let i = 0; i < ds.n; i++) {
    x.set(transform.apply(ds.x.subarray(i * ds.dim, (i + 1) * ds.dim), side, uniform), i * ds.dim);
  }
  return { ...ds, x, y: Int32Array.from(ds.y), name: name ?? `${ds.name}|${transform.name}` };
}

/** The named domain shifts of the curriculum (target task B). */
export type ShiftName = "none" | "mild" | "heavy" | "inverted";
export const SHIFT_NAMES: readonly ShiftName[] = ["none", "mild", "heavy", "inverted"];
export const DEFAULT_SHIFT: ShiftName = "mild";

/** The transform of a named shift: mild = rotate 20° + noise 0.1; heavy = rotate 35° + noise
 * 0.3; inverted = rotate 35° + invert + noise 0.15; none = identity. */
export function shiftTransform(shift: ShiftName): ImageTransform {
  switch (shift) {
    case "none":
      return compose();
    case "mild":
      return compose(rotate(20), gaussianNoise(0.1));
    case "heavy":
      return compose(rotate(35), gaussianNoise(0.3));
    case "inverted":
      return compose(rotate(35), invert(), gaussianNoise(0.15));
    default:
      throw new Error(`shiftTransform: shift must be one of ${SHIFT_NAMES.join(", ")}, got ${JSON.stringify(shift)}`);
  }
}
