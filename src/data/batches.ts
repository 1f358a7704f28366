// Seeded mini-batches gathered row by row from a dataset held in JS memory: each batch copies
// only its own rows ([batch, dim]) via train.ts's gatherRows, never the whole set.
import * as tf from "@tensorflow/tfjs";
import { shuffledIndices } from "../core/random";
import { gatherRows } from "../train/fit";
import type { Dataset } from "./types";
import { checkDataset, checkNonNegativeInt, checkPositiveInt } from "../core/validate";

/** One mini-batch: the dataset rows it holds and their copied pixels x [size, dim] and labels y [size]. */
export interface Batch {
  /** Row numbers in the dataset, [size]. */
  indices: Int32Array;
  size: number;
  x: Float32Array;
  y: Int32Array;
}

/** Options of `batches`. */
export interface BatchesArgs {
  /** Skip the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Shuffle rows with the seed (default true); false keeps dataset order (evaluation). */
  shuffle?: boolean;
}

/** Batches one pass over n rows gives. */
export function numBatches(n: number, batchSize: number, dropLast = false): number {
  checkNonNegativeInt("numBatches", "n", n);
  checkPositiveInt("numBatches", "batchSize", batchSize);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * One epoch of mini-batches: a seeded permutation of the rows cut into batches of
 * `batchSize` (the last one smaller unless dropLast). Use a different seed per epoch, e.g.
 * subSeed(seed, `epoch${e}`). Rows are gathered lazily, one batch at a time.
 */
export function* batches(ds: Dataset, batchSize: number, seed: number | string, args: BatchesArgs = {}): Generator<Batch> {
  checkPositiveInt("batches", "batchSize", batchSize);
  checkDataset("batches", "ds", ds, { nonEmpty: false });
  const order = args.shuffle === false ? Int32Array.from({ length: ds.n }, (_, i) => i) : shuffledIndices(ds.n, seed);
  const count = numBatches(ds.n, batchSize, args.dropLast ?? false);
  for (let b = 0; b < count; b++) {
    const indices = order.slice(b * batchSize, Math.min(ds.n, (b + 1) * batchSize));
    yield { indices, size: indices.length, ...gatherRows(ds, indices) }; // copies [size, dim] only
  }
}

/** The whole dataset as tensors: xs [n, dim] float32, ys [n] int32. The caller disposes them. */
export function toTensors(ds: Dataset): { xs: tf.Tensor2D; ys: tf.Tensor1D } {
  checkDataset("toTensors", "ds", ds, { nonEmpty: false });
  return { xs: tf.tensor2d(ds.x.subarray(0, ds.n * ds.dim), [ds.n, ds.dim], "float32"), ys: tf.tensor1d(ds.y.subarray(0, ds.n), "int32") };
}
