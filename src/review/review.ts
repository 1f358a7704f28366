// Lesson 10's view of the recorded results: the latest run per seed, lookups by lesson / method /
// task / label budget, numbers written with where they come from ("84.2 % [02 full-ft, mild,
// k=5, 3 seeds]") or "not measured", the cross-lesson comparison table and its plots.
import { linePlot, PALETTE, scatterPlot, type PlotSpec } from "../show/plot";
import { type TableCell } from "../show/table";
import { summarizeResults, type ResultRecord, type SummaryRow } from "../store/results";
import { formatPct, formatCount, formatPoints } from "../core/format";
import { matchesMethod, parseMethod, type MethodPattern } from "../core/methods";
import { RECORDING_LESSONS } from "./fill";

/** A question to the results: which lesson(s), method, task and label budget. */
export interface ResultQuery {
  /** Lesson id ("02") or ids; default any. */
  lesson?: string | string[];
  /** The method: its fields (core/methods.ts), e.g. { kind: "lora", r: 4 }, or one exact
   * recorded name (a name methodName() wrote, e.g. taken from a summary row). */
  method: MethodPattern | string;
  /** Task name ("mild", "inverted", "class-split", "clean") or pattern; default any. */
  task?: string | RegExp;
  /** Labels per class: a number, null for "all labels", "few" (smallest recorded) or "many"
   * (largest recorded, "all" counting as largest); default "few". */
  k?: number | null | "few" | "many";
}

/** The latest record of each (lesson, method, task, labels per class, seed): re-running a lesson
 * replaces its numbers instead of averaging a run with its own repeats. Order kept. */
export function latestRuns(rows: ResultRecord[]): ResultRecord[] {
  const last = new Map<string, number>();
  rows.forEach((r, i) => last.set(JSON.stringify([r.lesson, r.method, r.task, r.labelsPerClass, r.seed]), i));
  return rows.filter((r, i) => last.get(JSON.stringify([r.lesson, r.method, r.task, r.labelsPerClass, r.seed])) === i);
}

function matches(value: string, want: string | RegExp | undefined): boolean {
  if (want === undefined) return true;
  return typeof want === "string" ? value === want : want.test(value);
}

/** True when a recorded method name is a method the pattern describes (names from older versions
 * of the lessons match nothing). */
export function methodIs(name: string, pattern: MethodPattern | string): boolean {
  if (typeof pattern === "string") return name === pattern;
  const m = parseMethod(name);
  return m !== null && matchesMethod(m, pattern);
}

export const NOT_MEASURED = "not measured at this scale";

/** Where a number comes from: `[02 full-ft, mild, k=5, 3 seeds]`. */
export function sourceOf(s: SummaryRow): string {
  const k = s.labelsPerClass === null ? "all labels" : `k=${s.labelsPerClass}`;
  return `[${s.lesson} ${s.method}, ${s.task}, ${k}, ${s.runs} seed${s.runs === 1 ? "" : "s"}]`;
}

/** Lookups over one scale's results, and citations of them. */
export interface Facts {
  /** The rows these facts stand on (latest per seed). */
  rows: ResultRecord[];
  /** Mean ± std over seeds per (lesson, method, task, labels per class). */
  summary: SummaryRow[];
  /** The summary row a query names, or null when it was not measured. */
  find(q: ResultQuery): SummaryRow | null;
  /** Mean accuracy (fraction), or null. */
  accuracy(q: ResultQuery): number | null;
  /** "84.2 % ± 1.3 [02 full-ft, mild, k=5, 3 seeds]", or NOT_MEASURED. */
  citeAccuracy(q: ResultQuery): string;
  /** Task-A retention with its source, or NOT_MEASURED. */
  citeRetention(q: ResultQuery): string;
  /** Trainable parameters with its source, or NOT_MEASURED. */
  citeParams(q: ResultQuery): string;
  /** Accuracy a − b (fraction; b at a's label budget unless b names one), or null. */
  gain(a: ResultQuery, b: ResultQuery): number | null;
  /** Difference a − b in points citing both (b at a's label budget unless b names one), or
   * NOT_MEASURED when either is missing. */
  citeGain(a: ResultQuery, b: ResultQuery): string;
  /** Lessons that have at least one result. */
  lessons(): string[];
}

