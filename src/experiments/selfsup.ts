// Lesson 07's experiment: which unlabeled pretraining of the source MLP helps on a shifted target
// task, and can it be combined with supervised transfer? Seven arms (scratch; greedy stacked denoising
// autoencoders; an end-to-end denoising autoencoder; masked-patch autoencoding; contrastive SimCLR; the
// supervised source model; the source model after domain-adaptive self-supervised pretraining), each
// pretrained per seed and shift on every target training image without labels (cached), then scored by
// a linear probe on its frozen features (beside a probe on the raw pixels, the no-pretraining
// baseline) and by full fine-tuning (the source arms also from the source head, and zero-shot), with k
// labels per class, every penalty, rate and head chosen on the target's validation split. Each arm's final
// fine-tuned runs (the candidate chosen on validation, per shift, k and seed) go to the results log under lesson 07,
// so lesson 10's review can cite them.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import type { ShiftName } from "../data/transforms";
import type { Dataset } from "../data/types";
import { cacheKey, cachedJson, cachedModel, loadJson, saveJson, sha256Hex, stableHash } from "../store/cache";
import { PROTOCOL_VERSION, readResults, recordResult, type ResultRecord } from "../store/results";
import { checkCacheWritable } from "../store/writable";
import { methodName, type Method } from "../core/methods";
import { scaleArg, type Scale } from "../core/scale";
import { DEFAULT_HEAD_LR, lessonSettings, SOURCE_RECIPES, type Lesson07Settings } from "../core/settings";
import { meanCI, type MeanCI, type SeedValue } from "../core/stats";
import { argError, checkOneOf, checkSeeds, show } from "../core/validate";
import type { DenseWeights } from "../models/autoencoder";
import { buildSourceModel, HEAD_LAYER, SOURCE_HIDDEN_UNITS } from "../models/mlp";
import { getRecipe } from "../models/recipes";
import { encoderStackModel, encodersFromModel, pretrainGreedy } from "../train/greedy";
import { pretrainSelfSupervised, type SslObjective } from "../train/selfsupervised";
import { extractFeatures } from "../evaluate/features";
import { ridgeProbe } from "../evaluate/ridge-probe";
import { chooseOnValidation, type Choice } from "../evaluate/select";
import { progressLine } from "../show/progress";
import { getSourceModel, sourceTasks } from "./source";
import { runTransfer, scoredRunRecord } from "./transfer";

/** The arms, each one pretraining of the same 784-256-128-128-64 encoder (scratch: none). */
export type Lesson07Arm = "scratch" | "greedy" | "denoising" | "masked" | "contrastive" | "source" | "source+dapt";
export const LESSON07_ARMS: readonly Lesson07Arm[] = [
  "scratch",
  "greedy",
  "denoising",
  "masked",
  "contrastive",
  "source",
  "source+dapt",
];
/** What a linear probe can read: an arm's frozen hidden4 features, or the raw 784 pixels ("pixels": no
 * pretraining and no network — the strongest fair no-pretraining probe; scratch's probe reads random
 * ReLU features instead). */
export type ProbeArm = Lesson07Arm | "pixels";

/** How one fine-tuning candidate starts: a fresh head on the arm's encoder (every arm), the source
 * model's own trained head ("source-head": source and source + DAPT, whose task A has the target's ten
 * classes), or that model as it is, nothing trained ("zero-shot"). Scratch: every layer fresh. */
export type FineTuneVariant = "fresh-head" | "source-head" | "zero-shot";

/** The arms whose encoder came from the supervised source model: they keep its head as a candidate. */
export const SOURCE_HEAD_ARMS: readonly Lesson07Arm[] = ["source", "source+dapt"];

/** The arms pretrained on the unlabeled target images only (no labels anywhere). */
export const SELF_SUPERVISED_ARMS: readonly Lesson07Arm[] = ["greedy", "denoising", "masked", "contrastive"];

/** What each arm's pretraining is, for tables. */
export const ARM_PRETRAINING: Readonly<Record<Lesson07Arm, string>> = {
  scratch: "none (Glorot init)",
  greedy: "greedy stacked denoising AEs (tied), one layer at a time (target, unlabeled)",
  denoising: "denoising AE, whole encoder + untied mirror decoder at once (target, unlabeled)",
  masked: "masked-patch AE on the MLP, loss on hidden patches (target, unlabeled)",
  contrastive: "SimCLR: two views, NT-Xent (target, unlabeled)",
  source: "supervised on task A (clean digits, 5,500 labels at default)",
  "source+dapt": "source model, then the DAPT objective on the target (unlabeled)",
};

