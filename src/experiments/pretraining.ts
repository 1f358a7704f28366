// Lesson 01's experiment (lesson 10 calls it to fill gaps): a deep net under the historical recipe
// (sigmoid, N(0, 0.01²), SGD 0.1), with greedy pretraining, with each modern ingredient alone (ReLU,
// Glorot, Adam), under the whole modern recipe, and under the modern recipe with greedy pretraining —
// per label budget and seed, each seed on its own split; validation and test accuracy, gradient norms
// at init, cached pretrained stacks.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkLabelBudget, holdOutPerClass, takeLabelsPerClass } from "../data/subset";
import { makeTransferTasks } from "../data/tasks";
import { cacheKey, cachedModel, sha256Hex, type CachedArgs } from "../store/cache";
import { recordResult, type ResultRecord } from "../store/results";
import { fit, type History } from "../train/fit";
import { evaluateAccuracy } from "../models/predict";
import type { DenseWeights } from "../models/autoencoder";
import { buildClassifier, encoderStackModel, encodersFromModel, pretrainGreedy, stackEncoders } from "../train/greedy";
import { gradientNormsPerLayer, gradientRatio, type LayerGradientNorm } from "../train/gradients";
import { RECIPES, withIngredient, type Recipe } from "../models/recipes";
import { argError, checkNonNegativeInt, checkOneOf, checkPositiveInt, checkSeeds, show } from "../core/validate";
import { checkDataset } from "../data/check";
import { meanCI, type SeedValue } from "../core/stats";
import { progressLine } from "../show/progress";
import { methodName } from "../core/methods";

/**
 * The arms of lesson 01, each one change away from its baseline:
 * - `scratch`: the historical recipe, no pretraining;
 * - `pretrained`: the historical recipe after greedy pretraining (baseline: scratch);
 * - `relu-only`, `glorot-only`, `adam-only`: the historical recipe with one modern ingredient
 *   (baseline: scratch; Adam comes with its own rate);
 * - `modern`: ReLU + Glorot + Adam, no pretraining (baseline: scratch);
 * - `modern-pretrained`: the modern recipe after greedy pretraining with modern (ReLU) autoencoders
 *   (baseline: modern).
 */
export type PretrainingMethod =
  "scratch" | "pretrained" | "relu-only" | "glorot-only" | "adam-only" | "modern" | "modern-pretrained";
export const PRETRAINING_METHODS: readonly PretrainingMethod[] = [
  "scratch",
  "pretrained",
  "modern",
  "relu-only",
  "glorot-only",
  "adam-only",
  "modern-pretrained",
];
/** What runPretrainingExperiment runs when `methods` is not given (the arms lesson 10 reads). */
export const DEFAULT_PRETRAINING_METHODS: readonly PretrainingMethod[] = ["scratch", "pretrained", "modern"];

/** What each arm changes from the historical recipe, for tables. */
export const METHOD_CHANGES: Readonly<Record<PretrainingMethod, string>> = {
  scratch: "nothing (historical recipe)",
  pretrained: "greedy pretraining",
  "relu-only": "ReLU",
  "glorot-only": "Glorot init",
  "adam-only": "Adam (and its rate)",
  modern: "ReLU + Glorot + Adam",
  "modern-pretrained": "ReLU + Glorot + Adam, greedy pretraining",
};

/** Arms that start from a pretrained stack. */
export function isPretrainedMethod(m: PretrainingMethod): boolean {
  return m === "pretrained" || m === "modern-pretrained";
}

/** The recipe an arm trains with (and, for a pretrained arm, pretrains with), from the historical
 * base and the modern recipe. */
export function methodRecipe(method: PretrainingMethod, base: Recipe, modern: Recipe): Recipe {
  checkOneOf("methodRecipe", "method", method, PRETRAINING_METHODS);
  switch (method) {
    case "scratch":
    case "pretrained":
      return base;
    case "relu-only":
      return withIngredient(base, modern, "activation");
    case "glorot-only":
      return withIngredient(base, modern, "kernelInit");
    case "adam-only":
      return withIngredient(base, modern, "optimizer");
    case "modern":
    case "modern-pretrained":
      return modern;
  }
}

/** Labels per class, or every label of the training pool. */
export type LabelBudget = number | "all";

/** Training budget of one supervised run: at least `epochs` passes and `minSteps` steps, so a
 * run on 100 images gets as many updates as one on thousands. */
