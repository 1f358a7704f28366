// Self-supervised pretraining of the source MLP's encoder (784-256-128-128-64, ReLU) on unlabeled
// images, end to end, with one of three objectives: a denoising autoencoder (masked pixels, Vincent et
// al. 2008, trained jointly instead of layer by layer), masked-patch autoencoding (MAE, He et al.
// 2022, here on the MLP: hidden patches are zeroed and only they are scored) and contrastive learning
// (SimCLR, Chen et al. 2020: two random views per image, NT-Xent with a temperature).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import {
  augmentRows,
  borderValues,
  checkViewArgs,
  DEFAULT_VIEW,
  fillMasked,
  maskedPatchCount,
  patchMasks,
} from "../data/augment";
import type { ViewArgs, PatchMaskArgs } from "../data/augment";
import { randomView } from "../data/augment";
import { imageSide } from "../data/transforms";
import { checkDataset } from "../data/check";
import { gatherRows } from "../data/batches";
import { rng, shuffledIndices, subSeed } from "../core/random";
import type { ProgressReporter } from "../core/progress";
import { interruptCheck } from "../core/interrupt";
import { argError, checkFinite, checkOneOf, checkPositiveFinite, checkPositiveInt, show } from "../core/validate";
import type { DenseWeights } from "../models/autoencoder";
import { SOURCE_HIDDEN_UNITS } from "../models/mlp";
import { encodersFromModel } from "./greedy";

/** The pretext task: what the network must predict from the unlabeled image. */
export type SslObjective = "denoising" | "masked" | "contrastive";
export const SSL_OBJECTIVES: readonly SslObjective[] = ["denoising", "masked", "contrastive"];

/** Defaults of the objectives' own settings. */
export const DEFAULT_SSL_NOISE = 0.25;
export const DEFAULT_MASK: Readonly<Omit<PatchMaskArgs, "side">> = { patchSize: 4, ratio: 0.5 };
export const DEFAULT_TEMPERATURE = 0.5;
export const DEFAULT_PROJECTION_DIM = 32;

/**
 * NT-Xent (normalized temperature-scaled cross-entropy), SimCLR's loss. Rows i of z1 and z2 are two
 * views of image i; with z = [z1; z2] L2-normalised ([2N, d]) and s_ij = z_i·z_j / τ,
 *   ℓ_i = −log( exp(s_{i,p(i)}) / Σ_{k≠i} exp(s_ik) ),  p(i) = i ± N (the other view of image i),
 * averaged over all 2N views: each view must pick its partner out of the 2N − 1 others.
 */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): tf.Scalar {
  const where = "ntXentLoss";
  checkPositiveFinite(where, "temperature", temperature);
  if (z1?.rank !== 2 || z2?.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1])
    throw argError(
      where,
      "z2",
      `a [N, d] tensor like z1 (${show(z1?.shape)})`,
      show(z2?.shape),
      "row i of z1 and z2 are two views of image i",
    );
  const n = z1.shape[0];
  if (n < 2) throw argError(where, "z1", "at least 2 rows (one view needs negatives)", `${n} row(s)`);
  return tf.tidy(() => {
    const z = tf.concat([z1, z2], 0); // [2N, d]
    const zn = z.div(z.norm("euclidean", 1, true).maximum(1e-12)); // rows on the unit sphere
    const sim = zn.matMul(zn, false, true).div(temperature); // [2N, d] x [d, 2N] -> [2N, 2N]
    const self = tf.eye(2 * n).mul(1e9); // a view is never its own candidate
    const logits = sim.sub(self);
    const partner = tf.concat([tf.range(n, 2 * n, 1, "int32"), tf.range(0, n, 1, "int32")]); // p(i)
    const positive = logits.mul(tf.oneHot(partner, 2 * n)).sum(1); // [2N]: s_{i,p(i)}
    return tf.logSumExp(logits, 1).sub(positive).mean() as tf.Scalar;
  });
}

/** Masking noise of the denoising objective: each pixel hidden with probability `level` (independently,
 * from `uniform`) and set to its image's background (borderValue: 0 for dark digits, 1 for inverted
 * ones), so a hidden pixel never reads as ink. x is [n, side·side]; returns a new array. */
