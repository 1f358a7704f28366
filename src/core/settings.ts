// Every lesson's settings, per scale, in one place: the sizes of its data and runs, its own knobs
// (a depth, a freeze ratio, a rank sweep), and the protocol lessons 02-05 share (the source model's
// recipe, the transfer budget, the default learning rates, the tiny ViT). A lesson's `parameters`
// cell and the review's fillers both read lessonSettings(), so a value is changed here once.
import { getScale, scaleArg, type Scale } from "./scale";

/** What every lesson sizes by scale. `smoke` runs every cell in seconds on the pure-JS backend
 * (numbers not meaningful); `default` shows each lesson's point on a laptop CPU (WASM) in minutes;
 * `full` is GPU scale. */
export interface LessonSizes {
  /** Images from the embedded/IDX data used by the lesson (source + target + pools). */
  samples: number;
  /** Held-out test images per task. */
  testSamples: number;
  /** Epochs for the source (task A) model or each pretraining stage. */
  epochs: number;
  /** Epochs for transfer/fine-tuning runs on the few-label target task. */
  fineTuneEpochs: number;
  /** Labels per class swept by the lesson. */
  labelBudgets: number[];
  /** Seeds averaged over. */
  seeds: number[];
  batchSize: number;
}

// ---- The protocol lessons 02-05 share -------------------------------------------------------

/** How the source model is trained, and the task sizes it is trained on: shared by every lesson
 * so that they all reuse one cached model per scale and seed. */
export interface SourceRecipe {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Task-A training images (undefined: all left after the test splits and the target pool). */
  sourceSize?: number;
  /** Images per side (digits 0-4, 5-9) of the class-split scenario (undefined: all left after
   * the test splits). */
  classSplitSize?: number;
  /** Held-out test images per task. */
  testSize: number;
  /** Target-task images: the validation labels, then the pool label budgets are drawn from. */
  targetPoolSize: number;
  /** Task-A validation images per class (held out of the training images). */
  sourceValPerClass: number;
  /** Task-B validation labels per class (held out of the target images, the same for every budget). */
  targetValPerClass: number;
}

export const SOURCE_RECIPES: Readonly<Record<Scale, SourceRecipe>> = {
  smoke: {
    epochs: 2,
    batchSize: 64,
    learningRate: 1e-3,
    sourceSize: 600,
    classSplitSize: 600,
    testSize: 200,
    targetPoolSize: 600,
    sourceValPerClass: 10,
    targetValPerClass: 10,
  },
  // 5500 + 500 validation = what is left of the embedded 10,000 digits; with IDX files (70,000)
  // default stays this size and full trains on everything left.
  default: {
    epochs: 10,
    batchSize: 64,
    learningRate: 1e-3,
    sourceSize: 5500,
    testSize: 1000,
    targetPoolSize: 2000,
    sourceValPerClass: 50,
    targetValPerClass: 10,
  },
  full: {
    epochs: 20,
    batchSize: 128,
    learningRate: 1e-3,
    testSize: 1000,
    targetPoolSize: 2000,
    sourceValPerClass: 100,
    targetValPerClass: 10,
  },
};

/** Training budget of one transfer run: at least `epochs` passes and at least `minSteps` steps. */
export interface TransferBudget {
  epochs: number;
  minSteps: number;
  batchSize: number;
}

/** Budgets per scale: few labels mean few steps per epoch, so a minimum step count keeps k=1
 * (10 images) trained as long as k=50 in steps. */
export const TRANSFER_BUDGETS: Readonly<Record<Scale, TransferBudget>> = {
  smoke: { epochs: 2, minSteps: 4, batchSize: 32 },
  default: { epochs: 30, minSteps: 150, batchSize: 32 },
  full: { epochs: 40, minSteps: 300, batchSize: 32 },
};