export interface SupervisedBudget {
  epochs: number;
  minSteps: number;
}

/** Epochs that give at least `budget.epochs` passes and `budget.minSteps` optimizer steps. */
export function epochsFor(n: number, batchSize: number, budget: SupervisedBudget): number {
  checkPositiveInt("epochsFor", "n", n);
  checkPositiveInt("epochsFor", "batchSize", batchSize);
  checkBudget("epochsFor", budget);
  return Math.max(budget.epochs, Math.ceil(budget.minSteps / Math.ceil(n / batchSize)));
}

function checkBudget(where: string, budget: SupervisedBudget, param = "budget"): void {
  checkNonNegativeInt(where, `${param}.epochs`, budget?.epochs);
  checkNonNegativeInt(where, `${param}.minSteps`, budget?.minSteps);
}

/** The labeled training set of a budget: k labels per class (nested in k for one seed) or all. */
export function labeledSubset(train: Dataset, budget: LabelBudget, seed: number): Dataset {
  checkDataset("labeledSubset", "train", train);
  if (budget === "all") return train;
  checkLabelBudget("labeledSubset", "budget", budget, train);
  return takeLabelsPerClass(train, budget, seed);
}

/** One seed's data: labels are drawn from `train`, learning curves and `valAccuracy` come from
 * `val` (stratified, held out of the training images), `test` is scored once per run. */
export interface PretrainingSplit {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  /** `train` with its labels hidden: what the stacks are pretrained on (absent: use `train`). */
  unlabeled?: Dataset;
}

/** Validation images per class held out of the training images when a caller gives none. */
export const DEFAULT_VAL_PER_CLASS = 50;

export interface CleanSplitArgs {
  /** Seeds the split: each seed has its own training, validation and test images. */
  seed: number;
  /** Training images (default: what the embedded digits leave, 5500). */
  sourceSize?: number;
  /** Test images (default 1000). */
  testSize?: number;
  /** Validation images per class, held out of the training images (default 50). */
  valPerClass?: number;
  /** Base images (default the lesson data). */
  data?: Dataset;
}

/** Lesson 01's split of the clean digits for one seed: task A of makeTransferTasks (train, a
 * stratified validation split, test, and the training images unlabeled for pretraining). */
export function cleanSplit(args: CleanSplitArgs): PretrainingSplit & { unlabeled: Dataset } {
  const tasks = makeTransferTasks({
    seed: args.seed,
    sourceSize: args.sourceSize,
    testSize: args.testSize,
    sourceValPerClass: args.valPerClass ?? DEFAULT_VAL_PER_CLASS,
    data: args.data,
  });
  return { train: tasks.source.train, val: tasks.source.val, test: tasks.source.test, unlabeled: tasks.unlabeled };
}

/** What identifies a pretrained stack in the artifact cache (plain JSON, hashed into the key). */
export interface StackConfig {
  /** Name of the unlabeled data it was pretrained on. */
  data: string;
  /** Images in that data. */
  n: number;
  /** sha256 (16 hex digits) of its pixels: two different splits never share a stack. */
  pixels: string;
  /** Hidden widths, bottom first. */
  sizes: number[];
  activation: Recipe["activation"];
  kernelInit: Recipe["kernelInit"];
  /** Noise, epochs, tying, optimizer, learning rate and batch size of the pretraining. */
  pretrain: Recipe["pretrain"];
}

export function stackConfig(data: Dataset, sizes: number[], recipe: Recipe): StackConfig {
  const pixels = sha256Hex(new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength)).slice(0, 16);
  return {
    data: data.name,
    n: data.n,
    pixels,
    sizes: [...sizes],
    activation: recipe.activation,
    kernelInit: recipe.kernelInit,
    pretrain: recipe.pretrain,
  };
}

/** Cache key of lesson 01's pretrained stack for a config, scale and seed. */
export function pretrainedStackKey(config: StackConfig, scale: string, seed: number): string {
  return cacheKey({ name: "lesson01-stack", config, scale, seed });
}

export interface CachedEncodersArgs extends CachedArgs {
  /** Unlabeled pretraining images. */
  data: Dataset;
  /** Hidden widths, bottom first. */
  sizes: number[];
  /** Activation, init and pretraining settings. */
  recipe: Recipe;
  /** Lesson scale, part of the cache key. */
  scale: string;
  /** Seeds the pretraining; part of the cache key. */
  seed: number;
  /** Progress label prefix when pretraining runs, or false (default). */
  progress?: string | false;
}

