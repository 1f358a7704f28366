// The transfer problems every lesson shares ("the same digits, scanned by a new machine"): source task A on
// clean digits, target task B on held-apart digits under a named seeded shift, and the
// class-split scenario 0-4 -> 5-9. One call builds all splits, disjoint and reproducible.
import { shuffledIndices, subSeed } from "../core/random";
import { lessonData } from "./lesson-data";
import {
  classCounts,
  hideLabels,
  holdOutPerClass,
  IndexedDataset,
  selectClasses,
  subset,
  takeLabelsPerClass,
} from "./subset";
import { DEFAULT_SHIFT, shiftTransform, SHIFT_NAMES, ShiftName, transformDataset } from "./transforms";
import type { Dataset } from "./types";
import { argError, checkFinite, checkOneOf, checkPositiveInt, show } from "../core/validate";
import { checkDataset } from "./check";

/** Held-out test images per task. */
export const DEFAULT_TEST_SIZE = 1000;
/** Target images from which label budgets are drawn. */
export const DEFAULT_TARGET_POOL_SIZE = 2000;
export const DEFAULT_TASK_SEED = 0;
/** Task-A validation images per class, held out of the source training images. */
export const DEFAULT_SOURCE_VAL_PER_CLASS = 50;
/** Task-B validation labels per class, held out of the target pool before any budget is drawn: a
 * fixed, stated size for every budget k, so that choices at k = 1 and k = 50 rest on the same
 * evidence and no budget's labels are ever used to choose. */
export const DEFAULT_TARGET_VAL_PER_CLASS = 10;

/** Options of `makeTransferTasks`. */
export interface TransferTasksArgs {
  /** Domain shift of target task B (default `mild`: rotate 20° + noise σ 0.1). */
  shift?: ShiftName;
  /** Clean, fully labeled images of source task A; default: every image not used elsewhere. */
  sourceSize?: number;
  /** Shifted target images (all labels kept): the validation labels, then the pool budgets are
   * drawn from with takeLabelsPerClass. */
  targetPoolSize?: number;
  /** Task-A validation images per class (default 50), taken from the source images. */
  sourceValPerClass?: number;
  /** Task-B validation labels per class (default 10), taken from the target images. */
  targetValPerClass?: number;
  /** Held-out images of each task's test split. */
  testSize?: number;
  /** Seeds the split and the shift's noise; same seed -> same indices and pixels. */
  seed?: number;
  /** Base data; default lessonData(): the embedded MNIST (10,000 digits), or the IDX files that
   * TRANSFER_LAB_DATA names. */
  data?: Dataset;
}

/** All splits of one transfer problem; image sets are pairwise disjoint (see baseIndices). */
export interface TransferTasks {
  scenario: "shift" | "class-split";
  shift: ShiftName;
  /** The shift's transform, e.g. "rotate(20°) ∘ noise(σ=0.1)". */
  transformName: string;
  seed: number;
  /** The base data all baseIndices refer to. */
  data: Dataset;
  /** Task A: clean images, all labels; `val` (stratified) is for choices, `test` scored once. */
  source: { train: IndexedDataset; val: IndexedDataset; test: IndexedDataset };
  /** Task B: shifted held-apart images; `pool` keeps all labels, budgets come from it; `val` holds
   * `targetValPerClass` labels per class apart from the pool, for every choice a run makes. */
  target: { pool: IndexedDataset; val: IndexedDataset; test: IndexedDataset };
  /** source.train with labels hidden (-1), for unsupervised pretraining. */
  unlabeled: IndexedDataset;
  /** k labels per class from target.pool (nested in k for one seed). */
  targetLabels(k: number, seed?: number): IndexedDataset;
}

/** Cuts `rows` (already in seeded order) into consecutive pieces of the given sizes; `what`
 * spells the sizes for the message when they do not fit. Tests come first in every call, so
 * the test splits depend only on (seed, testSize). */
function cut(rows: Int32Array, sizes: number[], where: string, what: string, dataName: string): Int32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > rows.length || sizes.some((m) => m < 0)) {
    throw new Error(
      `${where}: ${what} = ${total} images, more than the ${rows.length} available in ${dataName} ` +
        `(lower the sizes, or load full MNIST with loadIdxDataset and pass it as data)`,
    );
  }
  let at = 0;
  return sizes.map((m) => rows.subarray(at, (at += m)));
}

/** Classes with at least one image in `ds`: those a validation split takes images of. */
function presentClasses(ds: Dataset): number {
  return classCounts(ds).filter((c) => c > 0).length;
}

/** holdOutPerClass for a task's validation split, with a too-large `k` reported under the option
 * that asked for it (`param`) and the size that would make room (`sizeParam`). */
