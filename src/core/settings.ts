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
  /** Target-task images that label budgets are drawn from. */
  targetPoolSize: number;
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
  },
  // 6000 = what is left of the embedded 10,000 digits; with IDX files (70,000) default stays this
  // size and full trains on everything left.
  default: { epochs: 10, batchSize: 64, learningRate: 1e-3, sourceSize: 6000, testSize: 1000, targetPoolSize: 2000 },
  full: { epochs: 20, batchSize: 128, learningRate: 1e-3, testSize: 1000, targetPoolSize: 2000 },
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
}

export interface Lesson02Settings extends LessonSizes {
  shift: "mild";
  /** Steps of the from-scratch head written out by hand. */
  handSteps: number;
  /** Epochs of each linear probe. */
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
  /** Base rate of the freeze-ratio sweep, layer tuning and "higher-rate" fine-tuning. */
  learningRate: number;
  /** Ratios of the sweep (the lesson adds its own freezeRatio). */
  sweepRatios: number[];
  sweepShifts: ("mild" | "inverted")[];
  /** Task B of the BatchNorm demo: far-off input statistics make the drift visible. */
  bnShift: "inverted";
  /** Discriminative rates: each layer down trains at layerDecay × the rate above (ULMFiT: 1/2.6). */
  layerDecay: number;
}

export interface Lesson04Settings extends LessonSizes {
  /** Steps of the LoRA layer trained by hand. */
  handSteps: number;
  /** Rank of the demo adapter (the sweep adds it to `ranks`). */
  r: number;
  shift: "mild";
  ranks: number[];
  /** Rates tried for both LoRA and full fine-tuning. */
  learningRates: number[];
}

