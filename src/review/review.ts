// Lesson 10's view of the recorded results (current protocol only): the latest run per seed; a
// query resolved to one (lesson, task, labels per class) and, where it matches several
// configurations there (full fine-tuning at several rates), the one with the best validation
// accuracy; numbers cited as mean ± 95 % half-width with where they come from; every comparison a
// paired verdict (compareOnSeeds) within one lesson, task and label budget; the table and plots.
import { linePlot, PALETTE, scatterPlot, type PlotSpec } from "../show/plot";
import { type TableCell } from "../show/table";
import type { VerdictRow } from "../show/verdicts";
import { summarizeResults, type ResultRecord, type SummaryRow } from "../store/results";
import { formatCount } from "../core/format";
import {
  compareOnSeeds,
  formatMeanCI,
  meanCI,
  type ClaimSpec,
  type SeedComparison,
  type SeedValue,
} from "../core/stats";
import { matchesMethod, methodName, parseMethod, type MethodPattern } from "../core/methods";
import { chooseOnValidation, type ScoredRun, type ScoreField } from "../evaluate/select";
import { RECORDING_LESSONS } from "./fill";

/** A question to the results: which lesson(s), method, task and label budget. */
export interface ResultQuery {
  /** Lesson id ("02") or ids, in order of preference; default any. */
  lesson?: string | string[];
  /** The method: its fields (core/methods.ts), e.g. { kind: "lora", r: 4 }, or one exact
   * recorded name (a name methodName() wrote, e.g. taken from a summary row). Fields left out
   * may take any value: where several recorded configurations match at one lesson, task and
   * budget, the one with the best mean validation accuracy stands for the query. */
  method: MethodPattern | string;
  /** Task name ("mild", "inverted", "class-split", "clean") or pattern; default any. */
  task?: string | RegExp;
  /** Labels per class: a number, null for "all labels", "few" (smallest recorded) or "many"
   * (largest recorded, "all" counting as largest); default "few". */
  k?: number | null | "few" | "many";
}

/** A number each run records: the run fields, or any other per-run number (e.g. from `extra`). */
export type RunField = ScoreField | ((r: ResultRecord) => unknown);

/** One side of a comparison: a query and the number compared (default: the comparison's field). */
export type ComparedQuery = ResultQuery & { field?: RunField };

/** A comparison's claim about a − b (core/stats ClaimSpec), and which number it compares. */
export type CompareSpec = ClaimSpec & { field?: RunField };

/** A recorded method's name without its rates (lr, headLr): the configuration family it belongs to. */
function withoutRates(name: string): string | null {
  const m = parseMethod(name);
  return m === null ? null : methodName({ ...m, lr: undefined, headLr: undefined });
}

/** Lesson 04 records each chosen run twice: as its candidate ("lora-r8+source-head@lr=1e-3") and again
 * under the method's plain name, marked extra.chosenOn = "validation". The copy is dropped wherever its
 * candidate is there too (same lesson, task, budget and seed, the same method apart from its rates, the
 * same test and validation accuracy), so no run is counted, shown or compared twice. A copy whose
 * candidate is missing stays. Order kept. */