/** Adam learning rates the transfer lessons use unless told otherwise. */
export const DEFAULT_SCRATCH_LR = 1e-3;
export const DEFAULT_HEAD_LR = 1e-2;
export const DEFAULT_FINE_TUNE_LR = 1e-4;
/** Adapters (and the head trained with them): LoRA trains from a zero update and needs larger
 * steps than full fine-tuning. */
export const DEFAULT_LORA_LR = 1e-3;

/** The tiny ViT of lesson 05 and its task-A training (epochs: the lesson's `epochs`). */
export interface ViTRecipe {
  model: { width: number; depth: number; numHeads: number; mlpRatio: number };
  batchSize: number;
  learningRate: number;
}

export const VIT_RECIPES: Readonly<Record<Scale, ViTRecipe>> = {
  // smoke takes a larger rate so its one epoch leaves chance behind (the numbers are still noise).
  smoke: { model: { width: 16, depth: 2, numHeads: 2, mlpRatio: 2 }, batchSize: 64, learningRate: 3e-3 },
  default: { model: { width: 64, depth: 4, numHeads: 4, mlpRatio: 2 }, batchSize: 64, learningRate: 1e-3 },
  full: { model: { width: 64, depth: 4, numHeads: 4, mlpRatio: 2 }, batchSize: 128, learningRate: 1e-3 },
};

// ---- Each lesson's own settings --------------------------------------------------------------

export interface Lesson00Settings extends LessonSizes {
  /** Sizes n of the timed n×n matrix products. */
  matmulSizes: number[];
  digitsPerClass: number;
}

export interface Lesson01Settings extends LessonSizes {
  /** Hidden layers of the deep net (all `width` wide). */
  depth: number;
  width: number;
  /** The 2006 setting (sigmoid, N(0, 0.01²) init, SGD) or today's (ReLU, Glorot, Adam). */
  recipe: "historical" | "modern";
  /** Masking-noise level of the denoising autoencoders. */
  noise: number;
  /** Least supervised steps per run, so small label budgets train as long as large ones. */
  minSteps: number;
  /** Validation images per class, held out of each seed's training images (curves and valAccuracy). */
  valPerClass: number;
}

export interface Lesson02Settings extends LessonSizes {
  shift: "mild";
  /** Candidate Adam rates of each arm; each arm's rate is chosen on validation per (task, k) —
   * scratch (every layer), head-only (the fresh head), full fine-tuning (the base; its fresh head at
   * DEFAULT_HEAD_LR). Each grid holds the default rate and its best neighbour on validation. */
  scratchRates: number[];
  headRates: number[];
  fineTuneRates: number[];
  /** Steps of the from-scratch head written out by hand. */
  handSteps: number;
  /** Most epochs of each linear probe (the epoch kept is chosen on validation). */
  probeEpochs: number;
  /** Images the timing runs train on (capped by the target pool), their epochs, and the epochs of
   * the feature-cache comparison (head training runs many epochs: that is where caching pays). */
  timingImages: number;
  timingEpochs: number;
  cacheEpochs: number;
  /** Labels per class of the linear probes per layer. */
  probeLabelsPerClass: number;
  /** Labels per class of digits 5-9 in the class-split scenario. */
  classSplitLabels: number;
}