/** The pretrained encoders for a seed: loaded from the artifact cache, else pretrained and saved. */
export async function cachedEncoders(
  args: CachedEncodersArgs,
): Promise<{ encoders: DenseWeights[]; fromCache: boolean; key: string }> {
  const key = pretrainedStackKey(stackConfig(args.data, args.sizes, args.recipe), args.scale, args.seed);
  const got = await cachedModel(
    key,
    async () =>
      encoderStackModel(
        (
          await pretrainGreedy({
            data: args.data,
            sizes: args.sizes,
            recipe: args.recipe,
            seed: args.seed,
            progress: args.progress ? progressLine(args.progress) : false,
          })
        ).encoders,
      ),
    args,
  );
  const encoders = encodersFromModel(got.model);
  got.model.dispose();
  return { encoders, fromCache: got.fromCache, key };
}

/** One supervised run. */
export interface PretrainingRun {
  method: PretrainingMethod;
  labelsPerClass: LabelBudget;
  /** Labeled examples trained on. */
  labeled: number;
  seed: number;
  /** Test accuracy, scored once after training. */
  accuracy: number;
  /** Validation accuracy (the seed's validation split): what comparisons and choices read. */
  valAccuracy: number;
  /** Accuracy on the labeled examples it trained on (a stuck net is at chance here too). */
  trainAccuracy: number;
  epochs: number;
  /** Per-epoch training loss. */
  loss: number[];
  /** Supervised training seconds (pretraining not included). */
  seconds: number;
  trainableParams: number;
  /** ‖∂L/∂W‖ per layer at initialisation (pretrained: before fine-tuning), input layer first. */
  gradientNorms: LayerGradientNorm[];
}

/** The encoders of a pretrained arm: pretrained with `recipe` on `split`'s unlabeled images. */
export type EncodersFor = (seed: number, recipe: Recipe, split: PretrainingSplit) => Promise<DenseWeights[]>;

export interface PretrainingExperimentArgs {
  /** Each seed's own split (e.g. `seed => cleanSplit({ seed })`). Give this, or `train` and `test`. */
  splits?: (seed: number) => PretrainingSplit;
  /** Instead of `splits`: one labeled pool for every seed; each seed holds out its own stratified
   * validation split of `valPerClass` images per class from it, unless `val` is given. */
  train?: Dataset;
  /** With `train`: the test images every seed is scored on. */
  test?: Dataset;
  /** With `train`: validation images shared by every seed (default: held out per seed). */
  val?: Dataset;
  /** With `train` and no `val`: validation images per class held out of it (default 50). */
  valPerClass?: number;
  /** Hidden widths, bottom first. */
  sizes: number[];
  labelBudgets: LabelBudget[];
  seeds: number[];
  /** Arms to run (default scratch, pretrained, modern). */
  methods?: PretrainingMethod[];
  /** The historical recipe every other arm is one change away from (default RECIPES.historical). */
  recipe?: Recipe;
  /** The modern recipe: its ingredients, and the recipe of `modern` and `modern-pretrained`. */
  modernRecipe?: Recipe;
  /** Least epochs and optimizer steps of every supervised run. */
  budget: SupervisedBudget;
  /** Pretrained encoders of a seed for a recipe (e.g. via cachedEncoders); required when methods
   * include a pretrained arm. Older callers may ignore the recipe when they run only `pretrained`. */
  encoders?: EncodersFor;
  /** Rows for the gradient norms at init (default 256). */
  gradientRows?: number;
  /** Show live progress of each run. */
  progress?: boolean;
  /** Called after each run (e.g. to update a live table). */
  onRun?: (run: PretrainingRun) => void | Promise<void>;
}

/** What one supervised run needs besides its arm. */
export interface PretrainingRunArgs {
  /** The labeled examples it trains on. */
  labeled: Dataset;
  /** The seed's split: gradient norms on `train`'s first rows, `val` and `test` scored at the end. */
  split: PretrainingSplit;
  sizes: number[];
  /** The arm's recipe (methodRecipe). */
  recipe: Recipe;
  budget: SupervisedBudget;
  seed: number;
  budgetLabel: LabelBudget;
  /** The pretrained encoders of a pretrained arm. */
  encoderWeights?: DenseWeights[];
  gradientRows?: number;
  progress?: boolean;
}

