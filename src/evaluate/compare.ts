// How far apart two sets of numbers or two models are: the largest absolute difference, the one
// figure behind every "merged equals unmerged", "round trip is exact" and "starts equal" check.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { predictBatched } from "../models/predict";

/** max_i |a_i − b_i| over two equally long arrays (weights, images, outputs). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new Error(`maxAbsDiff: a and b must have the same length, got ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest |m1(x) − m2(x)| over the outputs of two models on the same inputs: a tensor of inputs
 * (not disposed) or a Dataset (predicted in batches). Leaves no tensors behind. */
export function maxOutputDiff(m1: tf.LayersModel, m2: tf.LayersModel, inputs: tf.Tensor | Dataset): number {
  if (inputs instanceof tf.Tensor) {
    return tf.tidy(
      () =>
        (m1.predict(inputs) as tf.Tensor)
          .sub(m2.predict(inputs) as tf.Tensor)
          .abs()
          .max()
          .dataSync()[0],
    );
  }
  const a = predictBatched(m1, inputs);
  const b = predictBatched(m2, inputs);
  try {
    return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
  } finally {
    a.dispose();
    b.dispose();
  }
}
