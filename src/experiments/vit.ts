// Transfer with the tiny ViT (lesson 05; lesson 10 calls it to fill gaps): one ViT pretrained per seed
// on that seed's task A (cached), transferred to task B by head-only, freezing the first k blocks, full
// fine-tuning or LoRA on the q and v projections. Every run checks its invariants (frozen weights
// unchanged, LoRA merged = unmerged) and is scored on task-B validation and test; the experiment records
// runs as they finish and reads them back on a re-run. Plus the attention pictures of a trained block.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import type { ShiftName } from "../data/transforms";
import { assertFrozenUnchanged, freeze, freezeBlocks, snapshotWeights, unfreeze } from "../adapt/freezing";
import { checkLoraHyper, DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { applyLora } from "../adapt/lora/inject";
import { heatmap, multiPanel, type PlotSpec } from "../show/plot";
import { newDisplay } from "../show/display";
import { getScale, scaleArg, type Scale } from "../core/scale";
import {
  DEFAULT_FINE_TUNE_LR,
  DEFAULT_HEAD_LR,
  DEFAULT_LORA_LR,
  DEFAULT_SCRATCH_LR,
  lessonSettings,
  TRANSFER_BUDGETS,
  type TransferBudget,
  type ViTRecipe,
} from "../core/settings";
import { HEAD_LAYER } from "../models/mlp";
import { evaluateAccuracy } from "../models/predict";
import { evaluateModel, taskARetention } from "../evaluate/evaluate";
import { sourceTasks, type SourceModel } from "./source";
import { cloneModel } from "../models/surgery";
import { disposeOnThrow, fit, type FitArgs } from "../train/fit";
import { randomShiftRotate, warmupCosineAdam } from "../train/augment";
import { attentionMaps, buildViT, DEFAULT_VIT_IMAGE_SIZE, vitDepth } from "../models/transformer";
import { checkSweepCommon, mergeCheck, type LoraRun } from "./lora";
import { scoredRunRecord, scoreFromRecord, scoreTunedModel, transferEpochs } from "./transfer";
import {
  argError,
  checkFinite,
  checkIntInRange,
  checkNonNegativeInt,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  checkRatio,
  checkShape,
  show,
} from "../core/validate";
import { checkLabelBudget } from "../data/subset";
import { progressLine } from "../show/progress";
import { methodName } from "../core/methods";
import { checkCacheWritable } from "../store/writable";
import { cachedModel, cacheKey, sha256Hex, stableHash } from "../store/cache";
import { PROTOCOL_VERSION, readResults, recordResult, type ResultRecord } from "../store/results";

/** The full pretraining recipe at a scale: the ViT of lesson 05's settings and its epochs. */
export function vitRecipe(scale: Scale = getScale()): ViTRecipe & { epochs: number } {
  const s = lessonSettings("05", scaleArg("vitRecipe", scale));
  return { ...s.vit, epochs: s.epochs };
}

/** LoRA targets in the ViT: the query and value projections of every block (Hu et al. 2021). */
export const VIT_LORA_TARGETS = /^block\d+_(q|v)$/;

/** The tiny ViT trained on task A (see SourceModel). */
export type PretrainedViT = SourceModel;

export interface PretrainViTArgs {
  scale?: Scale;
  /** Seeds the initialization and batch order, and the split when `tasks` is not given. */
  seed?: number;
  /** Tasks whose source.train the ViT learns (default sourceTasks({scale, seed})). */
  tasks?: TransferTasks;
  retrain?: boolean;
  /** The recipe (default vitRecipe(scale)); an ablation passes its own. */
  recipe?: ViTRecipe & { epochs: number };
  /** fit's live progress label (default "tiny ViT on task A (seed <seed>)"). */
  progress?: string | false;
  log?: ((message: string) => void) | false;
}

/** fit()'s options for pretraining the ViT on `n` task-A images under `recipe`: its rate, batch size
 * and epochs, the random shifts and rotations (when the recipe has them) and the warm-up + cosine
 * schedule (when it has warmupEpochs). */
export function vitPretrainFitArgs(recipe: ViTRecipe & { epochs: number }, n: number, seed: number): FitArgs {
  checkPositiveInt("vitPretrainFitArgs", "n", n);
  const stepsPerEpoch = Math.ceil(n / recipe.batchSize);
  const args: FitArgs = {
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    learningRate: recipe.learningRate,
    seed,
  };
  if (recipe.augment && (recipe.augment.shift > 0 || recipe.augment.rotate > 0))
    args.inputTransform = randomShiftRotate({ imageSize: DEFAULT_VIT_IMAGE_SIZE, ...recipe.augment, seed });
  if (recipe.warmupEpochs !== undefined && recipe.epochs > 0)
    args.optimizer = warmupCosineAdam({
      totalSteps: recipe.epochs * stepsPerEpoch,
      warmupSteps: Math.round(recipe.warmupEpochs * stepsPerEpoch),
    });
  return args;
}

/** The tiny ViT trained on task A of one seed: from the artifact cache, or trained (and cached) now.
 * The cache key holds the architecture as tfjs serializes it (stem, patches, width, depth, heads,
 * initializers), the whole recipe (epochs, rate, batch, augmentation, schedule) and the exact
 * training rows, so a change of any of them trains anew. */
export async function getPretrainedViT(args: PretrainViTArgs = {}): Promise<PretrainedViT> {
  const scale = scaleArg("getPretrainedViT", args.scale);
  const seed = args.seed ?? 0;
  checkFinite("getPretrainedViT", "seed", seed);
  const tasks = args.tasks ?? sourceTasks({ scale, seed });
  const recipe = args.recipe ?? vitRecipe(scale);
  const train = tasks.source.train;
  const build = () => buildViT({ ...recipe.model, numClasses: train.numClasses, seed });
  const blueprint = build();
  const architecture = stableHash(blueprint.toJSON(null, false));
  blueprint.dispose();
  const rows = sha256Hex(
    new Uint8Array(train.baseIndices.buffer, train.baseIndices.byteOffset, train.baseIndices.byteLength),
  );
  const config = {
    model: recipe.model,
    architecture,
    recipe: {
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      learningRate: recipe.learningRate,
      augment: recipe.augment ?? null,
      warmupEpochs: recipe.warmupEpochs ?? null,
    },
    data: { name: tasks.data.name, scenario: tasks.scenario, rows },
  };
  const key = cacheKey({ name: "tiny-vit", config, scale, seed });
  const progress = args.progress === false ? false : progressLine(args.progress ?? `tiny ViT on task A (seed ${seed})`);
  let seconds = 0;
  const got = await cachedModel(
    key,
    async () => {
      const model = build();
      return disposeOnThrow(model, async () => {
        const h = await fit(model, train, { ...vitPretrainFitArgs(recipe, train.n, seed), progress });
        seconds = h.seconds;
        return model;
      });
    },
    { retrain: args.retrain, log: args.log },
  );
  // A ViT read from the cache is scored once per process and test split (a lesson loads each seed's twice).
  const testRows = (tasks.source.test as { baseIndices?: Int32Array }).baseIndices;
  const memoKey = testRows
    ? `${key}|${tasks.source.test.n}|${sha256Hex(new Uint8Array(testRows.buffer, testRows.byteOffset, testRows.byteLength))}`
    : null;
  const memo = got.fromCache && memoKey !== null ? TEST_ACCURACY_MEMO.get(memoKey) : undefined;
  const testAccuracy = memo ?? evaluateAccuracy(got.model, tasks.source.test);
  if (memoKey !== null) TEST_ACCURACY_MEMO.set(memoKey, testAccuracy);
  return { model: got.model, testAccuracy, fromCache: got.fromCache, key, seconds };
}

/** Task-A test accuracy of each cached ViT scored in this process (key: artifact key + test rows). */
const TEST_ACCURACY_MEMO = new Map<string, number>();

/** One row of the pretraining ablation: a recipe, named by what it changes from the row above. */
export interface ViTAblationRow {
  name: string;
  recipe: ViTRecipe & { epochs: number };
}

/** The ablation behind the scale's recipe, one change per row from the recipe before it (Adam 1e-3
 * constant, patches of pixels): the stem, then shifts and rotations (the recipe at `full`, tried and
 * not taken at the other scales); each row is a whole recipe for getPretrainedViT (cached like the
 * lesson's ViTs). */
export function vitAblationRows(scale: Scale = getScale()): ViTAblationRow[] {
  const r = vitRecipe(scaleArg("vitAblationRows", scale));
  const { stemChannels: _stem, ...noStem } = r.model;
  const plain = { model: noStem, batchSize: r.batchSize, epochs: r.epochs };
  return [
    { name: "patches of pixels, Adam 1e-3 constant", recipe: { ...plain, learningRate: 1e-3 } },
    {
      name: "+ warm-up + cosine, peak 3e-3",
      recipe: { ...plain, learningRate: r.learningRate, warmupEpochs: r.warmupEpochs ?? 1 },
    },
    {
      name: `+ 3×3 stem, ${r.model.stemChannels ?? 8} maps${r.augment ? "" : " (the recipe)"}`,
      recipe: { ...r, augment: undefined },
    },
    {
      name: `+ shifts ±2 px, rotations ±10° ${r.augment ? "(the recipe)" : "(not taken)"}`,
      recipe: { ...r, augment: r.augment ?? { shift: 2, rotate: 10 } },
    },
  ];
}

/** One ablation row's pretrained ViT on each seed: task-A validation and test accuracy (the choice
 * is made on validation), pretraining seconds (0 when read from the artifact cache). */
export async function runViTAblationRow(
  row: ViTAblationRow,
  args: { scale?: Scale; seeds: number[] },
): Promise<{ seed: number; valAccuracy: number; testAccuracy: number; seconds: number; fromCache: boolean }[]> {
  const scale = scaleArg("runViTAblationRow", args.scale);
  if (!Array.isArray(args.seeds) || args.seeds.length === 0)
    throw argError("runViTAblationRow", "seeds", "a non-empty list of finite numbers", show(args.seeds));
  const out = [];
  for (const seed of args.seeds) {
    checkFinite("runViTAblationRow", "seed", seed);
    const tasks = sourceTasks({ scale, seed });
    const vit = await getPretrainedViT({ scale, seed, tasks, recipe: row.recipe, log: false, progress: false });
    try {
      out.push({
        seed,
        valAccuracy: evaluateAccuracy(vit.model, tasks.source.val),
        testAccuracy: vit.testAccuracy,
        seconds: vit.seconds,
        fromCache: vit.fromCache,
      });
    } finally {
      vit.model.dispose();
    }
  }
  return out;
}

export type ViTMethod = "scratch" | "head-only" | "freeze-blocks" | "full-ft" | "lora-qv";
export const VIT_METHODS: readonly ViTMethod[] = ["scratch", "head-only", "freeze-blocks", "full-ft", "lora-qv"];

/** The default rank of the adapters on q and v. */
export const DEFAULT_VIT_LORA_R = 4;

/** What one transfer run changes: the method and its settings (everything but data, seed and scale). */
export interface ViTVariant {
  method: ViTMethod;
  /** For freeze-blocks: the embeddings and blocks 0..k-1 are frozen. */
  frozenBlocks?: number;
  /** For lora-qv (default DEFAULT_VIT_LORA_R and DEFAULT_LORA_ALPHA). */
  r?: number;
  alpha?: number;
  /** Rate of what trains below the head (LoRA: of the adapters); default DEFAULT_FINE_TUNE_LR, LoRA
   * DEFAULT_LORA_LR, scratch DEFAULT_SCRATCH_LR; head-only has none (its head trains at headLearningRate). */
  learningRate?: number;
  /** Rate of the head (default DEFAULT_HEAD_LR; scratch: its learningRate, one rate for the whole fresh model). */
  headLearningRate?: number;
}

export interface ViTRunArgs extends ViTVariant {
  /** The pretrained ViT (never modified). */
  source: tf.LayersModel;
  tasks: TransferTasks;
  labelsPerClass: number;
  seed?: number;
  budget?: Partial<TransferBudget>;
  scale?: Scale;
  /** Called with the trained model before it is disposed (extra checks, pictures). */
  inspect?: (model: tf.LayersModel) => void | Promise<void>;
  /** The source's accuracy on tasks.source.test when the caller has it (the experiment scores each
   * pretrained ViT once per seed), so a run scores only the tuned model for its forgetting. */
  sourceTaskAAccuracy?: number;
}

/** A ViT run as a LoraRun row, plus what it froze and the invariants it checked. */
export interface ViTRun extends LoraRun {
  /** Blocks frozen (null when not by blocks). */
  frozenBlocks: number | null;
  /** The head's rate (head-only: equal to learningRate). */
  headLearningRate: number;
  /** Frozen weight tensors checked bit-for-bit unchanged after training (the run throws otherwise). */
  frozenWeights: number;
  /** lora-qv: largest |merged − unmerged| output on task B's validation images (null otherwise). */
  mergeMaxDiff: number | null;
}

/** The base rate a method trains at unless told otherwise (head-only: its head's). */
export function defaultViTRate(method: ViTMethod): number {
  if (method === "scratch") return DEFAULT_SCRATCH_LR;
  return method === "lora-qv" ? DEFAULT_LORA_LR : method === "head-only" ? DEFAULT_HEAD_LR : DEFAULT_FINE_TUNE_LR;
}

/** The table name of a ViT run (core/methods.ts): head-only, freeze-blocks-<k>, full-ft or lora-qv-r<r>,
 * with "@lr=" when the base rate is not the method's default and "@headLr=" when the head's is not. */
export function vitMethodLabel(
  method: ViTMethod,
  k?: number,
  r?: number,
  learningRate?: number,
  headLearningRate?: number,
): string {
  const rates = {
    lr:
      method !== "head-only" && learningRate !== undefined && learningRate !== defaultViTRate(method)
        ? learningRate
        : undefined,
    headLr:
      method !== "scratch" && headLearningRate !== undefined && headLearningRate !== DEFAULT_HEAD_LR
        ? headLearningRate
        : undefined,
  };
  if (method === "scratch") return methodName({ kind: "scratch", ...rates });
  if (method === "freeze-blocks") return methodName({ kind: "freeze-blocks", blocks: k ?? 0, ...rates });
  if (method === "lora-qv") return methodName({ kind: "lora", on: "qv", r: r ?? DEFAULT_VIT_LORA_R, ...rates });
  return methodName({ kind: method, ...rates });
}

/** A variant with every default filled in: what a run's name and its results-log key are made of. */
interface ResolvedVariant {
  method: ViTMethod;
  frozenBlocks: number | null;
  r: number | null;
  alpha: number | null;
  /** The rate of what trains below the head; head-only: its head's. */
  learningRate: number;
  headLearningRate: number;
  name: string;
}

function resolveVariant(v: ViTVariant): ResolvedVariant {
  const lora = v.method === "lora-qv";
  const scratch = v.method === "scratch";
  const headLearningRate = scratch ? (v.learningRate ?? DEFAULT_SCRATCH_LR) : (v.headLearningRate ?? DEFAULT_HEAD_LR);
  const learningRate = v.method === "head-only" ? headLearningRate : (v.learningRate ?? defaultViTRate(v.method));
  const r = lora ? (v.r ?? DEFAULT_VIT_LORA_R) : null;
  return {
    method: v.method,
    frozenBlocks: v.method === "freeze-blocks" ? (v.frozenBlocks ?? null) : null,
    r,
    alpha: lora ? (v.alpha ?? DEFAULT_LORA_ALPHA) : null,
    learningRate,
    headLearningRate,
    name: vitMethodLabel(v.method, v.frozenBlocks, r ?? undefined, v.learningRate, v.headLearningRate),
  };
}

/** The table name of a variant's runs (vitMethodLabel with the variant's settings). */
export function vitVariantName(v: ViTVariant): string {
  checkViTVariant("vitVariantName", v, null);
  return resolveVariant(v).name;
}

/** Checks one variant; `depth` (when known) bounds frozenBlocks. `param` names it in messages. */
function checkViTVariant(where: string, v: ViTVariant, depth: number | null, param = ""): void {
  const p = (name: string) => (param ? `${param}.${name}` : name);
  if (typeof v !== "object" || v === null)
    throw argError(where, param || "variant", "a { method, ... } object", show(v));
  checkOneOf(where, p("method"), v.method, VIT_METHODS);
  if (v.method === "freeze-blocks") {
    if (depth === null) checkNonNegativeInt(where, p("frozenBlocks"), v.frozenBlocks);
    else checkIntInRange(where, p("frozenBlocks"), v.frozenBlocks, 0, depth, `the ViT has ${depth} blocks`);
  }
  if (v.method === "lora-qv")
    checkLoraHyper(where, v.r ?? DEFAULT_VIT_LORA_R, v.alpha ?? DEFAULT_LORA_ALPHA, 0, param ? p("r") : undefined);
  if (v.method === "scratch" && v.headLearningRate !== undefined)
    throw argError(
      where,
      p("headLearningRate"),
      "absent for scratch (the fresh model trains at one rate, learningRate)",
      show(v.headLearningRate),
    );
  for (const [name, value] of [
    ["learningRate", v.learningRate],
    ["headLearningRate", v.headLearningRate],
  ] as const) {
    if (value !== undefined) checkPositiveFinite(where, p(name), value);
  }
}

/** Checks a run's options before the source is copied, so a rejected run leaves no tensors. */
function checkViTRunArgs(args: ViTRunArgs, where: string): void {
  checkOneOf(where, "method", args.method, VIT_METHODS);
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
  checkLabelBudget(where, "labelsPerClass", args.labelsPerClass, args.tasks.target.pool);
  checkViTVariant(where, args, vitDepth(args.source));
}

async function prepare(args: ViTRunArgs, seed: number): Promise<tf.LayersModel> {
  switch (args.method) {
    case "scratch": {
      // The source's architecture with fresh weights: its seeded initializers give the very weights
      // the pretrained ViT started from, so against it only the pretraining differs.
      const m = (await tf.models.modelFromJSON({
        modelTopology: args.source.toJSON(null, false) as tf.io.ModelJSON["modelTopology"],
      })) as tf.LayersModel;
      unfreeze(m);
      return m;
    }
    case "lora-qv":
      return applyLora(args.source, {
        r: args.r ?? DEFAULT_VIT_LORA_R,
        alpha: args.alpha ?? DEFAULT_LORA_ALPHA,
        targets: VIT_LORA_TARGETS,
        trainHead: true,
        seed,
      });
    case "head-only": {
      const m = cloneModel(args.source);
      freeze(m);
      unfreeze(m, [HEAD_LAYER]);
      return m;
    }
    case "freeze-blocks": {
      const m = cloneModel(args.source);
      freezeBlocks(m, args.frozenBlocks!);
      return m;
    }
    case "full-ft": {
      const m = cloneModel(args.source);
      unfreeze(m);
      return m;
    }
  }
}

/** Largest |merged − unmerged| output LoRA may show (float32 rounding of W + (alpha/r)·A·B). */
export const MERGE_TOLERANCE = 1e-4;

/** One transfer run of the pretrained ViT on k labels per class of task B. Throws if a frozen weight
 * moved or (LoRA) the merged model disagrees with the adapters: those are invariants, not results. */
export async function runViTTransfer(args: ViTRunArgs): Promise<ViTRun> {
  const seed = args.seed ?? 0;
  const scale = scaleArg("runViTTransfer", args.scale);
  checkViTRunArgs(args, "runViTTransfer");
  if (args.sourceTaskAAccuracy !== undefined)
    checkRatio("runViTTransfer", "sourceTaskAAccuracy", args.sourceTaskAAccuracy);
  const v = resolveVariant(args);
  const train = args.tasks.targetLabels(args.labelsPerClass, seed);
  const model = await prepare(args, seed);
  try {
    const { epochs, batchSize } = transferEpochs(train.n, { ...TRANSFER_BUDGETS[scale], ...args.budget });
    const before = snapshotWeights(model);
    const history = await fit(model, train, {
      epochs,
      batchSize,
      learningRate: v.learningRate,
      seed,
      progress: false,
      layerLearningRates: { [HEAD_LAYER]: v.headLearningRate / v.learningRate },
    });
    assertFrozenUnchanged(model, before); // throws, naming the weight, if one moved
    let mergeMaxDiff: number | null = null;
    if (v.method === "lora-qv") {
      const merge = mergeCheck(model, args.tasks.target.val);
      mergeMaxDiff = merge.maxAbsDiff;
      if (!(merge.maxAbsDiff <= MERGE_TOLERANCE) || !merge.labelsAgree)
        throw new Error(
          `runViTTransfer: the merged LoRA model differs from the adapters by ${merge.maxAbsDiff} (labels ${merge.labelsAgree ? "agree" : "differ"}); expected at most ${MERGE_TOLERANCE}`,
        );
    }
    // Forgetting as measureForgetting scores it, without re-scoring the unchanged source when the caller knows its accuracy.
    const scored = scoreTunedModel(model, args, history, { retention: false });
    const sourceTaskA = args.sourceTaskAAccuracy ?? evaluateModel(args.source, args.tasks.source.test).accuracy;
    const retention = taskARetention({ tuned: model, source: args.source, taskATest: args.tasks.source.test });
    const run: ViTRun = {
      method: v.name,
      labelsPerClass: args.labelsPerClass,
      seed,
      r: v.r,
      alpha: v.alpha,
      learningRate: v.learningRate,
      ...scored,
      retention,
      forgetting: sourceTaskA - retention,
      frozenBlocks: v.frozenBlocks,
      headLearningRate: v.headLearningRate,
      frozenWeights: before.entries.filter((e) => e.frozen).length,
      mergeMaxDiff,
    };
    if (args.inspect) await args.inspect(model);
    return run;
  } finally {
    model.dispose();
  }
}

/** The variants of the lesson's sweep at one set of rates: head-only, freeze-k for each k, full-ft, lora-qv. */
export function vitSweepVariants(args: {
  depth: number;
  frozenBlocks?: number[];
  r?: number;
  alpha?: number;
  /** Base rate of freeze-k and full-ft (default DEFAULT_FINE_TUNE_LR). */
  learningRate?: number;
  /** Rate of lora-qv (default DEFAULT_LORA_LR). */
  loraLearningRate?: number;
}): ViTVariant[] {
  checkNonNegativeInt("vitSweepVariants", "depth", args.depth);
  const ks = args.frozenBlocks ?? Array.from({ length: args.depth + 1 }, (_, i) => i);
  return [
    { method: "head-only" },
    ...ks.map((k): ViTVariant => ({ method: "freeze-blocks", frozenBlocks: k, learningRate: args.learningRate })),
    { method: "full-ft", learningRate: args.learningRate },
    { method: "lora-qv", r: args.r, alpha: args.alpha, learningRate: args.loraLearningRate },
  ];
}

/** One seed's split and pretrained ViT, as the sweep and the experiment use them. */
interface SeedViT {
  tasks: TransferTasks;
  source: tf.LayersModel;
  /** null when the caller gave the model. */
  pretrained: PretrainedViT | null;
}

/** Runs `body` with seed `seed`'s own split and pretrained ViT (loaded or trained, disposed after). */
async function withSeedViT<T>(
  scale: Scale,
  seed: number,
  shift: ShiftName,
  given: { tasks?: TransferTasks; source?: tf.LayersModel },
  body: (s: SeedViT) => Promise<T>,
): Promise<T> {
  const tasks = given.tasks ?? sourceTasks({ scale, seed, shift });
  const pretrained = given.source ? null : await getPretrainedViT({ scale, seed, tasks, log: false });
  try {
    return await body({ tasks, source: given.source ?? pretrained!.model, pretrained });
  } finally {
    pretrained?.model.dispose();
  }
}

export interface ViTSweepArgs {
  scale?: Scale;
  /** Seeds: each has its own split and its own pretrained ViT, and seeds its label draw and training. */
  seeds?: number[];
  labelsPerClass?: number;
  shift?: ShiftName;
  /** Block counts to freeze (default 0..depth); ignored when `variants` is given. */
  frozenBlocks?: number[];
  r?: number;
  alpha?: number;
  /** The runs of every seed (default vitSweepVariants at the default rates). */
  variants?: ViTVariant[];
  budget?: Partial<TransferBudget>;
  onRun?: (run: ViTRun) => void;
  /** One seed only: its split (default sourceTasks({scale, seed, shift})). */
  tasks?: TransferTasks;
  /** One seed only: the pretrained ViT to use (default getPretrainedViT on the seed's split). */
  source?: tf.LayersModel;
}

/** The transfer methods on each seed's own pretrained ViT: head-only, freeze-k for each k, full-ft and
 * LoRA on q,v (or `variants`). Nothing is recorded (recordLoraRuns does that). */
export async function runViTSweep(args: ViTSweepArgs = {}): Promise<ViTRun[]> {
  const where = "runViTSweep";
  checkCacheWritable(undefined, where); // the pretrained ViTs are cached: refuse before training
  // Checked before any ViT is loaded or pretrained.
  const scale = checkSweepCommon(where, args);
  const seeds = args.seeds ?? [0];
  if ((args.source || args.tasks) && seeds.length !== 1)
    throw argError(
      where,
      "seeds",
      "one seed when source or tasks is given",
      show(seeds),
      "each seed has its own split and pretrained ViT: leave source and tasks out",
    );
  checkLoraHyper(where, args.r ?? DEFAULT_VIT_LORA_R, args.alpha ?? DEFAULT_LORA_ALPHA, 0);
  (args.frozenBlocks ?? []).forEach((k, i) => checkNonNegativeInt(where, `frozenBlocks[${i}]`, k));
  checkVariantList(where, args.variants, null, true);
  const runs: ViTRun[] = [];
  for (const seed of seeds) {
    await withSeedViT(scale, seed, args.shift ?? "mild", args, async ({ tasks, source }) => {
      const variants =
        args.variants ??
        vitSweepVariants({ depth: vitDepth(source), frozenBlocks: args.frozenBlocks, r: args.r, alpha: args.alpha });
      for (const v of variants) {
        const run = await runViTTransfer({
          ...v,
          source,
          tasks,
          labelsPerClass: args.labelsPerClass ?? 5,
          seed,
          scale,
          budget: args.budget,
        });
        runs.push(run);
        args.onRun?.(run);
      }
    });
  }
  return runs;
}

function checkVariantList(where: string, variants: unknown, depth: number | null, optional = false): void {
  if (variants === undefined && optional) return;
  if (!Array.isArray(variants) || variants.length === 0)
    throw argError(where, "variants", "a non-empty list of { method, ... }", show(variants));
  variants.forEach((v: ViTVariant, i) => checkViTVariant(where, v, depth, `variants[${i}]`));
}

// ---- The lesson's experiment: recorded, read back on a re-run -----------------------------------

/** What an experiment measured of one seed's pretrained ViT. */
export interface PretrainedViTRow {
  seed: number;
  /** Its artifact-cache key (the identity its transfer runs are recorded against). */
  key: string;
  /** Task-A accuracy on the test and validation splits of this seed. */
  testAccuracy: number;
  valAccuracy: number;
  /** Task-B accuracy before any tuning (the task-A head fits: the classes are shared). */
  zeroShot: number;
  zeroShotVal: number;
  totalParams: number;
  /** Pretraining seconds (0 when read from the artifact cache). */
  seconds: number;
  fromCache: boolean;
}

/** A run of the experiment: trained now or read back from the results log, with its record. */
export type ViTExperimentRun = ViTRun & { reused: boolean; record: ResultRecord };

export interface ViTExperimentArgs {
  /** Lesson id the runs are recorded under (default "05"). */
  lesson?: string;
  scale?: Scale;
  /** Each seed: its own split, its own pretrained ViT, its label draw. */
  seeds: number[];
  labelsPerClass: number;
  shift?: ShiftName;
  /** The runs of every seed, in order. */
  variants: ViTVariant[];
  budget?: Partial<TransferBudget>;
  /** Read back runs recorded with the same configuration instead of training them (default true). */
  reuse?: boolean;
  /** One line that updates in place with the run in progress (default true). */
  progress?: boolean;
  /** Called with every run, trained or read back. */
  onRun?: (run: ViTExperimentRun) => void;
}

export interface ViTExperiment {
  runs: ViTExperimentRun[];
  /** One row per seed: the pretrained ViT's task-A accuracy and zero-shot score. */
  pretrained: PretrainedViTRow[];
}

/** Everything that changes a run's numbers; equal keys mean a recorded run can be read back. */
function vitRunKey(
  v: ResolvedVariant,
  ctx: {
    task: string;
    k: number;
    seed: number;
    scale: Scale;
    backend: string;
    sourceKey: string;
    budget: TransferBudget;
  },
): string {
  const { name: _name, ...variant } = v;
  return stableHash({ v: PROTOCOL_VERSION, model: "tiny-vit", variant, ...ctx }).slice(0, 16);
}

/** A run as a results-log record (its key and the invariants it checked kept in `extra`). */
function vitRecord(r: ViTRun, meta: { lesson: string; backend: string; scale: Scale }, runKey: string): ResultRecord {
  return scoredRunRecord(r, meta, {
    runKey,
    model: "tiny-vit",
    frozenBlocks: r.frozenBlocks,
    r: r.r,
    alpha: r.alpha,
    learningRate: r.learningRate,
    headLearningRate: r.headLearningRate,
    steps: r.steps,
    frozenWeights: r.frozenWeights,
    mergeMaxDiff: r.mergeMaxDiff,
  });
}

/** A recorded run back as a ViTRun (learning curves are not recorded: loss is []). */
function vitRunFromRecord(rec: ResultRecord, v: ResolvedVariant): ViTRun {
  const e = rec.extra ?? {};
  return {
    method: v.name,
    task: rec.task,
    labelsPerClass: rec.labelsPerClass ?? 0,
    seed: rec.seed,
    r: v.r,
    alpha: v.alpha,
    learningRate: v.learningRate,
    ...scoreFromRecord(rec),
    steps: Number(e.steps ?? 0),
    loss: [],
    frozenBlocks: v.frozenBlocks,
    headLearningRate: v.headLearningRate,
    frozenWeights: Number(e.frozenWeights ?? 0),
    mergeMaxDiff: typeof e.mergeMaxDiff === "number" ? e.mergeMaxDiff : null,
  };
}

/** A run as an experiment reports it: read back from the results log or trained now. */
interface CollectedRun {
  method: string;
  seed: number;
  accuracy: number;
  valAccuracy: number;
  reused: boolean;
}

/** The runs of a recorded experiment, collected in order as they finish, with a live line ("05: 3/20 runs (2
 * trained, 1 read back), last: …") unless `progress` is false, and each passed to `onRun`. */
export function runCollector<R extends CollectedRun>(
  lesson: string,
  total: number,
  args: { progress?: boolean; onRun?: (run: R) => void },
): { runs: R[]; emit: (run: R) => void } {
  const runs: R[] = [];
  const line = args.progress === false ? null : newDisplay();
  const t0 = performance.now();
  let trained = 0;
  const emit = (run: R) => {
    runs.push(run);
    if (!run.reused) trained++;
    line?.text(
      `${lesson}: ${runs.length}/${total} runs (${trained} trained, ${runs.length - trained} read back), last: ` +
        `${run.method} seed ${run.seed} → ${(100 * run.accuracy).toFixed(1)} % (validation ${(100 * run.valAccuracy).toFixed(1)} %), ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    args.onRun?.(run);
  };
  return { runs, emit };
}

/** The lesson's experiment: for every seed, its own split and pretrained ViT (trained and cached on
 * first use), its zero-shot score, then every variant — each recorded in the results log as it
 * finishes, or read back when a run of the same configuration (protocol, backend, pretrained ViT,
 * variant, budget, labels, seed) is already recorded. Per seed, the ViT's task-A accuracy and
 * zero-shot score are recorded once too ("source-model" on "clean", "zero-shot" on the shift). */
export async function runViTExperiment(args: ViTExperimentArgs): Promise<ViTExperiment> {
  const where = "runViTExperiment";
  checkCacheWritable(undefined, where); // runs are recorded as they finish: refuse before the first
  const scale = checkSweepCommon(where, args);
  if (args.seeds === undefined) throw argError(where, "seeds", "a non-empty list of finite numbers", "undefined");
  checkPositiveInt(where, "labelsPerClass", args.labelsPerClass);
  const lesson = args.lesson ?? "05";
  if (typeof lesson !== "string" || lesson === "")
    throw argError(where, "lesson", 'a lesson id such as "05"', show(args.lesson));
  checkVariantList(where, args.variants, vitRecipe(scale).model.depth);
  const shift = args.shift ?? "mild";
  const backend = tf.getBackend();
  const known = new Map<string, ResultRecord>();
  if (args.reuse ?? true) {
    for (const rec of readResults({ lesson, scale })) {
      if (rec.backend === backend && typeof rec.extra?.runKey === "string") known.set(rec.extra.runKey, rec);
    }
  }
  const variants = args.variants.map(resolveVariant);
  const pretrained: PretrainedViTRow[] = [];
  const { runs, emit } = runCollector<ViTExperimentRun>(lesson, args.seeds.length * variants.length, args);
  for (const seed of args.seeds) {
    await withSeedViT(scale, seed, shift, {}, async ({ tasks, source, pretrained: vit }) => {
      const row = pretrainedRow(seed, vit!, tasks, { lesson, backend, scale, task: tasks.shift }, known);
      pretrained.push(row);
      recordPretrained(row, { lesson, backend, scale, task: tasks.shift }, known);
      const budget = { ...TRANSFER_BUDGETS[scale], ...args.budget };
      const ctx = { task: tasks.shift, k: args.labelsPerClass, seed, scale, backend, sourceKey: row.key, budget };
      for (const [i, v] of variants.entries()) {
        const key = vitRunKey(v, ctx);
        const old = known.get(key);
        if (old) {
          emit({ ...vitRunFromRecord(old, v), reused: true, record: old });
          continue;
        }
        const run = await runViTTransfer({
          ...args.variants[i],
          source,
          tasks,
          labelsPerClass: args.labelsPerClass,
          seed,
          scale,
          budget: args.budget,
          sourceTaskAAccuracy: row.testAccuracy,
        });
        const record = recordResult(vitRecord(run, { lesson, backend, scale }, key));
        known.set(key, record);
        emit({ ...run, reused: false, record });
      }
    });
  }
  return { runs, pretrained };
}

/** A seed's pretrained-ViT row: read back from its two records (source-model, zero-shot) when this
 * ViT's are in the log (the same artifact key, task and backend), else scored now. */
function pretrainedRow(
  seed: number,
  vit: PretrainedViT,
  tasks: TransferTasks,
  meta: { lesson: string; backend: string; scale: Scale; task: string },
  known: Map<string, ResultRecord>,
): PretrainedViTRow {
  const src = known.get(pretrainedRunKey("source-model", "clean", seed, vit.key, meta));
  const zs = known.get(pretrainedRunKey("zero-shot", meta.task, seed, vit.key, meta));
  if (src && zs && typeof src.valAccuracy === "number" && typeof zs.valAccuracy === "number")
    return {
      seed,
      key: vit.key,
      testAccuracy: vit.testAccuracy,
      valAccuracy: src.valAccuracy,
      zeroShot: zs.accuracy,
      zeroShotVal: zs.valAccuracy,
      totalParams: vit.model.countParams(),
      seconds: vit.seconds,
      fromCache: vit.fromCache,
    };
  return {
    seed,
    key: vit.key,
    testAccuracy: vit.testAccuracy,
    valAccuracy: evaluateAccuracy(vit.model, tasks.source.val),
    zeroShot: evaluateAccuracy(vit.model, tasks.target.test),
    zeroShotVal: evaluateAccuracy(vit.model, tasks.target.val),
    totalParams: vit.model.countParams(),
    seconds: vit.seconds,
    fromCache: vit.fromCache,
  };
}

/** The results-log key of a pretrained ViT's "source-model" or "zero-shot" record. */
function pretrainedRunKey(
  kind: string,
  task: string,
  seed: number,
  sourceKey: string,
  meta: { scale: Scale; backend: string },
): string {
  return stableHash({
    v: PROTOCOL_VERSION,
    model: "tiny-vit",
    kind,
    task,
    seed,
    scale: meta.scale,
    backend: meta.backend,
    sourceKey,
  }).slice(0, 16);
}

/** Records a seed's pretrained ViT ("source-model" on task A) and its zero-shot score on task B,
 * once per pretrained ViT, task and backend. */
function recordPretrained(
  row: PretrainedViTRow,
  meta: { lesson: string; backend: string; scale: Scale; task: string },
  known: Map<string, ResultRecord>,
): void {
  const common = {
    lesson: meta.lesson,
    labelsPerClass: null,
    totalParams: row.totalParams,
    backend: meta.backend,
    scale: meta.scale,
    seed: row.seed,
  };
  const rows: [string, ResultRecord][] = [
    [
      "source-model",
      {
        ...common,
        method: methodName({ kind: "source-model" }),
        task: "clean",
        accuracy: row.testAccuracy,
        valAccuracy: row.valAccuracy,
        trainableParams: row.totalParams,
        seconds: row.seconds,
      },
    ],
    [
      "zero-shot",
      {
        ...common,
        method: methodName({ kind: "zero-shot" }),
        task: meta.task,
        accuracy: row.zeroShot,
        valAccuracy: row.zeroShotVal,
        retention: row.testAccuracy,
        forgetting: 0,
        trainableParams: 0,
        seconds: 0,
      },
    ],
  ];
  for (const [kind, rec] of rows) {
    const runKey = pretrainedRunKey(kind, rec.task, row.seed, row.key, meta);
    if (known.has(runKey)) continue;
    known.set(runKey, recordResult({ ...rec, extra: { runKey, model: "tiny-vit", fromCache: row.fromCache } }));
  }
}

/** Attention received per patch, as images: for each of the first n examples and each head, the
 * mean over query tokens of the attention paid to key patch j, drawn over that patch's pixels
 * (scaled to [0, 1] per image). maps [n, h, T, T] -> [n·h, S·S] flat images, row-major by example. */
export function attentionReceivedImages(maps: tf.Tensor4D, imageSize = 28, patchSize = 7): Float32Array {
  checkShape("attentionReceivedImages", "maps", maps, [null, null, null, null], ["n", "heads", "T", "T"]);
  checkPositiveInt("attentionReceivedImages", "imageSize", imageSize);
  checkPositiveInt("attentionReceivedImages", "patchSize", patchSize);
  const [n, h, t] = maps.shape;
  const g = imageSize / patchSize;
  if (g * g !== t)
    throw new Error(
      `attentionReceivedImages: ${t} tokens do not make a ${g}×${g} grid of ${patchSize}-pixel patches of a ${imageSize}-pixel image`,
    );
  const received = tf.tidy(() => maps.mean(2)); // [n, h, T]: average over queries
  const v = received.dataSync();
  received.dispose();
  const out = new Float32Array(n * h * imageSize * imageSize);
  for (let i = 0; i < n * h; i++) {
    const row = v.subarray(i * t, (i + 1) * t);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of row) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    for (let py = 0; py < imageSize; py++) {
      for (let px = 0; px < imageSize; px++) {
        const token = Math.floor(py / patchSize) * g + Math.floor(px / patchSize);
        out[i * imageSize * imageSize + py * imageSize + px] = hi > lo ? (row[token] - lo) / (hi - lo) : 0;
      }
    }
  }
  return out;
}

/** One heatmap per head of one example's attention (rows: query patch, columns: key patch). */
export function attentionHeatmaps(model: tf.LayersModel, x: tf.Tensor2D, block: number, example = 0): PlotSpec {
  checkIntInRange("attentionHeatmaps", "example", example, 0, (x?.shape?.[0] ?? 1) - 1, "an index into the batch x");
  const maps = attentionMaps(model, x, block); // [n, h, T, T]
  const heads = (maps.arraySync() as number[][][][])[example];
  maps.dispose();
  const panels = heads.map((z, i) =>
    heatmap({
      z,
      title: `head ${i}`,
      xTitle: "key patch",
      yTitle: "query patch",
      annotate: false,
      colorscale: "Viridis",
    }),
  );
  return multiPanel({
    panels,
    cols: Math.min(4, panels.length),
    title: `Block ${block} attention (rows sum to 1), example ${example}`,
  });
}
