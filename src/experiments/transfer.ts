// Transfer experiments on the source MLP (lessons 02, 03; lesson 10 calls them to fill gaps):
// scratch, zero-shot, feature extraction (fresh or source head), full fine-tuning, a freeze
// ratio, or chosen layers — each returns accuracy, retention, parameter counts and timing.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import { evaluateModel, measureForgetting } from "../evaluate/evaluate";
import {
  countParams,
  freeze,
  FREEZE_RATIO_MEANING,
  freezeRatio,
  freezeTo,
  unfreeze,
  weightedLayers,
} from "../adapt/freezing";
import { scaleArg, type Scale } from "../core/scale";
import { discriminativeMultipliers } from "../adapt/schedules";
import { buildSourceModel, HEAD_LAYER } from "../models/mlp";
import { cloneModel, replaceHead } from "../models/surgery";
import { fit, type History } from "../train/fit";
import { type OptimizerName } from "../models/recipes";
import {
  argError,
  checkFinite,
  checkNonNegativeInt,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  checkRatio,
  show,
} from "../core/validate";
import { checkLabelBudget } from "../data/subset";
import { medianOf } from "../core/stats";
import {
  DEFAULT_FINE_TUNE_LR,
  DEFAULT_HEAD_LR,
  DEFAULT_SCRATCH_LR,
  TRANSFER_BUDGETS,
  type TransferBudget,
} from "../core/settings";
import { methodName, type Method } from "../core/methods";
import type { ResultRecord } from "../store/results";

/** What is trained, and from where. */
export type TransferMethod =
  | "scratch" // fresh model, all layers train
  | "zero-shot" // the source model as is, nothing trains
  | "feature-extraction" // frozen base, the head trains
  | "full-ft" // everything trains
  | "freeze-ratio" // bottom fraction `freezeRatio` of the base frozen
  | "tune-layers"; // only `trainLayers` (and the head) train

export type HeadChoice = "fresh" | "source";
export const TRANSFER_METHODS: readonly TransferMethod[] = [
  "scratch",
  "zero-shot",
  "feature-extraction",
  "full-ft",
  "freeze-ratio",
  "tune-layers",
];
export const HEAD_CHOICES: readonly HeadChoice[] = ["fresh", "source"];

export interface TransferRunArgs {
  method: TransferMethod;
  /** The trained task-A model (never modified; runs work on copies). */
  source: tf.LayersModel;
  tasks: TransferTasks;
  labelsPerClass: number;
  /** Seeds the label draw, the fresh head / scratch init and the batch order. */
  seed?: number;
  /** Head of transferred models: `fresh` (random init, default) or the trained `source` head. */
  head?: HeadChoice;
  /** For "freeze-ratio": bottom fraction of the base frozen (see freezeRatio's rounding). */
  freezeRatio?: number;
  /** For "tune-layers": base layers that train (the head always trains). */
  trainLayers?: string[];
  /** Adam learning rate of the base (scratch: of every layer). Default: scratch 1e-3, else 1e-4. */
  learningRate?: number;
  /** Learning rate of the head of a transferred model (default 1e-2: a fresh head starts from
   * random weights on features of large magnitude and needs far larger steps than the pretrained
   * base; at 1e-3 it is still undertrained after the default budget). */
  headLearningRate?: number;
  /** Discriminative rates: weighted layer l of L trains at headLearningRate · layerDecay^(L−l)
   * (then `learningRate` is not used). Default: none. */
  layerDecay?: number;
  optimizer?: OptimizerName;
  /** Training budget (default TRANSFER_BUDGETS[scale]). */
  budget?: Partial<TransferBudget>;
  scale?: Scale;
  /** Measure task-A retention through the original head (default true for transferred bases). */
  measureRetention?: boolean;
}

