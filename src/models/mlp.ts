// The source MLP that lessons 02-05 transfer from: 784-256-128-128-64-10 (ReLU, Glorot, softmax head)
// by default, optionally with BatchNorm after each hidden Dense (Keras' frozen-BN rule built in).
import * as tf from "@tensorflow/tfjs";
import { kerasBatchNormalization } from "./batchnorm";
import { checkFinite, checkOneOf, checkPositiveInt } from "../core/validate";

/** Hidden widths of the source MLP: 784-256-128-128-64-10. Four hidden layers, so freeze ratios
 * 0, .25, .5, .75 and 1 freeze 0, 1, 2, 3 and 4 distinct layers. */
export const SOURCE_HIDDEN_UNITS: readonly number[] = [256, 128, 128, 64];
/** Name of the classifier layer; everything below it is "the base". */
export const HEAD_LAYER = "head";
export const DEFAULT_INPUT_DIM = 784;
export const DEFAULT_NUM_CLASSES = 10;

export interface BuildSourceModelArgs {
  /** Seeds every layer's initializer (layer i uses seed·100 + i). */
  seed?: number;
  /** Hidden widths, bottom to top (default SOURCE_HIDDEN_UNITS). */
  hiddenUnits?: readonly number[];
  inputDim?: number;
  numClasses?: number;
  /** Dense (no activation) → BatchNormalization → ReLU per hidden layer, to study frozen BN. */
  batchNorm?: boolean;
}

/** Hidden layers are `hidden1..n` (plus `bn1..n`, `relu1..n` with batchNorm), the classifier `head`. */
export function buildSourceModel(args: BuildSourceModelArgs = {}): tf.LayersModel {
  const seed = args.seed ?? 0;
  const units = args.hiddenUnits ?? SOURCE_HIDDEN_UNITS;
  checkFinite("buildSourceModel", "seed", seed);
  // Before any layer is built: a layer applied to the input already owns weight variables.
  units.forEach((u, i) => checkPositiveInt("buildSourceModel", `hiddenUnits[${i}]`, u));
  if (args.inputDim !== undefined) checkPositiveInt("buildSourceModel", "inputDim", args.inputDim);
  if (args.numClasses !== undefined) checkPositiveInt("buildSourceModel", "numClasses", args.numClasses);
  const input = tf.input({ shape: [args.inputDim ?? DEFAULT_INPUT_DIM], name: "pixels" });
  let h: tf.SymbolicTensor = input;
  units.forEach((u, i) => {
    const kernelInitializer = tf.initializers.glorotUniform({ seed: seed * 100 + i });
    if (args.batchNorm) {
      h = tf.layers.dense({ units: u, name: `hidden${i + 1}`, kernelInitializer }).apply(h) as tf.SymbolicTensor;
      h = kerasBatchNormalization({ name: `bn${i + 1}` }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: "relu", name: `relu${i + 1}` }).apply(h) as tf.SymbolicTensor;
    } else {
      h = tf.layers
        .dense({ units: u, activation: "relu", name: `hidden${i + 1}`, kernelInitializer })
        .apply(h) as tf.SymbolicTensor;
    }
  });
  const out = tf.layers
    .dense({
      units: args.numClasses ?? DEFAULT_NUM_CLASSES,
      activation: "softmax",
      name: HEAD_LAYER,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 99 }),
    })
    .apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: args.batchNorm ? "source_mlp_bn" : "source_mlp" });
  return model;
}
