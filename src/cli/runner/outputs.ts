// Reads an executed notebook: the backend a lesson ran on (its setup cell prints
// `backend: <name>`), the first cell error (the kernel's `error` output), and how many code
// cells ran. Pure functions.
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

/** All text a cell showed: streams and the text/plain of results (a cell's last value) and displays. */
export function outputText(outputs: NotebookOutput[]): string {
  return outputs
    .map((o) => {
      if (o.output_type === "stream") return joinText(o.text);
      if (
        o.output_type === "execute_result" ||
        o.output_type === "display_data" ||
        o.output_type === "update_display_data"
      ) {
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

/** The error output of cell `index` (the kernel's `error` message), or null. */
export function cellErrorAt(nb: Notebook, index: number): CellFailure | null {
  const cell = nb.cells[index];
  const err = (cell?.outputs ?? []).find((o) => o.output_type === "error");
  if (!cell || !err) return null;
  return {
    cellIndex: index,
    ename: err.ename ?? "Error",
    evalue: stripAnsi(err.evalue ?? ""),
    traceback: stripAnsi((err.traceback ?? []).join("\n")),
    firstLine: firstLine(cell),
  };
}

/** The first cell with an error output, or null. */
export function findCellError(nb: Notebook): CellFailure | null {
  for (let i = 0; i < nb.cells.length; i++) {
    const failure = cellErrorAt(nb, i);
    if (failure) return failure;
  }
  return null;
}

/** Code cells that ran (have an execution count). */
export function executedCells(nb: Notebook): number {
  return nb.cells.filter((c) => c.cell_type === "code" && c.execution_count != null).length;
}
