// Model surgery on a classifier whose top layer is the head: an independent copy, a copy with a fresh
// head for a new task, and a copy judged through another model's head (how forgetting is measured).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../core/validate";
import { HEAD_LAYER } from "./mlp";

/** An independent copy (same architecture, layer names and trainable flags, copied weights). */
export function cloneModel(model: tf.LayersModel): tf.LayersModel {
  const copy = tf.LayersModel.fromConfig(tf.LayersModel, model.getConfig()) as tf.LayersModel;
  const weights = model.getWeights();
  copy.setWeights(weights);
  copy.layers.forEach((l, i) => (l.trainable = model.layers[i].trainable));
  return copy;
}

function headIndex(model: tf.LayersModel, where: string): number {
  const i = model.layers.findIndex((l) => l.name === HEAD_LAYER);
  if (i !== model.layers.length - 1) {
    throw new Error(
      `${where}: expected the top layer to be named "${HEAD_LAYER}" (layers: ${model.layers.map((l) => l.name).join(", ")}); build it with buildSourceModel`,
    );
  }
  return i;
}

export interface ReplaceHeadArgs {
  /** Classes of the new head (default: as the old head). */
  numClasses?: number;
  /** Seeds the new head's initializer. */
  seed?: number;
}

/** A copy of the model whose head is freshly initialized (the base keeps its trained weights). */
export function replaceHead(model: tf.LayersModel, args: ReplaceHeadArgs = {}): tf.LayersModel {
  const i = headIndex(model, "replaceHead");
  if (args.numClasses !== undefined) checkPositiveInt("replaceHead", "numClasses", args.numClasses);
  const copy = cloneModel(model);
  const oldHead = copy.layers[i] as tf.layers.Layer;
  const numClasses = args.numClasses ?? (oldHead.outputShape as number[])[1];
  const features = copy.layers[i - 1].output as tf.SymbolicTensor; // [batch, lastHidden]
  const head = tf.layers.dense({
    units: numClasses,
    activation: "softmax",
    name: HEAD_LAYER,
    kernelInitializer: tf.initializers.glorotUniform({ seed: (args.seed ?? 0) * 100 + 98 }),
  });
  const out = tf.model({
    inputs: copy.inputs,
    outputs: head.apply(features) as tf.SymbolicTensor,
    name: `${model.name}_newhead`,
  });
  oldHead.dispose();
  return out;
}

/** A copy of `tuned` with its head weights replaced by those of `original` (same architecture):
 * the tuned base judged through the original task-A head — how forgetting is measured. */
export function withHeadOf(tuned: tf.LayersModel, original: tf.LayersModel): tf.LayersModel {
  const i = headIndex(tuned, "withHeadOf");
  const j = headIndex(original, "withHeadOf");
  const copy = cloneModel(tuned);
  const src = original.layers[j].getWeights();
  const dstShapes = copy.layers[i].getWeights().map((w) => w.shape.join("×"));
  const srcShapes = src.map((w) => w.shape.join("×"));
  if (dstShapes.join() !== srcShapes.join()) {
    copy.dispose();
    throw new Error(
      `withHeadOf: head shapes differ (tuned ${dstShapes.join(", ")} vs original ${srcShapes.join(", ")}); both models need the same classes`,
    );
  }
  copy.layers[i].setWeights(src);
  return copy;
}
