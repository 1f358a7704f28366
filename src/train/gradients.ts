// The vanishing-gradient picture: the L2 norm of the loss gradient with respect to each layer's
// kernel for one batch, input layer first. With sigmoid units (σ' ≤ 1/4) and tiny weights, each
// layer scales the backward signal by about ‖W‖·σ', so the norms fall geometrically toward layer 1.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { gatherRows } from "../data/batches";

/** Rows used by default: enough for a stable norm, cheap on any backend. */
export const DEFAULT_GRADIENT_ROWS = 256;

export interface GradientNormArgs {
  /** Use the first `rows` examples of the dataset (all when it has fewer). */
  rows?: number;
}

/** One layer's gradient norm. */
export interface LayerGradientNorm {
  layer: string;
  /** ‖∂L/∂W‖₂ of the layer's kernel (L = mean cross-entropy over the batch). */
  norm: number;
}

/**
 * ‖∂L/∂W_l‖₂ for every layer l with a kernel, input layer first, for the mean cross-entropy of
 * the model's softmax outputs on the first `rows` examples. Frozen layers are included (their
 * variables are made trainable for the one gradient computation and restored). No weight
 * changes, no tensors left behind.
 */
export function gradientNormsPerLayer(
  model: tf.LayersModel,
  data: Dataset,
  args: GradientNormArgs = {},
): LayerGradientNorm[] {
  const rows = Math.min(data.n, args.rows ?? DEFAULT_GRADIENT_ROWS);
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`gradientNormsPerLayer: rows must be a positive integer, got ${args.rows}`);
  // The kernel is each layer's first weight (Dense: kernel, bias).
  const kernels = model.layers
    .filter((l) => l.weights.length > 0)
    .map((l) => ({ layer: l.name, v: l.weights[0].read() as tf.Variable }));
  if (kernels.length === 0) throw new Error(`gradientNormsPerLayer: model ${model.name} has no layer with weights`);
  const idx = new Int32Array(rows).map((_, i) => i);
  const batch = gatherRows(data, idx);
  const wasTrainable = kernels.map((k) => k.v.trainable);
  kernels.forEach((k) => (k.v.trainable = true));
  try {
    const norms = tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [rows, data.dim]); // [b, dim]
      const y = tf.oneHot(tf.tensor1d(batch.y, "int32"), data.numClasses).toFloat(); // [b, C]
      const { grads } = tf.variableGrads(
        () =>
          tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar,
        kernels.map((k) => k.v),
      );
      return tf.stack(kernels.map((k) => tf.norm(grads[k.v.name]))); // [layers]
    });
    const values = norms.dataSync();
    norms.dispose();
    return kernels.map((k, i) => ({ layer: k.layer, norm: values[i] }));
  } finally {
    kernels.forEach((k, i) => (k.v.trainable = wasTrainable[i]));
  }
}

/** Ratio head-norm / first-layer-norm: how many times smaller the input layer's gradient is. */
export function gradientRatio(norms: LayerGradientNorm[]): number {
  if (norms.length < 2) throw new Error(`gradientRatio: needs at least two layers, got ${norms.length}`);
  return norms[norms.length - 1].norm / norms[0].norm;
}
