// LoRA on the task-A source MLP (lesson 04; lesson 10 calls it to fill gaps): one LoRA run
// (adapters on chosen Dense layers + the source head, trained on few task-B labels), and the
// rank sweep against head-only and full fine-tuning, with accuracy, retention, params and time.
// The sweep can run every method at several candidate learning rates (recorded as they finish and
// read back on a re-run); chooseLoraArms then picks each method's rate on validation accuracy.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import { SHIFT_NAMES, type ShiftName } from "../data/transforms";
import { checkLoraHyper, DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { applyLora, mergeLora, resolveLoraTargets, type LoraTargets } from "../adapt/lora/inject";
import { linePlot, type PlotSpec, type Series } from "../show/plot";
import {
  PROTOCOL_VERSION,
  readResults,
  recordResult,
  summarizeResults,
  type ResultRecord,
  type SummaryRow,
} from "../store/results";
import { stableHash } from "../store/cache";
import { newDisplay } from "../show/display";
import { meanCI, type SeedValue } from "../core/stats";
import {
  chooseOnValidation,
  CHOOSE_BY,
  runValues,
  type ChooseBy,
  type Choice,
  type ScoreField,
} from "../evaluate/select";
import { getScale, scaleArg, type Scale } from "../core/scale";
import { getSourceModel, sourceTasks } from "./source";
import { replaceHead } from "../models/surgery";
import { fit } from "../train/fit";
import { predictLabels } from "../models/predict";
import type { Dataset } from "../data/types";
import {
  scoreFromRecord,
  scoredRunRecord,
  HEAD_CHOICES,
  runTransfer,
  transferEpochs,
  type HeadChoice,
  type TransferResult,
  scoreTunedModel,
  type TunedScore,
  transferLabel,
} from "./transfer";
import { DEFAULT_FINE_TUNE_LR, DEFAULT_HEAD_LR, TRANSFER_BUDGETS, type TransferBudget } from "../core/settings";
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
  /** Adam rate of what trains: LoRA's adapters and head, full fine-tuning's base (its head trains at
   * DEFAULT_HEAD_LR — so LoRA vs full fine-tuning also changes the head's rate), head-only's head. */
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
      method: methodName({ kind: "lora", r: args.r, head: head === "source" ? "source" : undefined }),
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
    // Head-only trains only its head: that rate is the one that matters (and is chosen).
    learningRate: t.method === "feature-extraction" ? (t.headLearningRate ?? DEFAULT_HEAD_LR) : t.learningRate,
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
    /** Full fine-tuning's base rate (default DEFAULT_FINE_TUNE_LR); not used by head-only. */
    learningRate?: number;
    /** The head's rate (default DEFAULT_HEAD_LR). */
    headLearningRate?: number;
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
    headLearningRate: args.headLearningRate,
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
  /** One rate for every rank (default DEFAULT_LORA_LR); or give `loraLearningRates`. */
  loraLearningRate?: number;
  /** One base rate for full fine-tuning (default DEFAULT_FINE_TUNE_LR); or give `fullFtLearningRates`. */
  fullFtLearningRate?: number;
  /** Candidate rates: every rank runs at each, and its run names carry the rate
   * ("lora-r4+source-head@lr=1e-3"); chooseLoraArms picks one per rank on validation. */
  loraLearningRates?: number[];
  /** Candidate base rates of full fine-tuning ("full-ft+source-head@lr=1e-4"). */
  fullFtLearningRates?: number[];
  /** Candidate head rates of head-only (default [DEFAULT_HEAD_LR]; "head-only+source-head@headLr=1e-2"). */
  headLearningRates?: number[];
  /** Head of every method: the source head (default) or a fresh one. */
  head?: HeadChoice;
  /** Also run head-only and full fine-tuning (default true). */
  baselines?: boolean;
  budget?: Partial<TransferBudget>;
  /** Lesson id: record every run in the results log as it finishes, and read back runs recorded
   * with the same configuration (protocol, backend, source model...) instead of training them
   * again. Without it nothing is recorded (recordLoraRuns does that) and nothing is read back. */
  lesson?: string;
  /** With `lesson`: read back recorded runs (default true). */
  reuse?: boolean;
  /** Show one line that updates in place with the run in progress (default false). */
  progress?: boolean;
  /** Called after every run (live tables, progress). */
  onRun?: (run: LoraSweepRun) => void;
}

