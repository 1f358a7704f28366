// Lesson 01's experiment (lesson 10 calls it to fill gaps): a deep net trained from scratch under
// the historical recipe, the same net after greedy pretraining, and the modern recipe with no
// pretraining — accuracy per label budget and seed, gradient norms at init, cached pretrained stacks.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkLabelBudget, takeLabelsPerClass } from "../data/subset";
import { cacheKey, cachedModel, sha256Hex, type CachedArgs } from "../store/cache";
import { recordResult, type ResultRecord } from "../store/results";
import { fit, type History } from "../train/fit";
import { evaluateAccuracy } from "../models/predict";
import type { DenseWeights } from "../models/autoencoder";
import { buildClassifier, encoderStackModel, encodersFromModel, pretrainGreedy, stackEncoders } from "../train/greedy";
import { gradientNormsPerLayer, type LayerGradientNorm } from "../train/gradients";
import { RECIPES, type Recipe } from "../models/recipes";
import { argError, checkNonNegativeInt, checkPositiveInt, checkSeeds, show } from "../core/validate";
import { checkDataset } from "../data/check";
import { sampleMeanStd } from "../core/stats";
import { progressLine } from "../show/progress";
import { methodName } from "../core/methods";

export type PretrainingMethod = "scratch" | "pretrained" | "modern";
export const PRETRAINING_METHODS: readonly PretrainingMethod[] = ["scratch", "pretrained", "modern"];
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
  /** Held-out accuracy. */
  accuracy: number;
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

export interface PretrainingExperimentArgs {
  /** Labeled training pool; budgets draw labels from it. Gradient norms use its first rows. */
  train: Dataset;
  /** Held-out images every run is scored on. */
  test: Dataset;
  /** Hidden widths, bottom first. */
  sizes: number[];
  labelBudgets: LabelBudget[];
  seeds: number[];
  methods?: PretrainingMethod[];
  /** Recipe of `scratch` and `pretrained` (default historical). */
  recipe?: Recipe;
  /** Recipe of `modern` (default modern). */
  modernRecipe?: Recipe;
  /** Least epochs and optimizer steps of every supervised run. */
  budget: SupervisedBudget;
  /** Pretrained encoders of a seed (e.g. cachedEncoders); required when methods include `pretrained`. */
  encoders?: (seed: number) => Promise<DenseWeights[]>;
  /** Rows for the gradient norms at init (default 256). */
  gradientRows?: number;
  /** Show live progress of each run. */
  progress?: boolean;
  /** Called after each run (e.g. to update a live table). */
  onRun?: (run: PretrainingRun) => void | Promise<void>;
}

