// Two pieces of a modern small-data training recipe that plug into fit(): random small shifts and
// rotations of digit images (an `inputTransform`, computed in plain JS per batch: a few hundred
// thousand multiply-adds, negligible beside a ViT step), and Adam under a linear warm-up then cosine
// decay of the learning rate (an `optimizer` factory).
import * as tf from "@tensorflow/tfjs";
import { rng, subSeed } from "../core/random";
import { warpImage } from "../data/augment";
import { checkFinite, checkNonNegativeInt, checkPositiveInt } from "../core/validate";

export interface AugmentArgs {
  /** Side of the square images (flat rows of side·side pixels). */
  imageSize: number;
  /** Largest shift in pixels, each axis, drawn uniformly from [−shift, shift] per image. */
  shift: number;
  /** Largest rotation in degrees, drawn uniformly from [−rotate, rotate] per image. */
  rotate: number;
  /** Seeds the draws (step t of a run uses a stream derived from seed and t). */
  seed?: number;
}

function checkAugment(where: string, a: AugmentArgs): void {
  checkPositiveInt(where, "imageSize", a.imageSize);
  for (const [name, v] of [
    ["shift", a.shift],
    ["rotate", a.rotate],
  ] as const) {
    checkFinite(where, name, v);
    if (v < 0) throw new Error(`${where}: ${name} must be >= 0, got ${v}`);
  }
  if (a.seed !== undefined) checkFinite(where, "seed", a.seed);
}

/** Each image of `pixels` ([n, S·S] row-major) shifted by (dx, dy) and rotated by angle θ about its
 * centre, bilinear, zero outside; `params[i] = [dx, dy, θ in radians]`. Pure function (tested). */
export function shiftRotate(pixels: Float32Array, side: number, params: [number, number, number][]): Float32Array {
  const n = params.length;
  if (pixels.length !== n * side * side)
    throw new Error(`shiftRotate: pixels has ${pixels.length} values, expected ${n} images of ${side}×${side}`);
  const out = new Float32Array(pixels.length);
  const size = side * side;
  params.forEach(([tx, ty, theta], i) =>
    warpImage(pixels.subarray(i * size, (i + 1) * size), side, { theta, tx, ty, fill: 0 }, out, i * size),
  );
  return out;
}

/** fit()'s `inputTransform` for random shifts and rotations (see AugmentArgs). With shift and rotate
 * both 0 it returns its input unchanged. */
export function randomShiftRotate(args: AugmentArgs): (x: tf.Tensor2D, step: number) => tf.Tensor2D {
  checkAugment("randomShiftRotate", args);
  const { imageSize: side, shift, rotate } = args;
  const seed = args.seed ?? 0;
  return (x, step) => {
    if (shift === 0 && rotate === 0) return x;
    const [n, dim] = x.shape;
    if (dim !== side * side)
      throw new Error(
        `randomShiftRotate: batches must be [n, ${side * side}] (${side}×${side} images), got [${n}, ${dim}]`,
      );
    const u = rng(subSeed(seed, `augment${step}`));
    const params = Array.from({ length: n }, (): [number, number, number] => [
      (2 * u() - 1) * shift,
      (2 * u() - 1) * shift,
      ((2 * u() - 1) * rotate * Math.PI) / 180,
    ]);
    return tf.tensor2d(shiftRotate(x.dataSync() as Float32Array, side, params), [n, dim]);
  };
}

export interface WarmupCosineArgs {
  /** Steps of the whole run (epochs · steps per epoch). */
  totalSteps: number;
  /** Steps of the linear warm-up from ~0 to the peak rate. */
  warmupSteps: number;
  /** Rate at the end of the cosine, as a fraction of the peak (default 0). */
  floor?: number;
}

/** The rate at step t (0-based) of a linear warm-up to `peak` then a cosine decay to floor·peak. */
export function warmupCosineRate(peak: number, t: number, args: WarmupCosineArgs): number {
  const { totalSteps, warmupSteps } = args;
  const floor = args.floor ?? 0;
  if (t < warmupSteps) return (peak * (t + 1)) / warmupSteps;
  const decay = Math.max(1, totalSteps - warmupSteps);
  const p = Math.min(1, (t - warmupSteps) / decay);
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Adam whose rate follows warmupCosineRate, one step per applyGradients call. */
class WarmupCosineAdam extends tf.AdamOptimizer {
  private step = 0;
  constructor(
    private readonly peak: number,
    private readonly schedule: WarmupCosineArgs,
  ) {
    super(peak, 0.9, 0.999);
  }
  override applyGradients(grads: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    this.learningRate = warmupCosineRate(this.peak, this.step++, this.schedule);
    super.applyGradients(grads);
  }
}

/** fit()'s `optimizer` factory: Adam at the rate fit gives it, warmed up and cosine-decayed. */
export function warmupCosineAdam(args: WarmupCosineArgs): (learningRate: number) => tf.Optimizer {
  checkPositiveInt("warmupCosineAdam", "totalSteps", args.totalSteps);
  checkNonNegativeInt("warmupCosineAdam", "warmupSteps", args.warmupSteps);
  if (args.floor !== undefined) checkFinite("warmupCosineAdam", "floor", args.floor);
  return (learningRate) => new WarmupCosineAdam(learningRate, args);
}
