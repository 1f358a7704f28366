// Row selection on datasets with index bookkeeping: every derived set remembers which rows
// of the base data (the embedded or IDX load) it holds, so disjointness can be checked.
import { shuffledIndices } from "../core/random";
import type { Dataset } from "./types";
import { argError, checkPositiveInt, show } from "../core/validate";
import { checkDataset } from "./check";

/** A dataset whose row i is row `baseIndices[i]` of the base data it was cut from. */
export interface IndexedDataset extends Dataset {
  /** Row numbers in the base dataset, [n]. */
  baseIndices: Int32Array;
}

/** Label of an example whose label is hidden (unlabeled pool). */
export const UNLABELED = -1;

/** Row numbers of `ds` in its base data: its `baseIndices`, or 0..n-1 for a base dataset. */
export function baseIndicesOf(ds: Dataset): Int32Array {
  const b = (ds as Partial<IndexedDataset>).baseIndices;
  if (b !== undefined) return b;
  const idx = new Int32Array(ds.n);
  for (let i = 0; i < ds.n; i++) idx[i] = i;
  return idx;
}

/** A copy of the rows `indices` of `ds` (in that order), with base-row bookkeeping. */
export function subset(ds: Dataset, indices: ArrayLike<number>, name?: string): IndexedDataset {
  const m = indices.length;
  const x = new Float32Array(m * ds.dim);
  const y = new Int32Array(m);
  const from = baseIndicesOf(ds);
  const baseIndices = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const i = indices[j];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) {
      throw new Error(`subset: index ${i} at position ${j} is outside 0..${ds.n - 1} of ${ds.name}`);
    }
    x.set(ds.x.subarray(i * ds.dim, (i + 1) * ds.dim), j * ds.dim);
    y[j] = ds.y[i];
    baseIndices[j] = from[i];
  }
  return { x, y, n: m, dim: ds.dim, numClasses: ds.numClasses, name: name ?? `${ds.name}[${m}]`, baseIndices };
}

/** Options of `selectClasses`. */
export interface SelectClassesArgs {
  /** Relabel classes[i] -> i and set numClasses = classes.length (true), or keep the original
   * labels and numClasses (false). */
  remap?: boolean;
  name?: string;
}
export const DEFAULT_REMAP = true;

/** The rows whose label is in `classes`, in their original order. */
export function selectClasses(ds: Dataset, classes: readonly number[], args: SelectClassesArgs = {}): IndexedDataset {
  if (!Array.isArray(classes) || classes.length === 0) {
    throw argError(
      "selectClasses",
      "classes",
      `a non-empty list of class numbers in 0..${ds.numClasses - 1}`,
      show(classes),
    );
  }
  const remap = args.remap ?? DEFAULT_REMAP;
  const newLabel = new Map<number, number>();
  classes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= ds.numClasses) {
      throw new Error(`selectClasses: class ${c} is outside 0..${ds.numClasses - 1} of ${ds.name}`);
    }
    if (newLabel.has(c)) throw new Error(`selectClasses: class ${c} is listed twice in [${classes.join(", ")}]`);
    newLabel.set(c, remap ? i : c);
  });
  const rows: number[] = [];
  for (let i = 0; i < ds.n; i++) if (newLabel.has(ds.y[i])) rows.push(i);
  const out = subset(ds, rows, args.name ?? `${ds.name}{${classes.join(",")}}`);
  if (remap) {
    for (let j = 0; j < out.n; j++) out.y[j] = newLabel.get(out.y[j]) as number;
    out.numClasses = classes.length;
  }
  return out;
}

/** A copy with every label set to UNLABELED (-1): the pool for unsupervised pretraining. */
export function hideLabels(ds: Dataset, name?: string): IndexedDataset {
  const rows = new Int32Array(ds.n);
  for (let i = 0; i < ds.n; i++) rows[i] = i;
  const out = subset(ds, rows, name ?? `${ds.name}/unlabeled`);
  out.y.fill(UNLABELED);
  return out;
}

/** Examples per class, [numClasses] (unlabeled rows are not counted). */
export function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.n; i++) if (ds.y[i] >= 0 && ds.y[i] < ds.numClasses) counts[ds.y[i]]++;
  return counts;
}

/** k labels per class can be drawn from `ds`: k is a positive integer at most the smallest
 * class; `where` and `param` name the caller and its option in the message. */
export function checkLabelBudget(where: string, param: string, k: unknown, ds: Dataset): asserts k is number {
  checkPositiveInt(where, param, k);
  const counts = classCounts(ds);
  const fewest = Math.min(...counts);
  if ((k as number) > fewest) {
    const c = counts.indexOf(fewest);
    throw argError(
      where,
      param,
      `at most ${fewest} (class ${c} has only ${fewest} examples in ${show(ds.name)})`,
      show(k),
      "lower the budget or use a larger pool",
    );
  }
}

/**
 * Exactly `k` labeled examples of every class, drawn with `seed`. Budgets nest: for one seed,
 * the k=1 set is inside the k=5 set, which is inside the k=10 set, so a sweep over k adds
 * labels rather than redrawing them. Rows come class by class, round-robin.
 */
export function takeLabelsPerClass(ds: Dataset, k: number, seed: number | string): IndexedDataset {
  return subset(ds, labelRowsPerClass("takeLabelsPerClass", ds, k, seed), `${ds.name}/k=${k}`);
}

/** Holds out exactly `k` examples of every class present in `ds` (a class split that keeps the
 * original digit labels has empty classes) and returns them apart from the rest: a stratified,
 * seeded validation split. `names` name the two parts. */
export function holdOutPerClass(
  ds: Dataset,
  k: number,
  seed: number | string,
  names: { held: string; rest: string },
): { held: IndexedDataset; rest: IndexedDataset } {
  const rows = labelRowsPerClass("holdOutPerClass", ds, k, seed, { presentOnly: true });
  const taken = new Set(rows);
  const rest: number[] = [];
  for (let i = 0; i < ds.n; i++) if (!taken.has(i)) rest.push(i);
  return { held: subset(ds, rows, names.held), rest: subset(ds, rest, names.rest) };
}

/** The rows of k examples per class drawn with `seed`, class by class round-robin. */
function labelRowsPerClass(
  where: string,
  ds: Dataset,
  k: number,
  seed: number | string,
  opts: { presentOnly?: boolean } = {},
): number[] {
  checkDataset(where, "ds", ds, { nonEmpty: false });
  const counts = classCounts(ds);
  if (opts.presentOnly) {
    checkPositiveInt(where, "k", k);
    const fewest = Math.min(...counts.filter((c) => c > 0));
    if (k > fewest) throw argError(where, "k", `at most ${fewest} (the smallest class of ${show(ds.name)})`, show(k));
  } else checkLabelBudget(where, "k", k, ds);
  const perm = shuffledIndices(ds.n, `${seed}:labels`);
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let j = 0; j < perm.length; j++) {
    const c = ds.y[perm[j]];
    if (c >= 0 && c < ds.numClasses && byClass[c].length < k) byClass[c].push(perm[j]);
  }
  const rows: number[] = [];
  for (let j = 0; j < k; j++) for (let c = 0; c < ds.numClasses; c++) if (counts[c] > 0) rows.push(byClass[c][j]);
  return rows;
}
