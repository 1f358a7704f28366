// The .ipynb (nbformat 4) shapes the lesson runner reads and writes, lesson discovery
// (notebooks/NN-*.ipynb), and the hygiene rules for committed notebooks. Pure except read/list.
import fs from "fs";
import path from "path";
import { KERNEL_NAME } from "../jupyter";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";
/** nbclient runs on after an error in a cell with this tag (a lesson showing an error on purpose). */
export const RAISES_EXCEPTION_TAG = "raises-exception";
/** Lesson files: two digits, a dash, a kebab title. */
export const LESSON_FILE = /^(\d\d)-[\w.-]+\.ipynb$/;

export interface NotebookOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error" | "update_display_data";
  name?: string;
  text?: string | string[];
  /** Mime bundle; text mimes are a string or a list of lines. */
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: string | string[];
  metadata: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: { kernelspec?: { name: string; display_name?: string; language?: string }; [key: string]: unknown };
  nbformat: number;
  nbformat_minor: number;
}

/** A notebook file that cannot be read or is not an nbformat 4 notebook; the message names the file. */
export class NotebookReadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "NotebookReadError";
  }
}

/** Where a JSON.parse error points, as `line L column C` (Node 20 gives only the position). */
export function jsonErrorWhere(text: string, message: string): string | null {
  if (/\(line \d+ column \d+\)/.test(message)) return null;
  const m = /at position (\d+)/.exec(message);
  if (!m) return null;
  const before = text.slice(0, Number(m[1]));
  const line = before.split("\n").length;
  return `line ${line} column ${before.length - before.lastIndexOf("\n")}`;
}

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new NotebookReadError(file, `cannot read: ${(e as Error).message}`);
  }
  let nb: Notebook;
  try {
    nb = JSON.parse(text) as Notebook;
  } catch (e) {
    const message = (e as Error).message;
    const where = jsonErrorWhere(text, message);
    throw new NotebookReadError(file, `not valid JSON: ${message}${where ? ` (${where})` : ""}`);
  }
  if (nb === null || typeof nb !== "object" || !Array.isArray(nb.cells) || nb.nbformat !== 4) {
    throw new NotebookReadError(file, `not an nbformat 4 notebook (nbformat ${String(nb?.nbformat)})`);
  }
  return nb;
}

/** Jupyter's own layout: 1-space indent, trailing newline. */
export function writeNotebook(file: string, nb: Notebook): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(nb, null, 1) + "\n");
}

export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Text of a string-or-lines field. */
export function joinText(t: unknown): string {
  if (Array.isArray(t)) return t.join("");
  return typeof t === "string" ? t : "";
}

export function hasTag(cell: NotebookCell, tag: string): boolean {
  return Array.isArray(cell.metadata?.tags) && cell.metadata.tags.includes(tag);
}

/** Lesson id of a file name: "03" for 03-fine-tuning.ipynb, null for other files. */
export function lessonId(file: string): string | null {
  const m = LESSON_FILE.exec(path.basename(file));
  return m ? m[1] : null;
}

/** Lesson notebooks in `dir`, sorted by name (absolute paths). */
export function listLessons(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => lessonId(f) !== null)
    .sort()
    .map((f) => path.resolve(dir, f));
}

/** Narrows `files` to the lessons named in `only` ("3", "03", "03,04"); throws for a name with no file. */
export function selectLessons(files: string[], only: string[]): string[] {
  const wanted = only
    .flatMap((o) => o.split(","))
    .map((o) => o.trim())
    .filter((o) => o !== "");
  if (wanted.length === 0) return files;
  const ids = wanted.map((w) => {
    if (!/^\d{1,2}$/.test(w)) throw new Error(`--only: expected a lesson number like 03, got ${JSON.stringify(w)}`);
    return w.padStart(2, "0");
  });
  const have = files.map((f) => lessonId(f));
  for (const id of ids) {
    if (!have.includes(id)) {
      throw new Error(`--only ${id}: no notebook ${id}-*.ipynb (have: ${have.join(", ") || "none"})`);
    }
  }
  return files.filter((f) => ids.includes(lessonId(f) as string));
}

/** What is wrong with a notebook as committed; empty when it is clean. */
export function hygieneProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    if ((cell.outputs ?? []).length > 0) problems.push(`cell ${i} has outputs (clear outputs before committing)`);
    if (cell.execution_count != null)
      problems.push(`cell ${i} has execution_count ${cell.execution_count} (clear outputs before committing)`);
    if (hasTag(cell, INJECTED_TAG))
      problems.push(`cell ${i} is an ${INJECTED_TAG} cell left by the runner (delete it)`);
  });
  const kernel = nb.metadata?.kernelspec?.name;
  if (kernel !== KERNEL_NAME) {
    problems.push(
      `metadata.kernelspec.name is ${JSON.stringify(kernel)}, expected "${KERNEL_NAME}" (pick the kernel "TypeScript (transfer-lab)")`,
    );
  }
  const params = nb.cells.filter((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG)).length;
  if (params !== 1) problems.push(`expected exactly one code cell tagged "${PARAMETERS_TAG}", found ${params}`);
  return problems;
}