function holdOutVal(
  where: string,
  param: string,
  sizeParam: string,
  ds: IndexedDataset,
  k: number,
  seed: number | string,
  names: { held: string; rest: string },
): { held: IndexedDataset; rest: IndexedDataset } {
  const fewest = Math.min(...classCounts(ds).filter((c) => c > 0));
  if (k > fewest)
    throw argError(
      where,
      param,
      `at most ${fewest} (the smallest class of the ${ds.n} images it is taken from)`,
      show(k),
      `lower ${param} or raise ${sizeParam}`,
    );
  return holdOutPerClass(ds, k, seed, names);
}

function finish(
  where: string,
  scenario: TransferTasks["scenario"],
  shift: ShiftName,
  seed: number,
  data: Dataset,
  sourceAll: IndexedDataset,
  sourceTest: IndexedDataset,
  poolClean: IndexedDataset,
  targetTestClean: IndexedDataset,
  valPerClass: { source: number; target: number },
): TransferTasks {
  const t = shiftTransform(shift);
  const tag = shift === "none" ? "" : `(${shift})`;
  const sourceSplit = holdOutVal(
    where,
    "sourceValPerClass",
    "sourceSize",
    sourceAll,
    valPerClass.source,
    subSeed(seed, "val:source"),
    { held: "source/val", rest: "source/train" },
  );
  // transformDataset keeps baseIndices (spread copy), so bookkeeping survives the shift.
  const shifted = transformDataset(poolClean, t, subSeed(seed, "shift:pool"), `target${tag}/pool`) as IndexedDataset;
  const targetSplit = holdOutVal(
    where,
    "targetValPerClass",
    "targetPoolSize",
    shifted,
    valPerClass.target,
    subSeed(seed, "val:target"),
    { held: `target${tag}/val`, rest: `target${tag}/pool` },
  );
  const pool = targetSplit.rest;
  const sourceTrain = sourceSplit.rest;
  const targetTest = transformDataset(
    targetTestClean,
    t,
    subSeed(seed, "shift:test"),
    `target${tag}/test`,
  ) as IndexedDataset;
  return {
    scenario,
    shift,
    transformName: t.name,
    seed,
    data,
    source: { train: sourceTrain, val: sourceSplit.held, test: sourceTest },
    target: { pool, val: targetSplit.held, test: targetTest },
    unlabeled: hideLabels(sourceTrain, "source/unlabeled"),
    targetLabels: (k: number, s = seed) => takeLabelsPerClass(pool, k, s),
  };
}

/** The options both scenarios share, with their defaults, checked. */
function commonTaskArgs(
  args: TransferTasksArgs,
  where: string,
  defaultShift: ShiftName,
): {
  data: Dataset;
  seed: number;
  shift: ShiftName;
  testSize: number;
  valPerClass: { source: number; target: number };
} {
  const data = args.data ?? lessonData();
  const seed = args.seed ?? DEFAULT_TASK_SEED;
  const shift = args.shift ?? defaultShift;
  const testSize = args.testSize ?? DEFAULT_TEST_SIZE;
  const valPerClass = {
    source: args.sourceValPerClass ?? DEFAULT_SOURCE_VAL_PER_CLASS,
    target: args.targetValPerClass ?? DEFAULT_TARGET_VAL_PER_CLASS,
  };
  checkOneOf(where, "shift", shift, SHIFT_NAMES);
  checkDataset(where, "data", data);
  checkFinite(where, "seed", seed);
  checkPositiveInt(where, "testSize", testSize);
  checkPositiveInt(where, "sourceValPerClass", valPerClass.source);
  checkPositiveInt(where, "targetValPerClass", valPerClass.target);
  return { data, seed, shift, testSize, valPerClass };
}

/**
 * Source task A and target task B on disjoint images of one base set: A = clean digits 0-9
 * with all labels; B = other images of the same 10 classes under the named shift. Test
 * splits are held out from both, and each task has a stratified validation split for choices.
 * Defaults: 1000 test images per task; target: 2000 images = 100 validation (10 per class) + a
 * 1900-image pool for budgets; source: 500 validation (50 per class) + the rest for training (5500
 * of the embedded 10,000). `targetPoolSize` counts the target's validation images, `sourceSize` does
 * not count the source's.
 */
