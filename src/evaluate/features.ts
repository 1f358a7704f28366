// Frozen features: what each layer of a model represents. Feature extraction at any layer,
// linear probes per layer, a 2-D PCA projection (power iteration on the covariance, tf ops),
// and the feature-cache trick (compute frozen features once, train the head on them).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { normalSampler, rng } from "../core/random";
import { baseLayers, freezeTo } from "../adapt/freezing";
import { HEAD_LAYER } from "../models/mlp";
import { cloneModel } from "../models/surgery";
import { fit, type FitArgs, type History } from "../train/fit";
import { evaluateAccuracy, DEFAULT_EVAL_BATCH } from "../models/predict";
import { argError, checkNonNegativeInt, checkPositiveInt, show } from "../core/validate";
import { checkDataset, checkModelTakes } from "../data/check";
import { medianOf } from "../core/stats";

/** Layer name meaning "the raw input" (pixels) for extraction and probes. */
export const INPUT_FEATURES = "input";

/** Outputs of `layerName` (or the raw inputs for INPUT_FEATURES) for every row, as a Dataset with
 * the same labels: [n, units] in JS memory. Leaves no tensors behind. */
export function extractFeatures(
  model: tf.LayersModel,
  layerName: string,
  data: Dataset,
  batchSize = DEFAULT_EVAL_BATCH,
): Dataset {
  checkDataset("extractFeatures", "data", data, { nonEmpty: false });
  checkPositiveInt("extractFeatures", "batchSize", batchSize);
  if (layerName === INPUT_FEATURES) return { ...data, name: `${data.name}|input` };
  checkModelTakes("extractFeatures", "data", model, data);
  const layer = model.layers.find((l) => l.name === layerName);
  if (!layer)
    throw argError(
      "extractFeatures",
      "layerName",
      `${JSON.stringify(INPUT_FEATURES)} or a layer of the model (layers: ${model.layers.map((l) => l.name).join(", ")})`,
      show(layerName),
    );
  // Shares the model's layers and weights: never dispose it (that would dispose them).
  const sub = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
  const dim = (layer.outputShape as number[])[1];
  const x = new Float32Array(data.n * dim);
  for (let from = 0; from < data.n; from += batchSize) {
    const to = Math.min(data.n, from + batchSize);
    const f = tf.tidy(
      () =>
        sub.predict(tf.tensor2d(data.x.subarray(from * data.dim, to * data.dim), [to - from, data.dim])) as tf.Tensor2D,
    ); // [b, dim]
    x.set(f.dataSync() as Float32Array, from * dim);
    f.dispose();
  }
  return { x, y: data.y, n: data.n, dim, numClasses: data.numClasses, name: `${data.name}|${layerName}` };
}