/** What pretraining an arm cost on one (shift, seed). */
export interface PretrainCost {
  arm: Lesson07Arm;
  shift: ShiftName;
  seed: number;
  /** Wall seconds of the pretraining when it ran (null: loaded from a cache written elsewhere, untimed). */
  seconds: number | null;
  /** Optimizer steps (greedy: over all stages; source: its task-A training; dapt: the continued part only). */
  steps: number;
  /** Pretraining loss per epoch (greedy: the last stage's), empty for scratch and source. */
  loss: number[];
  fromCache: boolean;
}

/** A linear probe on an arm's frozen hidden4 features (ridge penalty chosen on validation per seed). */
export interface SelfSupProbeRun {
  arm: ProbeArm;
  shift: ShiftName;
  labelsPerClass: number;
  seed: number;
  accuracy: number;
  valAccuracy: number;
  alpha: number;
}

/** One fine-tuning run of an arm at one candidate (variant and rate). */
export interface SelfSupFineTuneRun {
  arm: Lesson07Arm;
  shift: ShiftName;
  labelsPerClass: number;
  seed: number;
  variant: FineTuneVariant;
  /** Base rate (0 for zero-shot: nothing trains). */
  learningRate: number;
  accuracy: number;
  valAccuracy: number;
  seconds: number;
  steps: number;
}

/** Everything one (arm, shift, seed) measured, as cached. */
interface ArmRecord {
  cost: PretrainCost;
  probes: SelfSupProbeRun[];
  fineTunes: SelfSupFineTuneRun[];
}

export interface SelfSupExperiment {
  settings: Lesson07Settings;
  arms: Lesson07Arm[];
  shifts: ShiftName[];
  seeds: number[];
  costs: PretrainCost[];
  /** Every arm's probes, and the raw-pixel probe (arm "pixels") per (shift, seed). */
  probes: SelfSupProbeRun[];
  fineTunes: SelfSupFineTuneRun[];
  /** (arm, shift, seed) records (and pixel-probe records) read back from the cache, and measured now. */
  reused: number;
  measured: number;
  /** The final fine-tuned runs in the results log (empty when not recorded): `reused` when the log already held
   * the same run (a re-run that read everything back records nothing twice). */
  recorded: SelfSupRecordedRun[];
}

/** One arm's final fine-tuned run at (shift, k, seed) — the candidate chosen on validation — as recorded. */
export interface SelfSupRecordedRun {
  arm: Lesson07Arm;
  shift: ShiftName;
  labelsPerClass: number;
  seed: number;
  /** fineTuneCandidate's name of the chosen candidate. */
  candidate: string;
  reused: boolean;
  record: ResultRecord;
}

/** The lesson id lesson 07's runs are recorded under. */
export const LESSON07_ID = "07";

/** The method an arm's final fine-tuned runs are recorded under (core/methods.ts): scratch, ssl-pretrained:<objective>,
 * source-pretrained, source-pretrained+dapt:<objective>. */
export function lesson07Method(arm: Lesson07Arm, daptObjective: SslObjective): string {
  const m: Method =
    arm === "scratch"
      ? { kind: "scratch" }
      : arm === "source"
        ? { kind: "source-pretrained" }
        : arm === "source+dapt"
          ? { kind: "source-pretrained", dapt: daptObjective }
          : { kind: "ssl-pretrained", objective: arm };
  return methodName(m);
}

export interface SelfSupExperimentArgs {
  scale?: Scale;
  /** Lesson 07's settings (default lessonSettings("07", scale)); the notebook passes its edited copy. */
  settings?: Lesson07Settings;
  arms?: readonly Lesson07Arm[];
  /** Default settings.shifts / settings.seeds. */
  shifts?: readonly ShiftName[];
  seeds?: readonly number[];
  /** Show a progress line per pretraining (default true). */
  progress?: boolean;
  /** Measure again and overwrite the cached records (pretrained encoders included). */
  retrain?: boolean;
  /** Record each arm's final fine-tuned runs (the candidate chosen on validation, per shift, k and seed) in the
   * results log under lesson 07, skipping runs the log already holds. Default: when at least two seeds ran — the
   * choice is shared over seeds; a one-seed variant (the exercises') is a demo and never replaces the lesson's
   * numbers in the review. */
  record?: boolean;
}

/** The target task of a seed: sourceTasks at the scale's sizes with the given shift. */
function tasksFor(scale: Scale, seed: number, shift: ShiftName): TransferTasks {
  return sourceTasks({ scale, seed, shift });
}

