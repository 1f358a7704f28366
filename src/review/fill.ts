// Lesson 10 fills gaps: for every lesson with no recorded results at the current scale it calls
// that lesson's experiment function (lessons 01-05) at that scale and records what they measure,
// so the review's table always covers every method. Each filler mirrors its lesson's defaults.
// Lesson 10 also records the rows its decision guide needs that no lesson runs (an input shift
// with many labels), bounded to one budget and three methods.
import { readResults, type ResultRecord } from "../store/results";
import { getScale, type Scale } from "../core/scale";
import { DEFAULT_HEAD_LR, DEFAULT_SCRATCH_LR, lessonSettings } from "../core/settings";
import { getRecipe } from "../models/recipes";
import {
  cachedEncoders,
  cleanSplit,
  RECORDED_METHOD,
  recordPretrainingRuns,
  runPretrainingExperiment,
  type PretrainingMethod,
} from "../experiments/pretraining";
import {
  runTransferExperiment,
  type TransferExperimentArgs,
  type TransferVariant,
} from "../experiments/transfer-sweep";
import { recordLoraRuns, runLoraSweep } from "../experiments/lora";
import { runViTSweep } from "../experiments/vit";
import { checkCacheWritable } from "../store/writable";

/** What a filler gets: the scale and backend to record, the seed, and where results go. */
export interface FillContext {
  scale: Scale;
  backend: string;
  /** Seed of the lessons' single-run demos (the fillers run each lesson's own seed list). */
  seed: number;
  /** Results folder for lessons whose record functions take one (01, 04); lessons 02/03 record
   * where their experiment function does, in the artifact cache. Default the artifact cache. */
  dir?: string;
  /** Called with a line per step (for a live display). */
  log: (line: string) => void;
}

/** One lesson's experiment, callable from lesson 10. Returns the records it appended. */
export interface LessonFiller {
  lesson: string;
  /** What it runs, for the notebook's "filled in" note. */
  description: string;
  run(ctx: FillContext): Promise<ResultRecord[]>;
}

/** Runs lesson 02/03 variants through their experiment function (which records each run under
 * the lesson, in the artifact cache) and returns the records it wrote. */
async function transferRuns(
  lesson: string,
  ctx: FillContext,
  args: Omit<TransferExperimentArgs, "lesson" | "scale" | "progress" | "onResult">,
): Promise<ResultRecord[]> {
  const results = await runTransferExperiment({
    ...args,
    lesson,
    scale: ctx.scale,
    progress: false,
    onResult: (r) =>
      ctx.log(
        `lesson ${lesson}: ${r.label} on ${r.task}, k=${r.labelsPerClass}, seed ${r.seed}: ${(100 * r.accuracy).toFixed(1)} %`,
      ),
  });
  return results.map((r) => r.record);
}

const lesson01: LessonFiller = {
  lesson: "01",
  description: "scratch (historical recipe) vs greedy pretraining vs the modern recipe, per label budget",
  async run(ctx) {
    const sz = lessonSettings("01", ctx.scale);
    const hidden: number[] = Array(sz.depth).fill(sz.width);
    const recipe = getRecipe(sz.recipe, { batchSize: sz.batchSize, pretrain: { noise: sz.noise, epochs: sz.epochs } });
    const modern = getRecipe("modern", { batchSize: sz.batchSize, pretrain: { noise: sz.noise, epochs: sz.epochs } });
    // The arms lesson 01 records (the others answer its own questions), each seed on its own split.
    const runs = await runPretrainingExperiment({
      splits: (seed) =>
        cleanSplit({ seed, sourceSize: sz.samples, testSize: sz.testSamples, valPerClass: sz.valPerClass }),
      sizes: hidden,
      seeds: sz.seeds,
      labelBudgets: [...sz.labelBudgets, "all"],
      methods: Object.keys(RECORDED_METHOD) as PretrainingMethod[],
      recipe,
      modernRecipe: modern,
      budget: { epochs: sz.fineTuneEpochs, minSteps: sz.minSteps },
      encoders: async (seed, r, split) =>
        (
          await cachedEncoders({
            data: split.unlabeled ?? split.train,
            sizes: hidden,
            recipe: r,
            scale: ctx.scale,
            seed,
            log: false,
          })
        ).encoders,
      onRun: (r) =>
        ctx.log(`lesson 01: ${r.method}, k=${r.labelsPerClass}, seed ${r.seed}: ${(100 * r.accuracy).toFixed(1)} %`),
    });
    return recordPretrainingRuns(runs, { backend: ctx.backend, scale: ctx.scale }, ctx.dir);
  },
};

