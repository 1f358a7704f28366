// The training loop every lesson uses: a custom loop over seeded mini-batches that trains exactly
// the model's trainable weights at call time (no compile step, so freezing takes effect on the
// next call), with per-layer learning-rate multipliers, live progress, history and timing.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { shuffledIndices, subSeed } from "../core/random";
import type { ProgressReporter } from "../core/progress";
import {
  argError,
  checkFinite,
  checkNonNegativeInt,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  show,
} from "../core/validate";
import { checkDataset, checkModelTakes } from "../data/check";
import { InterruptedError, interruptCheck } from "../core/interrupt";
import { gatherRows } from "../data/batches";
import { OPTIMIZER_NAMES, type OptimizerName } from "../models/recipes";
import { evaluateAccuracy } from "../models/predict";

export type LossName = "crossentropy" | "mse" | "bce";
export const LOSS_NAMES: readonly LossName[] = ["crossentropy", "mse", "bce"];

export const DEFAULT_BATCH_SIZE = 64;
export const DEFAULT_LEARNING_RATE = 1e-3;
/** Losses are read back from the device every this many steps (and at each epoch end). */
export const DEFAULT_LOSS_EVERY = 20;

export interface FitArgs {
  /** Passes over the data. */
  epochs: number;
  /** Examples per step; the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Seed of the per-epoch shuffles (epoch e uses a stream derived from it). */
  seed?: number;
  /** Optimizer by name, or a factory given the (per-group) learning rate. */
  optimizer?: OptimizerName | ((learningRate: number) => tf.Optimizer);
  learningRate?: number;
  /** crossentropy: softmax outputs vs integer labels; mse/bce: outputs vs the target. */
  loss?: LossName;
  /** What the model should output: the labels (classifiers) or its own inputs (autoencoders). */
  target?: "labels" | "inputs";
  /** Applied to each input batch before the forward pass (e.g. masking noise for denoising);
   * the target stays the clean batch. Runs inside a tidy: return a new tensor. */
  inputTransform?: (x: tf.Tensor2D, step: number) => tf.Tensor2D;
  /** Learning-rate multiplier per top-level layer name (discriminative learning rates); layers
   * not named get 1. Implemented with one optimizer per distinct multiplier, so it also holds
   * for Adam (whose steps do not scale with the gradient). */
  layerLearningRates?: Record<string, number>;
  /** Held-out data scored (accuracy) at the end of every epoch. */
  validation?: Dataset;
  /** Shows the run's progress (e.g. show/progress.ts's `progressLine("fine-tune")`); none when
   * absent or false. The loop only calls it, so it runs the same where nothing is displayed. */
  progress?: ProgressReporter | false;
  /** Stage of a larger job, passed to the reporter (e.g. "2/5" for a greedy stage). */
  stage?: string;
  /** Read the running loss back every this many steps. */
  lossEvery?: number;
  /** Called after every epoch with that epoch's numbers. */
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | Promise<void>;
  /** A scalar added to the data loss inside the gradient closure at every step (e.g. an L2-SP or
   * EWC penalty from adapt/forgetting.ts, whose loss() reads the model's own weight variables).
   * Called inside the step's tidy; must return a rank-0 tensor. The reported loss (History.loss)
   * is then the objective trained: data loss + penalty; History.dataLoss holds the data loss alone.
   * Absent: the step is unchanged. */
  penalty?: () => tf.Scalar;
  /** Rehearsal: each step appends `perBatch` rows of `data` (with their own labels) after the
   * batch's rows, so the step's loss is the mean over batch + replay rows. The rows come from a
   * stream seeded by fit's seed (subSeed(seed, "replay<pass>")): seeded permutations of `data`
   * taken in turn, so every replay row is used once before any is used again. Same dim and
   * numClasses as the training data and, when the target is "labels", labels in 0..numClasses−1.
   * Steps per epoch still count the training rows only.
   * Absent: the step is unchanged. */
  replay?: FitReplay;
}

