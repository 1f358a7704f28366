// Softmax cross-entropy against integer labels, per row: the masked-LM's loss over a vocabulary of
// thousands of words (lesson 06), where building a one-hot [m, V] and composing logSoftmax from tf
// ops costs several passes over m·V values. On WASM it is one kernel pass for the loss and one for
// the gradient (backend/wasm-kernels.ts TLXent); elsewhere the composed ops, the reference it is
// tested against.
import * as tf from "@tensorflow/tfjs";
import { hasKernel, TL_XENT, TL_XENT_GRAD } from "../backend/wasm-kernels";
import { argError, show } from "../core/validate";

function checkLabels(where: string, logits: tf.Tensor, labels: ArrayLike<number>): Int32Array {
  if (logits.rank !== 2) throw argError(where, "logits", "a 2-D tensor [rows, classes]", `shape [${logits.shape}]`);
  const [m, V] = logits.shape as [number, number];
  if (labels.length !== m) throw argError(where, "labels", `${m} labels (one per row of logits)`, `${labels.length}`);
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= V)
      throw argError(where, `labels[${i}]`, `an integer in [0, ${V - 1}] (a class of the ${V} logits)`, show(y));
    out[i] = y;
  }
  return out;
}

/** The composed reference: log Σ exp(logits) − the label's logit, per row. */
function composedXent(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const lse = tf.logSumExp(logits, 1); // [m]
    const picked = tf.sum(tf.mul(logits, tf.oneHot(labels, logits.shape[1])), 1); // [m]
    return tf.sub(lse, picked) as tf.Tensor1D;
  });
}

/** The TLXent kernel pair: the forward keeps each row's max and log-sum for the backward pass. */
function fusedXent(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const [loss, max, logSum] = tf.engine().runKernel(TL_XENT, { logits: x, labels }) as tf.Tensor[];
    save([x, labels, max, logSum]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sy, smax, slog] = saved;
        const inputs = { logits: sx, labels: sy, max: smax, logSum: slog, dy: dy as tf.Tensor };
        return tf.engine().runKernel(TL_XENT_GRAD, inputs) as tf.Tensor;
      },
    };
  });
  return f(logits) as tf.Tensor1D;
}

/**
 * Softmax cross-entropy of each row of logits [m, V] against its integer label: [m] nats,
 * log Σ_j exp(logits[i][j]) − logits[i][labels[i]]. Differentiable in logits. Its mean equals
 * tf.losses.softmaxCrossEntropy(oneHot(labels, V), logits) without building the one-hot.
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: ArrayLike<number>): tf.Tensor1D {
  const ids = checkLabels("sparseSoftmaxCrossEntropy", logits, labels);
  return tf.tidy(() => {
    const y = tf.tensor1d(ids, "int32");
    return logits.dtype === "float32" && hasKernel(TL_XENT) ? fusedXent(logits, y) : composedXent(logits, y);
  });
}
