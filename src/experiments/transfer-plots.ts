// Plots of transfer experiments (lessons 02, 03, 10): accuracy and transfer gain against labels
// per class, and the freeze-ratio sweep (accuracy, retention, trainable parameters, s/epoch vs r).
import { linePlot, multiPanel, type PlotSpec, type Series } from "../show/plot";
import type { TransferResult } from "./transfer";
import type { TransferSummaryRow } from "./transfer-sweep";
import { sampleMeanStd } from "../core/stats";

/** Gain of one variant over a baseline at one label budget, paired by seed. */
export interface GainRow {
  task: string;
  label: string;
  labelsPerClass: number;
  /** Mean and std over seeds of accuracy(variant) − accuracy(baseline), same seed. */
  gainMean: number;
  gainStd: number;
  runs: number;
}

/** Transfer gain over the baseline (default "scratch"), paired by (task, k, seed). */
export function gainOverBaseline(results: TransferResult[], baseline = "scratch"): GainRow[] {
  const base = new Map<string, number>();
  for (const r of results)
    if (r.label === baseline) base.set(JSON.stringify([r.task, r.labelsPerClass, r.seed]), r.accuracy);
  const groups = new Map<string, { r: TransferResult; gains: Map<number, number> }>();
  for (const r of results) {
    if (r.label === baseline || r.method === "zero-shot") continue;
    const b = base.get(JSON.stringify([r.task, r.labelsPerClass, r.seed]));
    if (b === undefined) continue;
    const key = JSON.stringify([r.task, r.label, r.labelsPerClass]);
    if (!groups.has(key)) groups.set(key, { r, gains: new Map() });
    groups.get(key)!.gains.set(r.seed, r.accuracy - b);
  }
  return [...groups.values()].map(({ r, gains }) => {
    const g = [...gains.values()];
    const [m, sd] = sampleMeanStd(g);
    return { task: r.task, label: r.label, labelsPerClass: r.labelsPerClass, gainMean: m, gainStd: sd, runs: g.length };
  });
}

function byLabel<T extends { label: string; labelsPerClass: number }>(rows: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) m.set(r.label, [...(m.get(r.label) ?? []), r]);
  for (const v of m.values()) v.sort((a, b) => a.labelsPerClass - b.labelsPerClass);
  return m;
}

/** Held-out accuracy (%) against labels per class (log x), one line per variant, ± std over
 * seeds; zero-shot (no labels) as a flat reference line. */
export function accuracyVsLabelsPlot(rows: TransferSummaryRow[], args: { task: string; title?: string }): PlotSpec {
  const mine = rows.filter((r) => r.task === args.task);
  const ks = [...new Set(mine.filter((r) => r.method !== "zero-shot").map((r) => r.labelsPerClass))].sort(
    (a, b) => a - b,
  );
  const series: Series[] = [];
  for (const [label, rs] of byLabel(mine.filter((r) => r.method !== "zero-shot"))) {
    series.push({
      name: label,
      x: rs.map((r) => r.labelsPerClass),
      y: rs.map((r) => 100 * r.accuracyMean),
      error: rs.map((r) => 100 * r.accuracyStd),
    });
  }
  const zs = mine.find((r) => r.method === "zero-shot");
  if (zs && ks.length) series.push({ name: "zero-shot (source model)", x: ks, y: ks.map(() => 100 * zs.accuracyMean) });
  return linePlot({
    title: args.title ?? `Task B (${args.task}): accuracy vs labels per class`,
    xTitle: "labels per class",
    yTitle: "held-out accuracy (%)",
    logX: true,
    markers: true,
    series,
  });
}

/** Transfer gain over scratch (points) against labels per class (log x), ± std over seeds. */
export function transferGainPlot(gains: GainRow[], args: { task: string; title?: string }): PlotSpec {
  const mine = gains.filter((g) => g.task === args.task);
  const series: Series[] = [];
  for (const [label, rs] of byLabel(mine)) {
    series.push({
      name: label,
      x: rs.map((r) => r.labelsPerClass),
      y: rs.map((r) => 100 * r.gainMean),
      error: rs.map((r) => 100 * r.gainStd),
    });
  }
  const ks = [...new Set(mine.map((g) => g.labelsPerClass))].sort((a, b) => a - b);
  if (ks.length) series.push({ name: "no gain", x: ks, y: ks.map(() => 0) });
  return linePlot({
    title: args.title ?? `Transfer gain over scratch (${args.task})`,
    xTitle: "labels per class",
    yTitle: "accuracy − scratch (points)",
    logX: true,
    markers: true,
    series,
  });
}

/** The freeze-ratio sweep: four panels against r — target accuracy, task-A retention, trainable
 * parameters, seconds per epoch — one line per task (e.g. mild and inverted). Rows must be
 * freeze-ratio summaries; `highlight` marks this run's ratio. */
export function freezeSweepPlot(
  rows: TransferSummaryRow[],
  args: { highlight?: number; title?: string } = {},
): PlotSpec {
  const sweep = rows
    .filter((r) => r.freezeRatio !== null)
    .sort((a, b) => (a.freezeRatio as number) - (b.freezeRatio as number));
  const tasks = [...new Set(sweep.map((r) => r.task))];
  const panel = (
    title: string,
    yTitle: string,
    value: (r: TransferSummaryRow) => number | null,
    error?: (r: TransferSummaryRow) => number | null,
  ): PlotSpec => {
    const series: Series[] = tasks.map((t) => {
      const rs = sweep.filter((r) => r.task === t && value(r) !== null);
      return {
        name: t,
        x: rs.map((r) => r.freezeRatio as number),
        y: rs.map((r) => value(r) as number),
        error: error ? rs.map((r) => error(r) ?? 0) : undefined,
      };
    });
    if (args.highlight !== undefined) {
      const hs = sweep.filter((r) => r.freezeRatio === args.highlight && value(r) !== null);
      series.push({
        name: `this run (r = ${args.highlight})`,
        x: hs.map(() => args.highlight as number),
        y: hs.map((r) => value(r) as number),
      });
    }
    return linePlot({ title, xTitle: "freeze ratio r", yTitle, markers: true, series });
  };
  return multiPanel({
    title: args.title ?? "Freeze-ratio sweep (r = 0: full fine-tuning, r = 1: head only)",
    cols: 2,
    panels: [
      panel(
        "target accuracy (%)",
        "task B accuracy (%)",
        (r) => 100 * r.accuracyMean,
        (r) => 100 * r.accuracyStd,
      ),
      panel(
        "task-A retention (%)",
        "clean accuracy, original head (%)",
        (r) => (r.retentionMean === null ? null : 100 * r.retentionMean),
        (r) => (r.retentionStd === null ? null : 100 * r.retentionStd),
      ),
      panel("trainable parameters", "parameters", (r) => r.trainableParams),
      panel("seconds per epoch", "s / epoch", (r) => r.secondsPerEpoch),
    ],
  });
}