/** Builds the lookups over `rows` (one scale's results, e.g. readResults({ scale })). */
export function makeFacts(rows: ResultRecord[]): Facts {
  const latest = latestRuns(rows);
  const summary = summarizeResults(latest);
  const find = (q: ResultQuery): SummaryRow | null => {
    const lessons = q.lesson === undefined ? undefined : Array.isArray(q.lesson) ? q.lesson : [q.lesson];
    const hits = summary.filter(
      (s) => (!lessons || lessons.includes(s.lesson)) && methodIs(s.method, q.method) && matches(s.task, q.task),
    );
    if (hits.length === 0) return null;
    let k = q.k === undefined ? "few" : q.k;
    if (k === "few" || k === "many") {
      // "all" (null) is the largest budget.
      const sizes = hits.map((s) => (s.labelsPerClass === null ? Infinity : s.labelsPerClass));
      const size = k === "few" ? Math.min(...sizes) : Math.max(...sizes);
      k = size === Infinity ? null : size;
    }
    // Several methods may match at that budget (e.g. fresh and source head): the first recorded wins.
    return hits.find((s) => s.labelsPerClass === k) ?? null;
  };
  const accuracy = (q: ResultQuery) => find(q)?.accuracyMean ?? null;
  // Compare at the same budget: b at the k that a resolved to, unless b names its own k.
  const pair = (a: ResultQuery, b: ResultQuery): [SummaryRow, SummaryRow] | null => {
    const sa = find(a);
    if (!sa) return null;
    const sb = b.k === undefined || b.k === "few" || b.k === "many" ? find({ ...b, k: sa.labelsPerClass }) : find(b);
    return sb ? [sa, sb] : null;
  };
  return {
    rows: latest,
    summary,
    find,
    accuracy,
    citeAccuracy: (q) => {
      const s = find(q);
      if (!s) return NOT_MEASURED;
      const std = s.runs > 1 ? ` ± ${(100 * s.accuracyStd).toFixed(1)}` : "";
      return `${formatPct(s.accuracyMean)}${std} ${sourceOf(s)}`;
    },
    citeRetention: (q) => {
      const s = find(q);
      return s && s.retentionMean !== null ? `${formatPct(s.retentionMean)} ${sourceOf(s)}` : NOT_MEASURED;
    },
    citeParams: (q) => {
      const s = find(q);
      return s && s.trainableParams !== null ? `${formatCount(s.trainableParams)} ${sourceOf(s)}` : NOT_MEASURED;
    },
    gain: (a, b) => {
      const p = pair(a, b);
      return p ? p[0].accuracyMean - p[1].accuracyMean : null;
    },
    citeGain: (a, b) => {
      const p = pair(a, b);
      if (!p) return NOT_MEASURED;
      const [sa, sb] = p;
      return `${formatPoints(sa.accuracyMean, sb.accuracyMean)} (${formatPct(sa.accuracyMean)} ${sourceOf(sa)} vs ${formatPct(sb.accuracyMean)} ${sourceOf(sb)})`;
    },
    lessons: () => [...new Set(latest.map((r) => r.lesson))].sort(),
  };
}

/** Words for a measured comparison: `yes` when a − b > margin, `no` otherwise. */
export interface ClaimWords {
  yes: string;
  no: string;
}

/** A claim whose wording follows the measured numbers: "<yes or no words>: <a − b, both cited at
 * one label budget>", or "<yes words> (not measured at this scale)". Text never asserts an
 * effect the results do not show. */
export function claim(f: Facts, a: ResultQuery, b: ResultQuery, words: ClaimWords, margin = 0): string {
  const g = f.gain(a, b);
  if (g === null) return `${words.yes} (${NOT_MEASURED})`;
  return `${g > margin ? words.yes : words.no}: ${f.citeGain(a, b)}`;
}