export function backgroundMaskingNoise(
  x: Float32Array,
  n: number,
  side: number,
  level: number,
  uniform: () => number,
): Float32Array {
  if (!(level >= 0 && level < 1))
    throw argError("backgroundMaskingNoise", "level", "a number in [0, 1) (0 = no noise)", show(level));
  const dim = side * side;
  const fill = borderValues(x, n, side);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let p = i * dim; p < (i + 1) * dim; p++) out[p] = uniform() < level ? fill[i] : x[p];
  return out;
}

/** MAE's loss: binary cross-entropy between reconstruction and clean pixels, averaged over the
 * hidden pixels only (mask = 1), so the visible ones, which the input already gives, count for nothing. */
export function maskedReconstructionLoss(pred: tf.Tensor2D, target: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const eps = 1e-7;
    const p = pred.clipByValue(eps, 1 - eps);
    // −[x log p + (1 − x) log(1 − p)] per pixel: [b, dim]
    const bce = target
      .mul(p.log())
      .add(tf.scalar(1).sub(target).mul(tf.scalar(1).sub(p).log()))
      .neg();
    return bce.mul(mask).sum().div(mask.sum().maximum(1)) as tf.Scalar;
  });
}

export interface SelfSupervisedArgs {
  objective: SslObjective;
  /** Unlabeled images (labels are never read), values in [0, 1], square (28×28 digits). */
  data: Dataset;
  /** Hidden widths of the encoder, bottom first (default the source MLP's 256-128-128-64). */
  sizes?: readonly number[];
  /** Start from these encoder weights (domain-adaptive pretraining of a trained model) instead of a
   * Glorot initialisation; their widths set `sizes`. */
  init?: readonly DenseWeights[];
  epochs: number;
  /** Images per step (contrastive: each gives two views, and the 2·batch − 2 others are its negatives). */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  seed?: number;
  /** Denoising: fraction of pixels zeroed per image (default 0.25). */
  noise?: number;
  /** Masked: patch size and fraction of patches hidden (default 4×4 patches, half hidden). */
  mask?: Omit<PatchMaskArgs, "side">;
  /** Contrastive: NT-Xent temperature τ (default 0.5), projection width (default 32), the views. */
  temperature?: number;
  projectionDim?: number;
  augment?: ViewArgs;
  /** Shows the run's progress; none when absent or false. */
  progress?: ProgressReporter | false;
}

export interface SelfSupervisedResult {
  objective: SslObjective;
  /** The pretrained encoder, bottom first (hidden1..hiddenK of the source MLP), in JS memory. */
  encoders: DenseWeights[];
  /** Mean objective loss per epoch. */
  loss: number[];
  steps: number;
  /** Wall seconds of the training loop. */
  seconds: number;
}

/** The encoder and the objective's head on top of it (decoder or projection), both sequential. */
export interface SslNetworks {
  encoder: tf.Sequential;
  /** Denoising / masked: a mirror decoder to the pixels (sigmoid); contrastive: the projection g. */
  head: tf.Sequential;
}

const dense = (units: number, activation: "relu" | "sigmoid" | "linear", seed: number, name: string, inDim?: number) =>
  tf.layers.dense({
    units,
    activation,
    name,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    inputShape: inDim === undefined ? undefined : [inDim],
  });

/** The encoder (layers hidden1..K, ReLU: the source MLP's base) and the objective's head. The
 * decoder mirrors the encoder (64 → 128 → 128 → 256 → 784 for the default widths); the projection
 * is SimCLR's g: Dense(last width, ReLU) → Dense(projectionDim). */