export interface Lesson03Settings extends LessonSizes {
  /** Steps of the fine-tuning loop written out by hand. */
  handSteps: number;
  /** Bottom fraction of the base frozen in the lesson's own run (0 = full fine-tuning, 1 = head only). */
  freezeRatio: number;
  shift: "mild";
  /** Candidate base rates (Adam) of full fine-tuning, of every freeze ratio and of single-layer
   * tuning: each arm takes the one with the best validation accuracy. */
  learningRates: number[];
  /** Candidate rates of scratch (every layer) and of head-only's head, each chosen on validation
   * like the other arms, so every method of section 3 runs at its own best setting. */
  scratchRates: number[];
  headOnlyRates: number[];
  /** The largest of learningRates. Lesson 10's review queries and fillers still name lesson 03's
   * full fine-tuning at the top rate by it. */
  learningRate: number;
  /** Ratios of the sweep (the lesson adds its own freezeRatio). */
  sweepRatios: number[];
  sweepShifts: ("mild" | "inverted")[];
  /** Task B of the BatchNorm demo: far-off input statistics make the drift visible. */
  bnShift: "inverted";
  /** Discriminative rates: the head rate η0 — one value, the head rate of the single-rate arm
   * (DEFAULT_HEAD_LR), so both arms tune as many candidates (the base rates vs the decays) — and the
   * candidate layer decays (each layer down trains at layerDecay × the rate above), chosen on
   * validation. Lesson 10's filler runs the same grid. */
  headLearningRates: number[];
  layerDecays: number[];
  /** ULMFiT's decay (1/2.6), one of layerDecays (lesson 10's filler runs it). */
  layerDecay: number;
}

export interface Lesson04Settings extends LessonSizes {
  /** Steps of the LoRA layer trained by hand. */
  handSteps: number;
  /** Rank of the demo adapter (the sweep adds it to `ranks`). */
  r: number;
  shift: "mild";
  ranks: number[];
  /** Candidate Adam rates of the adapters (and the head trained with them): every rank runs at each,
   * and each rank's rate is chosen on validation. */
  loraLearningRates: number[];
  /** Candidate rates of full fine-tuning's base (its head at DEFAULT_HEAD_LR), chosen on validation;
   * they overlap LoRA's at 1e-4 and 1e-3, so the two can be compared at equal rates. */
  fullFtLearningRates: number[];
  /** Candidate rates of head-only's head (the frozen base under it), chosen on validation. */
  headLearningRates: number[];
}

export interface Lesson05Settings extends LessonSizes {
  shift: "mild";
  /** Rank of the adapters on every block's q and v. */
  loraR: number;
  /** The ViT and its task-A training. */
  vit: ViTRecipe;
  /** Candidate base rates of full fine-tuning; the one chosen on validation also runs the freeze-k sweep. */
  fullFtLearningRates: number[];
  /** Candidate rates of LoRA on q and v (adapters start from a zero update and want larger steps). */
  loraLearningRates: number[];
}

/** The lessons that have settings, by id. */
export interface LessonSettingsById {
  "00": Lesson00Settings;
  "01": Lesson01Settings;
  "02": Lesson02Settings;
  "03": Lesson03Settings;
  "04": Lesson04Settings;
  "05": Lesson05Settings;
}
export type LessonId = keyof LessonSettingsById;

type PerScale<T> = Record<Scale, T>;

const seedRange = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Seeds of the transfer lessons (02-04) per scale: one transfer run takes under 2 s at default, so
 * 10 seeds, each with its own split and its own source model. Smoke takes 2 so that every paired
 * comparison runs (its intervals are wide: the numbers are noise there). */
export const TRANSFER_SEEDS: Readonly<PerScale<number[]>> = {
  smoke: seedRange(2),
  default: seedRange(10),
  full: seedRange(20),
};

/** The sizes lessons 02-05 share: the source model's (SOURCE_RECIPES) and one transfer run's
 * (TRANSFER_BUDGETS), so every lesson reuses one cached source model and one run protocol. */
function transferSizes(scale: Scale, labelBudgets: number[]): LessonSizes {
  const source = SOURCE_RECIPES[scale];
  const budget = TRANSFER_BUDGETS[scale];
  return {
    samples: source.sourceSize ?? 5500,
    testSamples: source.testSize,
    epochs: source.epochs,
    fineTuneEpochs: budget.epochs,
    labelBudgets,
    seeds: TRANSFER_SEEDS[scale],
    batchSize: budget.batchSize,
  };
}

