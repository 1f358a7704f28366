// Reads an executed notebook: the backend a lesson ran on (its setup cell prints
// `backend: <name>`), the first cell error, and how many code cells ran. Pure functions.
import { cellSource, joinText, type Notebook, type NotebookCell, type NotebookOutput } from "./notebook";

/** The failure of one cell, as reported to the user. */
export interface CellFailure {
  /** Index in the executed notebook's cells (the copy under --out, injected cell included). */
  cellIndex: number;
  ename: string;
  evalue: string;
  /** Traceback with terminal colours removed. */
  traceback: string;
  /** First non-empty line of the cell's source, to recognise it. */
  firstLine: string;
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

/** All text a cell showed: streams and the text/plain of results and displays. */
export function outputText(outputs: NotebookOutput[]): string {
  return outputs
    .map((o) => {
      if (o.output_type === "stream") return joinText(o.text);
      if (o.output_type === "execute_result" || o.output_type === "display_data" || o.output_type === "update_display_data") {
        return joinText(o.data?.["text/plain"]);
      }
      return "";
    })
    .join("\n");
}

/** The name in the first `backend: <name>` line of any cell's output, or null. */
export function findBackend(nb: Notebook): string | null {
  for (const cell of nb.cells) {
    const m = /backend: (\S+)/.exec(outputText(cell.outputs ?? []));
    if (m) return m[1].replace(/^['"`]+|['"`,.;]+$/g, "");
  }
  return null;
}

export function firstLine(cell: NotebookCell): string {
  return (
    cellSource(cell)
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}

/** The error a failed cell printed on stderr (tslab reports errors there, not as an `error`
 * output): a TypeScript diagnostic (`1:5 - Type 'string' is not assignable ...`), a thrown
 * error (`RangeError: freezeRatio must ...`), else the first stderr line. */
export function stderrError(stderr: string): { ename: string; evalue: string } | null {
  const lines = stripAnsi(stderr)
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
  if (lines.length === 0) return null;
  const diagnostics = lines.filter((l) => /^\d+:\d+ - /.test(l));
  if (diagnostics.length > 0) return { ename: "TypeScript", evalue: diagnostics.join("; ") };
  const thrown = /^([A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[^\]]*\])?: (.*)$/;
  // tslab's own failures read `unexpected error: Error: ...`.
  const embedded = /\b((?:[A-Za-z_$][\w$]*)?Error): (.+)$/;
  for (const re of [thrown, embedded]) {
    for (const line of lines) {
      const m = re.exec(line.trim());
      if (m) return { ename: m[1], evalue: m[2] };
    }
  }
  return { ename: "Error", evalue: lines[0].trim() };
}

/** The failure of cell `index` (the one the executor was running), from its error output or
 * its stderr; null when the cell shows neither. */
export function cellFailureAt(nb: Notebook, index: number): CellFailure | null {
  const cell = nb.cells[index];
  if (!cell) return null;
  const outputs = cell.outputs ?? [];
  const err = outputs.find((o) => o.output_type === "error");
  if (err) {
    return {
      cellIndex: index,
      ename: err.ename ?? "Error",
      evalue: stripAnsi(err.evalue ?? ""),
      traceback: stripAnsi((err.traceback ?? []).join("\n")),
      firstLine: firstLine(cell),
    };
  }
  const stderr = outputs
    .filter((o) => o.output_type === "stream" && o.name === "stderr")
    .map((o) => joinText(o.text))
    .join("");
  const parsed = stderrError(stderr);
  if (!parsed) return null;
  return { cellIndex: index, ...parsed, traceback: stripAnsi(stderr).trimEnd(), firstLine: firstLine(cell) };
}

/** The first cell with an error output, or null. */
export function findCellError(nb: Notebook): CellFailure | null {
  for (let i = 0; i < nb.cells.length; i++) {
    const err = (nb.cells[i].outputs ?? []).find((o) => o.output_type === "error");
    if (err) {
      return {
        cellIndex: i,
        ename: err.ename ?? "Error",
        evalue: stripAnsi(err.evalue ?? ""),
        traceback: stripAnsi((err.traceback ?? []).join("\n")),
        firstLine: firstLine(nb.cells[i]),
      };
    }
  }
  return null;
}

/** Code cells that ran (have an execution count). */
export function executedCells(nb: Notebook): number {
  return nb.cells.filter((c) => c.cell_type === "code" && c.execution_count != null).length;
}