/** Trains one classifier of an arm on a labeled set and scores it on validation, then test. */
export async function trainPretrainingRun(
  method: PretrainingMethod,
  args: PretrainingRunArgs,
): Promise<PretrainingRun> {
  const recipe = args.recipe;
  let model: tf.Sequential;
  if (isPretrainedMethod(method)) {
    if (!args.encoderWeights)
      throw new Error(`trainPretrainingRun: method ${method} needs encoderWeights (run pretrainGreedy first)`);
    model = stackEncoders(args.encoderWeights, {
      numClasses: args.labeled.numClasses,
      headInit: recipe.kernelInit,
      seed: args.seed,
    });
  } else {
    model = buildClassifier({
      inputDim: args.labeled.dim,
      sizes: args.sizes,
      numClasses: args.labeled.numClasses,
      activation: recipe.activation,
      kernelInit: recipe.kernelInit,
      seed: args.seed,
    });
  }
  try {
    const gradientNorms = gradientNormsPerLayer(model, args.split.train, { rows: args.gradientRows });
    const epochs = epochsFor(args.labeled.n, recipe.batchSize, args.budget);
    const history: History = await fit(model, args.labeled, {
      epochs,
      batchSize: recipe.batchSize,
      optimizer: recipe.optimizer,
      learningRate: recipe.learningRate,
      seed: args.seed,
      progress: args.progress ? progressLine(`${method} k=${args.budgetLabel} seed ${args.seed}`) : false,
    });
    return {
      method,
      labelsPerClass: args.budgetLabel,
      labeled: args.labeled.n,
      seed: args.seed,
      accuracy: evaluateAccuracy(model, args.split.test),
      valAccuracy: evaluateAccuracy(model, args.split.val),
      trainAccuracy: evaluateAccuracy(model, args.labeled),
      epochs,
      loss: history.loss,
      seconds: history.seconds,
      trainableParams: history.trainableParams,
      gradientNorms,
    };
  } finally {
    model.dispose();
  }
}

/** The per-seed splits of the arguments, checked: `splits`, or `train`/`test` with a validation
 * split held out per seed (or the shared `val`). */
function splitsOf(args: PretrainingExperimentArgs, where: string): (seed: number) => PretrainingSplit {
  const legacy = args.train !== undefined || args.test !== undefined || args.val !== undefined;
  if (args.splits !== undefined && legacy)
    throw argError(where, "splits", "given alone (not with train, val or test)", "splits and train/val/test");
  if (args.splits !== undefined) {
    if (typeof args.splits !== "function")
      throw argError(where, "splits", "a function seed => { train, val, test }", show(args.splits));
    return args.splits;
  }
  if (args.train === undefined)
    throw argError(where, "splits", "given (seed => cleanSplit({ seed })), or train and test", "neither");
  checkDataset(where, "train", args.train);
  checkDataset(where, "test", args.test);
  if (args.val !== undefined) checkDataset(where, "val", args.val);
  const valPerClass = args.valPerClass ?? DEFAULT_VAL_PER_CLASS;
  checkPositiveInt(where, "valPerClass", valPerClass);
  const { train, test, val } = args as { train: Dataset; test: Dataset; val?: Dataset };
  return (seed) => {
    if (val !== undefined) return { train, val, test };
    const cut = holdOutPerClass(train, valPerClass, `val:${seed}`, { held: `${train.name}/val`, rest: train.name });
    return { train: cut.rest, val: cut.held, test };
  };
}

/** Every arm × label budget × seed, each seed on its own split; pretrained arms fine-tune copies
 * of the seed's encoders for the arm's recipe. Every argument (and every seed's split) is checked
 * before the first run trains. */