/** Each lesson's settings as a function of the scale; `v({ smoke, default, full })` picks one. */
const SETTINGS: { [L in LessonId]: (scale: Scale, v: <T>(values: PerScale<T>) => T) => LessonSettingsById[L] } = {
  "00": (_, v) => ({
    samples: v({ smoke: 200, default: 2000, full: 10000 }),
    testSamples: v({ smoke: 100, default: 500, full: 2000 }),
    epochs: v({ smoke: 1, default: 2, full: 3 }),
    fineTuneEpochs: v({ smoke: 1, default: 2, full: 3 }),
    labelBudgets: [5],
    seeds: [0],
    batchSize: v({ smoke: 64, default: 128, full: 256 }),
    matmulSizes: v({ smoke: [64, 128], default: [128, 256, 512], full: [256, 512, 1024, 2048] }),
    digitsPerClass: 2,
  }),
  // 01: samples = clean training images (pretraining pool, labels drawn from it), epochs = per
  // autoencoder stage, fineTuneEpochs = least supervised epochs; the lesson adds the "all" budget.
  // Default: 5 seeds × (2 pretrained stacks + 4 arms at 10 labels/class + 7 arms at all labels),
  // about 40 s of kernel CPU per seed on the 2-core WASM machine (218 s to the checkpoint, measured);
  // 3 epochs per stage and ≥ 500 steps per run (not 5 and 600) keep the lesson, exercises included,
  // near 4.2 min.
  "01": (_, v) => ({
    samples: v({ smoke: 300, default: 5500, full: 5500 }),
    testSamples: v({ smoke: 200, default: 1000, full: 1000 }),
    valPerClass: v({ smoke: 10, default: 50, full: 50 }),
    epochs: v({ smoke: 1, default: 3, full: 10 }),
    fineTuneEpochs: v({ smoke: 1, default: 3, full: 20 }),
    labelBudgets: v({ smoke: [2], default: [10], full: [1, 10, 100] }),
    seeds: v({ smoke: seedRange(2), default: seedRange(5), full: seedRange(10) }),
    batchSize: 32,
    depth: 5,
    width: v({ smoke: 64, default: 200, full: 200 }),
    recipe: "historical",
    noise: 0.25,
    minSteps: v({ smoke: 4, default: 500, full: 1500 }),
  }),
  // 02 at default, 10 seeds: 2 candidate rates per arm × 3 arms × 3 budgets, the source-head variants at the
  // smallest budget, the class split (3 arms × 2 rates) and the probes, with the 20 source models (task A
  // and 0-4) trained from an empty cache, fit 5 min on 2 cores; k = 50 (3× the steps of k ≤ 20) and a
  // third rate per arm did not fit beside them.
  "02": (scale, v) => ({
    ...transferSizes(scale, v({ smoke: [1, 5], default: [1, 5, 20], full: [1, 5, 10, 50, 100] })),
    shift: "mild",
    scratchRates: v({ smoke: [3e-4, 1e-3], default: [3e-4, 1e-3], full: [3e-4, 1e-3, 3e-3] }),
    headRates: v({ smoke: [3e-3, 1e-2], default: [3e-3, 1e-2], full: [3e-3, 1e-2, 3e-2] }),
    fineTuneRates: v({ smoke: [1e-4, 3e-4], default: [1e-4, 3e-4], full: [1e-4, 3e-4, 1e-3] }),
    probeLabelsPerClass: v({ smoke: 10, default: 20, full: 100 }),
    classSplitLabels: 20,
    handSteps: v({ smoke: 20, default: 300, full: 300 }),
    probeEpochs: v({ smoke: 5, default: 30, full: 30 }),
    timingImages: v({ smoke: 200, default: 100000, full: 100000 }),
    timingEpochs: v({ smoke: 2, default: 4, full: 4 }),
    cacheEpochs: v({ smoke: 3, default: 10, full: 20 }),
  }),
  // 03 at default, 10 seeds: 10 sweep candidates (4 ratios × 2 base rates + head-only × 2 head rates)
  // × 2 shifts, scratch × 2 rates × 2 shifts, 2 single layers × 2 rates, 2 discriminative decays:
  // 300 runs of ~0.5-1 s (CPU).
  "03": (scale, v) => ({
    ...transferSizes(scale, [5]),
    freezeRatio: 0.5,
    shift: "mild",
    learningRates: v({ smoke: [1e-4, 1e-3], default: [1e-4, 1e-3], full: [1e-4, 3e-4, 1e-3] }),
    learningRate: 1e-3,
    scratchRates: v({ smoke: [3e-4, 1e-3], default: [3e-4, 1e-3], full: [3e-4, 1e-3, 3e-3] }),
    headOnlyRates: v({ smoke: [3e-3, 1e-2], default: [3e-3, 1e-2], full: [3e-3, 1e-2, 3e-2] }),
    sweepRatios: v({ smoke: [0, 0.5, 1], default: [0, 0.25, 0.5, 0.75, 1], full: [0, 0.25, 0.5, 0.75, 1] }),
    sweepShifts: ["mild", "inverted"],
    bnShift: "inverted",
    headLearningRates: [DEFAULT_HEAD_LR],
    layerDecays: [0.2, 1 / 2.6],
    layerDecay: 1 / 2.6,
    handSteps: v({ smoke: 5, default: 150, full: 300 }),
  }),
  "04": (scale, v) => ({
    ...transferSizes(scale, [5]),
    r: 4,
    shift: "mild",
    ranks: v({ smoke: [1, 4], default: [1, 2, 4, 8, 16], full: [1, 2, 4, 8, 16] }),
    // (ranks + 2 baselines) × 3 rates × 10 seeds = 210 runs of ~0.4 s at default.
    loraLearningRates: v({ smoke: [1e-3, 3e-3], default: [1e-4, 1e-3, 3e-3], full: [1e-4, 1e-3, 3e-3] }),
    fullFtLearningRates: v({ smoke: [1e-4, 1e-3], default: [3e-5, 1e-4, 1e-3], full: [3e-5, 1e-4, 1e-3] }),
    headLearningRates: v({ smoke: [1e-3, 1e-2], default: [1e-3, 3e-3, 1e-2], full: [1e-3, 3e-3, 1e-2] }),
    handSteps: v({ smoke: 10, default: 150, full: 300 }),
  }),
  // 05: epochs = the tiny ViT's pretraining epochs on task A. A ViT run takes over 2 s at default, so
  // 5 seeds, each pretraining its own ViT: 6 epochs (about 4 s each on one WASM core) fit the budget. Going
  // to 8 epochs showed no significant gain on task-A validation accuracy (seeds 0-4: 6 − 8 epochs Δ +0.3
  // points, 95 % CI [−1.2, +1.7]; chosen on validation, not on test).
  "05": (scale, v) => ({
    ...transferSizes(scale, [5]),
    seeds: v({ smoke: seedRange(2), default: seedRange(5), full: seedRange(10) }),
    epochs: v({ smoke: 1, default: 6, full: 20 }),
    shift: "mild",
    loraR: 4,
    vit: VIT_RECIPES[scale],
    fullFtLearningRates: [1e-4, 3e-4, 1e-3],
    loraLearningRates: [1e-3, 3e-3, 1e-2],
  }),
};

/** Lesson ids that have settings, in order. */
export const LESSON_IDS = Object.keys(SETTINGS).sort() as LessonId[];

/** One lesson's settings at a scale (default: the scale in force), as a fresh copy to edit. */
export function lessonSettings<L extends LessonId>(lesson: L, scale: Scale = getScale()): LessonSettingsById[L] {
  const make = SETTINGS[lesson] as (typeof SETTINGS)[L] | undefined;
  if (!make) {
    throw new Error(`lessonSettings: lesson must be one of ${LESSON_IDS.join(", ")}, got ${JSON.stringify(lesson)}`);
  }
  const at = scaleArg("lessonSettings", scale);
  return structuredClone(make(at, (values) => values[at]));
}