/** One row of the cross-lesson table: a method on a task, at its fewest and most labels. */
export interface ComparisonRow {
  lesson: string;
  method: string;
  task: string;
  /** Fewest labels per class recorded (null: all labels) and the accuracy there. */
  fewK: number | null;
  fewAccuracy: number;
  fewStd: number;
  /** Most labels per class recorded, when different from fewK. */
  manyK: number | null | undefined;
  manyAccuracy: number | null;
  trainableParams: number | null;
  /** Mean training seconds at the fewest labels. */
  seconds: number | null;
  /** Task-A retention at the fewest labels (null: not measured, e.g. scratch). */
  retention: number | null;
  /** Seeds behind fewAccuracy. */
  runs: number;
}

/** Collapses the facts' summary to one row per (lesson, method, task), sorted by lesson. */
export function comparisonRows(facts: Facts): ComparisonRow[] {
  const keys = [...new Set(facts.summary.map((s) => JSON.stringify([s.lesson, s.method, s.task])))];
  return keys
    .map((key) => {
      const [lesson, method, task] = JSON.parse(key) as [string, string, string];
      const q = { lesson, method, task };
      const few = facts.find({ ...q, k: "few" }) as SummaryRow;
      const many = facts.find({ ...q, k: "many" }) as SummaryRow;
      const distinct = many.labelsPerClass !== few.labelsPerClass;
      return {
        lesson,
        method,
        task,
        fewK: few.labelsPerClass,
        fewAccuracy: few.accuracyMean,
        fewStd: few.accuracyStd,
        manyK: distinct ? many.labelsPerClass : undefined,
        manyAccuracy: distinct ? many.accuracyMean : null,
        trainableParams: few.trainableParams,
        seconds: few.secondsMean,
        retention: few.retentionMean,
        runs: few.runs,
      };
    })
    .sort((a, b) => a.lesson.localeCompare(b.lesson) || a.task.localeCompare(b.task));
}

function kName(k: number | null | undefined): string {
  return k === undefined ? "" : k === null ? "all" : String(k);
}

/** The comparison as table rows for `table()` (accuracies and retention in %). */
export function comparisonTableRows(rows: ComparisonRow[]): Record<string, TableCell>[] {
  return rows.map((r) => ({
    lesson: r.lesson,
    method: r.method,
    task: r.task,
    "few k": r.method === "zero-shot" ? "0" : kName(r.fewK),
    "acc few %": 100 * r.fewAccuracy,
    "± std": r.runs > 1 ? 100 * r.fewStd : null,
    "many k": kName(r.manyK),
    "acc many %": r.manyAccuracy === null ? null : 100 * r.manyAccuracy,
    "trainable params": r.trainableParams,
    "train s": r.seconds,
    "task-A retention %": r.retention === null ? null : 100 * r.retention,
    seeds: r.runs,
  }));
}

/** Horizontal bar chart: accuracy at the fewest labels of every method on one task (± std over
 * seeds), one colour per lesson, methods listed top to bottom in table order. */
export function accuracyBarPlot(rows: ComparisonRow[], task: string): PlotSpec {
  const on = rows.filter((r) => r.task === task);
  if (on.length === 0)
    throw new Error(
      `accuracyBarPlot: no results on task ${JSON.stringify(task)} (tasks: ${[...new Set(rows.map((r) => r.task))].join(", ") || "none"})`,
    );
  const lessons = [...new Set(on.map((r) => r.lesson))];
  const data = lessons.map((lesson, i) => {
    const mine = on.filter((r) => r.lesson === lesson);
    return {
      type: "bar",
      orientation: "h",
      name: `lesson ${lesson}`,
      y: mine.map((r) => `${r.lesson} ${r.method} (k=${r.method === "zero-shot" ? 0 : kName(r.fewK)})`),
      x: mine.map((r) => 100 * r.fewAccuracy),
      error_x: { type: "data", array: mine.map((r) => 100 * r.fewStd), visible: true },
      marker: { color: PALETTE[i % PALETTE.length] },
    };
  });
  return {
    data,
    layout: {
      title: { text: `Task ${task}: held-out accuracy with the fewest labels per class, every method` },
      xaxis: { title: { text: "held-out accuracy (%)" }, rangemode: "tozero" },
      yaxis: { autorange: "reversed", automargin: true, type: "category" },
      height: Math.max(320, 22 * on.length + 140),
      margin: { l: 20, r: 20, t: 50, b: 50 },
      legend: { orientation: "h", y: -0.08 },
    },
  };
}

