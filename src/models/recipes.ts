// Training recipes as named, plain-data presets: the 2006-era `historical` recipe (sigmoid, tiny
// Gaussian init, plain SGD) under which deep nets needed greedy pretraining, and the `modern` one
// (ReLU, Glorot init, Adam) that trains the same depth without it. Plain JSON, so cache keys hash them.
import * as tf from "@tensorflow/tfjs";
import { checkNonNegativeInt, checkOneOf, checkPositiveInt } from "../core/validate";

/** Optimizers a recipe (and fit) can name; fit also takes a factory. */
export type OptimizerName = "adam" | "sgd" | "momentum";
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ["adam", "sgd", "momentum"];

export type RecipeName = "historical" | "modern";
export const RECIPE_NAMES: readonly RecipeName[] = ["historical", "modern"];

/** Hidden-layer nonlinearity of a recipe. */
export type HiddenActivation = "sigmoid" | "relu";

/** How Dense kernels start: N(0, stddev²), or Glorot-uniform U(±sqrt(6 / (fanIn + fanOut))). */
export type KernelInit = { kind: "normal"; stddev: number } | { kind: "glorotUniform" };

/** A tfjs initializer (tfjs-layers does not export the class name at the top level). */
export type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** Greedy layer-wise pretraining settings (one denoising autoencoder per hidden layer). */
export interface PretrainRecipe {
  /** Masking-noise level: fraction of each input's entries set to 0 (Vincent et al. 2008). */
  noise: number;
  /** Epochs per autoencoder (per stage). */
  epochs: number;
  /** Decoder kernel = encoder kernelᵀ (tied, as in the 2006-2010 papers) or its own weights. */
  tied: boolean;
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
}

/** One way to build and train a deep classifier. */
export interface Recipe {
  name: RecipeName;
  /** Activation of every hidden layer (the head is always softmax). */
  activation: HiddenActivation;
  /** Initialisation of every kernel, head included; biases start at 0. */
  kernelInit: KernelInit;
  /** Optimizer and learning rate for supervised training (from scratch or fine-tuning). */
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  /** Pretraining settings used when this recipe is combined with greedy pretraining. */
  pretrain: PretrainRecipe;
}

/** 25 % masking noise, 5 epochs per layer, tied weights: the historical pretraining recipe. */
export const DEFAULT_PRETRAIN_NOISE = 0.25;
export const DEFAULT_PRETRAIN_EPOCHS = 5;

/**
 * Recipes. `historical`: sigmoid, N(0, 0.01²) init, plain SGD at lr 0.1 — a 5-hidden-layer net
 * does not leave chance from scratch. `modern`: ReLU, Glorot, Adam 1e-3.
 * Pretraining uses Adam 1e-3 in both: the recipe under test is the supervised one, and plain SGD
 * at lr 0.1 on the per-feature mean cross-entropy leaves stages 2-5 at ln 2 after 5 epochs, so the
 * stacked net stays at chance (measured on 784-200×5, 6000 digits; lr 3 reaches only 55-60 %).
 */
/** The autoencoders' pretraining, the same under both recipes (only the supervised part differs). */
const PRETRAIN: PretrainRecipe = {
  noise: DEFAULT_PRETRAIN_NOISE,
  epochs: DEFAULT_PRETRAIN_EPOCHS,
  tied: true,
  optimizer: "adam",
  learningRate: 1e-3,
  batchSize: 32,
};

export const RECIPES: Readonly<Record<RecipeName, Recipe>> = {
  historical: {
    name: "historical",
    activation: "sigmoid",
    kernelInit: { kind: "normal", stddev: 0.01 },
    optimizer: "sgd",
    learningRate: 0.1,
    batchSize: 32,
    pretrain: PRETRAIN,
  },
  modern: {
    name: "modern",
    activation: "relu",
    kernelInit: { kind: "glorotUniform" },
    optimizer: "adam",
    learningRate: 1e-3,
    batchSize: 32,
    pretrain: PRETRAIN,
  },
};

