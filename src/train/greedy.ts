// Greedy layer-wise pretraining (Hinton 2006, Bengio 2007, Vincent 2008): autoencoder k trains on
// the codes of the frozen layers 1..k-1, then its encoder joins the stack; `stackEncoders` turns
// the stack plus a softmax head into one classifier to fine-tune, `buildClassifier` is its scratch twin.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import type { History } from "./fit";
import type { ProgressReporter } from "../core/progress";
import {
  autoencoderWeights,
  buildAutoencoder,
  encodeDataset,
  applyDense,
  type DenseWeights,
} from "../models/autoencoder";
import { trainAutoencoder } from "./autoencoder";
import {
  checkRecipe,
  makeInitializer,
  type HiddenActivation,
  type KernelInit,
  type PretrainRecipe,
  type Recipe,
} from "../models/recipes";
import { checkFinite, checkNonNegativeInt, checkOneOf, checkPositiveInt } from "../core/validate";
import { checkDataset } from "../data/check";

export interface PretrainGreedyArgs {
  /** Unlabeled training inputs (labels are ignored), values in [0, 1]. */
  data: Dataset;
  /** Hidden widths, bottom first: [200, 200, 200, 200, 200] for 784-200×5. */
  sizes: number[];
  /** Supplies the activation, kernel init and (in `pretrain`) noise, epochs, optimizer, tying. */
  recipe: Recipe;
  /** Overrides recipe.pretrain.noise (masking-noise level in [0, 1)). */
  noise?: number;
  /** Overrides recipe.pretrain.epochs (epochs per stage). */
  epochs?: number;
  seed?: number;
  /** Shows each stage's progress (e.g. progressLine("pretrain") → "pretrain 1/5" …); none when absent. */
  progress?: ProgressReporter | false;
  /** Called after each stage (e.g. to plot its reconstruction curve as it finishes). */
  onStage?: (stage: GreedyStage) => void | Promise<void>;
}

/** What one stage (one autoencoder) produced. */
export interface GreedyStage {
  /** 1-based layer index. */
  stage: number;
  inputDim: number;
  units: number;
  /** Reconstruction loss per epoch (of the stage's own input: pixels or codes). */
  history: History;
  /** The encoder, frozen from here on. */
  encoder: DenseWeights;
  /** Its decoder (kernel = encoderᵀ when tied), used to show reconstructions. */
  decoder: DenseWeights;
}

export interface GreedyResult {
  stages: GreedyStage[];
  /** Encoders bottom first, ready for `stackEncoders`. */
  encoders: DenseWeights[];
  /** The pretraining settings actually used. */
  pretrain: PretrainRecipe;
  /** Wall seconds of all stages (encoding included). */
  seconds: number;
}

function checkSizes(sizes: number[], where: string): void {
  if (!Array.isArray(sizes) || sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(
      `${where}: sizes must be a non-empty list of positive integers (hidden widths, bottom first), got ${JSON.stringify(sizes)}`,
    );
  }
}

/**
 * Trains one denoising autoencoder per hidden layer, bottom up. Stage k sees the codes of
 * layers 1..k-1, computed once per stage with the frozen encoders (batched), so earlier layers
 * cannot change. Sigmoid codes are in (0, 1): every stage uses a sigmoid decoder and
 * cross-entropy; ReLU stages above the first use a linear decoder and squared error.
 * Leaves no tensors behind (weights are returned in JS memory).
 */
