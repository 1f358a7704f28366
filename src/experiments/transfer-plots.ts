// Plots and tables of transfer experiments (lessons 02, 03, 10): validated arms as results, their
// choice tables, accuracy and paired transfer gain (95 % intervals) against labels per class, probes
// per layer, and the freeze-ratio sweep (accuracy, retention, trainable parameters, s/epoch vs r).
import { linePlot, multiPanel, type PlotSpec, type Series } from "../show/plot";
import type { TableCell } from "../show/table";
import type { TransferResult } from "./transfer";
import { transferLabel } from "./transfer";
import type { TransferSummaryRow } from "./transfer-sweep";
import type { ValidatedArm } from "./validated";
import type { ProbeSummaryRow } from "./probes";
import { compareOnSeeds, formatMeanCI, meanCI, type SeedComparison } from "../core/stats";
import { argError, show } from "../core/validate";

/** Error bars of a plot: a 95 % half-width in points, 0 where there is none (one seed). */
const bar = (halfWidth: number | null): number =>
  halfWidth !== null && Number.isFinite(halfWidth) ? 100 * halfWidth : 0;

/** A named arm of an experiment (e.g. "head-only") and its validated arms, one per (task, k). */
export interface NamedArms {
  name: string;
  arms: readonly ValidatedArm[];
}

/** The chosen runs of validated arms, each relabelled with its arm's name (the rate chosen on
 * validation may differ from one k to the next, and so would the runs' own labels), so that
 * summarizeTransfer, gainOverBaseline and the plots draw one line per arm. */
export function armResults(named: readonly NamedArms[]): TransferResult[] {
  const names = named.map((n) => n.name);
  if (new Set(names).size !== names.length)
    throw argError("armResults", "named", "arms with distinct names", show(names));
  return named.flatMap(({ name, arms }) => arms.flatMap((a) => a.runs.map((r) => ({ ...r, label: name }))));
}

/** The choice table of validated arms: per arm and (task, k), every candidate with its mean
 * validation accuracy ± 95 % half-width and how often it was chosen; the test accuracy only of what
 * was chosen (shared mode: one candidate for all seeds; per-seed mode: the chosen runs). */
export function choiceTableRows(named: readonly NamedArms[]): Record<string, TableCell>[] {
  const rows: Record<string, TableCell>[] = [];
  for (const { name, arms } of named) {
    for (const arm of arms) {
      const chosen = meanCI(arm.runs.map((r) => r.accuracy));
      arm.counts.forEach((c, i) => {
        const cand = arm.choice?.candidates[i];
        const picked = arm.choice ? arm.choice.index === i : c.times > 0;
        rows.push({
          arm: name,
          task: arm.task,
          "labels/class": arm.labelsPerClass,
          candidate: transferLabel(c.variant),
          "validation %": cand ? formatMeanCI({ mean: cand.valMean, halfWidth: cand.valHalfWidth }) : "–",
          chosen: arm.mode === "shared" ? (picked ? "✓" : "") : `${c.times}/${arm.runs.length} seeds`,
          "test % (chosen)": picked && arm.mode === "shared" ? formatMeanCI(chosen) : "",
        });
      });
      if (arm.mode === "per-seed")
        rows.push({
          arm: name,
          task: arm.task,
          "labels/class": arm.labelsPerClass,
          candidate: "each seed's choice",
          "validation %": formatMeanCI(meanCI(arm.runs.map((r) => r.valAccuracy))),
          chosen: "",
          "test % (chosen)": formatMeanCI(chosen),
        });
    }
  }
  return rows;
}

/** Gain of one variant over a baseline at one label budget, paired by seed. */
export interface GainRow {
  task: string;
  label: string;
  labelsPerClass: number;
  /** Mean over seeds of accuracy(variant) − accuracy(baseline), same seed; its sample std and 95 %
   * t half-width (Infinity with one seed). */
  gainMean: number;
  gainStd: number;
  gainHalfWidth: number;
  runs: number;
  /** The paired verdict on "the variant beats the baseline" (compareOnSeeds, direction "greater"). */
  comparison: SeedComparison;
}