function pixelsHash(ds: Dataset): string {
  return sha256Hex(new Uint8Array(ds.x.buffer, ds.x.byteOffset, ds.n * ds.dim * 4)).slice(0, 16);
}

/** What changes an arm's pretrained encoder (hashed into its cache key). */
function pretrainConfig(arm: Lesson07Arm, s: Lesson07Settings, pool: Dataset, sourceKey: string | null): unknown {
  const base = { arm, sizes: SOURCE_HIDDEN_UNITS, pool: { n: pool.n, pixels: pixelsHash(pool) } };
  const opt = { epochs: s.epochs, batchSize: s.pretrainBatchSize, learningRate: s.pretrainLearningRate };
  switch (arm) {
    case "scratch":
      return base;
    case "source":
      return { ...base, sourceKey };
    case "greedy":
      // pretrainGreedy's own masking noise (train/autoencoder: hidden pixels set to 0).
      return { ...base, ...opt, epochs: s.greedyStageEpochs, noise: s.noise };
    case "denoising":
      return { ...base, ...opt, noise: s.noise, fill: BACKGROUND_FILL };
    case "masked":
      return { ...base, ...opt, patchSize: s.patchSize, maskRatio: s.maskRatio, fill: BACKGROUND_FILL };
    case "contrastive":
      return { ...base, ...opt, temperature: s.temperature, projectionDim: s.projectionDim, fill: BACKGROUND_FILL };
    case "source+dapt":
      return {
        ...base,
        ...opt,
        fill: BACKGROUND_FILL,
        sourceKey,
        objective: s.daptObjective,
        learningRate: s.daptLearningRate,
        ...objectiveSettings(s.daptObjective, s),
      };
  }
}

/** Hidden, masked and out-of-frame pixels are set to each image's background (data/augment borderValue),
 * not 0: part of the end-to-end objectives' cache keys. */
const BACKGROUND_FILL = "border-median";

function objectiveSettings(o: SslObjective, s: Lesson07Settings): Record<string, number> {
  return o === "denoising"
    ? { noise: s.noise }
    : o === "masked"
      ? { patchSize: s.patchSize, maskRatio: s.maskRatio }
      : { temperature: s.temperature, projectionDim: s.projectionDim };
}

/** Runs one self-supervised objective with the lesson's settings. */
function sslArgs(o: SslObjective, s: Lesson07Settings) {
  return {
    objective: o,
    epochs: s.epochs,
    batchSize: s.pretrainBatchSize,
    noise: s.noise,
    mask: { patchSize: s.patchSize, ratio: s.maskRatio },
    temperature: s.temperature,
    projectionDim: s.projectionDim,
  };
}

interface Pretrained {
  encoders: DenseWeights[];
  cost: PretrainCost;
}

/** The encoder of one arm for one (shift, seed): cached per seed (the encoder as a model, its cost
 * as JSON beside it), pretrained on tasks.target.pool with its labels never read. */