export async function runPretrainingExperiment(args: PretrainingExperimentArgs): Promise<PretrainingRun[]> {
  const where = "runPretrainingExperiment";
  const methods = args.methods ?? DEFAULT_PRETRAINING_METHODS;
  if (!Array.isArray(methods) || methods.length === 0)
    throw argError(where, "methods", `a non-empty list of ${PRETRAINING_METHODS.join(", ")}`, show(methods));
  for (const m of methods) {
    if (!PRETRAINING_METHODS.includes(m))
      throw new Error(`${where}: methods must be among ${PRETRAINING_METHODS.join(", ")}, got ${JSON.stringify(m)}`);
  }
  const splitOf = splitsOf(args, where);
  if (!Array.isArray(args.sizes) || args.sizes.length === 0)
    throw argError(
      where,
      "sizes",
      "a non-empty list of positive integers (hidden widths, bottom first)",
      show(args.sizes),
    );
  args.sizes.forEach((u, i) => checkPositiveInt(where, `sizes[${i}]`, u));
  checkSeeds(where, args.seeds);
  if (!Array.isArray(args.labelBudgets) || args.labelBudgets.length === 0)
    throw argError(
      where,
      "labelBudgets",
      'a non-empty list of labels per class (positive integers) or "all"',
      show(args.labelBudgets),
    );
  if (args.train !== undefined)
    args.labelBudgets.forEach((b, i) => {
      if (b !== "all") checkLabelBudget(where, `labelBudgets[${i}]`, b, args.train!);
    });
  checkBudget(where, args.budget);
  if (args.gradientRows !== undefined) checkPositiveInt(where, "gradientRows", args.gradientRows);
  if (methods.some(isPretrainedMethod) && !args.encoders) {
    throw new Error(
      `${where}: methods include a pretrained arm, so pass encoders ((seed, recipe, split) => encoder weights, e.g. via cachedEncoders)`,
    );
  }
  const base = args.recipe ?? RECIPES.historical;
  const modern = args.modernRecipe ?? RECIPES.modern;
  const recipeOf = new Map(methods.map((m) => [m, methodRecipe(m, base, modern)]));
  // Every seed's split and its budgets are checked here, before the first of many runs trains.
  const splits = new Map<number, PretrainingSplit>();
  for (const seed of args.seeds) {
    const split = splitOf(seed);
    for (const part of ["train", "val", "test"] as const)
      checkDataset(where, `split of seed ${seed}: ${part}`, split?.[part]);
    args.labelBudgets.forEach((b, i) => {
      if (b !== "all") checkLabelBudget(where, `labelBudgets[${i}]`, b, split.train);
    });
    splits.set(seed, split);
  }
  const runs: PretrainingRun[] = [];
  for (const seed of args.seeds) {
    const split = splits.get(seed)!;
    const encodersOf = new Map<PretrainingMethod, DenseWeights[]>();
    for (const m of methods.filter(isPretrainedMethod)) {
      const recipe = recipeOf.get(m)!;
      const enc = await args.encoders!(seed, recipe, split);
      checkEncoders(where, m, recipe, args.sizes, enc);
      encodersOf.set(m, enc);
    }
    for (const budget of args.labelBudgets) {
      const labeled = labeledSubset(split.train, budget, seed);
      for (const method of methods) {
        const run = await trainPretrainingRun(method, {
          labeled,
          split,
          sizes: args.sizes,
          recipe: recipeOf.get(method)!,
          budget: args.budget,
          seed,
          budgetLabel: budget,
          encoderWeights: encodersOf.get(method),
          gradientRows: args.gradientRows,
          progress: args.progress,
        });
        runs.push(run);
        if (args.onRun) await args.onRun(run);
      }
    }
  }
  return runs;
}

/** Invariant: a pretrained arm's encoders have the arm's widths and activation (a sigmoid stack
 * under the modern recipe would silently measure something else). */
function checkEncoders(
  where: string,
  m: PretrainingMethod,
  recipe: Recipe,
  sizes: number[],
  enc: DenseWeights[],
): void {
  const units = Array.isArray(enc) ? enc.map((w) => w.units) : [];
  if (units.length !== sizes.length || units.some((u, i) => u !== sizes[i]))
    throw new Error(`${where}: encoders for ${m} have widths [${units.join(", ")}], expected [${sizes.join(", ")}]`);
  const wrong = enc.find((w) => w.activation !== recipe.activation);
  if (wrong)
    throw new Error(
      `${where}: encoders for ${m} use ${wrong.activation}, but its recipe uses ${recipe.activation} (pretrain them with that recipe)`,
    );
}

/** A number of each run, for compareOnSeeds: test or validation accuracy, accuracy on the
 * training labels, or log10 of the head / layer-1 gradient ratio at init. */
export type PretrainingMeasure = "accuracy" | "valAccuracy" | "trainAccuracy" | "log10GradientRatio";
export const PRETRAINING_MEASURES: readonly PretrainingMeasure[] = [
  "accuracy",
  "valAccuracy",
  "trainAccuracy",
  "log10GradientRatio",
];