/** One variant per candidate rate (the review chooses among them on validation, as the lessons do). */
const atRates = (rates: readonly number[], v: (lr: number) => TransferVariant): TransferVariant[] => rates.map(v);

const lesson02: LessonFiller = {
  lesson: "02",
  description:
    "the source model as it is (source-only, no adaptation: zero-shot in the tables), scratch, frozen base + head and full fine-tuning (fresh or source head) at the lesson's candidate rates on the mild shift per label budget, and the class split",
  async run(ctx) {
    const { labelBudgets, seeds, shift, classSplitLabels, scratchRates, headRates, fineTuneRates } = lessonSettings(
      "02",
      ctx.scale,
    );
    const arms: TransferVariant[] = [
      ...atRates(scratchRates, (lr) => ({ method: "scratch", learningRate: lr })),
      ...atRates(headRates, (lr) => ({ method: "feature-extraction", headLearningRate: lr })),
      ...atRates(fineTuneRates, (lr) => ({ method: "full-ft", learningRate: lr, headLearningRate: DEFAULT_HEAD_LR })),
    ];
    const mild = await transferRuns("02", ctx, {
      variants: [
        ...arms,
        { method: "feature-extraction", head: "source" },
        { method: "full-ft", head: "source", headLearningRate: DEFAULT_HEAD_LR },
      ],
      shifts: [shift],
      labelsPerClass: labelBudgets,
      seeds,
      zeroShot: true,
    });
    const split = await transferRuns("02", ctx, {
      variants: arms,
      scenario: "class-split",
      labelsPerClass: [classSplitLabels],
      seeds,
    });
    return [...mild, ...split];
  },
};

const lesson03: LessonFiller = {
  lesson: "03",
  description:
    "scratch, full fine-tuning, the freeze-ratio sweep and first vs last layer tuned at the lesson's candidate base rates on the mild and inverted shifts, and discriminative rates",
  async run(ctx) {
    const { labelBudgets, seeds, learningRates, sweepRatios, headLearningRates, layerDecays } = lessonSettings(
      "03",
      ctx.scale,
    );
    const k = [labelBudgets[0]];
    // Ratio 1 trains no base layer: one variant; every other ratio (0 = full fine-tuning) at each base rate.
    const sweep: TransferVariant[] = sweepRatios.flatMap((freezeRatio) =>
      freezeRatio === 1
        ? [{ method: "freeze-ratio", freezeRatio }]
        : atRates(learningRates, (lr) => ({ method: "freeze-ratio", freezeRatio, learningRate: lr })),
    );
    const discriminative: TransferVariant[] = headLearningRates.flatMap((h) =>
      layerDecays.map((d): TransferVariant => ({ method: "full-ft", layerDecay: d, headLearningRate: h })),
    );
    const tune = (layer: string) =>
      atRates(learningRates, (lr) => ({ method: "tune-layers", trainLayers: [layer], learningRate: lr }));
    const mild = await transferRuns("03", ctx, {
      variants: [{ method: "scratch" }, ...sweep, ...discriminative],
      shifts: ["mild"],
      labelsPerClass: k,
      seeds,
    });
    const inverted = await transferRuns("03", ctx, {
      variants: [{ method: "scratch" }, ...sweep, ...tune("hidden1"), ...tune("hidden4")],
      shifts: ["inverted"],
      labelsPerClass: k,
      seeds,
    });
    return [...mild, ...inverted];
  },
};