export function buildSslNetworks(
  objective: SslObjective,
  inputDim: number,
  sizes: readonly number[],
  seed = 0,
  projectionDim = DEFAULT_PROJECTION_DIM,
): SslNetworks {
  const where = "buildSslNetworks";
  checkOneOf(where, "objective", objective, SSL_OBJECTIVES);
  checkPositiveInt(where, "inputDim", inputDim);
  if (!Array.isArray(sizes) || sizes.length === 0) throw argError(where, "sizes", "a non-empty list", show(sizes));
  sizes.forEach((u, i) => checkPositiveInt(where, `sizes[${i}]`, u));
  checkPositiveInt(where, "projectionDim", projectionDim);
  const encoder = tf.sequential({ name: "ssl-encoder" });
  sizes.forEach((u, i) =>
    encoder.add(dense(u, "relu", seed * 100 + i, `hidden${i + 1}`, i === 0 ? inputDim : undefined)),
  );
  const top = sizes[sizes.length - 1];
  const head = tf.sequential({ name: objective === "contrastive" ? "ssl-projection" : "ssl-decoder" });
  if (objective === "contrastive") {
    head.add(dense(top, "relu", seed * 100 + 50, "proj1", top));
    head.add(dense(projectionDim, "linear", seed * 100 + 51, "proj2"));
  } else {
    const back = [...sizes].reverse().slice(1); // 128, 128, 256
    back.forEach((u, j) => head.add(dense(u, "relu", seed * 100 + 60 + j, `dec${j + 1}`, j === 0 ? top : undefined)));
    head.add(dense(inputDim, "sigmoid", seed * 100 + 69, "dec-out", back.length === 0 ? top : undefined));
  }
  return { encoder, head };
}

/** What one step of an objective computes from a batch of clean images (the inputs it makes in JS:
 * masks, views) — shared by the training loop and the memory measurement. */
export function objectiveLoss(
  args: Pick<SelfSupervisedArgs, "objective" | "noise" | "mask" | "temperature" | "augment" | "seed">,
  nets: SslNetworks,
  x: Float32Array,
  b: number,
  dim: number,
  step: number,
  uniform: () => number,
): () => tf.Scalar {
  const side = Math.round(Math.sqrt(dim));
  const fwd = (m: tf.Sequential, t: tf.Tensor) => m.apply(t, { training: true }) as tf.Tensor2D;
  switch (args.objective) {
    case "denoising": {
      const noisy = backgroundMaskingNoise(x, b, side, args.noise ?? DEFAULT_SSL_NOISE, uniform);
      return () => {
        const clean = tf.tensor2d(x, [b, dim]);
        const pred = fwd(nets.head, fwd(nets.encoder, tf.tensor2d(noisy, [b, dim])));
        return tf.metrics.binaryCrossentropy(clean, pred).mean() as tf.Scalar;
      };
    }
    case "masked": {
      const m = patchMasks(b, { side, ...(args.mask ?? DEFAULT_MASK) }, uniform); // 1 = hidden
      const shown = fillMasked(x, m, b, side); // hidden patches set to each image's background
      return () => {
        const clean = tf.tensor2d(x, [b, dim]);
        const mask = tf.tensor2d(m, [b, dim]);
        const pred = fwd(nets.head, fwd(nets.encoder, tf.tensor2d(shown, [b, dim])));
        return maskedReconstructionLoss(pred, clean, mask);
      };
    }
    case "contrastive": {
      const view = randomView(args.augment ?? DEFAULT_VIEW);
      const v1 = augmentRows(x, b, side, view, uniform);
      const v2 = augmentRows(x, b, side, view, uniform);
      return () => {
        const z1 = fwd(nets.head, fwd(nets.encoder, tf.tensor2d(v1, [b, dim])));
        const z2 = fwd(nets.head, fwd(nets.encoder, tf.tensor2d(v2, [b, dim])));
        return ntXentLoss(z1, z2, args.temperature ?? DEFAULT_TEMPERATURE);
      };
    }
  }
}