export function makeTransferTasks(args: TransferTasksArgs = {}): TransferTasks {
  const where = "makeTransferTasks";
  const { data, seed, shift, testSize, valPerClass } = commonTaskArgs(args, where, DEFAULT_SHIFT);
  const poolSize = args.targetPoolSize ?? DEFAULT_TARGET_POOL_SIZE;
  checkPositiveInt(where, "targetPoolSize", poolSize);
  if (args.sourceSize !== undefined) checkPositiveInt(where, "sourceSize", args.sourceSize);
  const sourceClasses = presentClasses(data);
  const sourceVal = valPerClass.source * sourceClasses;
  const sourceSize = args.sourceSize ?? Math.max(1, data.n - 2 * testSize - poolSize - sourceVal);
  const rows = shuffledIndices(data.n, subSeed(seed, "split"));
  const what = `2 × testSize ${testSize} + targetPoolSize ${poolSize} + sourceSize ${sourceSize} + sourceValPerClass ${valPerClass.source} × ${sourceClasses} class${sourceClasses === 1 ? "" : "es"}`;
  const [testA, testB, pool, train] = cut(
    rows,
    [testSize, testSize, poolSize, sourceSize + sourceVal],
    where,
    what,
    data.name,
  );
  return finish(
    where,
    "shift",
    shift,
    seed,
    data,
    subset(data, train, "source/all"),
    subset(data, testA, "source/test"),
    subset(data, pool, "target/pool"),
    subset(data, testB, "target/test"),
    valPerClass,
  );
}

/** Options of `makeClassSplitTasks`. */
export interface ClassSplitArgs extends TransferTasksArgs {
  /** Classes of task A (default 0-4). */
  sourceClasses?: number[];
  /** Classes of task B (default 5-9); disjoint from sourceClasses. */
  targetClasses?: number[];
  /** Relabel each task's classes to 0..m-1 with numClasses m (default true), or keep the
   * original digits and numClasses 10 (false). */
  remap?: boolean;
}
export const DEFAULT_SOURCE_CLASSES = [0, 1, 2, 3, 4];
export const DEFAULT_TARGET_CLASSES = [5, 6, 7, 8, 9];

/**
 * The class-split scenario (Yosinski et al. 2014): A = digits 0-4, B = digits 5-9, each with
 * its own held-out test split. By default labels are remapped, 5..9 -> 0..4, and both tasks
 * have numClasses 5, so each task gets its own 5-way head (the setting whose last hidden layer
 * turns out too task-specific). Shift defaults to `none`; sizes default to all images of each
 * class group minus the test split.
 */
export function makeClassSplitTasks(args: ClassSplitArgs = {}): TransferTasks {
  const where = "makeClassSplitTasks";
  const { data, seed, shift, testSize, valPerClass } = commonTaskArgs(args, where, "none");
  const srcClasses = args.sourceClasses ?? DEFAULT_SOURCE_CLASSES;
  const tgtClasses = args.targetClasses ?? DEFAULT_TARGET_CLASSES;
  for (const [param, list] of [
    ["sourceClasses", srcClasses],
    ["targetClasses", tgtClasses],
  ] as const) {
    if (!Array.isArray(list) || list.length === 0)
      throw argError(where, param, `a non-empty list of classes in 0..${data.numClasses - 1}`, show(list));
  }
  const overlap = srcClasses.filter((c) => tgtClasses.includes(c));
  if (overlap.length > 0)
    throw new Error(`${where}: sourceClasses and targetClasses share ${overlap.join(", ")}; they must be disjoint`);
  const remap = args.remap ?? true;
  const a = selectClasses(data, srcClasses, { remap });
  const b = selectClasses(data, tgtClasses, { remap });
  // Rows of each class group in one seeded order; A's and B's images are disjoint by class.
  const orderA = shuffledIndices(a.n, subSeed(seed, "split:A"));
  const orderB = shuffledIndices(b.n, subSeed(seed, "split:B"));
  if (args.sourceSize !== undefined) checkPositiveInt(where, "sourceSize", args.sourceSize);
  if (args.targetPoolSize !== undefined) checkPositiveInt(where, "targetPoolSize", args.targetPoolSize);
  const sourceClasses = presentClasses(a); // not a.numClasses: with remap false, 10 classes, 5 present
  const sourceVal = valPerClass.source * sourceClasses;
  const sourceSize = args.sourceSize ?? Math.max(1, a.n - testSize - sourceVal);
  const poolSize = args.targetPoolSize ?? Math.max(1, b.n - testSize);
  const [testA, train] = cut(
    orderA,
    [testSize, sourceSize + sourceVal],
    where,
    `testSize ${testSize} + sourceSize ${sourceSize} + sourceValPerClass ${valPerClass.source} × ${sourceClasses} class${sourceClasses === 1 ? "" : "es"}`,
    a.name,
  );
  const [testB, pool] = cut(
    orderB,
    [testSize, poolSize],
    where,
    `testSize ${testSize} + targetPoolSize ${poolSize}`,
    b.name,
  );
  return finish(
    where,
    "class-split",
    shift,
    seed,
    data,
    subset(a, train, "source/all"),
    subset(a, testA, "source/test"),
    subset(b, pool, "target/pool"),
    subset(b, testB, "target/test"),
    valPerClass,
  );
}