export interface TransferResult {
  method: TransferMethod;
  /** Short name for tables and recordResult, e.g. "freeze-0.50", "full-ft+source-head". */
  label: string;
  /** The target task: the shift name, or "class-split". */
  task: string;
  labelsPerClass: number;
  seed: number;
  head: HeadChoice | null;
  freezeRatio: number | null;
  /** Weighted layers frozen during training (bottom to top). */
  frozenLayers: string[];
  /** Base learning rate (scratch: all layers), and the head's (null for scratch / zero-shot). */
  learningRate: number;
  headLearningRate: number | null;
  /** Task-B test accuracy (scored once, never used to choose). */
  accuracy: number;
  /** Task-B validation accuracy (tasks.target.val): what every choice is made on. */
  valAccuracy: number;
  /** Task-A accuracy of the tuned base through the original head (null when not applicable). */
  retention: number | null;
  /** The source model's task-A accuracy minus `retention` (null when not applicable): comparable
   * across tasks A of different difficulty, where retention is not. */
  forgetting: number | null;
  trainableParams: number;
  totalParams: number;
  /** Median seconds per epoch, and total training seconds. */
  secondsPerEpoch: number;
  seconds: number;
  epochs: number;
  steps: number;
  /** Per-epoch training loss (learning curve). */
  loss: number[];
}

/** Epochs and batch size of a run on n examples: at least budget.epochs passes and at least
 * budget.minSteps steps (few labels → few steps per epoch → more epochs). */