export function dropChosenCopies(rows: ResultRecord[]): ResultRecord[] {
  const key = (r: ResultRecord) => JSON.stringify([r.lesson, r.task, r.labelsPerClass, r.seed]);
  const candidates = new Map<string, ResultRecord[]>();
  for (const r of rows)
    if (r.extra?.chosenOn !== "validation") candidates.set(key(r), [...(candidates.get(key(r)) ?? []), r]);
  return rows.filter((r) => {
    if (r.extra?.chosenOn !== "validation") return true;
    const family = withoutRates(r.method);
    return !(candidates.get(key(r)) ?? []).some(
      (c) =>
        c.method !== r.method &&
        family !== null &&
        withoutRates(c.method) === family &&
        c.accuracy === r.accuracy &&
        c.valAccuracy === r.valAccuracy,
    );
  });
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

/** A query resolved: one lesson, task and label budget, and the configuration standing for it. */
export interface Arm {
  lesson: string;
  task: string;
  labelsPerClass: number | null;
  /** The chosen configuration's summary (mean test accuracy, its 95 % half-width, ...). */
  row: SummaryRow;
  /** Its runs, one per seed (the latest of each). */
  runs: ResultRecord[];
  /** Every configuration the query matched at this lesson, task and budget (row among them). */
  candidates: SummaryRow[];
  /** How `row` was picked: the only match, the best mean validation accuracy, or (no validation
   * accuracy recorded) the first recorded. */
  chosenBy: "only" | "validation" | "first recorded";
}

/** Where a number comes from: `[02 full-ft, mild, k=5, 10 seeds]`, and for a choice among several
 * configurations `[…; best of 3 on validation]`. */
export function sourceOf(s: SummaryRow | Arm): string {
  const row = "row" in s ? s.row : s;
  const k = row.labelsPerClass === null ? "all labels" : `k=${row.labelsPerClass}`;
  const choice =
    "row" in s && s.chosenBy === "validation"
      ? `; best of ${s.candidates.length} on validation`
      : "row" in s && s.chosenBy === "first recorded"
        ? `; first of ${s.candidates.length} (no validation accuracy)`
        : "";
  return `[${row.lesson} ${row.method}, ${row.task}, ${k}, ${row.runs} seed${row.runs === 1 ? "" : "s"}${choice}]`;
}

function fieldValue(r: ResultRecord, field: RunField): number | null {
  const v = typeof field === "function" ? field(r) : r[field];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The field's values of an arm, per seed. */
export function armValues(arm: Arm, field: RunField = "accuracy"): SeedValue[] {
  return arm.runs.flatMap((r) => {
    const v = fieldValue(r, field);
    return v === null ? [] : [{ seed: r.seed, value: v }];
  });
}

/** "84.2 ± 1.3 %" (or "3.1 ± 0.9 points" of forgetting) with its source, or NOT_MEASURED. */
export function citeArm(arm: Arm | null, field: RunField = "accuracy"): string {
  const xs = arm ? armValues(arm, field).map((v) => v.value) : [];
  if (!arm || xs.length === 0) return NOT_MEASURED;
  const unit = field === "forgetting" ? " points" : typeof field === "function" ? "" : " %";
  const body = typeof field === "function" ? formatMeanRaw(xs) : formatMeanCI(meanCI(xs));
  return `${body}${unit} ${sourceOf(arm)}`;
}

function formatMeanRaw(xs: number[]): string {
  const ci = meanCI(xs);
  const n = (v: number) => String(Number(v.toPrecision(3)));
  return Number.isFinite(ci.halfWidth) ? `${n(ci.mean)} ± ${n(ci.halfWidth)}` : `${n(ci.mean)} ± ∞`;
}

/** A claim judged on the recorded runs: the verdict row (claim, paired comparison) and one line. */
export interface Verdict extends VerdictRow {
  /** False when either side was not measured in one lesson, task and budget together. */
  measured: boolean;
  a: Arm | null;
  b: Arm | null;
  /** "<claim>: holds (Δ +1.2 points, 95 % CI [+0.4, +2.0], n = 10); 84.2 ± 1.3 % [...] vs 83.0 ± 1.1 % [...]",
   * or "<claim>: not measured at this scale (...)". */
  text: string;
  /** What the comparison says, as an answer states it after the claim: the verdict ("holds (Δ …)"),
   * "one seed: a measurement, not a verdict (Δ … on seed 0)", "not compared (…)" or NOT_MEASURED. */
  said: string;
}

/** A claim that could not be judged: its comparison is "not significant" with n = 0 and the reason. */
export function notMeasuredVerdict(claim: string, reason: string, a: Arm | null = null, b: Arm | null = null): Verdict {
  return unjudgedVerdict(claim, `${NOT_MEASURED}: ${reason}, n = 0`, NOT_MEASURED, `${NOT_MEASURED} (${reason})`, a, b);
}

/** A claim with no comparison behind it: "not significant (<why>)" in the verdict table, `said` in
 * sentences, `claim: <line>` as its text. */
function unjudgedVerdict(
  claim: string,
  why: string,
  said: string,
  line: string,
  a: Arm | null,
  b: Arm | null,
): Verdict {
  const comparison: SeedComparison = {
    verdict: "not significant",
    text: `not significant (${why})`,
    diff: null,
    seeds: [],
    unpaired: [],
  };
  return { claim, comparison, measured: false, a, b, text: `${claim}: ${line}`, said };
}

/** True when two lists of runs are the same runs: the same seeds, and on each seed the same test and
 * validation accuracy (one configuration recorded under two names, or a configuration and itself). */
export function identicalRuns(a: readonly ResultRecord[], b: readonly ResultRecord[]): boolean {
  if (a.length === 0 || a.length !== b.length) return false;
  const bySeed = new Map(b.map((r) => [r.seed, r]));
  return a.every((r) => {
    const o = bySeed.get(r.seed);
    return o !== undefined && o.accuracy === r.accuracy && o.valAccuracy === r.valAccuracy;
  });
}

/** Two sides that are the same runs are not compared: a difference of exactly 0 on every seed would
 * read as a measured tie between two configurations. */
function sameRunsVerdict(claim: string, a: Arm, b: Arm): Verdict {
  const why =
    a.row === b.row
      ? "both sides are the same configuration"
      : `${a.row.method} and ${b.row.method} are the same runs, recorded under two names`;
  return unjudgedVerdict(claim, `not compared: ${why}; n = 0`, `not compared (${why})`, `not compared (${why})`, a, b);
}

/** How a comparison on a single paired seed is stated: one measurement, no interval, no verdict. */
export const ONE_SEED = "one seed: a measurement, not a verdict";

/** "Δ +1.2 points on seed 0": the difference a − b on the one seed both sides measured. */
function oneSeedDifference(seed: number, a: readonly SeedValue[], b: readonly SeedValue[], spec: ClaimSpec): string {
  const at = (xs: readonly SeedValue[]) => (xs.find((x) => x.seed === seed) as SeedValue).value;
  const unit = spec.unit ?? "points";
  const x = (at(a) - at(b)) * (spec.scale ?? (unit === "points" ? 100 : 1));
  const body = Math.abs(x).toFixed(spec.digits ?? (unit === "points" ? 1 : 3));
  return `Δ ${x < 0 ? "−" : "+"}${body}${unit === "" ? "" : ` ${unit}`} on seed ${seed}`;
}

/** Lookups over one scale's results, citations and verdicts. */
export interface Facts {
  /** The rows these facts stand on (latest per seed, current protocol). */
  rows: ResultRecord[];
  /** Mean, std and 95 % half-width over seeds per (lesson, method, task, labels per class). */
  summary: SummaryRow[];
  /** Rows of an older measurement protocol left out of these facts (readResults' count). */
  olderProtocol: number;
  /** The query resolved to one lesson, task, budget and configuration, or null (not measured). */
  arm(q: ResultQuery): Arm | null;
  /** The summary row of arm(q), or null. */
  find(q: ResultQuery): SummaryRow | null;
  /** Mean test accuracy (fraction) of arm(q), or null. */
  accuracy(q: ResultQuery): number | null;
  /** The per-seed values of a field for arm(q) (empty when not measured). */
  values(q: ResultQuery, field?: RunField): SeedValue[];
  /** "84.2 ± 1.3 % [02 full-ft, mild, k=5, 10 seeds]" (a field's mean ± 95 % half-width), or NOT_MEASURED. */
  cite(q: ResultQuery, field?: RunField): string;
  citeAccuracy(q: ResultQuery): string;
  /** Task-A retention (accuracy through the original head) with its source, or NOT_MEASURED. */
  citeRetention(q: ResultQuery): string;
  /** Forgetting (source accuracy − retention, in points) with its source, or NOT_MEASURED. */
  citeForgetting(q: ResultQuery): string;
  /** Trainable parameters with its source, or NOT_MEASURED. */
  citeParams(q: ResultQuery): string;
  /** Judges `claim` about a − b (spec: direction, margin, field; default "a's accuracy is greater")
   * on the runs of a and b paired by seed within one lesson, task and budget: b is looked up at a's
   * lesson, task and budget (unless b names its own budget), trying a's lessons in order. */
  compare(claim: string, a: ComparedQuery, b: ComparedQuery, spec?: Partial<CompareSpec>): Verdict;
  /** Lessons that have at least one result. */
  lessons(): string[];
}

/** The rows' olderProtocol count when they come from readResults, else 0. */
function olderCount(rows: ResultRecord[]): number {
  const n = (rows as ResultRecord[] & { olderProtocol?: unknown }).olderProtocol;
  return typeof n === "number" ? n : 0;
}

/** Builds the lookups over `rows` (one scale's results, e.g. readResults({ scale })). */
export function makeFacts(rows: ResultRecord[]): Facts {
  const latest = dropChosenCopies(latestRuns(rows));
  const summary = summarizeResults(latest);
  const groupKey = (r: { lesson: string; method: string; task: string; labelsPerClass: number | null }) =>
    JSON.stringify([r.lesson, r.method, r.task, r.labelsPerClass]);
  const runsByGroup = new Map<string, ResultRecord[]>();
  for (const r of latest) runsByGroup.set(groupKey(r), [...(runsByGroup.get(groupKey(r)) ?? []), r]);
  const runsOf = (s: SummaryRow) => runsByGroup.get(groupKey(s)) ?? [];

  const choose = (all: SummaryRow[]): Pick<Arm, "row" | "chosenBy"> => {
    if (all.length === 1) return { row: all[0], chosenBy: "only" };
    // A configuration run on fewer seeds than the others here (a one-seed demo) is chosen only when
    // nothing else matches: a noisier mean would otherwise be favoured.
    const most = Math.max(...all.map((s) => s.runs));
    const group = all.filter((s) => s.runs === most);
    if (group.length === 1) return { row: group[0], chosenBy: "validation" };
    const scored = group
      .map((s) => ({
        key: s,
        runs: runsOf(s).flatMap((r): ScoredRun[] =>
          typeof r.valAccuracy === "number" ? [{ seed: r.seed, valAccuracy: r.valAccuracy, accuracy: r.accuracy }] : [],
        ),
      }))
      .filter((c) => c.runs.length > 0);
    if (scored.length === 0) return { row: group[0], chosenBy: "first recorded" };
    return { row: chooseOnValidation(scored).chosen, chosenBy: "validation" };
  };

  /** q resolved; `at` pins lesson and task, and the budget unless q names its own. */
  const resolve = (q: ResultQuery, at?: { lesson: string; task: string; k: number | null }): Arm | null => {
    const lessons = q.lesson === undefined ? undefined : Array.isArray(q.lesson) ? q.lesson : [q.lesson];
    if (at && lessons && !lessons.includes(at.lesson)) return null;
    const hits = summary.filter(
      (s) =>
        (at ? s.lesson === at.lesson && s.task === at.task : !lessons || lessons.includes(s.lesson)) &&
        methodIs(s.method, q.method) &&
        matches(s.task, q.task),
    );
    if (hits.length === 0) return null;
    let k = q.k === undefined ? "few" : q.k;
    if (at && (k === "few" || k === "many")) k = at.k;
    if (k === "few" || k === "many") {
      // "all" (null) is the largest budget.
      const sizes = hits.map((s) => (s.labelsPerClass === null ? Infinity : s.labelsPerClass));
      const size = k === "few" ? Math.min(...sizes) : Math.max(...sizes);
      k = size === Infinity ? null : size;
    }
    const atK = hits.filter((s) => s.labelsPerClass === k);
    if (atK.length === 0) return null;
    // The first lesson in the query's order (then the first recorded task) holds the arm.
    const rank = (s: SummaryRow) => (lessons ? lessons.indexOf(s.lesson) : 0);
    const first = atK.reduce((best, s) => (rank(s) < rank(best) ? s : best));
    const group = atK.filter((s) => s.lesson === first.lesson && s.task === first.task);
    const { row, chosenBy } = choose(group);
    return {
      lesson: row.lesson,
      task: row.task,
      labelsPerClass: row.labelsPerClass,
      row,
      runs: runsOf(row),
      candidates: group,
      chosenBy,
    };
  };

  const compare = (claim: string, a: ComparedQuery, b: ComparedQuery, spec: Partial<CompareSpec> = {}): Verdict => {
    const full: ClaimSpec = { ...spec, direction: spec.direction ?? "greater" };
    const fieldA = a.field ?? spec.field ?? "accuracy";
    const fieldB = b.field ?? spec.field ?? "accuracy";
    const first = resolve(a);
    // a's lessons in order (the one it resolves to first): the first where b is measured beside it.
    const hitLessons = [
      ...new Set(summary.filter((s) => methodIs(s.method, a.method) && matches(s.task, a.task)).map((s) => s.lesson)),
    ];
    const order = a.lesson === undefined ? hitLessons : Array.isArray(a.lesson) ? a.lesson : [a.lesson];
    const tries = first ? [first.lesson, ...order.filter((l) => l !== first.lesson && hitLessons.includes(l))] : [];
    for (const lesson of tries) {
      const armA = lesson === first?.lesson ? first : resolve({ ...a, lesson });
      if (!armA) continue;
      const ownK = b.k !== undefined && b.k !== "few" && b.k !== "many";
      const armB = resolve(b, { lesson, task: armA.task, k: armA.labelsPerClass });
      if (!armB || (!ownK && armB.labelsPerClass !== armA.labelsPerClass)) continue;
      const va = armValues(armA, fieldA);
      const vb = armValues(armB, fieldB);
      if (va.length === 0 || vb.length === 0) continue;
      if (fieldA === fieldB && identicalRuns(armA.runs, armB.runs)) return sameRunsVerdict(claim, armA, armB);
      const raw = compareOnSeeds(va, vb, full);
      const one = raw.seeds.length === 1 ? oneSeedDifference(raw.seeds[0], va, vb, full) : null;
      const comparison = one === null ? raw : { ...raw, text: `not significant (${ONE_SEED}: ${one}, n = 1)` };
      const said = one === null ? comparison.text : `${ONE_SEED} (${one})`;
      return {
        claim,
        comparison,
        measured: true,
        a: armA,
        b: armB,
        text: `${claim}: ${said}; ${citeArm(armA, fieldA)} vs ${citeArm(armB, fieldB)}`,
        said,
      };
    }
    const armB = resolve(b);
    const where = (q: ResultQuery) =>
      q.lesson === undefined ? "" : ` in lesson ${(Array.isArray(q.lesson) ? q.lesson : [q.lesson]).join(" or ")}`;
    const reason = !first
      ? `the first side was not measured${where(a)}`
      : !armB
        ? `the second side was not measured${where(b)}`
        : "not measured in one lesson, task and budget together (pairs stay within one)";
    return notMeasuredVerdict(claim, reason, first, armB);
  };

  const cite = (q: ResultQuery, field: RunField = "accuracy") => citeArm(resolve(q), field);
  return {
    rows: latest,
    summary,
    olderProtocol: olderCount(rows),
    arm: (q) => resolve(q),
    find: (q) => resolve(q)?.row ?? null,
    accuracy: (q) => resolve(q)?.row.accuracyMean ?? null,
    values: (q, field = "accuracy") => {
      const arm = resolve(q);
      return arm ? armValues(arm, field) : [];
    },
    cite,
    citeAccuracy: (q) => cite(q, "accuracy"),
    citeRetention: (q) => cite(q, "retention"),
    citeForgetting: (q) => cite(q, "forgetting"),
    citeParams: (q) => {
      const arm = resolve(q);
      const p = arm?.row.trainableParams;
      return arm && p !== null && p !== undefined ? `${formatCount(p)} ${sourceOf(arm)}` : NOT_MEASURED;
    },
    compare,
    lessons: () => [...new Set(latest.map((r) => r.lesson))].sort(),
  };
}

/** The runs behind a summary row (latest per seed). */
export function runsOfRow(facts: Facts, s: SummaryRow): ResultRecord[] {
  return facts.rows.filter(
    (r) => r.lesson === s.lesson && r.method === s.method && r.task === s.task && r.labelsPerClass === s.labelsPerClass,
  );
}

/** A summary row as a query that finds exactly it. */
export function rowQuery(s: SummaryRow): ResultQuery {
  return { lesson: s.lesson, method: s.method, task: s.task, k: s.labelsPerClass };
}

/** True when two summary rows stand on the same runs (identicalRuns): one configuration recorded
 * under two names, never to be compared with itself. */
export function sameRuns(facts: Facts, a: SummaryRow, b: SummaryRow): boolean {
  return identicalRuns(runsOfRow(facts, a), runsOfRow(facts, b));
}

/** The seeds a summary row's runs were measured on, ascending. */
export function seedsOfRow(facts: Facts, s: SummaryRow): number[] {
  return runsOfRow(facts, s)
    .map((r) => r.seed)
    .sort((a, b) => a - b);
}

/** Rows that may be ranked together: each measured on its lesson's full seed set at its task and
 * budget (as many seeds as any row of that lesson, task and budget has — a one-seed demo beside a
 * ten-seed sweep takes no part), and among those only the rows on one seed set: the one with the
 * most seeds (ties: the one most rows share, then the first). A mean over fewer seeds is noisier,
 * and the best of noisier means is favoured by chance; rows on other seeds (lesson 05's ViT on 5
 * seeds beside the MLP lessons' 10) are ranked apart. `setAside`: the rows left out. */
export function comparableRows(
  facts: Facts,
  rows: readonly SummaryRow[],
): { rows: SummaryRow[]; seeds: number[]; setAside: SummaryRow[] } {
  const most = new Map<string, number>();
  const at = (s: SummaryRow) => JSON.stringify([s.lesson, s.task, s.labelsPerClass]);
  for (const s of facts.summary) most.set(at(s), Math.max(most.get(at(s)) ?? 0, s.runs));
  const full = rows.filter((s) => s.runs >= (most.get(at(s)) ?? 0));
  const bySet = new Map<string, { seeds: number[]; rows: SummaryRow[] }>();
  for (const s of full) {
    const seeds = seedsOfRow(facts, s);
    const key = seeds.join(",");
    bySet.set(key, { seeds, rows: [...(bySet.get(key)?.rows ?? []), s] });
  }
  const sets = [...bySet.values()];
  const chosen = sets.length
    ? sets.reduce((best, g) =>
        g.seeds.length > best.seeds.length || (g.seeds.length === best.seeds.length && g.rows.length > best.rows.length)
          ? g
          : best,
      )
    : { seeds: [], rows: [] };
  return { rows: chosen.rows, seeds: chosen.seeds, setAside: rows.filter((s) => !chosen.rows.includes(s)) };
}

/** The row with the best mean validation accuracy among `rows` (chooseOnValidation), among the rows
 * that may be ranked together (comparableRows: full seed sets, one seed set); rows are tried
 * cheapest first (fewest trainable parameters), so a tie goes to the cheaper method. Rows without
 * validation accuracy take no part; null when none has one. */
export function bestOnValidation(facts: Facts, rows: readonly SummaryRow[]): SummaryRow | null {
  const withVal = rows.filter((s) => s.valAccuracyMean !== null);
  const byCost = [...comparableRows(facts, withVal).rows].sort(
    (a, b) => (a.trainableParams ?? Infinity) - (b.trainableParams ?? Infinity),
  );
  const candidates = byCost
    .map((s) => ({
      key: s,
      runs: runsOfRow(facts, s).flatMap((r): ScoredRun[] =>
        typeof r.valAccuracy === "number" ? [{ seed: r.seed, valAccuracy: r.valAccuracy, accuracy: r.accuracy }] : [],
      ),
    }))
    .filter((c) => c.runs.length > 0);
  return candidates.length ? chooseOnValidation(candidates).chosen : null;
}

/** Kinds that are not a way to adapt a model (timings, the BatchNorm demo, the source itself). */
const NOT_A_METHOD = new Set(["feature-cache", "bn-frozen", "source-model"]);

/** True for a row that is a way to adapt a model to the task: not a timing or demo row, and not
 * merged adapters (the same model as the unmerged ones, scored twice). */
export function isMethodRow(s: SummaryRow): boolean {
  const m = parseMethod(s.method);
  return m !== null && !NOT_A_METHOD.has(m.kind) && !(m.kind === "lora" && m.merged === true);
}

/** Facts whose every verdict is also appended to `log` (one row per claim), for a verdict table of
 * what a piece of text cited. */
export function loggingFacts(facts: Facts): { facts: Facts; log: Verdict[] } {
  const log: Verdict[] = [];
  return {
    facts: {
      ...facts,
      compare: (claim, a, b, spec) => {
        const v = facts.compare(claim, a, b, spec);
        if (!log.some((x) => x.claim === v.claim)) log.push(v);
        return v;
      },
    },
    log,
  };
}

/** What the review says about results it left out: rows of an older protocol. */
export function describeOlderProtocol(count: number): string {
  return count === 0
    ? "No rows of an older measurement protocol were found: every recorded row below is read."
    : `Ignored ${count} recorded row${count === 1 ? "" : "s"} of an older measurement protocol (made before validation splits and paired seeds); re-run those lessons to measure them again.`;
}

/** One row of the cross-lesson table: a method on a task, at its fewest and most labels. */
export interface ComparisonRow {
  lesson: string;
  method: string;
  task: string;
  /** Fewest labels per class recorded (null: all labels), the test accuracy there and its 95 % half-width. */
  fewK: number | null;
  fewAccuracy: number;
  fewHalfWidth: number;
  /** Mean validation accuracy at the fewest labels (null: not recorded). */
  fewValAccuracy: number | null;
  /** Most labels per class recorded, when different from fewK. */
  manyK: number | null | undefined;
  manyAccuracy: number | null;
  manyHalfWidth: number | null;
  trainableParams: number | null;
  /** Mean training seconds at the fewest labels. */
  seconds: number | null;
  /** Task-A retention and forgetting (source accuracy − retention) at the fewest labels, with the
   * forgetting's 95 % half-width (null: not measured, e.g. scratch). */
  retention: number | null;
  forgetting: number | null;
  forgettingHalfWidth: number | null;
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
      const few = facts.arm({ ...q, k: "few" }) as Arm;
      const many = facts.arm({ ...q, k: "many" }) as Arm;
      const distinct = many.labelsPerClass !== few.labelsPerClass;
      const forg = armValues(few, "forgetting").map((v) => v.value);
      const forgCI = forg.length ? meanCI(forg) : null;
      return {
        lesson,
        method,
        task,
        fewK: few.labelsPerClass,
        fewAccuracy: few.row.accuracyMean,
        fewHalfWidth: few.row.accuracyHalfWidth,
        fewValAccuracy: few.row.valAccuracyMean,
        manyK: distinct ? many.labelsPerClass : undefined,
        manyAccuracy: distinct ? many.row.accuracyMean : null,
        manyHalfWidth: distinct ? many.row.accuracyHalfWidth : null,
        trainableParams: few.row.trainableParams,
        seconds: few.row.secondsMean,
        retention: few.row.retentionMean,
        forgetting: forgCI ? forgCI.mean : null,
        forgettingHalfWidth: forgCI ? forgCI.halfWidth : null,
        runs: few.row.runs,
      };
    })
    .sort((a, b) => a.lesson.localeCompare(b.lesson) || a.task.localeCompare(b.task));
}

