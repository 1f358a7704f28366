// The verdicts of a lesson's claims, shown as one small table: the claim in words, the verdict, the
// paired difference with its 95 % interval and the number of seeds. Interview checkpoints and results
// sections use it; the verdict lines themselves come from compareOnSeeds (core/stats).
import type { SeedComparison } from "../core/stats";
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

/** Displays the verdict table as an HTML table (the notebook's output; recorded outside the kernel)
 * under `caption`. */
export function verdictTable(rows: readonly VerdictRow[], caption = "Verdicts (paired by seed)"): void {
  table(verdictRows(rows), ["claim", "verdict", "Δ, 95 % CI, n"], { caption });
}