export function transferEpochs(
  n: number,
  budget: TransferBudget,
): { epochs: number; batchSize: number; stepsPerEpoch: number } {
  checkPositiveInt("transferEpochs", "n", n);
  const batchSize = Math.min(budget.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  return { epochs: Math.max(budget.epochs, Math.ceil(budget.minSteps / stepsPerEpoch)), batchSize, stepsPerEpoch };
}

function taskName(tasks: TransferTasks): string {
  return tasks.scenario === "class-split" ? "class-split" : tasks.shift;
}

function defaultLr(method: TransferMethod): number {
  return method === "scratch" ? DEFAULT_SCRATCH_LR : DEFAULT_FINE_TUNE_LR;
}

/** What a run is, as the results log names it (core/methods.ts): by what it trains, so a freeze
 * ratio of 1 is "head-only" (as feature extraction is) and a ratio of 0 is "full-ft". */
export function transferMethod(
  args: Pick<
    TransferRunArgs,
    "method" | "head" | "freezeRatio" | "trainLayers" | "learningRate" | "headLearningRate" | "layerDecay"
  >,
): Method {
  let m: Method;
  if (args.method === "freeze-ratio") {
    const r = args.freezeRatio ?? 0;
    m = r === 0 ? { kind: "full-ft" } : r === 1 ? { kind: "head-only" } : { kind: "freeze", ratio: r };
  } else if (args.method === "tune-layers") {
    m =
      (args.trainLayers ?? []).length === 0
        ? { kind: "head-only" }
        : { kind: "tune", layers: [...(args.trainLayers ?? [])] };
  } else if (args.method === "feature-extraction") {
    m = { kind: "head-only" };
  } else {
    m = { kind: args.method };
  }
  if (m.kind !== "scratch" && m.kind !== "zero-shot" && args.head === "source") m.head = "source";
  // The base's rate matters where the base trains (and not under discriminative rates, which
  // scale the head's rate down the layers).
  const baseTrains = m.kind !== "head-only" && m.kind !== "zero-shot" && args.layerDecay === undefined;
  if (baseTrains && args.learningRate !== undefined && args.learningRate !== defaultLr(args.method))
    m.lr = args.learningRate;
  if (m.kind !== "scratch" && args.headLearningRate !== undefined && args.headLearningRate !== DEFAULT_HEAD_LR)
    m.headLr = args.headLearningRate;
  if (args.layerDecay !== undefined) m.layerDecay = args.layerDecay;
  return m;
}

/** The table name of a run: methodName(transferMethod(args)). */
export function transferLabel(args: Parameters<typeof transferMethod>[0]): string {
  return methodName(transferMethod(args));
}

/** The model a run trains, with the right layers frozen. */
function prepareModel(args: TransferRunArgs, numClasses: number, seed: number): tf.LayersModel {
  if (args.method === "scratch") return buildSourceModel({ seed: 1000 + seed, numClasses });
  const sameClasses = args.source.outputs[0].shape[1] === numClasses;
  const head = args.head ?? "fresh";
  if (head === "source" && (!sameClasses || args.tasks.scenario === "class-split")) {
    throw new Error(
      `runTransfer: head "source" needs task B to share task A's classes (${args.source.outputs[0].shape[1]} vs ${numClasses}); use head "fresh"`,
    );
  }
  const model =
    head === "source" ? cloneModel(args.source) : replaceHead(args.source, { numClasses, seed: 2000 + seed });
  switch (args.method) {
    case "zero-shot":
      freeze(model);
      break;
    case "feature-extraction":
      freezeTo(model, -1);
      break;
    case "full-ft":
      unfreeze(model);
      break;
    case "freeze-ratio":
      if (args.freezeRatio === undefined)
        throw new Error(`runTransfer: method "freeze-ratio" needs freezeRatio in [0, 1], got undefined`);
      freezeRatio(model, args.freezeRatio);
      break;
    case "tune-layers":
      freeze(model);
      unfreeze(model, [...(args.trainLayers ?? []), HEAD_LAYER]);
      break;
    default:
      throw new Error(
        `runTransfer: method must be one of scratch, zero-shot, feature-extraction, full-ft, freeze-ratio, tune-layers, got ${JSON.stringify(args.method)}`,
      );
  }
  return model;
}

/** Checks a run's options before any model is copied, so a rejected run leaves no tensors. */
function checkTransferArgs(args: TransferRunArgs, where: string): void {
  checkOneOf(where, "method", args.method, TRANSFER_METHODS);
  if (args.head !== undefined) checkOneOf(where, "head", args.head, HEAD_CHOICES);
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
  checkLabelBudget(where, "labelsPerClass", args.labelsPerClass, args.tasks.target.pool);
  if (args.method === "freeze-ratio") checkRatio(where, "freezeRatio", args.freezeRatio, FREEZE_RATIO_MEANING);
  for (const [param, v] of [
    ["learningRate", args.learningRate],
    ["headLearningRate", args.headLearningRate],
    ["layerDecay", args.layerDecay],
  ] as const) {
    if (v !== undefined) checkPositiveFinite(where, param, v);
  }
  if (args.method === "tune-layers") {
    const names = args.source.layers.map((l) => l.name);
    for (const name of args.trainLayers ?? []) {
      if (!names.includes(name))
        throw argError(where, "trainLayers", `layers of the source model (layers: ${names.join(", ")})`, show(name));
    }
  }
  const b = args.budget ?? {};
  if (b.epochs !== undefined) checkNonNegativeInt(where, "budget.epochs", b.epochs);
  if (b.minSteps !== undefined) checkNonNegativeInt(where, "budget.minSteps", b.minSteps);
  if (b.batchSize !== undefined) checkPositiveInt(where, "budget.batchSize", b.batchSize);
}

/** One transfer run on task B with k labels per class; scores held-out task B and task-A retention. */
export async function runTransfer(args: TransferRunArgs): Promise<TransferResult> {
  checkTransferArgs(args, "runTransfer");
  const seed = args.seed ?? 0;
  const k = args.labelsPerClass;
  const scale = scaleArg("runTransfer", args.scale);
  const budget = { ...TRANSFER_BUDGETS[scale], ...args.budget };
  const train = args.tasks.targetLabels(k, seed);
  const model = prepareModel(args, train.numClasses, seed);
  const lr = args.learningRate ?? defaultLr(args.method);
  const transferred = args.method !== "scratch";
  const headLr = transferred ? (args.headLearningRate ?? DEFAULT_HEAD_LR) : null;
  // fit takes one rate and per-layer multipliers: either base rate with the head at headLr/lr,
  // or (discriminative) the head's rate with α^(L−l) below it.
  const fitLr = args.layerDecay !== undefined && headLr !== null ? headLr : lr;
  const multipliers: Record<string, number> | undefined =
    headLr === null
      ? undefined
      : args.layerDecay !== undefined
        ? discriminativeMultipliers(model, args.layerDecay)
        : { [HEAD_LAYER]: headLr / lr };
  const plan = transferEpochs(train.n, budget);
  const batchSize = plan.batchSize;
  const epochs = args.method === "zero-shot" ? 0 : plan.epochs;
  try {
    const history = await fit(model, train, {
      epochs,
      batchSize,
      learningRate: fitLr,
      seed,
      optimizer: args.optimizer ?? "adam",
      layerLearningRates: multipliers,
      progress: false,
    });
    const scored = scoreTunedModel(model, args, history, { retention: transferred && (args.measureRetention ?? true) });
    return {
      method: args.method,
      label: transferLabel(args),
      task: scored.task,
      labelsPerClass: k,
      seed,
      head: transferred ? (args.head ?? "fresh") : null,
      freezeRatio: args.method === "freeze-ratio" ? (args.freezeRatio ?? null) : null,
      frozenLayers: weightedLayers(model)
        .filter((l) => !l.trainable)
        .map((l) => l.name),
      learningRate: lr,
      headLearningRate: headLr,
      accuracy: scored.accuracy,
      valAccuracy: scored.valAccuracy,
      retention: scored.retention,
      forgetting: scored.forgetting,
      trainableParams: scored.trainableParams,
      totalParams: scored.totalParams,
      secondsPerEpoch: history.secondsPerEpoch.length ? medianOf(history.secondsPerEpoch) : 0,
      seconds: scored.seconds,
      epochs,
      steps: scored.steps,
      loss: scored.loss,
    };
  } finally {
    model.dispose();
  }
}

/** What a tuned model is scored by: task-B accuracy, task-A retention, size and cost. */
export interface TunedScore {
  task: string;
  /** Task-B test accuracy (scored once per final configuration). */
  accuracy: number;
  /** Task-B validation accuracy: what choices (rates, ratios, ranks) are made on. */
  valAccuracy: number;
  /** Task-A accuracy of the tuned base through the original head (null when not measured). */
  retention: number | null;
  /** Source task-A accuracy minus retention (null when not measured). */
  forgetting: number | null;
  trainableParams: number;
  totalParams: number;
  seconds: number;
  steps: number;
  loss: number[];
}

/** The scores every tuned run reports and every results-log record carries under the same names. */
type ScoreFieldName =
  "accuracy" | "valAccuracy" | "retention" | "forgetting" | "trainableParams" | "totalParams" | "seconds";
export type ScoreFields = Pick<TunedScore, ScoreFieldName>;

/** The fields of a results-log record that every scored run fills the same way (its lesson, method,
 * seed and extra say the rest). */
export function scoreRecordFields(s: ScoreFields): Pick<ResultRecord, ScoreFieldName> {
  return {
    accuracy: s.accuracy,
    valAccuracy: s.valAccuracy,
    retention: s.retention,
    forgetting: s.forgetting,
    trainableParams: s.trainableParams,
    totalParams: s.totalParams,
    seconds: s.seconds,
  };
}

/** scoreRecordFields read back from a record (validation accuracy NaN when the record predates it). */
export function scoreFromRecord(rec: ResultRecord): ScoreFields {
  return {
    accuracy: rec.accuracy,
    valAccuracy: rec.valAccuracy ?? NaN,
    retention: rec.retention ?? null,
    forgetting: rec.forgetting ?? null,
    trainableParams: rec.trainableParams ?? 0,
    totalParams: rec.totalParams ?? 0,
    seconds: rec.seconds ?? 0,
  };
}

/** A scored run (LoRA, ViT) as a results-log record: its name, task, budget and seed, its scores, where
 * it ran, and `extra`. */
export function scoredRunRecord(
  r: ScoreFields & { method: string; task: string; labelsPerClass: number; seed: number },
  meta: { lesson: string; backend: string; scale: string },
  extra: Record<string, number | string | boolean | null>,
): ResultRecord {
  return {
    lesson: meta.lesson,
    method: r.method,
    task: r.task,
    labelsPerClass: r.labelsPerClass,
    ...scoreRecordFields(r),
    backend: meta.backend,
    scale: meta.scale,
    seed: r.seed,
    extra,
  };
}

/** What every transfer run reports for a tuned model: the task's name, task-B test and validation
 * accuracy, task-A retention with the source head (null when `retention` is false), parameter counts and
 * the training history's time and loss. */
export function scoreTunedModel(
  model: tf.LayersModel,
  args: { source: tf.LayersModel; tasks: TransferTasks },
  history: History,
  opts: { retention?: boolean } = {},
): TunedScore {
  const counts = countParams(model);
  const forgetting =
    (opts.retention ?? true)
      ? measureForgetting({ tuned: model, source: args.source, taskATest: args.tasks.source.test })
      : null;
  return {
    task: taskName(args.tasks),
    accuracy: evaluateModel(model, args.tasks.target.test).accuracy,
    valAccuracy: evaluateModel(model, args.tasks.target.val).accuracy,
    retention: forgetting?.retention ?? null,
    forgetting: forgetting?.forgetting ?? null,
    trainableParams: counts.trainable,
    totalParams: counts.all,
    seconds: history.seconds,
    steps: history.steps,
    loss: history.loss,
  };
}