function kName(k: number | null | undefined): string {
  return k === undefined ? "" : k === null ? "all" : String(k);
}

/** The comparison as table rows for `table()`: mean ± 95 % half-width over seeds, in % (forgetting
 * in points). */
export function comparisonTableRows(rows: ComparisonRow[]): Record<string, TableCell>[] {
  return rows.map((r) => ({
    lesson: r.lesson,
    method: r.method,
    task: r.task,
    "few k": r.method === "zero-shot" ? "0" : kName(r.fewK),
    "test few %": formatMeanCI({ mean: r.fewAccuracy, halfWidth: r.fewHalfWidth }),
    "val few %": r.fewValAccuracy === null ? null : 100 * r.fewValAccuracy,
    "many k": kName(r.manyK),
    "test many %":
      r.manyAccuracy === null ? null : formatMeanCI({ mean: r.manyAccuracy, halfWidth: r.manyHalfWidth ?? Infinity }),
    "trainable params": r.trainableParams,
    "train s": r.seconds,
    "forgetting (points)":
      r.forgetting === null ? null : formatMeanCI({ mean: r.forgetting, halfWidth: r.forgettingHalfWidth ?? Infinity }),
    seeds: r.runs,
  }));
}

/** An error bar of plotly: the 95 % half-width in points (0 where one seed gives none). */
function bar(halfWidth: number | null): number {
  return halfWidth !== null && Number.isFinite(halfWidth) ? 100 * halfWidth : 0;
}

