// Lesson scale: one switch (LESSON_SCALE or the notebook's `parameters` cell) that sets data
// sizes, epochs and sweeps for every lesson. This file is the one place those numbers live.

export type Scale = "smoke" | "default" | "full";
export const SCALES: readonly Scale[] = ["smoke", "default", "full"];
export const DEFAULT_SCALE: Scale = "default";

/** Parses a scale name; names the bad value and the allowed ones. */
export function parseScale(value: string, source = "scale"): Scale {
  const v = value.trim().toLowerCase();
  if ((SCALES as readonly string[]).includes(v)) return v as Scale;
  throw new Error(`${source} must be one of ${SCALES.join(", ")}, got ${JSON.stringify(value)}`);
}

/** A scale given as an argument (exact name, no trimming: that is for user-typed values). */
function checkScale(scale: unknown, where: string, remedy?: string): asserts scale is Scale {
  if (!(SCALES as readonly unknown[]).includes(scale)) {
    throw new Error(`${where}: scale must be one of ${SCALES.join(", ")}, got ${JSON.stringify(scale)}${remedy ? ` (${remedy})` : ""}`);
  }
}

/** A `scale` option: one of SCALES, or the scale in force (LESSON_SCALE) when not given. */
export function scaleArg(where: string, scale: unknown): Scale {
  if (scale === undefined) return getScale();
  checkScale(scale, where, "or leave it out to use LESSON_SCALE");
  return scale;
}

/** The scale in force: an explicit argument, else LESSON_SCALE, else `default`. */
export function getScale(explicit?: string): Scale {
  if (explicit !== undefined && explicit !== "") return parseScale(explicit, "scale");
  const env = process.env.LESSON_SCALE;
  if (env !== undefined && env !== "") return parseScale(env, "LESSON_SCALE");
  return DEFAULT_SCALE;
}

/** Per-lesson sizes. `smoke` runs every cell in seconds on the pure-JS backend (numbers not
 * meaningful); `default` shows each lesson's point on a laptop CPU (WASM) in minutes; `full`
 * is GPU scale. */
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

const SIZES: Record<string, Record<Scale, LessonSizes>> = {
  "00": {
    smoke: { samples: 200, testSamples: 100, epochs: 1, fineTuneEpochs: 1, labelBudgets: [5], seeds: [0], batchSize: 64 },
    default: { samples: 2000, testSamples: 500, epochs: 2, fineTuneEpochs: 2, labelBudgets: [5], seeds: [0], batchSize: 128 },
    full: { samples: 10000, testSamples: 2000, epochs: 3, fineTuneEpochs: 3, labelBudgets: [5], seeds: [0], batchSize: 256 },
  },
  // 01: samples = clean training images (pretraining pool, labels drawn from it), epochs = per
  // autoencoder stage, fineTuneEpochs = least supervised epochs; the lesson adds the "all" budget.
  "01": {
    smoke: { samples: 300, testSamples: 200, epochs: 1, fineTuneEpochs: 1, labelBudgets: [2], seeds: [0, 1], batchSize: 32 },
    default: { samples: 6000, testSamples: 1000, epochs: 5, fineTuneEpochs: 5, labelBudgets: [10, 100], seeds: [0, 1, 2], batchSize: 32 },
    full: { samples: 6000, testSamples: 1000, epochs: 10, fineTuneEpochs: 20, labelBudgets: [1, 10, 100], seeds: [0, 1, 2, 3, 4], batchSize: 32 },
  },
  // 02/03: samples = task-A training images of the shared source model, epochs = its epochs, fineTuneEpochs
  // = least epochs per transfer run, batchSize = transfer batch (mirrors SOURCE_RECIPES and
  // TRANSFER_BUDGETS, so every lesson reuses one cached source model and one run protocol).
  "02": {
    smoke: { samples: 600, testSamples: 200, epochs: 2, fineTuneEpochs: 2, labelBudgets: [1, 5], seeds: [0], batchSize: 32 },
    default: { samples: 6000, testSamples: 1000, epochs: 10, fineTuneEpochs: 30, labelBudgets: [1, 5, 10, 50], seeds: [0, 1, 2], batchSize: 32 },
    full: { samples: 6000, testSamples: 1000, epochs: 20, fineTuneEpochs: 40, labelBudgets: [1, 5, 10, 50, 100], seeds: [0, 1, 2, 3, 4], batchSize: 32 },
  },
  "03": {
    smoke: { samples: 600, testSamples: 200, epochs: 2, fineTuneEpochs: 2, labelBudgets: [5], seeds: [0], batchSize: 32 },
    default: { samples: 6000, testSamples: 1000, epochs: 10, fineTuneEpochs: 30, labelBudgets: [5], seeds: [0, 1, 2], batchSize: 32 },
    full: { samples: 6000, testSamples: 1000, epochs: 20, fineTuneEpochs: 40, labelBudgets: [5], seeds: [0, 1, 2, 3, 4], batchSize: 32 },
  },
  // 04: as 02/03 (the shared source MLP and transfer protocol); the rank sweep runs per seed.
  "04": {
    smoke: { samples: 600, testSamples: 200, epochs: 2, fineTuneEpochs: 2, labelBudgets: [5], seeds: [0], batchSize: 32 },
    default: { samples: 6000, testSamples: 1000, epochs: 10, fineTuneEpochs: 30, labelBudgets: [5], seeds: [0, 1, 2], batchSize: 32 },
    full: { samples: 6000, testSamples: 1000, epochs: 20, fineTuneEpochs: 40, labelBudgets: [5], seeds: [0, 1, 2, 3, 4], batchSize: 32 },
  },
  // 05: samples = task-A images the tiny ViT pretrains on, epochs = its pretraining epochs (model
  // widths in experiments/vit.ts VIT_RECIPES), fineTuneEpochs/batchSize = the transfer protocol.
  "05": {
    smoke: { samples: 600, testSamples: 200, epochs: 1, fineTuneEpochs: 2, labelBudgets: [5], seeds: [0], batchSize: 32 },
    default: { samples: 6000, testSamples: 1000, epochs: 8, fineTuneEpochs: 30, labelBudgets: [5], seeds: [0, 1, 2], batchSize: 32 },
    full: { samples: 6000, testSamples: 1000, epochs: 20, fineTuneEpochs: 40, labelBudgets: [5], seeds: [0, 1, 2, 3, 4], batchSize: 32 },
  },
};

/** Lesson ids that have sizes. */
export function knownLessons(): string[] {
  return Object.keys(SIZES).sort();
}

/** Sizes for one lesson at a scale. Lessons call this instead of hard-coding numbers. */
export function lessonSizes(lesson: string, scale: Scale = getScale()): LessonSizes {
  const table = SIZES[lesson];
  if (!table) {
    throw new Error(`lessonSizes: unknown lesson ${JSON.stringify(lesson)} (known: ${Object.keys(SIZES).join(", ")})`);
  }
  checkScale(scale, "lessonSizes");
  return structuredClone(table[scale]);
}

/** Picks one of three values by scale, for lesson-specific knobs that do not fit LessonSizes. */
export function byScale<T>(values: Record<Scale, T>, scale: Scale = getScale()): T {
  checkScale(scale, "byScale");
  return values[scale];
}
