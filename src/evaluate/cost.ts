// What a training step costs, counted and measured. Counted: the matrix-product FLOPs of the forward
// pass and of the backward pass a model needs given which of its weights train (a frozen layer still
// runs forward, and backward too when something below it trains; the lowest layers need no backward
// at all when nothing under them trains), and the bound they give for a uniform stack, 3 / (1 + 2f).
// Measured: the time of one step split into forward, backward and update, and tensor memory from
// tf.memory() — weights, gradients, optimizer state and the activations a step holds for its backward.
import * as tf from "@tensorflow/tfjs";
import { DotProductAttention } from "../models/attention";
import { LoraDense } from "../adapt/lora/layer";
import { checkIntInRange, checkPositiveInt, checkShape } from "../core/validate";

/** Bytes of one float32 value. */
export const FLOAT32_BYTES = 4;

/** One matrix product of a model (per example), with what its backward pass needs. */
export interface OpFlops {
  /** Layer name, with the part for LoRA layers ("block0_q:base", ":A", ":B") and attention ("block0_attn"). */
  op: string;
  /** FLOPs (2 per multiply-add) of the forward product, per example. */
  forward: number;
  /** FLOPs of the gradient of its weights (as many as the forward; 0 when frozen or weightless). */
  weightGrad: number;
  /** FLOPs of the gradient of its input(s), needed only when a trainable weight lies below it
   * (as many as the forward for x·W, twice for attention's two products of two inputs each). */
  inputGrad: number;
  /** Whether its weights train. */
  trainable: boolean;
}

/** Matrix-product FLOPs of one training step, per example. Element-wise work (LayerNorm, GELU,
 * softmax, adds, the optimizer) is left out: it costs memory traffic, not multiply-adds. */
export interface StepFlops {
  ops: OpFlops[];
  forward: number;
  backward: number;
  /** forward + backward. */
  total: number;
  /** Parameters of the model, and those that train. */
  params: number;
  trainableParams: number;
}

function rowsAndIn(shape: tf.Shape, where: string): { rows: number; inDim: number } {
  const dims = shape.slice(1);
  if (dims.some((d) => d == null)) throw new Error(`${where}: input shape [${shape.join(", ")}] must be known`);
  const inDim = dims[dims.length - 1] as number;
  const rows = (dims as number[]).slice(0, -1).reduce((a, b) => a * b, 1);
  return { rows, inDim };
}

/** The matrix products of a Dense/LoraDense/attention model in layer order, per example, with the
 * backward work each needs given which weights train now (tfjs `trainable` flags). Layers are taken
 * in the model's topological order: "below" means earlier in it, as in a stack of residual blocks. */
export function trainingStepFlops(model: tf.LayersModel): StepFlops {
  const raw: { op: string; forward: number; trainable: boolean; weightless: boolean }[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (layer instanceof LoraDense) {
      const { rows, inDim } = rowsAndIn(layer.input instanceof Array ? layer.input[0].shape : layer.input.shape, cls);
      const out = layer.units;
      raw.push({ op: `${layer.name}:base`, forward: 2 * rows * inDim * out, trainable: false, weightless: false });
      if (!layer.merged) {
        const on = layer.trainable;
        raw.push({ op: `${layer.name}:A`, forward: 2 * rows * inDim * layer.r, trainable: on, weightless: false });
        raw.push({ op: `${layer.name}:B`, forward: 2 * rows * layer.r * out, trainable: on, weightless: false });
      }
    } else if (cls === "Dense") {
      const { rows, inDim } = rowsAndIn((layer.input as tf.SymbolicTensor).shape, cls);
      const out = (layer.getConfig().units as number) ?? 0;
      const trainable = layer.trainable && layer.trainableWeights.length > 0;
      raw.push({ op: layer.name, forward: 2 * rows * inDim * out, trainable, weightless: false });
    } else if (layer instanceof DotProductAttention) {
      const q = (layer.input as tf.SymbolicTensor[])[0].shape; // [b, T, d]
      const t = q[1] as number;
      const d = q[2] as number;
      raw.push({ op: layer.name, forward: 4 * t * t * d, trainable: false, weightless: true }); // Q·Kᵀ and A·V
    } else if (layer.weights.length > 0) {
      // LayerNorm, position embedding: no matrix product, but their weights need the gradient of
      // their output when they train, so the products above them must pass it down.
      const trainable = layer.trainable && layer.trainableWeights.length > 0;
      raw.push({ op: layer.name, forward: 0, trainable, weightless: false });
    }
  }
  let trainableBelow = false;
  const ops: OpFlops[] = raw.map((o) => {
    const inputGrad = trainableBelow ? (o.weightless ? 2 : 1) * o.forward : 0;
    const weightGrad = o.trainable ? o.forward : 0;
    if (o.trainable) trainableBelow = true;
    return { op: o.op, forward: o.forward, weightGrad, inputGrad, trainable: o.trainable };
  });
  const forward = ops.reduce((s, o) => s + o.forward, 0);
  const backward = ops.reduce((s, o) => s + o.weightGrad + o.inputGrad, 0);
  const trainableParams = model.trainableWeights.reduce((s, w) => s + sizeOf(w.shape), 0);
  return { ops, forward, backward, total: forward + backward, params: model.countParams(), trainableParams };
}

