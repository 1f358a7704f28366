// The shared task-A source model of lessons 02-05: the task splits it is trained on and the model
// itself, trained once per scale and seed and then read back from the artifact cache.
import * as tf from "@tensorflow/tfjs";
import { cacheKey, cachedModel, sha256Hex, stableHash } from "../store/cache";
import { makeClassSplitTasks, makeTransferTasks, type TransferTasks } from "../data/tasks";
import type { ShiftName } from "../data/transforms";
import { scaleArg, type Scale } from "../core/scale";
import { SOURCE_RECIPES } from "../core/settings";
import { checkFinite, checkOneOf } from "../core/validate";
import { buildSourceModel, SOURCE_HIDDEN_UNITS } from "../models/mlp";
import { evaluateAccuracy } from "../models/predict";
import { disposeOnThrow, fit } from "../train/fit";
import type { ProgressReporter } from "../core/progress";
import { progressLine } from "../show/progress";

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
  if (args.scenario !== undefined)
    checkOneOf("sourceTasks", "scenario", args.scenario, ["shift", "class-split"] as const);
  const seed = args.seed ?? 0;
  const val = { sourceValPerClass: r.sourceValPerClass, targetValPerClass: r.targetValPerClass };
  if (args.scenario === "class-split") {
    const size = r.classSplitSize;
    return makeClassSplitTasks({ seed, testSize: r.testSize, sourceSize: size, targetPoolSize: size, ...val });
  }
  return makeTransferTasks({
    seed,
    ...val,
    testSize: r.testSize,
    sourceSize: r.sourceSize,
    shift: args.shift ?? "mild",
    targetPoolSize: r.targetPoolSize,
  });
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

/** A model trained on task A (the source MLP or the tiny ViT), with where it came from. */
export interface SourceModel {
  model: tf.LayersModel;
  /** Accuracy on task A's held-out test split. */
  testAccuracy: number;
  fromCache: boolean;
  key: string;
  /** Training seconds (0 when loaded from the cache). */
  seconds: number;
}

/** How to pretrain one model on task A, for pretrainOnTaskA. */
export interface PretrainOnTaskAArgs {
  /** Cache name of this kind of model ("source-mlp", "tiny-vit"). */
  name: string;
  /** Builds the untrained model (called once for its architecture, once to train it). */
  build: () => tf.LayersModel;
  /** The training recipe, and anything else that identifies the model besides its architecture. */
  recipe: { epochs: number; batchSize: number; learningRate: number };
  config?: Record<string, unknown>;
  tasks: TransferTasks;
  scale: Scale;
  seed: number;
  progress: ProgressReporter | false;
  retrain?: boolean;
  log?: ((message: string) => void) | false;
}

/** Trains a model on task A once per configuration, then reads it back from the artifact cache.
 * The key holds the architecture as tfjs serializes it (layer classes, sizes, activations,
 * initializers), the recipe and the exact training rows, so any change of those trains anew. */
export async function pretrainOnTaskA(args: PretrainOnTaskAArgs): Promise<SourceModel> {
  const train = args.tasks.source.train;
  const blueprint = args.build();
  const architecture = stableHash(blueprint.toJSON(null, false));
  blueprint.dispose();
  const rows = sha256Hex(
    new Uint8Array(train.baseIndices.buffer, train.baseIndices.byteOffset, train.baseIndices.byteLength),
  );
  const config = {
    ...args.config,
    architecture,
    recipe: args.recipe,
    data: { name: args.tasks.data.name, scenario: args.tasks.scenario, rows },
  };
  const key = cacheKey({ name: args.name, config, scale: args.scale, seed: args.seed });
  let seconds = 0;
  const got = await cachedModel(
    key,
    async () => {
      const model = args.build();
      return disposeOnThrow(model, async () => {
        const h = await fit(model, train, { ...args.recipe, seed: args.seed, progress: args.progress });
        seconds = h.seconds;
        return model;
      });
    },
    { retrain: args.retrain, log: args.log },
  );
  const testAccuracy = evaluateAccuracy(got.model, args.tasks.source.test);
  return { model: got.model, testAccuracy, fromCache: got.fromCache, key, seconds };
}

/** The trained task-A model, loaded from the artifact cache or trained (and cached) now. */
export async function getSourceModel(args: GetSourceModelArgs = {}): Promise<SourceModel> {
  const scale = scaleArg("getSourceModel", args.scale);
  const seed = args.seed ?? 0;
  checkFinite("getSourceModel", "seed", seed);
  const tasks = args.tasks ?? sourceTasks({ scale, seed });
  const recipe = SOURCE_RECIPES[scale];
  const numClasses = tasks.source.train.numClasses;
  return pretrainOnTaskA({
    name: args.batchNorm ? "source-mlp-bn" : "source-mlp",
    build: () => buildSourceModel({ seed, numClasses, batchNorm: args.batchNorm }),
    recipe: { epochs: recipe.epochs, batchSize: recipe.batchSize, learningRate: recipe.learningRate },
    config: { units: SOURCE_HIDDEN_UNITS, batchNorm: Boolean(args.batchNorm), numClasses },
    tasks,
    scale,
    seed,
    progress: progressLine(`source model (task A, seed ${seed})`),
    retrain: args.retrain,
    log: args.log,
  });
}
