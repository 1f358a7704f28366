// The task-A source model that lessons 02-05 transfer from: an MLP 784-256-128-64-10 (ReLU,
// Glorot, softmax head) trained on clean digits, cached per scale and seed; the task splits it
// was trained on; and model surgery (clone, replace or restore the head).
import * as tf from "@tensorflow/tfjs";
import { cacheKey, cachedModel, sha256Hex } from "../store/cache";
import { followKerasBatchNormRule } from "../adapt/batchnorm";
import { makeClassSplitTasks, makeTransferTasks, type TransferTasks } from "../data/tasks";
import type { ShiftName } from "../data/transforms";
import { scaleArg, type Scale } from "../core/scale";
import { disposeOnThrow, evaluateAccuracy, fit } from "../train/fit";
import { checkFinite, checkOneOf, checkPositiveInt } from "../core/validate";

/** Hidden widths of the source MLP (CURRICULUM.md: 784-256-128-64-10). */
export const SOURCE_HIDDEN_UNITS: readonly number[] = [256, 128, 64];
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
      h = tf.layers.batchNormalization({ name: `bn${i + 1}` }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: "relu", name: `relu${i + 1}` }).apply(h) as tf.SymbolicTensor;
    } else {
      h = tf.layers.dense({ units: u, activation: "relu", name: `hidden${i + 1}`, kernelInitializer }).apply(h) as tf.SymbolicTensor;
    }
  });
  const out = tf.layers
    .dense({ units: args.numClasses ?? DEFAULT_NUM_CLASSES, activation: "softmax", name: HEAD_LAYER, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 99 }) })
    .apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: args.batchNorm ? "source_mlp_bn" : "source_mlp" });
  followKerasBatchNormRule(model);
  return model;
}

/** How the source model is trained, and the task sizes it is trained on, per scale. Shared by
 * every lesson so that they all reuse one cached model. */
export interface SourceRecipe {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Task-A training images (undefined: all left after the test splits and the target pool). */
  sourceSize?: number;
  /** Held-out test images per task. */
  testSize: number;
  /** Target-task images that label budgets are drawn from. */
  targetPoolSize: number;
}

export const SOURCE_RECIPES: Readonly<Record<Scale, SourceRecipe>> = {
  smoke: { epochs: 2, batchSize: 64, learningRate: 1e-3, sourceSize: 600, testSize: 200, targetPoolSize: 600 },
  default: { epochs: 10, batchSize: 64, learningRate: 1e-3, testSize: 1000, targetPoolSize: 2000 },
  full: { epochs: 20, batchSize: 128, learningRate: 1e-3, testSize: 1000, targetPoolSize: 2000 },
};

export interface SourceTasksArgs {
  scale?: Scale;
  /** Seeds the split and the shift's noise. */
  seed?: number;
  /** Target shift (default mild); ignored by the class split. */
  shift?: ShiftName;
  /** "shift" (10 classes, A clean → B shifted) or "class-split" (digits 0-4 → 5-9). */
  scenario?: "shift" | "class-split";
}

/** The transfer tasks at the sizes of SOURCE_RECIPES[scale]. For one seed and scale, task A's
 * split is the same for every shift, so one source model serves all shifts. */
export function sourceTasks(args: SourceTasksArgs = {}): TransferTasks {
  const r = SOURCE_RECIPES[scaleArg("sourceTasks", args.scale)];
  if (args.scenario !== undefined) checkOneOf("sourceTasks", "scenario", args.scenario, ["shift", "class-split"] as const);
  const common = { seed: args.seed ?? 0, testSize: r.testSize, sourceSize: r.sourceSize };
  if (args.scenario === "class-split") return makeClassSplitTasks({ ...common, targetPoolSize: r.sourceSize });
  return makeTransferTasks({ ...common, shift: args.shift ?? "mild", targetPoolSize: r.targetPoolSize });
}