/** A run of the sweep, trained now or read back from the results log. */
export interface LoraSweepRun extends LoraRun {
  /** The method without its rate ("lora-r4+source-head"): the arm whose rate is chosen. */
  arm: string;
  /** Read back from the results log instead of trained (only with `lesson`). */
  reused: boolean;
  /** Its results-log record: written when the run finished or read back (with `lesson`); without
   * `lesson`, the record recordLoraRuns would write. */
  record: ResultRecord;
}

type SweepCommon = Parameters<typeof runLoraBaseline>[1];
/** What perSeed gives each seed's body: the run options, and the cached source model's key. */
type SeedContext = { common: SweepCommon & { tasks: TransferTasks; source: tf.LayersModel }; sourceKey: string };

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
 * collecting the runs it emits (reported to `onRun` by the caller's emit). */
async function perSeed<R>(
  args: Omit<LoraSweepArgs, "ranks" | "onRun">,
  body: (ctx: SeedContext, emit: (run: R) => void) => Promise<void>,
  onRun?: (run: R) => void,
): Promise<R[]> {
  const scale = args.scale ?? getScale();
  const runs: R[] = [];
  const emit = (run: R) => {
    runs.push(run);
    onRun?.(run);
  };
  for (const seed of args.seeds ?? [0]) {
    const tasks = sourceTasks({ scale, seed, shift: args.shift ?? "mild" });
    const { model: source, key } = await getSourceModel({ scale, seed, tasks, log: false });
    try {
      const common = {
        source,
        tasks,
        labelsPerClass: args.labelsPerClass ?? 5,
        seed,
        budget: args.budget,
        scale,
        head: args.head,
      };
      await body({ common, sourceKey: key }, emit);
    } finally {
      source.dispose();
    }
  }
  return runs;
}

/** A sweep's candidate rates for one method: the list (`explicit`: run names carry the rate), or
 * the one rate, or the default. Throws, naming the option, on both forms at once, an empty list or a
 * rate that is not finite and > 0. */
function rateGrid(
  where: string,
  many: [string, number[] | undefined],
  fallback: number,
  one: [string, number | undefined] = ["", undefined],
): { rates: number[]; explicit: boolean } {
  const [oneName, oneValue] = one;
  const [manyName, list] = many;
  if (oneValue !== undefined && list !== undefined)
    throw argError(
      where,
      manyName,
      `absent when ${oneName} is given`,
      show(list),
      "give one rate or a list of rates, not both",
    );
  if (list === undefined) {
    if (oneValue !== undefined) checkPositiveFinite(where, oneName, oneValue);
    return { rates: [oneValue ?? fallback], explicit: false };
  }
  if (!Array.isArray(list) || list.length === 0)
    throw argError(where, manyName, "a non-empty list of finite numbers > 0", show(list));
  list.forEach((lr, i) => checkPositiveFinite(where, `${manyName}[${i}]`, lr));
  return { rates: [...new Set(list)], explicit: true };
}

/** One planned run of the sweep: what trains, at which rate, under which names. */
interface SweepJob {
  kind: "head-only" | "lora" | "full-ft";
  r: number | null;
  /** The rate that is swept: LoRA's, full fine-tuning's base, head-only's head. */
  learningRate: number;
  /** Results-log name: the arm with its rate when rates are swept. */
  method: string;
  arm: string;
}

/** Everything that changes a sweep run's numbers; equal keys mean a recorded run can be read back. */
function loraRunKey(
  job: SweepJob,
  ctx: {
    alpha: number;
    targets: string[];
    head: HeadChoice;
    budget: TransferBudget;
    task: string;
    k: number;
    seed: number;
    scale: Scale;
    backend: string;
    sourceKey: string;
  },
): string {
  const lora = job.kind === "lora";
  const { alpha, targets, ...rest } = ctx;
  return stableHash({
    v: PROTOCOL_VERSION,
    sweep: "lora",
    kind: job.kind,
    r: job.r,
    lr: job.learningRate,
    // Full fine-tuning's head trains at its own rate; head-only has only its head (learningRate).
    headLr: job.kind === "full-ft" ? DEFAULT_HEAD_LR : null,
    alpha: lora ? alpha : null,
    targets: lora ? targets : null,
    ...rest,
  }).slice(0, 16);
}

/** A recorded sweep run back as a LoraRun (learning curves are not recorded: loss is []). */
function runFromRecord(rec: ResultRecord, job: SweepJob, alpha: number): LoraRun {
  const e = rec.extra ?? {};
  return {
    method: job.method,
    task: rec.task,
    labelsPerClass: rec.labelsPerClass ?? 0,
    seed: rec.seed,
    r: job.r,
    alpha: job.kind === "lora" ? alpha : null,
    learningRate: job.learningRate,
    ...scoreFromRecord(rec),
    steps: Number(e.steps ?? 0),
    loss: [],
  };
}

/** The rank sweep: per seed, head-only, each rank and full fine-tuning on the same labels, each at
 * every candidate rate given. With `lesson`, runs are recorded as they finish and read back on a
 * re-run (`reused`); choose each method's rate with chooseLoraArms. */
export async function runLoraSweep(args: LoraSweepArgs = {}): Promise<LoraSweepRun[]> {
  const where = "runLoraSweep";
  checkCacheWritable(undefined, where); // the source models are cached: refuse before training
  checkSweepArgs(where, args);
  const scale = scaleArg(where, args.scale);
  const alpha = args.alpha ?? DEFAULT_LORA_ALPHA;
  const givenRanks = args.ranks ?? lessonSettings("04", scale).ranks;
  givenRanks.forEach((r, i) => checkLoraHyper(where, r, alpha, 0, `ranks[${i}]`));
  const ranks = [...new Set(givenRanks)]; // a rank listed twice runs once
  const loraRates = rateGrid(where, ["loraLearningRates", args.loraLearningRates], DEFAULT_LORA_LR, [
    "loraLearningRate",
    args.loraLearningRate,
  ]);
  const fullRates = rateGrid(where, ["fullFtLearningRates", args.fullFtLearningRates], DEFAULT_FINE_TUNE_LR, [
    "fullFtLearningRate",
    args.fullFtLearningRate,
  ]);
  const headRates = rateGrid(where, ["headLearningRates", args.headLearningRates], DEFAULT_HEAD_LR);
  if (args.lesson !== undefined && (typeof args.lesson !== "string" || args.lesson === ""))
    throw argError(where, "lesson", 'a lesson id such as "04"', show(args.lesson));
  const head = args.head ?? "source";
  const onSource = head === "source" ? ("source" as const) : undefined;
  const baselines = args.baselines ?? true;
  // The plan of one seed, in the order the runs train.
  const jobs: SweepJob[] = [];
  const plan = (kind: SweepJob["kind"], r: number | null, grid: { rates: number[]; explicit: boolean }) => {
    const base = kind === "lora" ? { kind, r: r as number } : { kind };
    const arm = methodName({ ...base, head: onSource });
    for (const lr of grid.rates) {
      const rate = !grid.explicit ? {} : kind === "head-only" ? { headLr: lr } : { lr };
      // One rate given: the name LoRA and runTransfer give the run (a non-default base rate shows).
      const single =
        kind === "full-ft"
          ? transferLabel({ method: "full-ft", head, learningRate: lr })
          : kind === "head-only"
            ? transferLabel({ method: "feature-extraction", head, headLearningRate: lr })
            : arm;
      jobs.push({
        kind,
        r,
        learningRate: lr,
        arm,
        method: grid.explicit ? methodName({ ...base, head: onSource, ...rate }) : single,
      });
    }
  };
  if (baselines) plan("head-only", null, headRates);
  for (const r of ranks) plan("lora", r, loraRates);
  if (baselines) plan("full-ft", null, fullRates);

  const backend = tf.getBackend();
  const known = new Map<string, ResultRecord>();
  if (args.lesson !== undefined && (args.reuse ?? true)) {
    for (const rec of readResults({ lesson: args.lesson, scale })) {
      if (rec.backend === backend && typeof rec.extra?.runKey === "string") known.set(rec.extra.runKey, rec);
    }
  }
  const seeds = args.seeds ?? [0];
  const total = seeds.length * jobs.length;
  const line = args.progress ? newDisplay() : null;
  const t0 = performance.now();
  let done = 0;
  let trained = 0;
  const onRun = (run: LoraSweepRun) => {
    done++;
    if (!run.reused) trained++;
    line?.text(
      `${args.lesson ?? "LoRA sweep"}: ${done}/${total} runs (${trained} trained, ${done - trained} read back), last: ` +
        `${run.method} seed ${run.seed} → ${(100 * run.accuracy).toFixed(1)} % (validation ${(100 * run.valAccuracy).toFixed(1)} %), ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    args.onRun?.(run);
  };
  const budget = { ...TRANSFER_BUDGETS[scale], ...args.budget };
  return perSeed<LoraSweepRun>(
    args,
    async ({ common, sourceKey }, emit) => {
      const targets = resolveLoraTargets(common.source, args.targets ?? [...MLP_LORA_TARGETS], where);
      const task = common.tasks.scenario === "class-split" ? "class-split" : common.tasks.shift;
      for (const job of jobs) {
        const key = loraRunKey(job, {
          alpha,
          targets,
          head,
          budget,
          task,
          k: common.labelsPerClass,
          seed: common.seed ?? 0,
          scale,
          backend,
          sourceKey,
        });
        const old = args.lesson !== undefined ? known.get(key) : undefined;
        if (old) {
          emit({ ...runFromRecord(old, job, alpha), arm: job.arm, reused: true, record: old });
          continue;
        }
        const run =
          job.kind === "lora"
            ? await runLora({ ...common, r: job.r as number, alpha, targets, learningRate: job.learningRate })
            : job.kind === "full-ft"
              ? await runLoraBaseline("full-ft", { ...common, learningRate: job.learningRate })
              : await runLoraBaseline("head-only", { ...common, headLearningRate: job.learningRate });
        const named: LoraRun = { ...run, method: job.method };
        const meta = { lesson: args.lesson ?? "", backend, scale };
        const record = args.lesson !== undefined ? recordResult(loraRecord(named, meta, key)) : loraRecord(named, meta);
        if (args.lesson !== undefined) known.set(key, record);
        emit({ ...named, arm: job.arm, reused: false, record });
      }
    },
    onRun,
  );
}

export interface LoraLearningRateArgs extends Omit<
  LoraSweepArgs,
  | "ranks"
  | "baselines"
  | "loraLearningRate"
  | "fullFtLearningRate"
  | "loraLearningRates"
  | "fullFtLearningRates"
  | "headLearningRates"
  | "lesson"
  | "reuse"
  | "progress"
  | "onRun"
> {
  /** Called after every run. */
  onRun?: (run: LoraRun) => void;
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
  return perSeed<LoraRun>(
    args,
    async ({ common }, emit) => {
      for (const lr of args.learningRates) {
        const lora = await runLora({ ...common, r, alpha: args.alpha, targets: args.targets, learningRate: lr });
        emit({ ...lora, method: atLearningRate(lora.method, lr) });
        const full = await runLoraBaseline("full-ft", { ...common, learningRate: lr });
        emit({ ...full, method: atLearningRate(full.method, lr) });
      }
    },
    args.onRun,
  );
}

/** A run as a results-log record (`runKey`: the sweep's reuse key, when it records). */
function loraRecord(
  r: LoraRun,
  meta: { lesson: string; backend: string; scale: string },
  runKey?: string,
  more: Record<string, number | string | boolean | null> = {},
): ResultRecord {
  return scoredRunRecord(r, meta, {
    r: r.r,
    alpha: r.alpha,
    learningRate: r.learningRate,
    steps: r.steps,
    ...(runKey !== undefined ? { runKey } : {}),
    ...more,
  });
}

/** Appends each run to the results file (lesson 10 reads them); returns the records. */
export function recordLoraRuns(
  runs: LoraRun[],
  meta: { lesson: string; backend: string; scale: string },
  dir?: string,
): ResultRecord[] {
  return runs.map((r) => recordResult(loraRecord(r, meta), dir));
}

/** Mean, std and 95 % half-width per method over seeds, in the runs' order, as results.summarizeResults does. */
export function summarizeLoraRuns(runs: LoraRun[]): SummaryRow[] {
  return summarizeResults(runs.map((r) => loraRecord(r, { lesson: "", backend: "", scale: "" })));
}

/** One method of the sweep with its rate chosen on validation: the chosen rate's runs, one per seed. */
export interface LoraArm {
  /** The method's name without a rate ("lora-r4+source-head", "full-ft+source-head", "head-only+source-head"). */
  method: string;
  /** LoRA rank (null for the baselines). */
  r: number | null;
  task: string;
  labelsPerClass: number;
  /** The rate chosen (mean validation accuracy over the seeds; ties go to the lower rate). */
  learningRate: number;
  /** The choice: every candidate rate's mean validation accuracy (± 95 % half-width) and test mean. */
  choice: Choice<number>;
  /** The chosen rate lies at an end of a grid of several rates: a rate beyond it might do better. */
  atGridEdge: boolean;
  /** Which end (null inside the grid, or with one rate): "highest" means a larger rate was not tried. */
  gridEnd: GridEnd;
  /** The chosen rate's runs, by ascending seed, named `method` (what lesson 10 reads). */
  runs: LoraSweepRun[];
}

/** The end of its grid a chosen rate lies at; null inside the grid or with one candidate. */
export type GridEnd = "lowest" | "highest" | null;

/** The end of a grid of `n` ascending candidates that candidate `index` lies at. */
export function gridEndOf(index: number, n: number): GridEnd {
  if (n < 2) return null;
  return index === 0 ? "lowest" : index === n - 1 ? "highest" : null;
}

/** Groups a sweep's runs by method (and task, k) and chooses each method's rate on validation accuracy
 * (`by`: "accuracy" chooses on test, only to show how much that flatters), one rate for all seeds.
 * Arms come in the sweep's order: head-only, the ranks, full fine-tuning. */
export function chooseLoraArms(runs: readonly LoraSweepRun[], by: ChooseBy = "valAccuracy"): LoraArm[] {
  const where = "chooseLoraArms";
  if (!Array.isArray(runs) || runs.length === 0)
    throw argError(where, "runs", "a non-empty list of runLoraSweep's runs", show(runs));
  checkOneOf(where, "by", by, CHOOSE_BY);
  const groups = new Map<string, LoraSweepRun[]>();
  for (const run of runs) {
    const key = JSON.stringify([run.task, run.labelsPerClass, run.arm]);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => {
    const rates = [...new Set(group.map((x) => x.learningRate))].sort((a, b) => a - b);
    const candidates = rates.map((lr) => ({ key: lr, runs: group.filter((x) => x.learningRate === lr) }));
    const choice = chooseOnValidation(candidates, by);
    const first = group[0];
    return {
      method: first.arm,
      r: first.r,
      task: first.task,
      labelsPerClass: first.labelsPerClass,
      learningRate: choice.chosen,
      choice,
      atGridEdge: gridEndOf(choice.index, rates.length) !== null,
      gridEnd: gridEndOf(choice.index, rates.length),
      runs: candidates[choice.index].runs.map((x) => ({ ...x, method: first.arm })).sort((a, b) => a.seed - b.seed),
    };
  });
}

/** An arm's runs as compareOnSeeds input: test accuracy per seed (or another field); runs without
 * the field (retention not measured) are left out. */
export function loraArmValues(arm: Pick<LoraArm, "runs">, field: ScoreField = "accuracy"): SeedValue[] {
  return runValues(arm.runs, field);
}

/** An arm over its seeds: means with 95 % half-widths, for tables. */
export interface LoraArmSummary {
  method: string;
  r: number | null;
  learningRate: number;
  atGridEdge: boolean;
  gridEnd: GridEnd;
  runs: number;
  valMean: number;
  valHalfWidth: number;
  accuracyMean: number;
  accuracyHalfWidth: number;
  /** NaN when retention was not measured. */
  forgettingMean: number;
  forgettingHalfWidth: number;
  trainableParams: number;
  totalParams: number;
  secondsMean: number;
}

/** Each arm's mean validation and test accuracy and forgetting, with 95 % half-widths. */
export function summarizeLoraArms(arms: readonly LoraArm[]): LoraArmSummary[] {
  return arms.map((arm) => {
    const val = meanCI(arm.runs.map((x) => x.valAccuracy));
    const acc = meanCI(arm.runs.map((x) => x.accuracy));
    const forg = loraArmValues(arm, "forgetting").map((x) => x.value);
    const fci = forg.length ? meanCI(forg) : { mean: NaN, halfWidth: NaN };
    return {
      method: arm.method,
      r: arm.r,
      learningRate: arm.learningRate,
      atGridEdge: arm.atGridEdge,
      gridEnd: arm.gridEnd,
      runs: arm.runs.length,
      valMean: val.mean,
      valHalfWidth: val.halfWidth,
      accuracyMean: acc.mean,
      accuracyHalfWidth: acc.halfWidth,
      forgettingMean: fci.mean,
      forgettingHalfWidth: fci.halfWidth,
      trainableParams: arm.runs[0].trainableParams,
      totalParams: arm.runs[0].totalParams,
      secondsMean: arm.runs.reduce((a, x) => a + x.seconds, 0) / arm.runs.length,
    };
  });
}

/** Appends each arm's chosen runs to the results file under the method's plain name ("lora-r4+source-head",
 * as lesson 10 reads it), marked `chosenOn: "validation"` with the rate and the rates it was chosen from. */
export function recordLoraArms(
  arms: readonly LoraArm[],
  meta: { lesson: string; backend: string; scale: string },
  dir?: string,
): ResultRecord[] {
  return arms.flatMap((arm) =>
    arm.runs.map((x) =>
      recordResult(
        loraRecord(x, meta, undefined, {
          chosenOn: "validation",
          candidateRates: arm.choice.candidates.map((c) => c.key).join(","),
        }),
        dir,
      ),
    ),
  );
}

/** Accuracy (%) vs trainable parameters (log x): the LoRA ranks as one line, each other method a point;
 * error bars are the 95 % half-width of the mean over seeds (none with one seed). */
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
      error: lora.map((s) => 100 * s.accuracyHalfWidth),
    });
  }
  for (const s of summary.filter((x) => rankOf(x) === null)) {
    series.push({
      name: s.method,
      x: [s.trainableParams ?? 0],
      y: [100 * s.accuracyMean],
      error: [100 * s.accuracyHalfWidth],
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