/** A copy of a named recipe with fields overridden (`pretrain` merges field by field). */
export function getRecipe(
  name: RecipeName,
  overrides: Partial<Omit<Recipe, "pretrain">> & { pretrain?: Partial<PretrainRecipe> } = {},
): Recipe {
  const base = RECIPES[name];
  if (!base) throw new Error(`getRecipe: name must be one of ${RECIPE_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  const { pretrain, ...rest } = overrides;
  const out: Recipe = { ...structuredClone(base), ...rest, pretrain: { ...base.pretrain, ...(pretrain ?? {}) } };
  checkRecipe(out);
  return out;
}

/** What the modern recipe changes in the historical one, each on its own: the hidden activation,
 * the kernel initialisation, and the optimizer (with its learning rate). */
export type RecipeIngredient = "activation" | "kernelInit" | "optimizer";
export const RECIPE_INGREDIENTS: readonly RecipeIngredient[] = ["activation", "kernelInit", "optimizer"];

/**
 * `base` with one ingredient taken from `from`, everything else (batch size, pretraining, name)
 * kept: the activation, the kernel init, or the optimizer together with its learning rate — a
 * rate belongs to its optimizer (Adam at plain SGD's 0.1 diverges; SGD at Adam's 1e-3 barely moves).
 */
export function withIngredient(base: Recipe, from: Recipe, ingredient: RecipeIngredient): Recipe {
  checkOneOf("withIngredient", "ingredient", ingredient, RECIPE_INGREDIENTS);
  const out: Recipe = structuredClone(base);
  if (ingredient === "activation") out.activation = from.activation;
  else if (ingredient === "kernelInit") out.kernelInit = structuredClone(from.kernelInit);
  else {
    out.optimizer = from.optimizer;
    out.learningRate = from.learningRate;
  }
  checkRecipe(out);
  return out;
}

/** Validates a recipe's numbers, naming the field, the value and the fix. */
export function checkRecipe(r: Recipe): void {
  const pos = (v: number, what: string) => {
    if (!(v > 0) || !Number.isFinite(v))
      throw new Error(`recipe ${r.name}: ${what} must be a positive number, got ${v}`);
  };
  pos(r.learningRate, "learningRate");
  pos(r.pretrain.learningRate, "pretrain.learningRate");
  const where = `recipe ${r.name}`;
  checkPositiveInt(where, "batchSize", r.batchSize);
  checkPositiveInt(where, "pretrain.batchSize", r.pretrain.batchSize);
  checkOneOf(where, "activation", r.activation, ["sigmoid", "relu"] as const);
  checkOneOf(where, "optimizer", r.optimizer, OPTIMIZER_NAMES);
  checkOneOf(where, "pretrain.optimizer", r.pretrain.optimizer, OPTIMIZER_NAMES);
  checkNonNegativeInt(where, "pretrain.epochs", r.pretrain.epochs);
  if (!(r.pretrain.noise >= 0 && r.pretrain.noise < 1)) {
    throw new Error(
      `recipe ${r.name}: pretrain.noise must be in [0, 1), got ${r.pretrain.noise} (0 = plain autoencoder)`,
    );
  }
  if (r.kernelInit.kind === "normal") pos(r.kernelInit.stddev, "kernelInit.stddev");
}

/** Stands in for seed 0, which tf.randomNormal would ignore. */
const NONZERO_SEED_FOR_ZERO = 0x5eed;

/** The tfjs initializer for a kernel-init spec, seeded so layer k of seed s is reproducible. */
export function makeInitializer(init: KernelInit, seed: number): Initializer {
  switch (init.kind) {
    case "normal":
      // tfjs-core 4.22 treats seed 0 as "unseeded" in randomNormal; map it to a fixed non-zero seed.
      return tf.initializers.randomNormal({
        mean: 0,
        stddev: init.stddev,
        seed: seed === 0 ? NONZERO_SEED_FOR_ZERO : seed,
      });
    case "glorotUniform":
      return tf.initializers.glorotUniform({ seed });
    default:
      throw new Error(`makeInitializer: kind must be "normal" or "glorotUniform", got ${JSON.stringify(init)}`);
  }
}

/** Short text for tables: "N(0, 0.01)" or "Glorot". */
export function describeInit(init: KernelInit): string {
  return init.kind === "normal" ? `N(0, ${init.stddev})` : "Glorot";
}