function measureOf(r: PretrainingRun, by: PretrainingMeasure): number {
  return by === "log10GradientRatio" ? Math.log10(gradientRatio(r.gradientNorms)) : r[by];
}

/** One arm's number per seed at one label budget (compareOnSeeds' input). */
export function pretrainingValues(
  runs: readonly PretrainingRun[],
  method: PretrainingMethod,
  labelsPerClass: LabelBudget,
  by: PretrainingMeasure = "accuracy",
): SeedValue[] {
  const where = "pretrainingValues";
  checkOneOf(where, "method", method, PRETRAINING_METHODS);
  checkOneOf(where, "by", by, PRETRAINING_MEASURES);
  return runs
    .filter((r) => r.method === method && r.labelsPerClass === labelsPerClass)
    .map((r) => ({ seed: r.seed, value: measureOf(r, by) }));
}

/** Per seed, arm `a` minus arm `b` (what pretraining gains at one budget), for seeds both ran. */
export function pretrainingGain(
  runs: readonly PretrainingRun[],
  a: PretrainingMethod,
  b: PretrainingMethod,
  labelsPerClass: LabelBudget,
  by: PretrainingMeasure = "accuracy",
): SeedValue[] {
  const bs = new Map(pretrainingValues(runs, b, labelsPerClass, by).map((x) => [x.seed, x.value]));
  return pretrainingValues(runs, a, labelsPerClass, by)
    .filter((x) => bs.has(x.seed))
    .map((x) => ({ seed: x.seed, value: x.value - bs.get(x.seed)! }));
}

/** One arm at one budget over seeds: test accuracy as mean ± 95 % half-width, validation and
 * training accuracy means, and the geometric mean of the head / layer-1 gradient ratio at init. */
export interface PretrainingSummary {
  method: PretrainingMethod;
  labelsPerClass: LabelBudget;
  runs: number;
  mean: number;
  /** 95 % t half-width of the mean test accuracy (Infinity with one run). */
  halfWidth: number;
  valMean: number;
  trainMean: number;
  gradientRatio: number;
}

export function summarizePretraining(runs: PretrainingRun[]): PretrainingSummary[] {
  const groups = new Map<string, PretrainingRun[]>();
  for (const r of runs) {
    const key = `${r.method}|${r.labelsPerClass}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [...groups.values()].map((g) => {
    const test = meanCI(g.map((r) => r.accuracy));
    return {
      method: g[0].method,
      labelsPerClass: g[0].labelsPerClass,
      runs: g.length,
      mean: test.mean,
      halfWidth: test.halfWidth,
      valMean: mean(g.map((r) => r.valAccuracy)),
      trainMean: mean(g.map((r) => r.trainAccuracy)),
      gradientRatio: 10 ** mean(g.map((r) => measureOf(r, "log10GradientRatio"))),
    };
  });
}

/** Method names as recorded for lesson 10: the arms the results log has names for. The others
 * (single ingredients, modern-pretrained) are not recorded. */
export const RECORDED_METHOD: Readonly<Partial<Record<PretrainingMethod, string>>> = {
  scratch: methodName({ kind: "scratch", recipe: "historical" }),
  pretrained: methodName({ kind: "greedy-pretrained" }),
  modern: methodName({ kind: "scratch", recipe: "modern" }),
};

/** Appends each run of a recorded arm to the results log (lesson "01", task "clean") and returns
 * the records written; `all` is recorded as null labels per class with the labeled count in extra. */
export function recordPretrainingRuns(
  runs: PretrainingRun[],
  meta: { backend: string; scale: string; totalParams?: number },
  dir?: string,
): ResultRecord[] {
  return runs
    .filter((r) => RECORDED_METHOD[r.method] !== undefined)
    .map((r) =>
      recordResult(
        {
          lesson: "01",
          method: RECORDED_METHOD[r.method]!,
          task: "clean",
          labelsPerClass: r.labelsPerClass === "all" ? null : r.labelsPerClass,
          accuracy: r.accuracy,
          valAccuracy: r.valAccuracy,
          trainableParams: r.trainableParams,
          totalParams: meta.totalParams,
          seconds: r.seconds,
          backend: meta.backend,
          scale: meta.scale,
          seed: r.seed,
          extra: {
            labeled: r.labeled,
            trainAccuracy: r.trainAccuracy,
            epochs: r.epochs,
            gradientRatio: gradientRatio(r.gradientNorms),
          },
        },
        dir,
      ),
    );
}