export async function pretrainArm(args: {
  arm: Lesson07Arm;
  tasks: TransferTasks;
  seed: number;
  scale: Scale;
  settings: Lesson07Settings;
  source: { model: tf.LayersModel; key: string; seconds: number; fromCache: boolean };
  progress?: boolean;
  retrain?: boolean;
}): Promise<Pretrained> {
  const { arm, tasks, seed, settings: s } = args;
  const shift = tasks.shift;
  const pool = tasks.target.pool;
  const costOf = (seconds: number | null, steps: number, loss: number[], fromCache: boolean): PretrainCost => ({
    arm,
    shift,
    seed,
    seconds,
    steps,
    loss,
    fromCache,
  });
  if (arm === "scratch") {
    const init = buildSourceModel({ seed: 1000 + seed, numClasses: pool.numClasses }); // runTransfer's scratch init
    const encoders = encodersFromModel(init);
    init.dispose();
    return { encoders, cost: costOf(0, 0, [], false) };
  }
  if (arm === "source") {
    const src = tasks.source.train;
    const r = lessonSourceSteps(args.scale, src.n);
    return {
      encoders: encodersFromModel(args.source.model),
      cost: costOf(args.source.fromCache ? null : args.source.seconds, r, [], args.source.fromCache),
    };
  }
  const key = cacheKey({
    name: `lesson07-${arm === "source+dapt" ? "dapt" : arm}`,
    config: pretrainConfig(arm, s, pool, args.source.key),
    scale: args.scale,
    seed,
  });
  const costKey = `${key}-cost`;
  const made: { cost: PretrainCost | null } = { cost: null };
  const progress = args.progress === false ? false : progressLine(`${arm} (${shift}, seed ${seed})`);
  const got = await cachedModel(
    key,
    async () => {
      let encoders: DenseWeights[];
      if (arm === "greedy") {
        const recipe = getRecipe("modern", {
          pretrain: {
            epochs: s.greedyStageEpochs,
            batchSize: s.pretrainBatchSize,
            noise: s.noise,
            learningRate: s.pretrainLearningRate,
          },
        });
        const g = await pretrainGreedy({ data: pool, sizes: [...SOURCE_HIDDEN_UNITS], recipe, seed, progress });
        encoders = g.encoders;
        const steps = g.stages.reduce((a, st) => a + st.history.steps, 0);
        made.cost = costOf(g.seconds, steps, g.stages[g.stages.length - 1].history.loss, false);
      } else {
        const objective: SslObjective = arm === "source+dapt" ? s.daptObjective : arm;
        const r = await pretrainSelfSupervised({
          ...sslArgs(objective, s),
          data: pool,
          learningRate: arm === "source+dapt" ? s.daptLearningRate : s.pretrainLearningRate,
          init: arm === "source+dapt" ? encodersFromModel(args.source.model) : undefined,
          seed,
          progress,
        });
        encoders = r.encoders;
        made.cost = costOf(r.seconds, r.steps, r.loss, false);
      }
      await saveJson(costKey, made.cost);
      return encoderStackModel(encoders);
    },
    { retrain: args.retrain, log: false },
  );
  const encoders = encodersFromModel(got.model);
  got.model.dispose();
  if (made.cost) return { encoders, cost: made.cost };
  const stored = await loadJson<PretrainCost>(costKey);
  return { encoders, cost: stored ? { ...stored, fromCache: true } : costOf(null, 0, [], true) };
}

/** Steps of the source model's task-A training (SOURCE_RECIPES: epochs × batches of its training images). */
function lessonSourceSteps(scale: Scale, n: number): number {
  const r = SOURCE_RECIPES[scale];
  return r.epochs * Math.ceil(n / r.batchSize);
}

/** The source-shaped classifier (784-256-128-128-64-10) holding an arm's encoder under a head: the
 * source model's trained head when `headFrom` is given, else a Glorot one (replaced by runTransfer's
 * fresh head when it fine-tunes with head "fresh"). */
function classifierWith(
  encoders: DenseWeights[],
  seed: number,
  numClasses: number,
  headFrom?: tf.LayersModel,
): tf.LayersModel {
  const model = buildSourceModel({ seed: 1000 + seed, numClasses });
  encoders.forEach((w, i) =>
    tf.tidy(() =>
      model.getLayer(`hidden${i + 1}`).setWeights([tf.tensor2d(w.kernel, [w.inputDim, w.units]), tf.tensor1d(w.bias)]),
    ),
  );
  if (headFrom) {
    const src = headFrom.getLayer(HEAD_LAYER).getWeights();
    const dst = model.getLayer(HEAD_LAYER);
    const shapes = dst.getWeights().map((w) => w.shape.join("x"));
    if (src.map((w) => w.shape.join("x")).join() !== shapes.join())
      throw new Error(
        `lesson 07: the source head (${src.map((w) => w.shape)}) does not fit the classifier (${shapes})`,
      );
    dst.setWeights(src);
  }
  return model;
}

