// Lesson 10's interview checkpoint, computed: on the mild shift at the budget most methods share,
// the winner chosen on validation and its paired verdicts on test against the runner-up, full
// fine-tuning and scratch of its lesson; the cheapest method close to it on validation; forgetting
// compared in pairs stated beforehand (rate, depth, adapters) — forgetting, not retention, so tasks A
// of different difficulty compare; the cost of freezing under an input shift; transfer vs scratch
// over label budgets. The notebook shows the table and the verdicts; its markdown gives the reasoning.
import { labelsText } from "../core/format";
import { parseMethod } from "../core/methods";
import { formatMeanCI, meanCI } from "../core/stats";
import { DEFAULT_FINE_TUNE_LR } from "../core/settings";
import type { TableCell } from "../show/table";
import type { SummaryRow } from "../store/results";
import {
  bestOnValidation,
  comparableRows,
  isMethodRow,
  notMeasuredVerdict,
  rowQuery,
  runsOfRow,
  sameRuns,
  type Facts,
  type ResultQuery,
  type Verdict,
} from "./review";
import { queryAt, REVIEW_QUERIES } from "./queries";
import { transferCrossover } from "./strategy";

/** "Close to the winner" in question 2: at most this far below it (accuracy, a fraction). The
 * question's tolerance, stated in the question, not a measured threshold. */
export const NEAR_MARGIN = 0.02;