const lesson04: LessonFiller = {
  lesson: "04",
  description:
    "LoRA rank sweep against head-only and full fine-tuning on the mild shift, each at the lesson's candidate rates",
  async run(ctx) {
    const { labelBudgets, seeds, ranks, loraLearningRates, fullFtLearningRates, headLearningRates } = lessonSettings(
      "04",
      ctx.scale,
    );
    const runs = await runLoraSweep({
      scale: ctx.scale,
      seeds,
      labelsPerClass: labelBudgets[0],
      ranks,
      loraLearningRates,
      fullFtLearningRates,
      headLearningRates,
      onRun: (r) => ctx.log(`lesson 04: ${r.method}, seed ${r.seed}: ${(100 * r.accuracy).toFixed(1)} %`),
    });
    return recordLoraRuns(runs, { lesson: "04", backend: ctx.backend, scale: ctx.scale }, ctx.dir);
  },
};

const lesson05: LessonFiller = {
  lesson: "05",
  description: "the tiny ViT: head-only, the first k blocks frozen for every k, full fine-tuning and LoRA on q,v",
  async run(ctx) {
    const { labelBudgets, seeds } = lessonSettings("05", ctx.scale);
    const runs = await runViTSweep({
      scale: ctx.scale,
      seeds,
      labelsPerClass: labelBudgets[0],
      onRun: (r) => ctx.log(`lesson 05: ${r.method}, seed ${r.seed}: ${(100 * r.accuracy).toFixed(1)} %`),
    });
    return recordLoraRuns(runs, { lesson: "05", backend: ctx.backend, scale: ctx.scale }, ctx.dir);
  },
};

/** The guide's own rows at one scale: scratch, a frozen base + head and full fine-tuning, each at
 * lesson 02's candidate rates (the review picks the rate on validation), full fine-tuning also at
 * scratch's default rate: an inverted input may need the base to move further than a fine-tuning
 * rate lets it. */
export function guideVariants(scale: Scale): TransferVariant[] {
  const { scratchRates, headRates, fineTuneRates } = lessonSettings("02", scale);
  return [
    ...atRates(scratchRates, (lr) => ({ method: "scratch", learningRate: lr })),
    ...atRates(headRates, (lr) => ({ method: "feature-extraction", headLearningRate: lr })),
    ...atRates([...new Set([...fineTuneRates, DEFAULT_SCRATCH_LR])], (lr) => ({
      method: "full-ft",
      learningRate: lr,
      headLearningRate: DEFAULT_HEAD_LR,
    })),
  ];
}

/** The guide's own rows in words, counted from guideVariants: how many candidate rates each method
 * runs at, on which task, budget and seeds. */
export function describeGuideRows(scale: Scale): string {
  const { labelBudgets, seeds } = lessonSettings("02", scale);
  const variants = guideVariants(scale);
  const rates = (method: TransferVariant["method"]) =>
    variants
      .filter((v) => v.method === method)
      .map((v) => (method === "feature-extraction" ? v.headLearningRate : v.learningRate))
      .filter((lr): lr is number => typeof lr === "number");
  const list = (name: string, lrs: number[]) =>
    `${name} at ${lrs.length} rate${lrs.length === 1 ? "" : "s"} (${lrs.map((lr) => lr.toExponential(0).replace("e+", "e")).join(", ")})`;
  return (
    `Lesson 10's own rows at scale ${scale}: ${list("scratch", rates("scratch"))}, ` +
    `${list("a frozen base + head", rates("feature-extraction"))} and ${list("full fine-tuning", rates("full-ft"))}, ` +
    `each rate chosen on validation, on inverted digits at ${Math.max(...labelBudgets)} labels/class over ${seeds.length} seeds ` +
    `(${variants.length * seeds.length} runs when none is recorded yet).`
  );
}

const lesson10: LessonFiller = {
  lesson: "10",
  description:
    "the decision guide's own rows: scratch, frozen base + head and full fine-tuning (rates chosen on validation) on inverted digits at the largest budget lesson 02 sweeps",
  async run(ctx) {
    // Lesson 03 measures the inverted shift at its few-label budget only; whether transfer still
    // pays with many labels on an input shift was never run.
    const { labelBudgets, seeds } = lessonSettings("02", ctx.scale);
    return transferRuns("10", ctx, {
      variants: guideVariants(ctx.scale),
      shifts: ["inverted"],
      labelsPerClass: [Math.max(...labelBudgets)],
      seeds,
    });
  },
};

/** The lessons lesson 10 can fill in, by id. */
export const LESSON_FILLERS: Readonly<Record<string, LessonFiller>> = {
  "01": lesson01,
  "02": lesson02,
  "03": lesson03,
  "04": lesson04,
  "05": lesson05,
  "10": lesson10,
};