/** Probes and fine-tunes one arm's encoder on one (shift, seed). */
async function evaluateArm(
  arm: Lesson07Arm,
  encoders: DenseWeights[],
  tasks: TransferTasks,
  seed: number,
  scale: Scale,
  s: Lesson07Settings,
  sourceModel: tf.LayersModel,
): Promise<{ probes: SelfSupProbeRun[]; fineTunes: SelfSupFineTuneRun[] }> {
  const shift = tasks.shift;
  const keepsHead = SOURCE_HEAD_ARMS.includes(arm);
  const model = classifierWith(encoders, seed, tasks.target.pool.numClasses, keepsHead ? sourceModel : undefined);
  try {
    const val = extractFeatures(model, "hidden4", tasks.target.val);
    const test = extractFeatures(model, "hidden4", tasks.target.test);
    const probes = s.labelBudgets.map((k): SelfSupProbeRun => {
      const train = extractFeatures(model, "hidden4", tasks.targetLabels(k, seed));
      const p = ridgeProbe({ train, val, test, alphas: s.ridgeAlphas });
      return { arm, shift, labelsPerClass: k, seed, accuracy: p.accuracy, valAccuracy: p.valAccuracy, alpha: p.alpha };
    });
    const fineTunes: SelfSupFineTuneRun[] = [];
    const rates = arm === "scratch" ? s.scratchRates : s.fineTuneRates;
    const variants: FineTuneVariant[] = keepsHead ? ["fresh-head", "source-head"] : ["fresh-head"];
    const budget = { epochs: s.fineTuneEpochs, minSteps: s.fineTuneMinSteps, batchSize: s.batchSize };
    // Zero-shot trains nothing, so it is the same model at every k: scored once, listed at each k.
    const zeroShot = keepsHead
      ? await runTransfer({
          method: "zero-shot",
          source: model,
          head: "source",
          tasks,
          labelsPerClass: s.fineTuneBudgets[0],
          seed,
          scale,
          measureRetention: false,
        })
      : null;
    for (const k of s.fineTuneBudgets) {
      if (zeroShot)
        fineTunes.push({
          arm,
          shift,
          labelsPerClass: k,
          seed,
          variant: "zero-shot",
          learningRate: 0,
          accuracy: zeroShot.accuracy,
          valAccuracy: zeroShot.valAccuracy,
          seconds: zeroShot.seconds,
          steps: 0,
        });
      for (const variant of variants)
        for (const lr of rates) {
          const r = await runTransfer({
            method: arm === "scratch" ? "scratch" : "full-ft",
            source: model,
            head: arm === "scratch" ? undefined : variant === "source-head" ? "source" : "fresh",
            tasks,
            labelsPerClass: k,
            seed,
            learningRate: lr,
            headLearningRate: arm === "scratch" ? undefined : DEFAULT_HEAD_LR,
            budget,
            scale,
            measureRetention: false,
          });
          fineTunes.push({
            arm,
            shift,
            labelsPerClass: k,
            seed,
            variant,
            learningRate: lr,
            accuracy: r.accuracy,
            valAccuracy: r.valAccuracy,
            seconds: r.seconds,
            steps: r.steps,
          });
        }
    }
    return { probes, fineTunes };
  } finally {
    model.dispose();
  }
}

/** What changes an arm's evaluation (besides its encoder). */
function evalConfig(s: Lesson07Settings): unknown {
  return {
    labelBudgets: s.labelBudgets,
    fineTuneBudgets: s.fineTuneBudgets,
    fineTuneRates: s.fineTuneRates,
    scratchRates: s.scratchRates,
    fineTuneEpochs: s.fineTuneEpochs,
    fineTuneMinSteps: s.fineTuneMinSteps,
    batchSize: s.batchSize,
    ridgeAlphas: s.ridgeAlphas,
    headLr: DEFAULT_HEAD_LR,
    candidates: "fresh, source head, zero-shot",
  };
}

/** The linear probe on the raw pixels of every budget of one (shift, seed): ridge on 784 features (the
 * dual form while n < 784), penalty chosen on validation. */
function pixelProbes(tasks: TransferTasks, seed: number, s: Lesson07Settings): SelfSupProbeRun[] {
  return s.labelBudgets.map((k): SelfSupProbeRun => {
    const p = ridgeProbe({
      train: tasks.targetLabels(k, seed),
      val: tasks.target.val,
      test: tasks.target.test,
      alphas: s.ridgeAlphas,
    });
    return {
      arm: "pixels",
      shift: tasks.shift,
      labelsPerClass: k,
      seed,
      accuracy: p.accuracy,
      valAccuracy: p.valAccuracy,
      alpha: p.alpha,
    };
  });
}

function checkLesson07Settings(where: string, s: Lesson07Settings): void {
  const lists: [string, unknown][] = [
    ["labelBudgets", s.labelBudgets],
    ["fineTuneBudgets", s.fineTuneBudgets],
    ["fineTuneRates", s.fineTuneRates],
    ["scratchRates", s.scratchRates],
  ];
  if (!(Number.isInteger(s.greedyStageEpochs) && s.greedyStageEpochs > 0))
    throw argError(
      where,
      "settings.greedyStageEpochs",
      "a positive integer (epochs per greedy stage)",
      show(s.greedyStageEpochs),
    );
  for (const [name, v] of lists)
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => !(typeof x === "number" && x > 0 && Number.isFinite(x))))
      throw argError(where, `settings.${name}`, "a non-empty list of positive numbers", show(v));
  for (const name of ["labelBudgets", "fineTuneBudgets"] as const)
    if (s[name].some((k) => !Number.isInteger(k)))
      throw argError(where, `settings.${name}`, "labels per class: positive integers", show(s[name]));
}