export interface GetSourceModelArgs {
  scale?: Scale;
  /** Seeds the initialization and the batch order (and the split, when tasks are not given). */
  seed?: number;
  /** Tasks whose `source.train` the model learns (default sourceTasks({scale, seed})). */
  tasks?: TransferTasks;
  /** BatchNorm variant (see buildSourceModel). */
  batchNorm?: boolean;
  /** Train again and overwrite the cached copy. */
  retrain?: boolean;
  /** Where the one-line cache report goes (default console.log; false for silence). */
  log?: ((message: string) => void) | false;
}

export interface SourceModel {
  model: tf.LayersModel;
  /** Accuracy on task A's held-out test split. */
  testAccuracy: number;
  fromCache: boolean;
  key: string;
  /** Training seconds (0 when loaded from the cache). */
  seconds: number;
}

/** The trained task-A model, loaded from the artifact cache or trained (and cached) now. */
export async function getSourceModel(args: GetSourceModelArgs = {}): Promise<SourceModel> {
  const scale = scaleArg("getSourceModel", args.scale);
  const seed = args.seed ?? 0;
  checkFinite("getSourceModel", "seed", seed);
  const tasks = args.tasks ?? sourceTasks({ scale, seed });
  const recipe = SOURCE_RECIPES[scale];
  const train = tasks.source.train;
  const config = {
    units: SOURCE_HIDDEN_UNITS,
    batchNorm: Boolean(args.batchNorm),
    numClasses: train.numClasses,
    recipe: { epochs: recipe.epochs, batchSize: recipe.batchSize, learningRate: recipe.learningRate },
    // The exact training rows: same rows -> same key, any change of split -> new key.
    data: { name: tasks.data.name, scenario: tasks.scenario, rows: sha256Hex(new Uint8Array(train.baseIndices.buffer, train.baseIndices.byteOffset, train.baseIndices.byteLength)) },
  };
  const key = cacheKey({ name: args.batchNorm ? "source-mlp-bn" : "source-mlp", config, scale, seed });
  let seconds = 0;
  const got = await cachedModel(
    key,
    async () => {
      const model = buildSourceModel({ seed, numClasses: train.numClasses, batchNorm: args.batchNorm });
      return disposeOnThrow(model, async () => {
        const h = await fit(model, train, { epochs: recipe.epochs, batchSize: recipe.batchSize, learningRate: recipe.learningRate, seed, progress: `source model (task A, seed ${seed})` });
        seconds = h.seconds;
        return model;
      });
    },
    { retrain: args.retrain, log: args.log },
  );
  followKerasBatchNormRule(got.model);
  return { model: got.model, testAccuracy: evaluateAccuracy(got.model, tasks.source.test), fromCache: got.fromCache, key, seconds };
}

/** An independent copy (same architecture, layer names and trainable flags, copied weights). */
export function cloneModel(model: tf.LayersModel): tf.LayersModel {
  const copy = tf.LayersModel.fromConfig(tf.LayersModel, model.getConfig()) as tf.LayersModel;
  const weights = model.getWeights();
  copy.setWeights(weights);
  copy.layers.forEach((l, i) => (l.trainable = model.layers[i].trainable));
  followKerasBatchNormRule(copy);
  return copy;
}

function headIndex(model: tf.LayersModel, where: string): number {
  const i = model.layers.findIndex((l) => l.name === HEAD_LAYER);
  if (i !== model.layers.length - 1) {
    throw new Error(`${where}: expected the top layer to be named "${HEAD_LAYER}" (layers: ${model.layers.map((l) => l.name).join(", ")}); build it with buildSourceModel`);
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
  const head = tf.layers.dense({ units: numClasses, activation: "softmax", name: HEAD_LAYER, kernelInitializer: tf.initializers.glorotUniform({ seed: (args.seed ?? 0) * 100 + 98 }) });
  const out = tf.model({ inputs: copy.inputs, outputs: head.apply(features) as tf.SymbolicTensor, name: `${model.name}_newhead` });
  oldHead.dispose();
  followKerasBatchNormRule(out);
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
    throw new Error(`withHeadOf: head shapes differ (tuned ${dstShapes.join(", ")} vs original ${srcShapes.join(", ")}); both models need the same classes`);
  }
  copy.layers[i].setWeights(src);
  return copy;
}