/** Horizontal bar chart: test accuracy at the fewest labels of every method on one task (± 95 %
 * half-width over seeds), one colour per lesson, methods listed top to bottom in table order. */
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
      error_x: { type: "data", array: mine.map((r) => bar(r.fewHalfWidth)), visible: true },
      marker: { color: PALETTE[i % PALETTE.length] },
    };
  });
  return {
    data,
    layout: {
      title: { text: `Task ${task}: test accuracy with the fewest labels per class, every method (± 95 % CI)` },
      xaxis: { title: { text: "test accuracy (%)" }, rangemode: "tozero" },
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
    title: "Test accuracy vs trainable parameters (fewest labels, every lesson)",
    x: on.map((r) => r.trainableParams as number),
    y: on.map((r) => 100 * r.fewAccuracy),
    groups: on.map((r) => `lesson ${r.lesson}`),
    xTitle: "trainable parameters (log)",
    yTitle: "test accuracy (%)",
    markerSize: 9,
  });
  spec.data.forEach((t, i) => {
    const group = on.filter((r) => `lesson ${r.lesson}` === t.name);
    if (group.length) spec.data[i] = { ...t, text: group.map((r) => `${r.method}, ${r.task}`), hoverinfo: "text+x+y" };
  });
  spec.layout.xaxis = { ...(spec.layout.xaxis as object), type: "log" };
  return spec;
}