function checkArgs(args: SelfSupervisedArgs): void {
  const where = "pretrainSelfSupervised";
  checkOneOf(where, "objective", args.objective, SSL_OBJECTIVES);
  checkDataset(where, "data", args.data);
  imageSide(args.data);
  checkPositiveInt(where, "epochs", args.epochs);
  checkPositiveInt(where, "batchSize", args.batchSize);
  checkPositiveFinite(where, "learningRate", args.learningRate);
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
  if (args.noise !== undefined && !(args.noise >= 0 && args.noise < 1))
    throw argError(where, "noise", "a number in [0, 1)", show(args.noise));
  if (args.mask !== undefined) maskedPatchCount({ side: imageSide(args.data), ...args.mask });
  if (args.temperature !== undefined) checkPositiveFinite(where, "temperature", args.temperature);
  if (args.projectionDim !== undefined) checkPositiveInt(where, "projectionDim", args.projectionDim);
  if (args.augment !== undefined) checkViewArgs(where, args.augment);
  if (args.objective === "contrastive" && Math.min(args.batchSize, args.data.n) < 2)
    throw argError(
      where,
      "batchSize",
      "at least 2 for contrastive (negatives come from the batch)",
      show(args.batchSize),
    );
  if (args.init !== undefined) {
    if (!Array.isArray(args.init) || args.init.length === 0)
      throw argError(where, "init", "a non-empty list of encoder weights (bottom first)", show(args.init));
    args.init.forEach((w, i) => {
      const inDim = i === 0 ? args.data.dim : args.init![i - 1].units;
      if (w.inputDim !== inDim)
        throw argError(where, `init[${i}].inputDim`, `${inDim} (the width below it)`, show(w.inputDim));
    });
  }
}

/** Pretrains the encoder end to end on `data` with `objective` (Adam); returns its weights, the loss
 * per epoch, steps and seconds. Contrastive drops the last incomplete batch (fewer negatives). Leaves
 * no tensors behind. */
export async function pretrainSelfSupervised(args: SelfSupervisedArgs): Promise<SelfSupervisedResult> {
  checkArgs(args);
  const data = args.data;
  const seed = args.seed ?? 0;
  const sizes = args.init ? args.init.map((w) => w.units) : [...(args.sizes ?? SOURCE_HIDDEN_UNITS)];
  const nets = buildSslNetworks(args.objective, data.dim, sizes, seed, args.projectionDim ?? DEFAULT_PROJECTION_DIM);
  const optimizer: tf.Optimizer = tf.train.adam(args.learningRate);
  const bs = Math.min(args.batchSize, data.n);
  const stepsPerEpoch = args.objective === "contrastive" ? Math.floor(data.n / bs) : Math.ceil(data.n / bs);
  const progress = args.progress ? args.progress({ epochs: args.epochs, stepsPerEpoch, stage: args.objective }) : null;
  const stop = interruptCheck(`pretrainSelfSupervised (${args.objective})`);
  const uniform = rng(subSeed(seed, `ssl:${args.objective}`));
  const t0 = performance.now();
  const loss: number[] = [];
  let steps = 0;
  try {
    if (args.init)
      args.init.forEach((w, i) =>
        tf.tidy(() =>
          nets.encoder
            .getLayer(`hidden${i + 1}`)
            .setWeights([tf.tensor2d(w.kernel, [w.inputDim, w.units]), tf.tensor1d(w.bias)]),
        ),
      );
    const vars = [...nets.encoder.trainableWeights, ...nets.head.trainableWeights].map((w) => w.read() as tf.Variable);
    for (let epoch = 0; epoch < args.epochs; epoch++) {
      const order = shuffledIndices(data.n, subSeed(seed, `ssl-epoch${epoch}`));
      let sum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        await stop.poll();
        const from = s * bs;
        const to = Math.min(data.n, from + bs);
        const batch = gatherRows(data, order, from, to);
        const f = objectiveLoss(args, nets, batch.x, to - from, data.dim, steps, uniform);
        const value = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(f, vars);
          optimizer.applyGradients(grads);
          return value;
        });
        sum += (await value.data())[0];
        value.dispose();
        steps++;
      }
      loss.push(sum / stepsPerEpoch);
      progress?.update({ epoch, step: stepsPerEpoch, loss: loss[epoch] });
    }
    const encoders = encodersFromModel(nets.encoder);
    const seconds = (performance.now() - t0) / 1000;
    progress?.done(`${args.epochs} epochs, ${seconds.toFixed(1)} s, final loss ${loss[loss.length - 1].toFixed(4)}`);
    return { objective: args.objective, encoders, loss, steps, seconds };
  } finally {
    optimizer.dispose();
    nets.encoder.dispose();
    nets.head.dispose();
  }
}