/**
 * Every arm on every (shift, seed): pretrain (cached), probe at every k of settings.labelBudgets, fine-tune
 * at every k of settings.fineTuneBudgets and every candidate rate. One (arm, shift, seed) record is cached
 * as a whole once measured, so a re-run reads it back. Leaves no tensors behind.
 */
export async function runSelfSupExperiment(args: SelfSupExperimentArgs = {}): Promise<SelfSupExperiment> {
  const where = "runSelfSupExperiment";
  const scale = scaleArg(where, args.scale);
  const s = args.settings ?? lessonSettings("07", scale);
  checkLesson07Settings(where, s);
  const arms = [...(args.arms ?? LESSON07_ARMS)];
  if (arms.length === 0) throw argError(where, "arms", `a non-empty list of ${LESSON07_ARMS.join(", ")}`, "[]");
  arms.forEach((a, i) => checkOneOf(where, `arms[${i}]`, a, LESSON07_ARMS));
  const shifts = [...(args.shifts ?? s.shifts)];
  shifts.forEach((sh, i) => checkOneOf(where, `shifts[${i}]`, sh, ["none", "mild", "heavy", "inverted"] as const));
  const seeds = [...(args.seeds ?? s.seeds)];
  checkSeeds(where, seeds);
  if (s.daptObjective !== undefined)
    checkOneOf(where, "settings.daptObjective", s.daptObjective, ["denoising", "masked", "contrastive"] as const);
  const record = args.record ?? seeds.length >= 2;
  // Results are recorded after the runs: refuse an unwritable cache before the first one trains.
  if (record) checkCacheWritable(undefined, where);
  /** Cache key of each (arm, shift, seed) record: part of its recorded runs' keys. */
  const recordKeys = new Map<string, string>();
  let params = 0;
  const out: SelfSupExperiment = {
    settings: s,
    arms,
    shifts,
    seeds,
    costs: [],
    probes: [],
    fineTunes: [],
    reused: 0,
    measured: 0,
    recorded: [],
  };
  for (const seed of seeds) {
    const src = await getSourceModel({ scale, seed, log: false });
    try {
      for (const shift of shifts) {
        const tasks = tasksFor(scale, seed, shift);
        params = denseParams([tasks.target.pool.dim, ...SOURCE_HIDDEN_UNITS, tasks.target.pool.numClasses]);
        const pixels = await cachedJson<SelfSupProbeRun[]>(
          cacheKey({
            name: "lesson07-pixels",
            config: { pool: pixelsHash(tasks.target.pool), labelBudgets: s.labelBudgets, ridgeAlphas: s.ridgeAlphas },
            scale,
            seed,
          }),
          async () => pixelProbes(tasks, seed, s),
          { retrain: args.retrain, log: false },
        );
        if (pixels.fromCache) out.reused++;
        else out.measured++;
        out.probes.push(...pixels.value);
        for (const arm of arms) {
          const recordKey = cacheKey({
            name: "lesson07-record",
            config: { arm, pretrain: pretrainConfig(arm, s, tasks.target.pool, src.key), eval: evalConfig(s) },
            scale,
            seed,
          });
          recordKeys.set(recordSlot(arm, shift, seed), recordKey);
          const got = await cachedJson<ArmRecord>(
            recordKey,
            async () => {
              const p = await pretrainArm({
                arm,
                tasks,
                seed,
                scale,
                settings: s,
                source: src,
                progress: args.progress,
                retrain: args.retrain,
              });
              const e = await evaluateArm(arm, p.encoders, tasks, seed, scale, s, src.model);
              return { cost: p.cost, ...e };
            },
            { retrain: args.retrain, log: false },
          );
          if (got.fromCache) out.reused++;
          else out.measured++;
          out.costs.push(got.value.cost);
          out.probes.push(...got.value.probes);
          out.fineTunes.push(...got.value.fineTunes);
        }
      }
    } finally {
      src.model.dispose();
    }
  }
  if (record) out.recorded = recordFinalRuns(out, { scale, backend: tf.getBackend(), recordKeys, params });
  return out;
}

function recordSlot(arm: Lesson07Arm, shift: ShiftName, seed: number): string {
  return JSON.stringify([arm, shift, seed]);
}

/** Weights and biases of a stack of dense layers of these widths (input first). */
function denseParams(widths: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < widths.length; i++) n += widths[i - 1] * widths[i] + widths[i];
  return n;
}