function sizeOf(shape: (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** The FLOP ratio full training / training with only the top fraction f of a uniform stack: the
 * forward (1 unit) runs through every layer, the backward (2 units: input and weight gradients)
 * only through the trainable top, so 3 / (1 + 2f). 2× at f = 0.25, 3× at f = 0 (and no more). */
export function freezeFlopBound(trainableFraction: number): number {
  const f = trainableFraction;
  if (!(f >= 0 && f <= 1)) throw new Error(`freezeFlopBound: trainableFraction must be in [0, 1], got ${f}`);
  return 3 / (1 + 2 * f);
}

/** A claim about the cost of freezing, as made in the sources a learner meets. */
export interface FreezeCostClaim {
  claim: string;
  /** Share of layers frozen. */
  frozenFraction: number;
  /** "time" (training speed-up), "compute" (FLOPs) or "gradient memory" (reduction as a fraction). */
  kind: "time" | "compute" | "gradient memory";
  /** The claimed factor (×) for time and compute; the claimed reduction (fraction) for memory. */
  value: number;
}

/** The claims this lesson sets beside its measurements. */
export const FREEZE_COST_CLAIMS: readonly FreezeCostClaim[] = [
  { claim: "BERT-Base, 75 % of layers frozen: 3.2× faster training", frozenFraction: 0.75, kind: "time", value: 3.2 },
  { claim: "T5-Large, 80 % frozen: 4.7× faster", frozenFraction: 0.8, kind: "time", value: 4.7 },
  { claim: "GPT-3, 80 % frozen: 5× less compute", frozenFraction: 0.8, kind: "compute", value: 5 },
  {
    claim: "freezing (2/3 of layers): ~66 % less gradient memory",
    frozenFraction: 2 / 3,
    kind: "gradient memory",
    value: 0.66,
  },
];

/** One training step of a model on one batch, timed and its tensor memory accounted (bytes). */
export interface StepCost {
  batchSize: number;
  trainableParams: number;
  params: number;
  /** Median milliseconds over the timed steps: the forward pass (with the loss), forward + backward
   * (tf.variableGrads), and the optimizer's update; backward = forwardBackward − forward. */
  forwardMs: number;
  backwardMs: number;
  updateMs: number;
  stepMs: number;
  /** Bytes of the model's weights (all of them, frozen or not). */
  weightBytes: number;
  /** Bytes tf.memory() gained while a step's gradients were held (the gradients and the loss). */
  gradientBytes: number;
  /** Bytes tf.memory() gained when the optimizer took its first step and kept its state (Adam: two
   * moments per trainable value, plus its step counters). */
  optimizerBytes: number;
  /** Bytes tf.memory() held at the end of the forward pass inside the gradient scope, beyond the
   * batch: the activations tfjs keeps for the backward pass (tfjs keeps every intermediate of a
   * tape, frozen layers' included). */
  activationBytes: number;
  /** Peak bytes of a whole step (tf.profile) above what was held before it. */
  peakStepBytes: number;
  /** What the accounting predicts: 4 bytes per trainable value for gradients, 8 for Adam's moments. */
  expectedGradientBytes: number;
  expectedOptimizerBytes: number;
}

export interface MeasureStepArgs {
  /** Flat inputs [b, dim] of the batch. */
  x: tf.Tensor2D;
  /** Integer labels of the batch. */
  labels: Int32Array;
  numClasses: number;
  /** Steps timed after `warmup` untimed ones (default 5 and 1). */
  steps?: number;
  warmup?: number;
  learningRate?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times and accounts one Adam training step of `model` as it is now frozen (it trains: its weights
 * change; pass a copy). Reads back a value after each phase, so each time includes its kernels. */
export async function measureTrainingStep(model: tf.LayersModel, args: MeasureStepArgs): Promise<StepCost> {
  const where = "measureTrainingStep";
  const dim = model.inputs[0].shape[1];
  checkShape(where, "x", args.x, [null, dim], ["batch"]);
  const b = args.x.shape[0];
  if (args.labels.length !== b)
    throw new Error(`${where}: labels has ${args.labels.length} entries, the batch x has ${b} rows`);
  checkPositiveInt(where, "numClasses", args.numClasses);
  const steps = args.steps ?? 5;
  const warmup = args.warmup ?? 1;
  checkPositiveInt(where, "steps", steps);
  checkIntInRange(where, "warmup", warmup, 0, 1000);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (vars.length === 0) throw new Error(`${where}: the model has no trainable weights`);
  const trainableParams = vars.reduce((s, v) => s + v.size, 0);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(args.labels, "int32"), args.numClasses).toFloat());
  const lossOf = () =>
    tf.metrics.categoricalCrossentropy(y, model.apply(args.x, { training: true }) as tf.Tensor).mean() as tf.Scalar;
  const optimizer: tf.Optimizer = tf.train.adam(args.learningRate ?? 1e-4);
  const forward: number[] = [];
  const fwdBwd: number[] = [];
  const update: number[] = [];
  let gradientBytes = 0;
  let optimizerBytes = 0;
  let activationBytes = 0;
  let peakStepBytes = 0;
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const t0 = performance.now();
      tf.tidy(() => lossOf().dataSync());
      const t1 = performance.now();
      const before = tf.memory().numBytes;
      let afterForward = before;
      const { value, grads } = tf.variableGrads(() => {
        const l = lossOf();
        afterForward = tf.memory().numBytes;
        return l;
      }, vars);
      grads[vars[0].name].dataSync();
      const t2 = performance.now();
      const held = tf.memory().numBytes - before;
      const beforeUpdate = tf.memory().numBytes;
      optimizer.applyGradients(grads);
      vars[vars.length - 1].dataSync();
      const t3 = performance.now();
      const optimizerGain = tf.memory().numBytes - beforeUpdate;
      tf.dispose([value, ...Object.values(grads)]);
      if (s === 0) {
        gradientBytes = held;
        optimizerBytes = optimizerGain;
        activationBytes = afterForward - before;
      }
      if (s >= warmup) {
        forward.push(t1 - t0);
        fwdBwd.push(t2 - t1);
        update.push(t3 - t2);
      }
    }
    const start = tf.memory().numBytes;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(lossOf, vars);
      optimizer.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    });
    peakStepBytes = Math.max(0, profile.peakBytes - start);
  } finally {
    optimizer.dispose();
    y.dispose();
  }
  const fwd = median(forward);
  const fb = median(fwdBwd);
  const upd = median(update);
  return {
    batchSize: b,
    trainableParams,
    params: model.countParams(),
    forwardMs: fwd,
    backwardMs: Math.max(0, fb - fwd),
    updateMs: upd,
    stepMs: fb + upd,
    weightBytes: model.weights.reduce((s, w) => s + FLOAT32_BYTES * sizeOf(w.shape), 0),
    gradientBytes,
    optimizerBytes,
    activationBytes,
    peakStepBytes,
    expectedGradientBytes: FLOAT32_BYTES * trainableParams,
    expectedOptimizerBytes: 2 * FLOAT32_BYTES * trainableParams,
  };
}

/** Median milliseconds of model.predict on x over `repeats` calls (after one untimed call). */
export function inferenceMs(model: tf.LayersModel, x: tf.Tensor2D, repeats = 5): number {
  checkPositiveInt("inferenceMs", "repeats", repeats);
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const t0 = performance.now();
    tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    if (i > 0) times.push(performance.now() - t0);
  }
  return median(times);
}
