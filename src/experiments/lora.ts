// LoRA on the task-A source MLP (lesson 04; lesson 10 calls it to fill gaps): one LoRA run
// (adapters on chosen Dense layers + the source head, trained on few task-B labels), and the
// rank sweep against head-only and full fine-tuning, with accuracy, retention, params and time.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import { SHIFT_NAMES, type ShiftName } from "../data/transforms";
import { checkLoraHyper, DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { applyLora, mergeLora, resolveLoraTargets, type LoraTargets } from "../adapt/lora/inject";
import { linePlot, type PlotSpec, type Series } from "../show/plot";
import { recordResult, summarizeResults, type ResultRecord, type SummaryRow } from "../store/results";
import { getScale, scaleArg, type Scale } from "../core/scale";
import { getSourceModel, sourceTasks } from "./source";
import { replaceHead } from "../models/surgery";
import { fit } from "../train/fit";
import { predictLabels } from "../models/predict";
import type { Dataset } from "../data/types";
import {
  HEAD_CHOICES,
  runTransfer,
  transferEpochs,
  type HeadChoice,
  type TransferResult,
  scoreTunedModel,
  type TunedScore,
} from "./transfer";
import { DEFAULT_FINE_TUNE_LR, TRANSFER_BUDGETS, type TransferBudget } from "../core/settings";
import {
  argError,
  checkFinite,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  checkSeeds,
  show,
} from "../core/validate";
import { checkLabelBudget } from "../data/subset";
import { progressLine } from "../show/progress";
import { maxOutputDiff } from "../evaluate/compare";
import { DEFAULT_LORA_LR, lessonSettings } from "../core/settings";
import { methodName, parseMethod } from "../core/methods";
import { checkCacheWritable } from "../store/writable";

/** The source MLP's hidden layers: where lesson 04 puts adapters. */
export const MLP_LORA_TARGETS: readonly string[] = ["hidden1", "hidden2", "hidden3", "hidden4"];

/** One run of the sweep: a LoRA rank, head-only or full fine-tuning. */
export interface LoraRun extends TunedScore {
  /** Its name in the results log (core/methods.ts), e.g. "lora-r4+source-head". */
  method: string;
  labelsPerClass: number;
  seed: number;
  /** Rank and alpha (null for the baselines). */
  r: number | null;
  alpha: number | null;
  learningRate: number;
}

export interface LoraRunArgs {
  /** The trained task-A model (never modified). */
  source: tf.LayersModel;
  tasks: TransferTasks;
  labelsPerClass: number;
  r: number;
  alpha?: number;
  /** Adapted layers (default MLP_LORA_TARGETS). */
  targets?: LoraTargets;
  /** Train the head as well (default true). */
  trainHead?: boolean;
  /** Head under the adapters: the trained task-A head ("source", default: the classes are
   * shared, so keep and tune it) or a freshly initialised one ("fresh"). */
  head?: HeadChoice;
  learningRate?: number;
  /** Seeds the label draw, the A initialisation and the batch order. */
  seed?: number;
  budget?: Partial<TransferBudget>;
  scale?: Scale;
  /** Called with the trained LoRA model before it is disposed (merge checks, adapter saves). */
  inspect?: (model: tf.LayersModel) => void | Promise<void>;
  /** Live progress label for fit (default none). */
  progress?: string | false;
}

/** One LoRA run on task B: adapters on `targets` (+ the source head), trained with Adam. */
export async function runLora(args: LoraRunArgs): Promise<LoraRun> {
  const seed = args.seed ?? 0;
  const scale = scaleArg("runLora", args.scale);
  const alpha = args.alpha ?? DEFAULT_LORA_ALPHA;
  const lr = args.learningRate ?? DEFAULT_LORA_LR;
  // Checked before the fresh head or the adapters are built, so a rejected run leaves no tensors.
  checkLoraHyper("runLora", args.r, alpha, 0);
  checkPositiveFinite("runLora", "learningRate", lr);
  checkFinite("runLora", "seed", seed);
  if (args.head !== undefined) checkOneOf("runLora", "head", args.head, HEAD_CHOICES);
  checkLabelBudget("runLora", "labelsPerClass", args.labelsPerClass, args.tasks.target.pool);
  resolveLoraTargets(args.source, args.targets ?? [...MLP_LORA_TARGETS], "runLora");
  const train = args.tasks.targetLabels(args.labelsPerClass, seed);
  const head = args.head ?? "source";
  // Same fresh-head seed as runTransfer, so LoRA and the baselines start from the same head.
  const base =
    head === "fresh" ? replaceHead(args.source, { numClasses: train.numClasses, seed: 2000 + seed }) : args.source;
  let model: tf.LayersModel;
  try {
    model = applyLora(base, {
      r: args.r,
      alpha,
      targets: args.targets ?? [...MLP_LORA_TARGETS],
      trainHead: args.trainHead ?? true,
      seed,
    });
  } finally {
    if (base !== args.source) base.dispose();
  }
  try {
    const { epochs, batchSize } = transferEpochs(train.n, { ...TRANSFER_BUDGETS[scale], ...args.budget });
    const history = await fit(model, train, {
      epochs,
      batchSize,
      learningRate: lr,
      seed,
      progress: args.progress ? progressLine(args.progress) : false,
    });
    const run: LoraRun = {
      // LoRA trains the source head with the adapters (applyLora trainHead).
      method: methodName({ kind: "lora", r: args.r, head: "source" }),
      labelsPerClass: args.labelsPerClass,
      seed,
      r: args.r,
      alpha,
      learningRate: lr,
      ...scoreTunedModel(model, args, history),
    };
    if (args.inspect) await args.inspect(model);
    return run;
  } finally {
    model.dispose();
  }
}

function fromTransfer(t: TransferResult): LoraRun {
  return {
    method: t.label,
    task: t.task,
    labelsPerClass: t.labelsPerClass,
    seed: t.seed,
    r: null,
    alpha: null,
    learningRate: t.learningRate,
    accuracy: t.accuracy,
    valAccuracy: t.valAccuracy,
    retention: t.retention,
    forgetting: t.forgetting,
    trainableParams: t.trainableParams,
    totalParams: t.totalParams,
    seconds: t.seconds,
    steps: t.steps,
    loss: t.loss,
  };
}

/** Head-only (the source head on the frozen base) or full fine-tuning, as LoraRun rows. */
export async function runLoraBaseline(
  method: "head-only" | "full-ft",
  args: {
    source: tf.LayersModel;
    tasks: TransferTasks;
    labelsPerClass: number;
    seed?: number;
    learningRate?: number;
    budget?: Partial<TransferBudget>;
    scale?: Scale;
    head?: HeadChoice;
  },
): Promise<LoraRun> {
  const t = await runTransfer({
    method: method === "head-only" ? "feature-extraction" : "full-ft",
    head: args.head ?? "source",
    source: args.source,
    tasks: args.tasks,
    labelsPerClass: args.labelsPerClass,
    seed: args.seed,
    learningRate: method === "full-ft" ? (args.learningRate ?? DEFAULT_FINE_TUNE_LR) : undefined,
    budget: args.budget,
    scale: args.scale,
  });
  return fromTransfer(t);
}

export interface LoraSweepArgs {
  scale?: Scale;
  /** Seeds averaged over; each has its own split, source model and label draw. */
  seeds?: number[];
  labelsPerClass?: number;
  shift?: ShiftName;
  ranks?: readonly number[];
  alpha?: number;
  targets?: LoraTargets;
  loraLearningRate?: number;
  fullFtLearningRate?: number;
  /** Head of every method: the source head (default) or a fresh one. */
  head?: HeadChoice;
  /** Also run head-only and full fine-tuning (default true). */
  baselines?: boolean;
  budget?: Partial<TransferBudget>;
  /** Called after every run (live tables, progress). */
  onRun?: (run: LoraRun) => void;
}

type SweepCommon = Parameters<typeof runLoraBaseline>[1];

/** Checks the options every sweep (LoRA's, the ViT's) shares and returns the scale in force. */
export function checkSweepCommon(
  where: string,
  args: { scale?: Scale; seeds?: number[]; labelsPerClass?: number; shift?: ShiftName },
): Scale {
  const scale = scaleArg(where, args.scale);
  if (args.seeds !== undefined) checkSeeds(where, args.seeds);
  if (args.labelsPerClass !== undefined) checkPositiveInt(where, "labelsPerClass", args.labelsPerClass);
  if (args.shift !== undefined) checkOneOf(where, "shift", args.shift, SHIFT_NAMES);
  return scale;
}

/** Checks a sweep's shared options before any source model is loaded or trained. */
function checkSweepArgs(where: string, args: Omit<LoraSweepArgs, "ranks">): void {
  checkSweepCommon(where, args);
  if (args.head !== undefined) checkOneOf(where, "head", args.head, HEAD_CHOICES);
}

/** Runs `body` once per seed with that seed's split and cached source model (disposed after),
 * collecting the runs it emits and reporting each to `onRun`. */
async function perSeed(
  args: Omit<LoraSweepArgs, "ranks">,
  body: (common: SweepCommon, emit: (run: LoraRun) => void) => Promise<void>,
): Promise<LoraRun[]> {
  const scale = args.scale ?? getScale();
  const runs: LoraRun[] = [];
  const emit = (run: LoraRun) => {
    runs.push(run);
    args.onRun?.(run);
  };
  for (const seed of args.seeds ?? [0]) {
    const tasks = sourceTasks({ scale, seed, shift: args.shift ?? "mild" });
    const { model: source } = await getSourceModel({ scale, seed, tasks, log: false });
    try {
      await body(
        { source, tasks, labelsPerClass: args.labelsPerClass ?? 5, seed, budget: args.budget, scale, head: args.head },
        emit,
      );
    } finally {
      source.dispose();
    }
  }
  return runs;
}

/** The rank sweep: per seed, head-only, each rank and full fine-tuning on the same labels. */
export async function runLoraSweep(args: LoraSweepArgs = {}): Promise<LoraRun[]> {
  checkCacheWritable(undefined, "runLoraSweep"); // the source models are cached: refuse before training
  checkSweepArgs("runLoraSweep", args);
  const ranks = args.ranks ?? lessonSettings("04", scaleArg("runLoraSweep", args.scale)).ranks;
  ranks.forEach((r, i) => checkLoraHyper("runLoraSweep", r, args.alpha ?? DEFAULT_LORA_ALPHA, 0, `ranks[${i}]`));
  for (const [param, v] of [
    ["loraLearningRate", args.loraLearningRate],
    ["fullFtLearningRate", args.fullFtLearningRate],
  ] as const) {
    if (v !== undefined) checkPositiveFinite("runLoraSweep", param, v);
  }
  return perSeed(args, async (common, emit) => {
    if (args.baselines ?? true) emit(await runLoraBaseline("head-only", common));
    for (const r of ranks) {
      emit(
        await runLora({ ...common, r, alpha: args.alpha, targets: args.targets, learningRate: args.loraLearningRate }),
      );
    }
    if (args.baselines ?? true)
      emit(await runLoraBaseline("full-ft", { ...common, learningRate: args.fullFtLearningRate }));
  });
}

export interface LoraLearningRateArgs extends Omit<
  LoraSweepArgs,
  "ranks" | "baselines" | "loraLearningRate" | "fullFtLearningRate"
> {
  /** Rank of the LoRA runs (default 4). */
  r?: number;
  /** Rates tried for both LoRA and full fine-tuning (Adam). */
  learningRates: number[];
}

/** Method name of a run at a given rate, e.g. "lora-r4+source-head@lr=1e-4". */
export function atLearningRate(method: string, lr: number): string {
  const m = parseMethod(method);
  if (m === null)
    throw new Error(`atLearningRate: method must be a name methodName() writes, got ${JSON.stringify(method)}`);
  return methodName({ ...m, lr });
}

/** LoRA (rank r) and full fine-tuning at each learning rate, per seed, on the same labels: which
 * rate each method wants, and what the rate does to task-A retention. */
export async function runLoraLearningRates(args: LoraLearningRateArgs): Promise<LoraRun[]> {
  checkCacheWritable(undefined, "runLoraLearningRates");
  const r = args.r ?? 4;
  checkSweepArgs("runLoraLearningRates", args);
  checkLoraHyper("runLoraLearningRates", r, args.alpha ?? DEFAULT_LORA_ALPHA, 0);
  if (!Array.isArray(args.learningRates) || args.learningRates.length === 0) {
    throw argError(
      "runLoraLearningRates",
      "learningRates",
      "a non-empty list of finite numbers > 0",
      show(args.learningRates),
    );
  }
  args.learningRates.forEach((lr, i) => checkPositiveFinite("runLoraLearningRates", `learningRates[${i}]`, lr));
  return perSeed(args, async (common, emit) => {
    for (const lr of args.learningRates) {
      const lora = await runLora({ ...common, r, alpha: args.alpha, targets: args.targets, learningRate: lr });
      emit({ ...lora, method: atLearningRate(lora.method, lr) });
      const full = await runLoraBaseline("full-ft", { ...common, learningRate: lr });
      emit({ ...full, method: atLearningRate(full.method, lr) });
    }
  });
}

/** A run as a results-log record. */
function loraRecord(r: LoraRun, meta: { lesson: string; backend: string; scale: string }): ResultRecord {
  return {
    lesson: meta.lesson,
    method: r.method,
    task: r.task,
    labelsPerClass: r.labelsPerClass,
    accuracy: r.accuracy,
    valAccuracy: r.valAccuracy,
    retention: r.retention,
    forgetting: r.forgetting,
    trainableParams: r.trainableParams,
    totalParams: r.totalParams,
    seconds: r.seconds,
    backend: meta.backend,
    scale: meta.scale,
    seed: r.seed,
    extra: { r: r.r, alpha: r.alpha, learningRate: r.learningRate, steps: r.steps },
  };
}

/** Appends each run to the results file (lesson 10 reads them); returns the records. */
export function recordLoraRuns(
  runs: LoraRun[],
  meta: { lesson: string; backend: string; scale: string },
  dir?: string,
): ResultRecord[] {
  return runs.map((r) => recordResult(loraRecord(r, meta), dir));
}

/** Mean ± std per method over seeds, in the runs' order, as results.summarizeResults does. */
export function summarizeLoraRuns(runs: LoraRun[]): SummaryRow[] {
  return summarizeResults(runs.map((r) => loraRecord(r, { lesson: "", backend: "", scale: "" })));
}

/** Accuracy (%) vs trainable parameters (log x): the LoRA ranks as one line, each other method a point. */
export function loraSweepPlot(summary: SummaryRow[], title = "Task-B accuracy vs trainable parameters"): PlotSpec {
  const rankOf = (s: SummaryRow) => {
    const m = parseMethod(s.method);
    return m?.kind === "lora" ? m.r : null;
  };
  const lora = summary.filter((s) => rankOf(s) !== null);
  const series: Series[] = [];
  if (lora.length) {
    series.push({
      name: `LoRA r=${lora.map(rankOf).join(",")}`,
      x: lora.map((s) => s.trainableParams ?? 0),
      y: lora.map((s) => 100 * s.accuracyMean),
      error: lora.map((s) => 100 * s.accuracyStd),
    });
  }
  for (const s of summary.filter((x) => rankOf(x) === null)) {
    series.push({
      name: s.method,
      x: [s.trainableParams ?? 0],
      y: [100 * s.accuracyMean],
      error: [100 * s.accuracyStd],
    });
  }
  return linePlot({
    series,
    logX: true,
    markers: true,
    title,
    xTitle: "trainable parameters (log)",
    yTitle: "accuracy on task B (%)",
  });
}

/** Largest |merged − unmerged| output over a data set, and whether the predicted labels agree. */
export function mergeCheck(loraModel: tf.LayersModel, data: Dataset): { maxAbsDiff: number; labelsAgree: boolean } {
  const merged = mergeLora(loraModel);
  try {
    const mergedLabels = predictLabels(merged, data);
    const unmerged = predictLabels(loraModel, data);
    return {
      maxAbsDiff: maxOutputDiff(loraModel, merged, data),
      labelsAgree: mergedLabels.every((label, i) => label === unmerged[i]),
    };
  } finally {
    merged.dispose();
  }
}