/** Scatter: forgetting (source task-A accuracy − retention, in points) against target accuracy.
 * Forgetting, not retention: tasks A of different difficulty start from different accuracies. */
export function forgettingPlot(rows: ComparisonRow[]): PlotSpec {
  const on = rows.filter((r) => r.forgetting !== null);
  if (on.length === 0) throw new Error("forgettingPlot: no results record forgetting");
  return scatterPlot({
    title: "Forgetting vs target accuracy (fewest labels)",
    x: on.map((r) => 100 * r.fewAccuracy),
    y: on.map((r) => 100 * (r.forgetting as number)),
    groups: on.map((r) => parseMethod(r.method)?.kind ?? r.method),
    xTitle: "target (task B) test accuracy (%)",
    yTitle: "forgetting: source accuracy − task-A retention (points)",
    markerSize: 9,
  });
}

/** Per lesson: how many results (latest per seed, each run once: dropChosenCopies), methods, tasks
 * and seeds are recorded. */
export function coverageRows(
  rows: ResultRecord[],
  lessons: readonly string[] = RECORDING_LESSONS,
): Record<string, TableCell>[] {
  const latest = dropChosenCopies(latestRuns(rows));
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

/** The label budgets a lesson recorded on the mild shift, ascending. */
export function mildBudgets(facts: Facts, lesson: string): number[] {
  const ks = facts.summary
    .filter((s) => s.lesson === lesson && s.task === "mild" && s.labelsPerClass !== null)
    .map((s) => s.labelsPerClass as number);
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** The transfer curve: test accuracy vs labels per class for scratch, frozen base + head and full
 * fine-tuning on the mild shift (log x, ± 95 % half-width), each point the configuration chosen on
 * validation at that budget. Null when fewer than two budgets were measured. */
export function transferCurvePlot(facts: Facts, lesson = "02"): PlotSpec | null {
  const methods: [string, MethodPattern][] = [
    ["scratch", { kind: "scratch", recipe: null }],
    ["frozen base + head", { kind: "head-only" }],
    ["full fine-tuning", { kind: "full-ft", layerDecay: null }],
  ];
  const budgets = mildBudgets(facts, lesson);
  const series = methods
    .map(([name, method]) => {
      const arms = budgets
        .map((k) => facts.arm({ lesson, method, task: "mild", k }))
        .filter((a): a is Arm => a !== null);
      return {
        name,
        x: arms.map((a) => a.labelsPerClass as number),
        y: arms.map((a) => 100 * a.row.accuracyMean),
        error: arms.map((a) => bar(a.row.accuracyHalfWidth)),
      };
    })
    .filter((s) => s.x.length >= 2);
  if (series.length === 0) return null;
  return linePlot({
    series,
    logX: true,
    title: `Mild shift: test accuracy vs labels per class (lesson ${lesson}, ± 95 % CI)`,
    xTitle: "labels per class (log)",
    yTitle: "test accuracy (%)",
  });
}