/** A softmax regression (one Dense softmax layer) on `inputDim` features. */
export function softmaxRegression(inputDim: number, numClasses: number, seed = 0): tf.LayersModel {
  checkPositiveInt("softmaxRegression", "inputDim", inputDim);
  checkPositiveInt("softmaxRegression", "numClasses", numClasses);
  const input = tf.input({ shape: [inputDim] });
  const out = tf.layers
    .dense({
      units: numClasses,
      activation: "softmax",
      name: HEAD_LAYER,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

export interface LinearProbeArgs {
  model: tf.LayersModel;
  train: Dataset;
  test: Dataset;
  /** Validation data of the same task: each probe keeps the weights of the epoch (1..`epochs`) with the
   * highest validation accuracy (ties: the earliest), so its training length is chosen on validation
   * and test is scored once, with those weights. Without it every probe trains exactly `epochs`. */
  val?: Dataset;
  /** Layers to probe (default: the input, then every base layer bottom to top). */
  layers?: string[];
  /** Epochs of each probe (with `val`: the most it may train). */
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  seed?: number;
}

/** One layer's probe. */
export interface ProbeResult {
  layer: string;
  /** Width of the layer's output (784 for the input). */
  dim: number;
  /** Held-out (test) accuracy of the probe: scored once, with the weights chosen on validation. */
  accuracy: number;
  /** Validation accuracy of the chosen weights (null without `val`). */
  valAccuracy: number | null;
  /** Epochs the reported probe had trained (chosen on validation when `val` was given). */
  epochs: number;
}

export const DEFAULT_PROBE_EPOCHS = 30;
export const DEFAULT_PROBE_LEARNING_RATE = 1e-2;

/** Test accuracy of a softmax regression trained on each layer's frozen features; with `val`, the
 * number of epochs is chosen per layer on validation (early stopping by checkpoint). */
export async function linearProbe(args: LinearProbeArgs): Promise<ProbeResult[]> {
  const where = "linearProbe";
  const epochs = args.epochs ?? DEFAULT_PROBE_EPOCHS;
  checkNonNegativeInt(where, "epochs", epochs);
  if (args.val !== undefined) {
    checkDataset(where, "val", args.val);
    if (args.val.numClasses !== args.train.numClasses || args.val.dim !== args.train.dim)
      throw argError(
        where,
        "val",
        `a dataset like train (${args.train.numClasses} classes, ${args.train.dim} features)`,
        `${args.val.numClasses} classes, ${args.val.dim} features`,
      );
  }
  const layers = args.layers ?? [INPUT_FEATURES, ...baseLayers(args.model).map((l) => l.name)];
  const out: ProbeResult[] = [];
  for (const name of layers) {
    const tr = extractFeatures(args.model, name, args.train);
    const te = extractFeatures(args.model, name, args.test);
    const va = args.val ? extractFeatures(args.model, name, args.val) : undefined;
    const probe = softmaxRegression(tr.dim, tr.numClasses, args.seed ?? 0);
    // The best validation epoch so far, with a copy of its weights (getWeights returns the variables).
    const kept: { best: { epoch: number; valAccuracy: number; weights: tf.Tensor[] } | null } = { best: null };
    try {
      await fit(probe, tr, {
        epochs,
        learningRate: args.learningRate ?? DEFAULT_PROBE_LEARNING_RATE,
        batchSize: args.batchSize ?? 64,
        seed: args.seed ?? 0,
        progress: false,
        validation: va,
        onEpochEnd: (epoch, logs) => {
          const acc = logs.valAccuracy;
          if (acc === undefined || (kept.best !== null && !(acc > kept.best.valAccuracy))) return;
          kept.best?.weights.forEach((w) => w.dispose());
          kept.best = { epoch: epoch + 1, valAccuracy: acc, weights: probe.getWeights().map((w) => w.clone()) };
        },
      });
      const best = kept.best;
      if (best) probe.setWeights(best.weights);
      out.push({
        layer: name,
        dim: tr.dim,
        accuracy: evaluateAccuracy(probe, te),
        valAccuracy: best ? best.valAccuracy : va ? evaluateAccuracy(probe, va) : null,
        epochs: best ? best.epoch : epochs,
      });
    } finally {
      kept.best?.weights.forEach((w) => w.dispose());
      probe.dispose();
    }
  }
  return out;
}

export interface Pca {
  /** Rows projected on the top components: [n, k] row-major. */
  projection: Float32Array;
  /** Principal directions, each [dim] with unit norm. */
  components: Float32Array[];
  /** Variance along each component (eigenvalues of the covariance). */
  explainedVariance: number[];
  /** Share of the total variance along each component. */
  explainedRatio: number[];
}

export interface PcaArgs {
  /** Components kept (default 2). */
  components?: number;
  /** Power-iteration steps per component (default 200). */
  iterations?: number;
  seed?: number;
}

/**
 * PCA by power iteration with deflation on the covariance C = XcᵀXc/(n−1) (Xc centered):
 * v ← Cv/|Cv| converges to the top eigenvector; then C ← C − λvvᵀ and repeat. Signs are fixed
 * so each component's largest entry is positive. Leaves no tensors behind.
 */
export function pca(x: Float32Array, n: number, dim: number, args: PcaArgs = {}): Pca {
  const k = args.components ?? 2;
  if (!Number.isInteger(k) || k < 1 || k > dim)
    throw new Error(`pca: components must be an integer in [1, ${dim}], got ${k}`);
  if (n < 2 || x.length !== n * dim)
    throw new Error(`pca: need at least 2 rows and x of n·dim = ${n * dim} values, got n = ${n}, ${x.length} values`);
  const iters = args.iterations ?? 200;
  return tf.tidy(() => {
    const X = tf.tensor2d(x, [n, dim]);
    const Xc = X.sub(X.mean(0)); // [n, dim]
    let C = tf.matMul(Xc, Xc, true, false).div(n - 1) as tf.Tensor2D; // [dim, n] x [n, dim] -> [dim, dim]
    const total = C.mul(tf.eye(dim)).sum().dataSync()[0]; // trace = total variance
    const components: Float32Array[] = [];
    const variances: number[] = [];
    for (let c = 0; c < k; c++) {
      // Start vector drawn in JS (tf.randomNormal ignores seed 0), so the result repeats exactly.
      const gauss = normalSampler(rng(`pca:${args.seed ?? 0}:${c}`));
      let v = tf.tensor2d(
        Float32Array.from({ length: dim }, () => gauss()),
        [dim, 1],
      );
      for (let i = 0; i < iters; i++) {
        const next = tf.tidy(() => {
          const w = tf.matMul(C, v); // [dim, dim] x [dim, 1] -> [dim, 1]
          return w.div(w.norm().add(1e-12)) as tf.Tensor2D;
        });
        v.dispose();
        v = next;
      }
      const lambda = tf.matMul(tf.matMul(v, C, true, false), v).dataSync()[0]; // vᵀCv
      const vals = Float32Array.from(v.dataSync() as Float32Array);
      let big = 0;
      for (let j = 1; j < dim; j++) if (Math.abs(vals[j]) > Math.abs(vals[big])) big = j;
      if (vals[big] < 0) for (let j = 0; j < dim; j++) vals[j] = -vals[j];
      components.push(vals);
      variances.push(Math.max(0, lambda));
      C = C.sub(tf.matMul(v, v, false, true).mul(lambda)) as tf.Tensor2D; // deflate: C − λvvᵀ
    }
    const W = tf.tensor2d(
      components.flatMap((cmp) => Array.from(cmp)),
      [k, dim],
    ); // [k, dim]
    const projection = tf.matMul(Xc, W, false, true).dataSync() as Float32Array; // [n, dim] x [dim, k] -> [n, k]
    return {
      projection: Float32Array.from(projection),
      components,
      explainedVariance: variances,
      explainedRatio: variances.map((v) => (total > 0 ? v / total : 0)),
    };
  });
}

/** Share of the variance of features x ([n, dim]) that lies between class means:
 * trace(S_between) / trace(S_total), in [0, 1]; 1 = every class collapses to its mean. */
export function classSeparation(
  x: Float32Array,
  n: number,
  dim: number,
  labels: ArrayLike<number>,
  numClasses: number,
): number {
  if (x.length !== n * dim || labels.length !== n)
    throw new Error(
      `classSeparation: x must hold n·dim = ${n * dim} values and labels n = ${n}, got ${x.length} and ${labels.length}`,
    );
  const mean = new Float64Array(dim);
  const classMean = Array.from({ length: numClasses }, () => new Float64Array(dim));
  const count = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    count[labels[i]]++;
    for (let j = 0; j < dim; j++) {
      mean[j] += x[i * dim + j] / n;
      classMean[labels[i]][j] += x[i * dim + j];
    }
  }
  let between = 0;
  let total = 0;
  for (let c = 0; c < numClasses; c++) {
    if (!count[c]) continue;
    for (let j = 0; j < dim; j++) between += count[c] * (classMean[c][j] / count[c] - mean[j]) ** 2;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) total += (x[i * dim + j] - mean[j]) ** 2;
  return total > 0 ? between / total : 0;
}

/**
 * Multiply-adds ×2 of one training example through a dense stack: forward 2·P over all
 * layers; backward 2·P_l for each trained layer's weight gradient, plus 2·P_l for the gradient
 * of its input when some trained layer lies below it. Frozen-base training skips both.
 */
export function trainingFlopsPerExample(model: tf.LayersModel): { forward: number; backward: number; total: number } {
  const dense = model.layers.filter((l) => l.getClassName() === "Dense");
  const params = dense.map((l) => l.countParams());
  const forward = 2 * params.reduce((a, b) => a + b, 0);
  let backward = 0;
  const lowestTrained = dense.findIndex((l) => l.trainable);
  dense.forEach((l, i) => {
    if (l.trainable) backward += 2 * params[i]; // dL/dW_i = x_iᵀ · δ_i
    if (lowestTrained >= 0 && i > lowestTrained) backward += 2 * params[i]; // δ_{i-1} = δ_i · W_iᵀ
  });
  return { forward, backward, total: forward + backward };
}

export interface FeatureCacheArgs {
  /** A model whose base is frozen for the comparison (a copy is made; the input is not changed). */
  model: tf.LayersModel;
  train: Dataset;
  test: Dataset;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
}

export interface FeatureCacheResult {
  /** Training the head with every step running the frozen base forward. */
  endToEnd: { secondsPerEpoch: number; accuracy: number };
  /** Features computed once, then the head trained on them. */
  cached: { extractSeconds: number; secondsPerEpoch: number; accuracy: number };
  /** endToEnd / cached seconds per epoch. */
  speedupPerEpoch: number;
  /** Whole runs: E·t_e2e / (t_extract + E·t_cached). */
  speedupTotal: number;
}

/** Times head-only training both ways, from the same head initialization and batch order, so
 * the two heads should end up (numerically almost) the same. */
export async function compareFeatureCache(args: FeatureCacheArgs): Promise<FeatureCacheResult> {
  const fitArgs: FitArgs = {
    epochs: args.epochs,
    batchSize: args.batchSize ?? 64,
    learningRate: args.learningRate ?? 1e-3,
    seed: args.seed ?? 0,
    progress: false,
  };
  const e2e = cloneModel(args.model);
  const headInit = e2e
    .getLayer(HEAD_LAYER)
    .getWeights()
    .map((w) => w.clone());
  let head: tf.LayersModel | null = null;
  let h1: History, h2: History, e2eAcc: number, cachedAcc: number, extractSeconds: number;
  try {
    freezeTo(e2e, -1);
    h1 = await fit(e2e, args.train, fitArgs);
    e2eAcc = evaluateAccuracy(e2e, args.test);
    const featureLayer = baseLayers(e2e).slice(-1)[0].name;
    const t0 = performance.now();
    const trainF = extractFeatures(e2e, featureLayer, args.train);
    extractSeconds = (performance.now() - t0) / 1000;
    const testF = extractFeatures(e2e, featureLayer, args.test);
    head = softmaxRegression(trainF.dim, trainF.numClasses);
    head.getLayer(HEAD_LAYER).setWeights(headInit);
    h2 = await fit(head, trainF, fitArgs);
    cachedAcc = evaluateAccuracy(head, testF);
  } finally {
    headInit.forEach((w) => w.dispose());
    head?.dispose();
    e2e.dispose();
  }
  const a = medianOf(h1.secondsPerEpoch);
  const b = medianOf(h2.secondsPerEpoch);
  return {
    endToEnd: { secondsPerEpoch: a, accuracy: e2eAcc },
    cached: { extractSeconds, secondsPerEpoch: b, accuracy: cachedAcc },
    speedupPerEpoch: a / b,
    speedupTotal: (args.epochs * a) / (extractSeconds + args.epochs * b),
  };
}
