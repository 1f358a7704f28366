// The verdicts of a lesson's claims, shown as one small table: the claim in words, the verdict, the
// paired difference with its 95 % interval and the number of seeds. Interview checkpoints and results
// sections use it; the verdict lines themselves come from compareOnSeeds (core/stats).
import type { SeedComparison } from "../core/stats";
import { display } from "./display";
import { table, type TableCell } from "./table";

/** One claim and what the run said about it. */
export interface VerdictRow {
  /** The claim in words, e.g. "full fine-tuning beats head-only at 5 labels/class". */
  claim: string;
  comparison: SeedComparison;
}

/** Rows of the verdict table: claim, verdict, Δ with its interval, n (the verdict line without its
 * parenthesis goes in one column, the numbers in the next). */
export function verdictRows(rows: readonly VerdictRow[]): Record<string, TableCell>[] {
  return rows.map(({ claim, comparison }) => {
    const open = comparison.text.indexOf("(");
    const numbers = open < 0 ? "" : comparison.text.slice(open + 1, comparison.text.lastIndexOf(")"));
    return { claim, verdict: comparison.verdict, "Δ, 95 % CI, n": numbers };
  });
}

/** Verdicts in one table from which a note about chance is added below it: with m verdicts, each a
 * two-sided 95 % interval, about 0.05·m would read "holds" or "contradicted" by chance alone if no
 * effect were real (no correction for multiple comparisons is applied). */
export const CHANCE_NOTE_MIN_ROWS = 4;

/** The note under a table of m verdicts: how many would come out significant by chance alone. */
export function chanceNote(m: number): string {
  return (
    `${m} verdicts, each from a 95 % interval: if no effect were real, about ${(0.05 * m).toFixed(1)} of them would ` +
    `still read "holds" or "contradicted" by chance (no correction for multiple comparisons). Read a lone ` +
    `verdict near its interval's edge with that in mind.`
  );
}

/** Displays the verdict table as an HTML table (the notebook's output; recorded outside the kernel)
 * under `caption`; from CHANCE_NOTE_MIN_ROWS verdicts on, chanceNote() follows it. */
export function verdictTable(rows: readonly VerdictRow[], caption = "Verdicts (paired by seed)"): void {
  table(verdictRows(rows), ["claim", "verdict", "Δ, 95 % CI, n"], { caption });
  if (rows.length >= CHANCE_NOTE_MIN_ROWS) display().markdown(`*${chanceNote(rows.length)}*`);
}
