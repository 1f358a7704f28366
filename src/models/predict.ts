// Forward passes in batches: model outputs, predicted classes and accuracy on a Dataset. The
// training loop scores its validation split with these, so they sit below train/ and evaluate/.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkDataset, checkModelTakes } from "../data/check";
import { checkPositiveInt } from "../core/validate";

/** Rows per forward pass when scoring (not training). */
export const DEFAULT_EVAL_BATCH = 512;

function checkPredictArgs(
  where: string,
  model: tf.LayersModel,
  data: Dataset,
  batchSize: number,
  nonEmpty: boolean,
): void {
  checkDataset(where, "data", data, { nonEmpty });
  checkModelTakes(where, "data", model, data);
  checkPositiveInt(where, "batchSize", batchSize);
}

/** Model outputs for all rows of `x` ([n, dim] row-major), computed in batches: [n, out]. */
export function predictBatched(model: tf.LayersModel, data: Dataset, batchSize = DEFAULT_EVAL_BATCH): tf.Tensor2D {
  checkPredictArgs("predictBatched", model, data, batchSize, true);
  const parts: tf.Tensor2D[] = [];
  for (let from = 0; from < data.n; from += batchSize) {
    const to = Math.min(data.n, from + batchSize);
    parts.push(
      tf.tidy(() => {
        const x = tf.tensor2d(data.x.subarray(from * data.dim, to * data.dim), [to - from, data.dim]);
        return model.predict(x) as tf.Tensor2D;
      }),
    );
  }
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  parts.forEach((p) => p.dispose());
  return out;
}

/** Predicted class per example (argmax of the model's output). */
export function predictLabels(model: tf.LayersModel, data: Dataset, batchSize = DEFAULT_EVAL_BATCH): Int32Array {
  checkPredictArgs("predictLabels", model, data, batchSize, false);
  const out = new Int32Array(data.n);
  for (let from = 0; from < data.n; from += batchSize) {
    const to = Math.min(data.n, from + batchSize);
    const pred = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(from * data.dim, to * data.dim), [to - from, data.dim]);
      return (model.predict(x) as tf.Tensor2D).argMax(-1);
    });
    out.set(pred.dataSync() as Int32Array, from);
    pred.dispose();
  }
  return out;
}

/** Fraction of examples whose predicted class equals the label. */
export function evaluateAccuracy(model: tf.LayersModel, data: Dataset, batchSize = DEFAULT_EVAL_BATCH): number {
  checkPredictArgs("evaluateAccuracy", model, data, batchSize, true);
  const pred = predictLabels(model, data, batchSize);
  let correct = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.y[i]) correct++;
  return correct / data.n;
}