/** Appends each arm's final fine-tuned run per (shift, k, seed) to the results log, unless the log holds it already
 * (same run key: the arm's cached record, k, the chosen candidate, the seeds it was chosen over, scale, backend). */
function recordFinalRuns(
  exp: SelfSupExperiment,
  ctx: { scale: Scale; backend: string; recordKeys: Map<string, string>; params: number },
): SelfSupRecordedRun[] {
  const known = new Map<string, ResultRecord>();
  for (const r of readResults({ lesson: LESSON07_ID, scale: ctx.scale }))
    if (r.backend === ctx.backend && typeof r.extra?.runKey === "string") known.set(r.extra.runKey, r);
  const out: SelfSupRecordedRun[] = [];
  for (const shift of exp.shifts)
    for (const k of exp.settings.fineTuneBudgets)
      for (const arm of exp.arms) {
        const choice = chooseFineTune(exp, arm, shift, k);
        if (!choice) continue;
        const chosen = exp.fineTunes.filter(
          (r) => r.arm === arm && r.shift === shift && r.labelsPerClass === k && fineTuneCandidate(r) === choice.chosen,
        );
        for (const r of chosen) {
          const runKey = stableHash({
            v: PROTOCOL_VERSION,
            lesson: LESSON07_ID,
            record: ctx.recordKeys.get(recordSlot(arm, shift, r.seed)) ?? null,
            k,
            candidate: choice.chosen,
            chosenOver: exp.seeds,
            scale: ctx.scale,
            backend: ctx.backend,
          }).slice(0, 16);
          const old = known.get(runKey);
          const base = { arm, shift, labelsPerClass: k, seed: r.seed, candidate: choice.chosen };
          if (old) {
            out.push({ ...base, reused: true, record: old });
            continue;
          }
          const rec = recordResult(
            scoredRunRecord(
              {
                method: lesson07Method(arm, exp.settings.daptObjective),
                task: shift,
                labelsPerClass: k,
                seed: r.seed,
                accuracy: r.accuracy,
                valAccuracy: r.valAccuracy,
                retention: null,
                forgetting: null,
                trainableParams: r.variant === "zero-shot" ? 0 : ctx.params,
                totalParams: ctx.params,
                seconds: r.seconds,
              },
              { lesson: LESSON07_ID, backend: ctx.backend, scale: ctx.scale },
              {
                runKey,
                arm,
                candidate: choice.chosen,
                variant: r.variant,
                learningRate: r.variant === "zero-shot" ? null : r.learningRate,
                headLearningRate: r.variant === "zero-shot" || arm === "scratch" ? null : DEFAULT_HEAD_LR,
                steps: r.steps,
                choice: "validation, shared over seeds",
                chosenOverSeeds: exp.seeds.length,
              },
            ),
          );
          known.set(runKey, rec);
          out.push({ ...base, reused: false, record: rec });
        }
      }
  return out;
}

/** A fine-tuning candidate's name: "fresh head @ 0.001", "source head @ 0.0001", "zero-shot". */
export function fineTuneCandidate(r: Pick<SelfSupFineTuneRun, "variant" | "learningRate">): string {
  return r.variant === "zero-shot" ? "zero-shot" : `${r.variant.replace("-", " ")} @ ${r.learningRate}`;
}

/** The fine-tuning candidate (variant and rate) of an arm at (shift, k), chosen on mean validation
 * accuracy over seeds (ties: the earlier candidate). Null when the arm was not fine-tuned there. */
export function chooseFineTune(
  exp: SelfSupExperiment,
  arm: Lesson07Arm,
  shift: ShiftName,
  k: number,
): Choice<string> | null {
  const runs = exp.fineTunes.filter((r) => r.arm === arm && r.shift === shift && r.labelsPerClass === k);
  const keys = [...new Set(runs.map(fineTuneCandidate))];
  if (keys.length === 0) return null;
  return chooseOnValidation(keys.map((key) => ({ key, runs: runs.filter((r) => fineTuneCandidate(r) === key) })));
}

/** Per seed, the measure of an arm at (shift, k): the probe's test accuracy, or the fine-tuned run at the
 * rate chosen on validation (its test accuracy, or with field "valAccuracy" its validation accuracy). */
