// A one-look description of a dataset (size, classes, pixel range), and a markdown table of
// several, for the "data" cell of each lesson.
import { classCounts, UNLABELED } from "./subset";
import type { Dataset } from "./types";

export interface DataSummary {
  name: string;
  n: number;
  dim: number;
  numClasses: number;
  /** Examples per class, [numClasses]. */
  perClass: number[];
  /** Rows whose label is hidden (-1). */
  unlabeled: number;
  pixelMin: number;
  pixelMax: number;
  pixelMean: number;
}

export function dataSummary(ds: Dataset): DataSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < ds.x.length; i++) {
    const v = ds.x[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  let unlabeled = 0;
  for (let i = 0; i < ds.n; i++) if (ds.y[i] === UNLABELED) unlabeled++;
  const empty = ds.x.length === 0;
  return {
    name: ds.name,
    n: ds.n,
    dim: ds.dim,
    numClasses: ds.numClasses,
    perClass: classCounts(ds),
    unlabeled,
    pixelMin: empty ? 0 : min,
    pixelMax: empty ? 0 : max,
    pixelMean: empty ? 0 : sum / ds.x.length,
  };
}

/** Markdown table, one row per dataset: name, n, per-class min-max, labels, pixel range. */
export function summaryMarkdown(datasets: Dataset[]): string {
  const lines = [
    "| data | n | classes | per class | labels | pixels (min / mean / max) |",
    "|---|---:|---:|---|---|---|",
  ];
  for (const ds of datasets) {
    const s = dataSummary(ds);
    const labeled = s.n - s.unlabeled;
    const per = labeled === 0 ? "–" : `${Math.min(...s.perClass)}–${Math.max(...s.perClass)}`;
    const labels = s.unlabeled === s.n ? "hidden" : s.unlabeled === 0 ? "all" : `${labeled} of ${s.n}`;
    lines.push(
      `| ${s.name} | ${s.n} | ${s.numClasses} | ${per} | ${labels} | ${s.pixelMin.toFixed(2)} / ${s.pixelMean.toFixed(3)} / ${s.pixelMax.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}