/** The lessons that record results, which the review covers. */
export const RECORDING_LESSONS: readonly string[] = Object.keys(LESSON_FILLERS).sort();

export interface FillMissingArgs {
  /** Scale to check and run at (default getScale()). */
  scale?: Scale;
  /** Backend name recorded with the filled-in results. */
  backend: string;
  /** Seed of lessons without a seed list in their settings (default 0). */
  seed?: number;
  /** Lessons to check (default every filler's). */
  lessons?: string[];
  /** Results folder to check (default the artifact cache; see FillContext.dir). */
  dir?: string;
  /** Lesson fillers (default LESSON_FILLERS; tests pass fakes). */
  fillers?: Readonly<Record<string, LessonFiller>>;
  /** Receives one line per run (default: dropped). */
  log?: (line: string) => void;
}

export interface FillReport {
  lesson: string;
  /** "recorded": results were there; "filled": run now; "failed": the experiment threw. */
  status: "recorded" | "filled" | "failed";
  /** Results of this lesson at this scale after the step. */
  results: number;
  /** Seconds spent filling (0 when recorded). */
  seconds: number;
  /** What ran, or why it failed. */
  note: string;
}

/** For each lesson with no results at `scale`, runs its experiment now. A failing lesson is
 * reported (and the others still run) rather than thrown. */
export async function fillMissingResults(args: FillMissingArgs): Promise<FillReport[]> {
  checkCacheWritable(args.dir, "fillMissingResults"); // fills record results: refuse before any training
  const scale = args.scale ?? getScale();
  const fillers = args.fillers ?? LESSON_FILLERS;
  const lessons = args.lessons ?? Object.keys(fillers).sort();
  const log = args.log ?? (() => undefined);
  const reports: FillReport[] = [];
  for (const lesson of lessons) {
    const filler = fillers[lesson];
    if (!filler)
      throw new Error(
        `fillMissingResults: no experiment for lesson ${JSON.stringify(lesson)} (have: ${Object.keys(fillers).join(", ")})`,
      );
    const have = readResults({ lesson, scale, dir: args.dir }).length;
    if (have > 0) {
      reports.push({
        lesson,
        status: "recorded",
        results: have,
        seconds: 0,
        note: `${have} results recorded by lesson ${lesson}`,
      });
      continue;
    }
    const t0 = Date.now();
    try {
      const rows = await filler.run({ scale, backend: args.backend, seed: args.seed ?? 0, dir: args.dir, log });
      reports.push({
        lesson,
        status: "filled",
        results: rows.length,
        seconds: (Date.now() - t0) / 1000,
        note: filler.description,
      });
    } catch (e) {
      reports.push({
        lesson,
        status: "failed",
        results: 0,
        seconds: (Date.now() - t0) / 1000,
        note: (e as Error).message,
      });
    }
  }
  return reports;
}

/** What lesson 10 says about the fill step, as markdown. */
export function describeFills(reports: FillReport[], scale: Scale): string {
  if (reports.length === 0)
    return `Filling in was switched off (\`fillMissing = false\`): the tables below show only what the lessons recorded at scale **${scale}**.`;
  const filled = reports.filter((r) => r.status === "filled");
  const failed = reports.filter((r) => r.status === "failed");
  const recorded = reports.filter((r) => r.status === "recorded");
  const lines: string[] = [];
  if (recorded.length)
    lines.push(
      `Recorded by the lessons themselves at scale **${scale}**: ${recorded.map((r) => `lesson ${r.lesson} (${r.results} results)`).join(", ")}.`,
    );
  if (filled.length) {
    lines.push(
      `**Not run at scale ${scale}, so run now by this notebook** (same experiment functions and scale as the lesson):`,
    );
    for (const r of filled)
      lines.push(`- lesson ${r.lesson}: ${r.note} — ${r.results} results in ${r.seconds.toFixed(1)} s`);
  } else {
    lines.push(`Every lesson had results at scale **${scale}**; nothing was run here.`);
  }
  for (const r of failed)
    lines.push(`- lesson ${r.lesson}: **its experiment failed** (${r.note}); its rows are missing below.`);
  return lines.join("\n");
}