export function selfSupValues(
  exp: SelfSupExperiment,
  arm: ProbeArm,
  shift: ShiftName,
  k: number,
  kind: "probe" | "fine-tuned",
  field: "accuracy" | "valAccuracy" = "accuracy",
): SeedValue[] {
  if (kind === "probe")
    return exp.probes
      .filter((r) => r.arm === arm && r.shift === shift && r.labelsPerClass === k)
      .map((r) => ({ seed: r.seed, value: r[field] }));
  if (arm === "pixels") return [];
  const choice = chooseFineTune(exp, arm, shift, k);
  if (!choice) return [];
  return exp.fineTunes
    .filter(
      (r) => r.arm === arm && r.shift === shift && r.labelsPerClass === k && fineTuneCandidate(r) === choice.chosen,
    )
    .map((r) => ({ seed: r.seed, value: r[field] }));
}

/** Per-seed differences a − b (paired by seed), e.g. a gain over scratch. */
export function seedDifferences(a: readonly SeedValue[], b: readonly SeedValue[]): SeedValue[] {
  const bs = new Map(b.map((x) => [x.seed, x.value]));
  return a.filter((x) => bs.has(x.seed)).map((x) => ({ seed: x.seed, value: x.value - bs.get(x.seed)! }));
}

/** The arm of `among` (default the self-supervised ones: greedy, denoising, masked, contrastive) with the best
 * mean validation accuracy at (shift, k) — "the best unlabeled pretraining", chosen without test; ties go to
 * the earlier arm. Null when none of them was measured there. */
export function bestSelfSupervisedArm(
  exp: SelfSupExperiment,
  shift: ShiftName,
  k: number,
  kind: "probe" | "fine-tuned",
  among: readonly Lesson07Arm[] = SELF_SUPERVISED_ARMS,
): Lesson07Arm | null {
  const candidates = among
    .filter((a) => exp.arms.includes(a))
    .map((arm) => ({ arm, runs: selfSupValues(exp, arm, shift, k, kind, "valAccuracy") }))
    .filter((c) => c.runs.length > 0);
  if (candidates.length === 0) return null;
  const mean = (xs: SeedValue[]) => xs.reduce((a, x) => a + x.value, 0) / xs.length;
  let best = candidates[0];
  for (const c of candidates) if (mean(c.runs) > mean(best.runs)) best = c;
  return best.arm;
}

/** One row of the arms × k table: test accuracy mean ± 95 % half-width of the probe and of the fine-tuned
 * model (at its validated rate; null where not fine-tuned at this k). */
export interface ArmSummary {
  arm: ProbeArm;
  shift: ShiftName;
  labelsPerClass: number;
  probe: MeanCI;
  fineTuned: MeanCI | null;
  /** The fine-tuning candidate chosen on validation (fineTuneCandidate's name). */
  candidate: string | null;
}

export function summarizeArms(exp: SelfSupExperiment): ArmSummary[] {
  const rows: ArmSummary[] = [];
  for (const shift of exp.shifts)
    for (const k of exp.settings.labelBudgets)
      for (const arm of ["pixels" as const, ...exp.arms]) {
        const probe = selfSupValues(exp, arm, shift, k, "probe");
        if (probe.length === 0) continue;
        const ft = selfSupValues(exp, arm, shift, k, "fine-tuned");
        rows.push({
          arm,
          shift,
          labelsPerClass: k,
          probe: meanCI(probe.map((x) => x.value)),
          fineTuned: ft.length ? meanCI(ft.map((x) => x.value)) : null,
          candidate: arm === "pixels" ? null : (chooseFineTune(exp, arm, shift, k)?.chosen ?? null),
        });
      }
  return rows;
}

/** Pretraining cost per arm and shift: mean seconds over the seeds that timed it, and steps. */
export interface CostSummary {
  arm: Lesson07Arm;
  shift: ShiftName;
  /** Mean wall seconds over the seeds timed (null when none was: every one came from elsewhere). */
  seconds: number | null;
  timedSeeds: number;
  steps: number;
}

export function summarizeCosts(exp: SelfSupExperiment): CostSummary[] {
  const out: CostSummary[] = [];
  for (const shift of exp.shifts)
    for (const arm of exp.arms) {
      const cs = exp.costs.filter((c) => c.arm === arm && c.shift === shift);
      if (cs.length === 0) continue;
      const timed = cs.filter((c) => c.seconds !== null).map((c) => c.seconds as number);
      out.push({
        arm,
        shift,
        seconds: timed.length ? timed.reduce((a, b) => a + b, 0) / timed.length : null,
        timedSeeds: timed.length,
        steps: Math.round(cs.reduce((a, c) => a + c.steps, 0) / cs.length),
      });
    }
  return out;
}