/** Trains one classifier of a method on a labeled set and scores it. */
export async function trainPretrainingRun(
  method: PretrainingMethod,
  labeled: Dataset,
  args: Omit<PretrainingExperimentArgs, "labelBudgets" | "seeds" | "onRun"> & {
    seed: number;
    budgetLabel: LabelBudget;
    encoderWeights?: DenseWeights[];
  },
): Promise<PretrainingRun> {
  const recipe = method === "modern" ? (args.modernRecipe ?? RECIPES.modern) : (args.recipe ?? RECIPES.historical);
  let model: tf.Sequential;
  if (method === "pretrained") {
    if (!args.encoderWeights)
      throw new Error("trainPretrainingRun: method pretrained needs encoderWeights (run pretrainGreedy first)");
    model = stackEncoders(args.encoderWeights, {
      numClasses: labeled.numClasses,
      headInit: recipe.kernelInit,
      seed: args.seed,
    });
  } else {
    model = buildClassifier({
      inputDim: labeled.dim,
      sizes: args.sizes,
      numClasses: labeled.numClasses,
      activation: recipe.activation,
      kernelInit: recipe.kernelInit,
      seed: args.seed,
    });
  }
  try {
    const gradientNorms = gradientNormsPerLayer(model, args.train, { rows: args.gradientRows });
    const epochs = epochsFor(labeled.n, recipe.batchSize, args.budget);
    const history: History = await fit(model, labeled, {
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
      labeled: labeled.n,
      seed: args.seed,
      accuracy: evaluateAccuracy(model, args.test),
      trainAccuracy: evaluateAccuracy(model, labeled),
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

/** Every method × label budget × seed; pretrained runs fine-tune copies of the seed's encoders. */
export async function runPretrainingExperiment(args: PretrainingExperimentArgs): Promise<PretrainingRun[]> {
  const methods = args.methods ?? PRETRAINING_METHODS;
  for (const m of methods) {
    if (!PRETRAINING_METHODS.includes(m))
      throw new Error(
        `runPretrainingExperiment: methods must be among ${PRETRAINING_METHODS.join(", ")}, got ${JSON.stringify(m)}`,
      );
  }
  // Every budget and size is checked here, before the first of many runs trains.
  const where = "runPretrainingExperiment";
  checkDataset(where, "train", args.train);
  checkDataset(where, "test", args.test);
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
  args.labelBudgets.forEach((b, i) => {
    if (b !== "all") checkLabelBudget(where, `labelBudgets[${i}]`, b, args.train);
  });
  checkBudget(where, args.budget);
  if (args.gradientRows !== undefined) checkPositiveInt(where, "gradientRows", args.gradientRows);
  if (methods.includes("pretrained") && !args.encoders) {
    throw new Error(
      "runPretrainingExperiment: methods include pretrained, so pass encoders (seed => encoder weights, e.g. via cachedEncoders)",
    );
  }
  const runs: PretrainingRun[] = [];
  for (const seed of args.seeds) {
    const encoderWeights = methods.includes("pretrained") ? await args.encoders!(seed) : undefined;
    for (const budget of args.labelBudgets) {
      const labeled = labeledSubset(args.train, budget, seed);
      for (const method of methods) {
        const run = await trainPretrainingRun(method, labeled, { ...args, seed, budgetLabel: budget, encoderWeights });
        runs.push(run);
        if (args.onRun) await args.onRun(run);
      }
    }
  }
  return runs;
}

/** Mean ± sample std of a method's accuracy at each budget, over seeds. */
export interface PretrainingSummary {
  method: PretrainingMethod;
  labelsPerClass: LabelBudget;
  runs: number;
  mean: number;
  std: number;
}

export function summarizePretraining(runs: PretrainingRun[]): PretrainingSummary[] {
  const groups = new Map<string, PretrainingRun[]>();
  for (const r of runs) {
    const key = `${r.method}|${r.labelsPerClass}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const xs = g.map((r) => r.accuracy);
    const [mean, std] = sampleMeanStd(xs);
    return { method: g[0].method, labelsPerClass: g[0].labelsPerClass, runs: g.length, mean, std };
  });
}

/** Method names as recorded for lesson 10. */
export const RECORDED_METHOD: Readonly<Record<PretrainingMethod, string>> = {
  scratch: methodName({ kind: "scratch", recipe: "historical" }),
  pretrained: methodName({ kind: "greedy-pretrained" }),
  modern: methodName({ kind: "scratch", recipe: "modern" }),
};

/** Appends each run to the results log (lesson "01", task "clean"); `all` is recorded as null
 * labels per class with the labeled count in extra. */
export function recordPretrainingRuns(
  runs: PretrainingRun[],
  meta: { backend: string; scale: string; totalParams?: number },
  dir?: string,
): ResultRecord[] {
  return runs.map((r) =>
    recordResult(
      {
        lesson: "01",
        method: RECORDED_METHOD[r.method],
        task: "clean",
        labelsPerClass: r.labelsPerClass === "all" ? null : r.labelsPerClass,
        accuracy: r.accuracy,
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
          gradientRatio: r.gradientNorms[r.gradientNorms.length - 1].norm / r.gradientNorms[0].norm,
        },
      },
      dir,
    ),
  );
}