/** Transfer gain over the baseline (default "scratch"), paired by (task, k, seed). */
export function gainOverBaseline(results: TransferResult[], baseline = "scratch"): GainRow[] {
  const base = new Map<string, number>();
  for (const r of results)
    if (r.label === baseline) base.set(JSON.stringify([r.task, r.labelsPerClass, r.seed]), r.accuracy);
  const groups = new Map<string, { r: TransferResult; pairs: Map<number, [number, number]> }>();
  for (const r of results) {
    if (r.label === baseline || r.method === "zero-shot") continue;
    const b = base.get(JSON.stringify([r.task, r.labelsPerClass, r.seed]));
    if (b === undefined) continue;
    const key = JSON.stringify([r.task, r.label, r.labelsPerClass]);
    if (!groups.has(key)) groups.set(key, { r, pairs: new Map() });
    groups.get(key)!.pairs.set(r.seed, [r.accuracy, b]);
  }
  return [...groups.values()].map(({ r, pairs }) => {
    const seeds = [...pairs.keys()];
    const gains = seeds.map((s) => pairs.get(s)![0] - pairs.get(s)![1]);
    const ci = meanCI(gains);
    const comparison = compareOnSeeds(
      seeds.map((s) => ({ seed: s, value: pairs.get(s)![0] })),
      seeds.map((s) => ({ seed: s, value: pairs.get(s)![1] })),
      { direction: "greater" },
    );
    return {
      task: r.task,
      label: r.label,
      labelsPerClass: r.labelsPerClass,
      gainMean: ci.mean,
      gainStd: gains.length > 1 ? ci.sd : 0,
      gainHalfWidth: ci.halfWidth,
      runs: gains.length,
      comparison,
    };
  });
}

function byLabel<T extends { label: string; labelsPerClass: number }>(rows: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) m.set(r.label, [...(m.get(r.label) ?? []), r]);
  for (const v of m.values()) v.sort((a, b) => a.labelsPerClass - b.labelsPerClass);
  return m;
}

/** Test accuracy (%) against labels per class (log x), one line per variant, ± the 95 % half-width
 * over seeds; zero-shot (no labels) as a flat reference line. */
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
      error: rs.map((r) => bar(r.accuracyHalfWidth)),
    });
  }
  const zs = mine.find((r) => r.method === "zero-shot");
  if (zs && ks.length) series.push({ name: "zero-shot (source model)", x: ks, y: ks.map(() => 100 * zs.accuracyMean) });
  return linePlot({
    title: args.title ?? `Task B (${args.task}): accuracy vs labels per class`,
    xTitle: "labels per class",
    yTitle: "test accuracy (%)",
    logX: true,
    markers: true,
    series,
  });
}

/** Paired transfer gain over scratch (points) against labels per class (log x), ± its 95 % half-width. */
export function transferGainPlot(gains: GainRow[], args: { task: string; title?: string }): PlotSpec {
  const mine = gains.filter((g) => g.task === args.task);
  const series: Series[] = [];
  for (const [label, rs] of byLabel(mine)) {
    series.push({
      name: label,
      x: rs.map((r) => r.labelsPerClass),
      y: rs.map((r) => 100 * r.gainMean),
      error: rs.map((r) => bar(r.gainHalfWidth)),
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
        (r) => bar(r.accuracyHalfWidth),
      ),
      panel(
        "task-A forgetting (points)",
        "source accuracy − retention (points)",
        (r) => (r.forgettingMean === null ? null : 100 * r.forgettingMean),
        (r) => bar(r.forgettingHalfWidth),
      ),
      panel("trainable parameters", "parameters", (r) => r.trainableParams),
      panel("seconds per epoch", "s / epoch", (r) => r.secondsPerEpoch),
    ],
  });
}

/** Linear-probe test accuracy (%) by layer, input first, one line per (task, base), ± the 95 %
 * half-width over seeds. */
export function probePlot(rows: readonly ProbeSummaryRow[], args: { title?: string } = {}): PlotSpec {
  const lines = new Map<string, ProbeSummaryRow[]>();
  for (const r of rows) {
    const name =
      r.task === "class-split" ? "class split: base trained on 0-4, probing 5-9" : `task B (${r.task}), ${r.base} base`;
    lines.set(name, [...(lines.get(name) ?? []), r]);
  }
  return linePlot({
    title: args.title ?? "Linear probe accuracy by layer (mean ± 95 % CI over seeds)",
    xTitle: "features from",
    yTitle: "test accuracy (%)",
    markers: true,
    series: [...lines.entries()].map(([name, rs]) => ({
      name,
      x: rs.map((r) => r.layer),
      y: rs.map((r) => 100 * r.accuracyMean),
      error: rs.map((r) => bar(r.accuracyHalfWidth)),
    })),
  });
}