export interface Lesson05Settings extends LessonSizes {
  shift: "mild";
  /** Rank of the adapters on every block's q and v. */
  loraR: number;
  /** The ViT and its task-A training. */
  vit: ViTRecipe;
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
const sizes = (s: LessonSizes) => s;

const SETTINGS: { [L in LessonId]: PerScale<LessonSettingsById[L]> } = {
  "00": {
    smoke: {
      ...sizes({
        samples: 200,
        testSamples: 100,
        epochs: 1,
        fineTuneEpochs: 1,
        labelBudgets: [5],
        seeds: [0],
        batchSize: 64,
      }),
      matmulSizes: [64, 128],
      digitsPerClass: 2,
    },
    default: {
      ...sizes({
        samples: 2000,
        testSamples: 500,
        epochs: 2,
        fineTuneEpochs: 2,
        labelBudgets: [5],
        seeds: [0],
        batchSize: 128,
      }),
      matmulSizes: [128, 256, 512],
      digitsPerClass: 2,
    },
    full: {
      ...sizes({
        samples: 10000,
        testSamples: 2000,
        epochs: 3,
        fineTuneEpochs: 3,
        labelBudgets: [5],
        seeds: [0],
        batchSize: 256,
      }),
      matmulSizes: [256, 512, 1024, 2048],
      digitsPerClass: 2,
    },
  },
  // 01: samples = clean training images (pretraining pool, labels drawn from it), epochs = per
  // autoencoder stage, fineTuneEpochs = least supervised epochs; the lesson adds the "all" budget.
  "01": {
    smoke: {
      ...sizes({
        samples: 300,
        testSamples: 200,
        epochs: 1,
        fineTuneEpochs: 1,
        labelBudgets: [2],
        seeds: [0, 1],
        batchSize: 32,
      }),
      depth: 5,
      width: 64,
      recipe: "historical",
      noise: 0.25,
      minSteps: 4,
    },
    default: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 5,
        fineTuneEpochs: 5,
        labelBudgets: [10, 100],
        seeds: [0, 1, 2],
        batchSize: 32,
      }),
      depth: 5,
      width: 200,
      recipe: "historical",
      noise: 0.25,
      minSteps: 600,
    },
    full: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 10,
        fineTuneEpochs: 20,
        labelBudgets: [1, 10, 100],
        seeds: [0, 1, 2, 3, 4],
        batchSize: 32,
      }),
      depth: 5,
      width: 200,
      recipe: "historical",
      noise: 0.25,
      minSteps: 1500,
    },
  },
  // 02-05: samples, epochs = the shared source model's (SOURCE_RECIPES); fineTuneEpochs,
  // batchSize = the shared transfer budget (TRANSFER_BUDGETS).
  "02": {
    smoke: {
      ...sizes({
        samples: 600,
        testSamples: 200,
        epochs: 2,
        fineTuneEpochs: 2,
        labelBudgets: [1, 5],
        seeds: [0],
        batchSize: 32,
      }),
      shift: "mild",
      probeLabelsPerClass: 10,
      classSplitLabels: 20,
      handSteps: 20,
      probeEpochs: 5,
      timingImages: 200,
      timingEpochs: 2,
      cacheEpochs: 3,
    },
    default: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 10,
        fineTuneEpochs: 30,
        labelBudgets: [1, 5, 10, 50],
        seeds: [0, 1, 2],
        batchSize: 32,
      }),
      shift: "mild",
      probeLabelsPerClass: 50,
      classSplitLabels: 20,
      handSteps: 300,
      probeEpochs: 30,
      timingImages: 100000,
      timingEpochs: 4,
      cacheEpochs: 10,
    },
    full: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 20,
        fineTuneEpochs: 40,
        labelBudgets: [1, 5, 10, 50, 100],
        seeds: [0, 1, 2, 3, 4],
        batchSize: 32,
      }),
      shift: "mild",
      probeLabelsPerClass: 100,
      classSplitLabels: 20,
      handSteps: 300,
      probeEpochs: 30,
      timingImages: 100000,
      timingEpochs: 4,
      cacheEpochs: 20,
    },
  },
  "03": {
    smoke: {
      ...sizes({
        samples: 600,
        testSamples: 200,
        epochs: 2,
        fineTuneEpochs: 2,
        labelBudgets: [5],
        seeds: [0],
        batchSize: 32,
      }),
      ...lesson03Knobs([0, 0.5, 1]),
      handSteps: 5,
    },
    default: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 10,
        fineTuneEpochs: 30,
        labelBudgets: [5],
        seeds: [0, 1, 2],
        batchSize: 32,
      }),
      ...lesson03Knobs([0, 0.25, 0.5, 0.75, 1]),
      handSteps: 150,
    },
    full: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 20,
        fineTuneEpochs: 40,
        labelBudgets: [5],
        seeds: [0, 1, 2, 3, 4],
        batchSize: 32,
      }),
      ...lesson03Knobs([0, 0.25, 0.5, 0.75, 1]),
      handSteps: 300,
    },
  },
  "04": {
    smoke: {
      ...sizes({
        samples: 600,
        testSamples: 200,
        epochs: 2,
        fineTuneEpochs: 2,
        labelBudgets: [5],
        seeds: [0],
        batchSize: 32,
      }),
      r: 4,
      shift: "mild",
      ranks: [1, 4],
      learningRates: [1e-4, 1e-3, 3e-3],
      handSteps: 10,
    },
    default: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 10,
        fineTuneEpochs: 30,
        labelBudgets: [5],
        seeds: [0, 1, 2],
        batchSize: 32,
      }),
      r: 4,
      shift: "mild",
      ranks: [1, 2, 4, 8, 16],
      learningRates: [1e-4, 1e-3, 3e-3],
      handSteps: 150,
    },
    full: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 20,
        fineTuneEpochs: 40,
        labelBudgets: [5],
        seeds: [0, 1, 2, 3, 4],
        batchSize: 32,
      }),
      r: 4,
      shift: "mild",
      ranks: [1, 2, 4, 8, 16],
      learningRates: [1e-4, 1e-3, 3e-3],
      handSteps: 300,
    },
  },
  // 05: samples = task-A images the tiny ViT pretrains on, epochs = its pretraining epochs.
  "05": {
    smoke: {
      ...sizes({
        samples: 600,
        testSamples: 200,
        epochs: 1,
        fineTuneEpochs: 2,
        labelBudgets: [5],
        seeds: [0],
        batchSize: 32,
      }),
      shift: "mild",
      loraR: 4,
      vit: VIT_RECIPES.smoke,
    },
    default: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 8,
        fineTuneEpochs: 30,
        labelBudgets: [5],
        seeds: [0, 1, 2],
        batchSize: 32,
      }),
      shift: "mild",
      loraR: 4,
      vit: VIT_RECIPES.default,
    },
    full: {
      ...sizes({
        samples: 6000,
        testSamples: 1000,
        epochs: 20,
        fineTuneEpochs: 40,
        labelBudgets: [5],
        seeds: [0, 1, 2, 3, 4],
        batchSize: 32,
      }),
      shift: "mild",
      loraR: 4,
      vit: VIT_RECIPES.full,
    },
  },
};

function lesson03Knobs(sweepRatios: number[]): Omit<Lesson03Settings, keyof LessonSizes | "handSteps"> {
  return {
    freezeRatio: 0.5,
    shift: "mild",
    learningRate: 1e-3,
    sweepRatios,
    sweepShifts: ["mild", "inverted"],
    bnShift: "inverted",
    layerDecay: 1 / 2.6,
  };
}

/** Lesson ids that have settings, in order. */
export const LESSON_IDS = Object.keys(SETTINGS).sort() as LessonId[];

/** One lesson's settings at a scale (default: the scale in force), as a fresh copy to edit. */
export function lessonSettings<L extends LessonId>(lesson: L, scale: Scale = getScale()): LessonSettingsById[L] {
  const table = SETTINGS[lesson] as PerScale<LessonSettingsById[L]> | undefined;
  if (!table)
    throw new Error(`lessonSettings: lesson must be one of ${LESSON_IDS.join(", ")}, got ${JSON.stringify(lesson)}`);
  return structuredClone(table[scaleArg("lessonSettings", scale)]);
}