/** Rows of another dataset mixed into every step (see FitArgs.replay). */
export interface FitReplay {
  data: Dataset;
  /** Replay rows appended to every step's batch. */
  perBatch: number;
}

export interface EpochLogs {
  loss: number;
  /** The data loss alone (without the penalty), when `penalty` was given. */
  dataLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

export interface History {
  /** Mean training loss per epoch (with `penalty`: data loss + penalty, the objective trained). */
  loss: number[];
  /** Mean data loss per epoch without the penalty (the penalty at epoch e is loss[e] − dataLoss[e]);
   * only when `penalty` was given. */
  dataLoss?: number[];
  /** Validation accuracy per epoch, when `validation` was given. */
  valAccuracy?: number[];
  secondsPerEpoch: number[];
  /** Wall seconds of the whole call. */
  seconds: number;
  /** Parameters that were trained in this call. */
  trainableParams: number;
  steps: number;
}

interface Group {
  multiplier: number;
  vars: tf.Variable[];
  optimizer: tf.Optimizer;
}

function makeOptimizer(opt: FitArgs["optimizer"], lr: number): tf.Optimizer {
  if (typeof opt === "function") return opt(lr);
  switch (opt ?? "adam") {
    case "adam":
      return tf.train.adam(lr);
    case "sgd":
      return tf.train.sgd(lr);
    case "momentum":
      return tf.train.momentum(lr, 0.9);
    default:
      throw new Error(`fit: optimizer must be "adam", "sgd", "momentum" or a factory, got ${JSON.stringify(opt)}`);
  }
}

/** The variables fit() would train now, grouped by learning-rate multiplier. */
function trainableGroups(model: tf.LayersModel, args: FitArgs, lr: number): Group[] {
  const mults = args.layerLearningRates ?? {};
  const names = new Set(model.layers.map((l) => l.name));
  for (const [name, m] of Object.entries(mults)) {
    if (!names.has(name)) {
      throw new Error(
        `fit: layerLearningRates names layer ${JSON.stringify(name)}, which the model does not have (layers: ${[...names].join(", ")})`,
      );
    }
    if (!(m >= 0) || !Number.isFinite(m)) {
      throw new Error(`fit: layerLearningRates[${JSON.stringify(name)}] must be a finite number >= 0, got ${m}`);
    }
  }
  const byMult = new Map<number, tf.Variable[]>();
  for (const layer of model.layers) {
    if (!layer.trainable) continue;
    const m = mults[layer.name] ?? 1;
    if (m === 0) continue;
    // LayerVariable.read() returns the backing tf.Variable (typed as Tensor by tfjs-layers).
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    if (vars.length === 0) continue;
    byMult.set(m, [...(byMult.get(m) ?? []), ...vars]);
  }
  return [...byMult.entries()].map(([multiplier, vars]) => ({
    multiplier,
    vars,
    optimizer: makeOptimizer(args.optimizer, lr * multiplier),
  }));
}

/** Number of scalars in the weights fit() would train now. */
export function countTrainable(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

function lossFn(name: LossName, pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  switch (name) {
    case "crossentropy":
      // pred: softmax probabilities [b, C]; target: one-hot [b, C]
      return tf.metrics.categoricalCrossentropy(target, pred).mean() as tf.Scalar;
    case "mse":
      return tf.losses.meanSquaredError(target, pred) as tf.Scalar;
    case "bce":
      return tf.metrics.binaryCrossentropy(target, pred).mean() as tf.Scalar;
    default:
      throw new Error(`fit: loss must be "crossentropy", "mse" or "bce", got ${JSON.stringify(name)}`);
  }
}

function checkArgs(model: tf.LayersModel, data: Dataset, args: FitArgs): void {
  checkNonNegativeInt("fit", "epochs", args.epochs);
  checkPositiveInt("fit", "batchSize", args.batchSize ?? DEFAULT_BATCH_SIZE);
  checkPositiveFinite("fit", "learningRate", args.learningRate ?? DEFAULT_LEARNING_RATE);
  checkPositiveInt("fit", "lossEvery", args.lossEvery ?? DEFAULT_LOSS_EVERY);
  if (args.seed !== undefined) checkFinite("fit", "seed", args.seed);
  if (typeof args.optimizer !== "function")
    checkOneOf(
      "fit",
      "optimizer",
      args.optimizer ?? "adam",
      OPTIMIZER_NAMES,
      "or a factory (learningRate) => tf.Optimizer",
    );
  checkOneOf("fit", "loss", args.loss ?? "crossentropy", LOSS_NAMES);
  checkOneOf("fit", "target", args.target ?? "labels", ["labels", "inputs"] as const);
  checkDataset("fit", "data", data);
  checkModelTakes("fit", "data", model, data);
  if (args.validation !== undefined) {
    checkDataset("fit", "validation", args.validation);
    checkModelTakes("fit", "validation", model, args.validation);
  }
  if (args.penalty !== undefined && typeof args.penalty !== "function")
    throw argError("fit", "penalty", "a function () => tf.Scalar (e.g. l2spPenalty(...).loss)", show(args.penalty));
  if (args.replay !== undefined) {
    const r = args.replay as Partial<FitReplay> | null;
    if (r === null || typeof r !== "object")
      throw argError("fit", "replay", "an object { data: Dataset, perBatch: number }", show(r));
    checkDataset("fit", "replay.data", r.data);
    checkPositiveInt("fit", "replay.perBatch", r.perBatch);
    checkModelTakes("fit", "replay.data", model, r.data);
    if (r.data.dim !== data.dim)
      throw argError("fit", "replay.data.dim", `the training data's dim ${data.dim}`, String(r.data.dim));
    if (r.data.numClasses !== data.numClasses)
      throw argError(
        "fit",
        "replay.data.numClasses",
        `the training data's numClasses ${data.numClasses}`,
        String(r.data.numClasses),
        `dataset ${show(r.data.name)}`,
      );
    // A label outside 0..C−1 (e.g. −1 for "unlabelled") one-hots to a zero row: its loss would be 0
    // and the replay would silently do nothing.
    if ((args.target ?? "labels") === "labels")
      for (let i = 0; i < r.data.n; i++) {
        const c = r.data.y[i];
        if (!(Number.isInteger(c) && c >= 0 && c < r.data.numClasses))
          throw argError(
            "fit",
            "replay.data.y",
            `class ids in 0..${r.data.numClasses - 1}`,
            String(c),
            `row ${i} of dataset ${show(r.data.name)}: replay needs labelled rows`,
          );
      }
  }
}

/** The replay rows of every step: seeded permutations of the replay data, taken in turn. */
class ReplayStream {
  private order: Int32Array = new Int32Array(0);
  private pos = 0;
  private pass = 0;
  constructor(
    private readonly data: Dataset,
    private readonly seed: number,
  ) {}

  /** The next `k` row numbers (across permutations when k exceeds what is left of this one). */
  next(k: number): Int32Array {
    const out = new Int32Array(k);
    for (let i = 0; i < k; i++) {
      if (this.pos >= this.order.length) {
        this.order = shuffledIndices(this.data.n, subSeed(this.seed, `replay${this.pass++}`));
        this.pos = 0;
      }
      out[i] = this.order[this.pos++];
    }
    return out;
  }
}

/** The batch rows followed by the replay rows, in one upload. */
function withReplay(
  batch: { x: Float32Array; y: Int32Array },
  replay: FitReplay,
  stream: ReplayStream,
): { x: Float32Array; y: Int32Array } {
  const extra = gatherRows(replay.data, stream.next(replay.perBatch));
  const x = new Float32Array(batch.x.length + extra.x.length);
  x.set(batch.x);
  x.set(extra.x, batch.x.length);
  const y = new Int32Array(batch.y.length + extra.y.length);
  y.set(batch.y);
  y.set(extra.y, batch.y.length);
  return { x, y };
}

function checkedPenalty(penalty: () => tf.Scalar): tf.Scalar {
  const p: unknown = penalty();
  // Duck-typed (rank only): a notebook cell's tensors may come from another realm.
  const rank = (p as { rank?: unknown } | null)?.rank;
  if (typeof rank !== "number" || rank !== 0)
    throw argError(
      "fit",
      "penalty",
      "a function returning a scalar (rank-0 tensor)",
      typeof rank === "number" ? `a rank-${rank} tensor` : show(p),
    );
  return p as tf.Scalar;
}

/** Runs `body` on a model just built; if it throws (an interrupt, bad input), disposes the
 * model before passing the error on, so an aborted run leaves no weights behind. */
export async function disposeOnThrow<T>(model: tf.LayersModel, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Trains `model` on `data`; see FitArgs. Leaves no tensors behind besides optimizer-free weights. */
export async function fit(model: tf.LayersModel, data: Dataset, args: FitArgs): Promise<History> {
  checkArgs(model, data, args);
  const bs = args.batchSize ?? DEFAULT_BATCH_SIZE;
  const lr = args.learningRate ?? DEFAULT_LEARNING_RATE;
  const lossName: LossName = args.loss ?? (args.target === "inputs" ? "mse" : "crossentropy");
  const target = args.target ?? "labels";
  const lossEvery = Math.max(1, args.lossEvery ?? DEFAULT_LOSS_EVERY);
  const penalty = args.penalty;
  // The penalty once before any step, outside a gradient tape: a bad one (not a scalar, throwing,
  // disposed) fails here and leaves nothing behind; inside variableGrads, tfjs would keep the
  // forward pass's saved tensors of the failed step.
  if (penalty) tf.tidy(() => void checkedPenalty(penalty));
  const replay = args.replay;
  const replayStream = replay ? new ReplayStream(replay.data, args.seed ?? 0) : null;
  const groups = trainableGroups(model, args, lr);
  const allVars = groups.flatMap((g) => g.vars);
  const trainableParams = allVars.reduce((s, v) => s + v.size, 0);
  const stepsPerEpoch = Math.ceil(data.n / bs);
  const progress =
    !args.progress || args.epochs === 0
      ? null
      : args.progress({ epochs: args.epochs, stepsPerEpoch, stage: args.stage });
  const history: History = { loss: [], secondsPerEpoch: [], seconds: 0, trainableParams, steps: 0 };
  if (args.validation) history.valAccuracy = [];
  if (penalty) history.dataLoss = [];
  const t0 = performance.now();
  const stop = interruptCheck(args.stage ? `fit (${args.stage})` : "fit");
  let lossSum: tf.Scalar | null = null;
  // With a penalty: Σ b · data loss over the epoch's steps (the data loss alone).
  let dataLossSum: tf.Scalar | null = null;
  // With a penalty, the current step's data loss, kept out of the step's tidy (added to
  // dataLossSum and disposed after the step; the finally disposes it if the step throws).
  const stepData: { loss: tf.Scalar | null } = { loss: null };
  let epoch = 0;
  try {
    for (; epoch < args.epochs; epoch++) {
      const te = performance.now();
      const order = shuffledIndices(data.n, subSeed(args.seed ?? 0, `epoch${epoch}`));
      lossSum = tf.scalar(0);
      if (penalty) dataLossSum = tf.scalar(0);
      let seen = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        // Before each step: yields to the event loop now and then (so Jupyter's interrupt can
        // arrive) and throws InterruptedError once one has, since this fit's cell started (so a
        // fit that starts after the interrupt takes no step); the finally releases its tensors.
        await stop.poll();
        const from = step * bs;
        const to = Math.min(data.n, from + bs);
        const rows = gatherRows(data, order, from, to);
        const batch = replay && replayStream ? withReplay(rows, replay, replayStream) : rows;
        const b = batch.y.length; // batch rows + replay rows
        const stepLoss = tf.tidy(() => {
          const x = tf.tensor2d(batch.x, [b, data.dim]); // [b, dim]
          const xIn = args.inputTransform ? args.inputTransform(x, history.steps) : x;
          const y = target === "inputs" ? x : tf.oneHot(tf.tensor1d(batch.y, "int32"), data.numClasses).toFloat(); // [b, C]
          const objective = (): tf.Scalar => {
            const dataLoss = lossFn(lossName, model.apply(xIn, { training: true }) as tf.Tensor, y);
            if (!penalty) return dataLoss;
            const pen = checkedPenalty(penalty);
            stepData.loss = tf.keep(dataLoss);
            return dataLoss.add(pen);
          };
          if (allVars.length === 0) {
            // Nothing to train (everything frozen): still report the loss.
            return objective();
          }
          const { value, grads } = tf.variableGrads(objective, allVars);
          for (const g of groups) {
            const sub: tf.NamedTensorMap = {};
            for (const v of g.vars) sub[v.name] = grads[v.name];
            g.optimizer.applyGradients(sub);
          }
          return value;
        });
        const prev: tf.Scalar = lossSum;
        const next = tf.tidy(() => prev.add(stepLoss.mul(b))) as tf.Scalar;
        prev.dispose();
        stepLoss.dispose();
        lossSum = next;
        if (stepData.loss && dataLossSum) {
          const kept: tf.Scalar = stepData.loss;
          const prevData: tf.Scalar = dataLossSum;
          dataLossSum = tf.tidy(() => prevData.add(kept.mul(b))) as tf.Scalar;
          prevData.dispose();
          kept.dispose();
          stepData.loss = null;
        }
        seen += b;
        history.steps++;
        if (progress && (step + 1) % lossEvery === 0 && step + 1 < stepsPerEpoch) {
          const running = (await lossSum.data())[0] / seen;
          progress.update({ epoch, step: step + 1, loss: running });
        }
      }
      const epochLoss = (await lossSum.data())[0] / seen;
      lossSum.dispose();
      lossSum = null;
      history.loss.push(epochLoss);
      const logs: EpochLogs = { loss: epochLoss, seconds: 0 };
      if (dataLossSum) {
        logs.dataLoss = (await dataLossSum.data())[0] / seen;
        dataLossSum.dispose();
        dataLossSum = null;
        history.dataLoss!.push(logs.dataLoss);
      }
      history.secondsPerEpoch.push((performance.now() - te) / 1000);
      logs.seconds = history.secondsPerEpoch[epoch];
      if (args.validation) {
        logs.valAccuracy = evaluateAccuracy(model, args.validation);
        history.valAccuracy!.push(logs.valAccuracy);
      }
      progress?.update({
        epoch,
        step: stepsPerEpoch,
        loss: epochLoss,
        metrics: logs.valAccuracy === undefined ? undefined : { valAcc: logs.valAccuracy },
      });
      if (args.onEpochEnd) await args.onEpochEnd(epoch, logs);
    }
  } catch (e) {
    if (e instanceof InterruptedError)
      progress?.done(`interrupted in epoch ${epoch + 1} of ${args.epochs} after ${history.steps} steps`);
    throw e;
  } finally {
    lossSum?.dispose();
    dataLossSum?.dispose();
    stepData.loss?.dispose();
    for (const g of groups) g.optimizer.dispose();
  }
  history.seconds = (performance.now() - t0) / 1000;
  progress?.done(
    `${args.epochs} epochs, ${history.seconds.toFixed(1)} s` +
      (history.loss.length ? `, final loss ${history.loss[history.loss.length - 1].toFixed(4)}` : "") +
      (history.valAccuracy?.length
        ? `, val acc ${(100 * history.valAccuracy[history.valAccuracy.length - 1]).toFixed(1)} %`
        : ""),
  );
  return history;
}