export async function pretrainGreedy(args: PretrainGreedyArgs): Promise<GreedyResult> {
  checkSizes(args.sizes, "pretrainGreedy");
  checkDataset("pretrainGreedy", "data", args.data);
  if (args.epochs !== undefined) checkNonNegativeInt("pretrainGreedy", "epochs", args.epochs);
  if (args.seed !== undefined) checkFinite("pretrainGreedy", "seed", args.seed);
  const pretrain: PretrainRecipe = {
    ...args.recipe.pretrain,
    ...(args.noise !== undefined ? { noise: args.noise } : {}),
    ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
  };
  if (!(pretrain.noise >= 0 && pretrain.noise < 1))
    throw new Error(`pretrainGreedy: noise must be in [0, 1), got ${pretrain.noise}`);
  checkRecipe({ ...args.recipe, pretrain });
  const seed = args.seed ?? 0;
  const t0 = performance.now();
  const stages: GreedyStage[] = [];
  let input: Dataset = args.data;
  for (const [i, units] of args.sizes.entries()) {
    const stage = i + 1;
    // Pixels are in [0, 1]; sigmoid codes too. ReLU codes are unbounded: reconstruct them linearly.
    const outputActivation = stage === 1 || args.recipe.activation === "sigmoid" ? "sigmoid" : "linear";
    const ae = buildAutoencoder({
      inputDim: input.dim,
      units,
      activation: args.recipe.activation,
      outputActivation,
      tied: pretrain.tied,
      kernelInit: args.recipe.kernelInit,
      seed: seed * 1000 + stage,
      name: `autoencoder${stage}`,
    });
    try {
      const history = await trainAutoencoder(ae, input, {
        epochs: pretrain.epochs,
        noise: pretrain.noise,
        optimizer: pretrain.optimizer,
        learningRate: pretrain.learningRate,
        batchSize: pretrain.batchSize,
        seed: seed * 1000 + stage,
        progress: args.progress,
        stage: `${stage}/${args.sizes.length}`,
      });
      const { encoder, decoder } = autoencoderWeights(ae);
      const s: GreedyStage = { stage, inputDim: input.dim, units, history, encoder, decoder };
      stages.push(s);
      if (args.onStage) await args.onStage(s);
      // Codes of the frozen stack for the next stage, computed once.
      if (stage < args.sizes.length) input = encodeDataset([encoder], input, `${args.data.name}/codes${stage}`);
    } finally {
      ae.dispose();
    }
  }
  return { stages, encoders: stages.map((s) => s.encoder), pretrain, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Pixel-space reconstructions through the first `depth` stages: encode x with encoders 1..depth,
 * then decode with decoders depth..1. x: [n, 784] row-major → [n, 784].
 */
export function reconstructThrough(stages: GreedyStage[], depth: number, x: Float32Array): Float32Array {
  if (!Number.isInteger(depth) || depth < 1 || depth > stages.length) {
    throw new Error(`reconstructThrough: depth must be an integer in 1..${stages.length}, got ${depth}`);
  }
  let h = x;
  for (let k = 0; k < depth; k++) h = applyDense(stages[k].encoder, h);
  for (let k = depth - 1; k >= 0; k--) h = applyDense(stages[k].decoder, h);
  return h;
}

/** The kernel of encoder `w` as images: one row per hidden unit, [units, inputDim] (for filters). */
export function encoderFilters(w: DenseWeights, count = w.units): Float32Array {
  const m = Math.min(count, w.units);
  const out = new Float32Array(m * w.inputDim);
  for (let j = 0; j < m; j++) for (let i = 0; i < w.inputDim; i++) out[j * w.inputDim + i] = w.kernel[i * w.units + j];
  return out;
}

export interface ClassifierArgs {
  /** Features in (784). */
  inputDim: number;
  /** Hidden widths, bottom first. */
  sizes: number[];
  numClasses: number;
  activation: HiddenActivation;
  /** Init of every kernel (head included); biases start at 0. */
  kernelInit: KernelInit;
  seed?: number;
  name?: string;
}

function denseLayer(
  units: number,
  activation: string,
  init: KernelInit,
  seed: number,
  name: string,
  inputDim?: number,
): tf.layers.Layer {
  return tf.layers.dense({
    units,
    // Activation names are tfjs identifiers; tfjs-layers keeps their union type internal.
    activation: activation as "linear",
    kernelInitializer: makeInitializer(init, seed),
    name,
    inputShape: inputDim === undefined ? undefined : [inputDim],
  });
}

/** A deep classifier from scratch: Dense `hidden1..hiddenK` then a softmax `head`. */
export function buildClassifier(args: ClassifierArgs): tf.Sequential {
  checkSizes(args.sizes, "buildClassifier");
  if (args.inputDim !== undefined) checkPositiveInt("buildClassifier", "inputDim", args.inputDim);
  checkPositiveInt("buildClassifier", "numClasses", args.numClasses);
  checkOneOf("buildClassifier", "activation", args.activation, ["sigmoid", "relu"] as const);
  const seed = args.seed ?? 0;
  const model = tf.sequential({ name: args.name ?? "classifier" });
  args.sizes.forEach((units, i) =>
    model.add(
      denseLayer(
        units,
        args.activation,
        args.kernelInit,
        seed * 1000 + i + 1,
        `hidden${i + 1}`,
        i === 0 ? args.inputDim : undefined,
      ),
    ),
  );
  model.add(denseLayer(args.numClasses, "softmax", args.kernelInit, seed * 1000 + 999, "head"));
  return model;
}

export interface StackArgs {
  numClasses: number;
  /** Head kernel init; default N(0, 0.01²). Same seed as buildClassifier's head, so a scratch
   * net and a stacked one of one seed start with the same head. */
  headInit?: KernelInit;
  seed?: number;
  name?: string;
}

/** Appends the encoders as Dense layers hidden1..K holding copies of their weights. */
function addEncoderLayers(model: tf.Sequential, encoders: DenseWeights[]): void {
  encoders.forEach((w, i) =>
    model.add(
      denseLayer(
        w.units,
        w.activation,
        { kind: "glorotUniform" },
        i + 1,
        `hidden${i + 1}`,
        i === 0 ? w.inputDim : undefined,
      ),
    ),
  );
  // The tidy frees the temporaries; the variables keep the values.
  encoders.forEach((w, i) =>
    tf.tidy(() =>
      model.getLayer(`hidden${i + 1}`).setWeights([tf.tensor2d(w.kernel, [w.inputDim, w.units]), tf.tensor1d(w.bias)]),
    ),
  );
}

/**
 * The pretrained encoders (copied: fine-tuning the result leaves them untouched) as layers
 * `hidden1..hiddenK`, plus a fresh softmax `head`: the same architecture as `buildClassifier`.
 */
export function stackEncoders(encoders: DenseWeights[], args: StackArgs): tf.Sequential {
  if (encoders.length === 0) throw new Error("stackEncoders: encoders must hold at least one layer, got none");
  checkPositiveInt("stackEncoders", "numClasses", args.numClasses);
  encoders.forEach((w, i) => {
    if (i > 0 && w.inputDim !== encoders[i - 1].units) {
      throw new Error(
        `stackEncoders: encoder ${i + 1} takes ${w.inputDim} features but encoder ${i} gives ${encoders[i - 1].units}`,
      );
    }
  });
  const model = tf.sequential({ name: args.name ?? "pretrained-classifier" });
  addEncoderLayers(model, encoders);
  model.add(
    denseLayer(
      args.numClasses,
      "softmax",
      args.headInit ?? { kind: "normal", stddev: 0.01 },
      (args.seed ?? 0) * 1000 + 999,
      "head",
    ),
  );
  return model;
}

/** The encoders alone as one model [b, inputDim] -> [b, last units] (layers hidden1..K): the
 * pretrained stack as saved to the artifact cache and reused by later lessons. */
export function encoderStackModel(encoders: DenseWeights[], name = "pretrained-stack"): tf.Sequential {
  if (encoders.length === 0) throw new Error("encoderStackModel: encoders must hold at least one layer, got none");
  const model = tf.sequential({ name });
  addEncoderLayers(model, encoders);
  return model;
}

/** The Dense layers named hidden1, hidden2, … of a model, as DenseWeights (inverse of encoderStackModel). */
export function encodersFromModel(model: tf.LayersModel): DenseWeights[] {
  const out: DenseWeights[] = [];
  for (let i = 1; ; i++) {
    const layer = model.layers.find((l) => l.name === `hidden${i}`);
    if (!layer) break;
    const [k, b] = layer.getWeights();
    const [inputDim, units] = k.shape as [number, number];
    const activation = layer.getConfig().activation as DenseWeights["activation"];
    out.push({
      kernel: (k.dataSync() as Float32Array).slice(),
      bias: (b.dataSync() as Float32Array).slice(),
      inputDim,
      units,
      activation,
    });
  }
  if (out.length === 0)
    throw new Error(
      `encodersFromModel: model ${model.name} has no layer named hidden1 (layers: ${model.layers.map((l) => l.name).join(", ")})`,
    );
  return out;
}