/** The label budget most rows of a task share (ties: the smaller), or null when the task has none. */
export function commonBudget(facts: Facts, task = "mild"): number | null {
  const counts = new Map<number, number>();
  for (const s of facts.summary)
    if (s.task === task && s.labelsPerClass !== null && isMethodRow(s))
      counts.set(s.labelsPerClass, (counts.get(s.labelsPerClass) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return sorted.length ? sorted[0][0] : null;
}

/** Question 1 and 2: the winner on validation and what can be said about it on test. */
export interface WinnerReport {
  task: string;
  k: number | null;
  /** Every method measured there with a validation accuracy on the seed set ranked (comparableRows:
   * its lesson's full seed set, and one seed set for all), best on validation first. */
  ranking: SummaryRow[];
  /** The seeds every ranked row was measured on. */
  seeds: number[];
  /** Methods measured there but not ranked: fewer seeds than their lesson ran (one-seed demos), or
   * another seed set (lesson 05's ViT beside the MLP lessons). */
  setAside: SummaryRow[];
  winner: SummaryRow | null;
  /** The best on validation after the winner, in the winner's lesson (so the two pair by seed). */
  runnerUp: SummaryRow | null;
  /** Full fine-tuning (rate chosen on validation) and scratch in the winner's lesson. */
  fullFt: SummaryRow | null;
  scratch: SummaryRow | null;
  /** The method with the fewest trainable parameters, in the winner's lesson, whose validation
   * accuracy is at most NEAR_MARGIN below the winner's. */
  cheapest: SummaryRow | null;
  verdicts: Verdict[];
}

/** Chooses the winner among every method measured on `task` at `k` on validation accuracy, and
 * judges it on test against the runner-up, full fine-tuning and scratch of its lesson. */
export function chooseWinner(facts: Facts, task = "mild", k: number | null = commonBudget(facts, task)): WinnerReport {
  const measured = facts.summary.filter(
    (s) => s.task === task && s.labelsPerClass === k && k !== null && isMethodRow(s) && s.valAccuracyMean !== null,
  );
  const { rows: at, seeds, setAside } = comparableRows(facts, measured);
  const ranking = [...at].sort((a, b) => (b.valAccuracyMean as number) - (a.valAccuracyMean as number));
  const winner = bestOnValidation(facts, at);
  const report: WinnerReport = {
    task,
    k,
    ranking,
    seeds,
    setAside,
    winner,
    runnerUp: null,
    fullFt: null,
    scratch: null,
    cheapest: null,
    verdicts: [],
  };
  if (!winner) return report;
  const w = rowQuery(winner);
  // The runner-up is another configuration: not the winner, nor the winner's runs under another name.
  const mine = at.filter(
    (s) => s.lesson === winner.lesson && s.method !== winner.method && !sameRuns(facts, s, winner),
  );
  report.runnerUp = bestOnValidation(facts, mine);
  const inLesson = (q: ResultQuery) => facts.find({ ...q, lesson: winner.lesson, task, k });
  report.fullFt = inLesson(REVIEW_QUERIES.fullFtMild);
  report.scratch = inLesson(REVIEW_QUERIES.scratchMild);
  if (report.runnerUp)
    report.verdicts.push(
      facts.compare(
        `Q1: the winner ${winner.method} beats the runner-up on validation, ${report.runnerUp.method}`,
        w,
        rowQuery(report.runnerUp),
      ),
    );
  if (report.fullFt && report.fullFt.method !== winner.method && !sameRuns(facts, report.fullFt, winner))
    report.verdicts.push(
      facts.compare(`Q1: the winner beats full fine-tuning (${report.fullFt.method})`, w, rowQuery(report.fullFt)),
    );
  if (report.scratch && report.scratch.method !== winner.method && !sameRuns(facts, report.scratch, winner))
    report.verdicts.push(facts.compare(`Q1: the winner beats training from scratch`, w, rowQuery(report.scratch)));
  const winnerVal = winner.valAccuracyMean as number;
  const near = at
    .filter((s) => s.lesson === winner.lesson && s.trainableParams !== null)
    .filter((s) => (s.valAccuracyMean as number) >= winnerVal - NEAR_MARGIN);
  report.cheapest = near.length
    ? near.reduce((a, b) => ((b.trainableParams as number) < (a.trainableParams as number) ? b : a))
    : null;
  if (report.cheapest && report.cheapest.method !== winner.method && !sameRuns(facts, report.cheapest, winner))
    report.verdicts.push(
      facts.compare(
        `Q2: ${report.cheapest.method} is at most ${100 * NEAR_MARGIN} points below the winner`,
        rowQuery(report.cheapest),
        w,
        { direction: "greater", margin: -NEAR_MARGIN },
      ),
    );
  return report;
}

/** The lowest and highest base rate of plain full fine-tuning recorded in one lesson on `task` at
 * one budget (the smallest with two rates), as exact queries; null when no lesson has two rates. */
export function rateExtremes(
  facts: Facts,
  lessons: readonly string[] = ["02", "03", "04"],
  task = "mild",
): [ResultQuery, ResultQuery] | null {
  for (const lesson of lessons) {
    const rows = facts.summary.filter((s) => {
      const m = parseMethod(s.method);
      return s.lesson === lesson && s.task === task && m?.kind === "full-ft" && m.layerDecay === undefined;
    });
    const budgets = [...new Set(rows.map((s) => s.labelsPerClass))].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
    for (const k of budgets) {
      const atK = rows.filter((s) => s.labelsPerClass === k);
      const lr = (s: SummaryRow) => parseMethod(s.method)?.lr ?? DEFAULT_FINE_TUNE_LR;
      const sorted = [...atK].sort((a, b) => lr(a) - lr(b));
      if (sorted.length >= 2 && lr(sorted[0]) !== lr(sorted[sorted.length - 1]))
        return [rowQuery(sorted[0]), rowQuery(sorted[sorted.length - 1])];
    }
  }
  return null;
}

/** Question 4: forgetting (source accuracy − retention), in pairs stated beforehand. */
export function forgettingVerdicts(facts: Facts): Verdict[] {
  const verdicts: Verdict[] = [];
  const rates = rateExtremes(facts);
  if (rates)
    verdicts.push(
      facts.compare(
        `Q4: a higher base rate forgets more (full fine-tuning, highest vs lowest rate)`,
        rates[1],
        rates[0],
        {
          field: "forgetting",
        },
      ),
    );
  else
    verdicts.push(
      notMeasuredVerdict(
        `Q4: a higher base rate forgets more (full fine-tuning at two rates)`,
        "no lesson recorded full fine-tuning at two rates",
      ),
    );
  verdicts.push(
    facts.compare(
      `Q4: training the base forgets more than freezing it (full fine-tuning vs frozen base + head)`,
      queryAt("fullFtMild", "few"),
      queryAt("headOnlyMild", "few"),
      { field: "forgetting" },
    ),
    facts.compare(
      `Q4: LoRA r=4 forgets less than full fine-tuning (lesson 04)`,
      queryAt("loraR4", "few"),
      queryAt("loraFullFt", "few"),
      { direction: "less", field: "forgetting" },
    ),
  );
  return verdicts;
}

/** Question 5: the input shift (inverted digits). */
export function inputShiftVerdicts(facts: Facts): Verdict[] {
  return [
    facts.compare(
      `Q5: freezing the whole base loses to freezing nothing on inverted digits`,
      queryAt("freezeAllInverted", "few"),
      queryAt("freezeNoneInverted", "few"),
      { direction: "less" },
    ),
    facts.compare(
      `Q5: tuning only the first layer beats tuning only the last on inverted digits`,
      queryAt("tuneFirstInverted", "few"),
      queryAt("tuneLastInverted", "few"),
    ),
    facts.compare(
      `Q5: with the most labels measured, full fine-tuning still beats scratch on inverted digits`,
      queryAt("fullFtInverted", "many"),
      queryAt("scratchInverted", "many"),
    ),
  ];
}

/** The checkpoint: its table (the rows the answers talk about) and every verdict behind them. */
export interface Checkpoint {
  winner: WinnerReport;
  crossover: ReturnType<typeof transferCrossover>;
  table: Record<string, TableCell>[];
  verdicts: Verdict[];
}

function tableRow(facts: Facts, role: string, s: SummaryRow | null): Record<string, TableCell> | null {
  if (!s) return null;
  const runs = runsOfRow(facts, s);
  const forg = runs.map((r) => r.forgetting).filter((v): v is number => typeof v === "number");
  return {
    role,
    lesson: s.lesson,
    method: s.method,
    k: s.labelsPerClass === null ? "all" : s.labelsPerClass,
    "val %": s.valAccuracyMean === null ? null : 100 * s.valAccuracyMean,
    "test % (95 % CI)": formatMeanCI({ mean: s.accuracyMean, halfWidth: s.accuracyHalfWidth }),
    "forgetting (points)": forg.length ? formatMeanCI(meanCI(forg)) : null,
    "trainable params": s.trainableParams,
    seeds: s.runs,
  };
}

/** Everything the interview checkpoint shows, computed from the facts. */
export function interviewCheckpoint(facts: Facts): Checkpoint {
  const winner = chooseWinner(facts);
  const crossover = transferCrossover(facts);
  // Extremes of means over one seed set only: a one-seed demo's mean would win them by noise.
  const withForgetting = comparableRows(
    facts,
    facts.summary.filter((s) => s.forgettingMean !== null && isMethodRow(s)),
  ).rows;
  const most = withForgetting.length
    ? withForgetting.reduce((a, b) => ((b.forgettingMean as number) > (a.forgettingMean as number) ? b : a))
    : null;
  const least = withForgetting.length
    ? withForgetting.reduce((a, b) => ((b.forgettingMean as number) < (a.forgettingMean as number) ? b : a))
    : null;
  const k = winner.k === null ? "" : ` (${labelsText(winner.k)})`;
  const table = [
    tableRow(facts, `Q1 winner on validation${k}`, winner.winner),
    tableRow(facts, "Q1 runner-up in its lesson", winner.runnerUp),
    tableRow(facts, "Q1 full fine-tuning", winner.fullFt),
    tableRow(facts, "Q1 scratch", winner.scratch),
    tableRow(facts, `Q2 fewest weights within ${100 * NEAR_MARGIN} points on validation`, winner.cheapest),
    tableRow(facts, "Q4 most forgetting (mean)", most),
    tableRow(facts, "Q4 least forgetting (mean)", least),
  ].filter((r): r is Record<string, TableCell> => r !== null);
  const verdicts = [
    ...winner.verdicts,
    ...crossover.verdicts.map((v) => ({ ...v, claim: `Q3: ${v.claim}` })),
    ...forgettingVerdicts(facts),
    ...inputShiftVerdicts(facts),
  ];
  return { winner, crossover, table, verdicts };
}