/** Scatter: accuracy against trainable parameters (log x), coloured by lesson. */
export function accuracyVsParamsPlot(rows: ComparisonRow[]): PlotSpec {
  const on = rows.filter((r) => r.trainableParams !== null && r.trainableParams > 0);
  if (on.length === 0) throw new Error("accuracyVsParamsPlot: no results record trainable parameters");
  const spec = scatterPlot({
    title: "Accuracy vs trainable parameters (fewest labels, every lesson)",
    x: on.map((r) => r.trainableParams as number),
    y: on.map((r) => 100 * r.fewAccuracy),
    groups: on.map((r) => `lesson ${r.lesson}`),
    xTitle: "trainable parameters (log)",
    yTitle: "held-out accuracy (%)",
    markerSize: 9,
  });
  spec.data.forEach((t, i) => {
    const group = on.filter((r) => `lesson ${r.lesson}` === t.name);
    if (group.length) spec.data[i] = { ...t, text: group.map((r) => `${r.method}, ${r.task}`), hoverinfo: "text+x+y" };
  });
  spec.layout.xaxis = { ...(spec.layout.xaxis as object), type: "log" };
  return spec;
}

/** Scatter: task-A retention against target accuracy — the forgetting trade-off. */
export function retentionPlot(rows: ComparisonRow[]): PlotSpec {
  const on = rows.filter((r) => r.retention !== null);
  if (on.length === 0) throw new Error("retentionPlot: no results record task-A retention");
  return scatterPlot({
    title: "Forgetting: task-A retention vs target accuracy",
    x: on.map((r) => 100 * r.fewAccuracy),
    y: on.map((r) => 100 * (r.retention as number)),
    groups: on.map((r) => parseMethod(r.method)?.kind ?? r.method),
    xTitle: "target (task B) accuracy (%)",
    yTitle: "task-A accuracy with the original head (%)",
    markerSize: 9,
  });
}

/** Per lesson: how many results (latest per seed), methods, tasks and seeds are recorded. */
export function coverageRows(
  rows: ResultRecord[],
  lessons: readonly string[] = RECORDING_LESSONS,
): Record<string, TableCell>[] {
  const latest = latestRuns(rows);
  return lessons.map((lesson) => {
    const mine = latest.filter((r) => r.lesson === lesson);
    const last = mine
      .map((r) => r.timestamp ?? "")
      .sort()
      .pop();
    return {
      lesson,
      results: mine.length,
      methods: new Set(mine.map((r) => r.method)).size,
      tasks: [...new Set(mine.map((r) => r.task))].join(", "),
      seeds: [...new Set(mine.map((r) => r.seed))].sort((a, b) => a - b).join(", "),
      backend: [...new Set(mine.map((r) => r.backend))].join(", "),
      "last recorded": last ? last.slice(0, 19).replace("T", " ") : "never",
    };
  });
}

/** Lesson 02's transfer curve: accuracy vs labels per class for scratch, frozen base + head and
 * full fine-tuning on the mild shift (log x). Null when fewer than two budgets were measured. */
export function transferCurvePlot(facts: Facts): PlotSpec | null {
  const methods: [string, MethodPattern][] = [
    ["scratch", { kind: "scratch", recipe: null, lr: null }],
    ["frozen base + head", { kind: "head-only" }],
    ["full fine-tuning", { kind: "full-ft", lr: null, headLr: null, layerDecay: null }],
  ];
  const series = methods
    .map(([name, pattern]) => {
      const pts = facts.summary
        .filter(
          (s) => s.lesson === "02" && s.task === "mild" && methodIs(s.method, pattern) && s.labelsPerClass !== null,
        )
        .sort((a, b) => (a.labelsPerClass as number) - (b.labelsPerClass as number));
      return {
        name,
        x: pts.map((p) => p.labelsPerClass as number),
        y: pts.map((p) => 100 * p.accuracyMean),
        error: pts.map((p) => 100 * p.accuracyStd),
      };
    })
    .filter((s) => s.x.length >= 2);
  if (series.length === 0) return null;
  return linePlot({
    series,
    logX: true,
    title: "Mild shift: accuracy vs labels per class (lesson 02)",
    xTitle: "labels per class (log)",
    yTitle: "held-out accuracy (%)",
  });
}
