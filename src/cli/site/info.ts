// What the site says about one lesson, read from its notebook: title and one-line goal (first
// markdown cell), and for an executed copy backend, seconds, success and when it ran. Pure
// functions on parsed notebooks; the runner's own numbers (runs) take precedence when given.
import { cellErrorAt, findBackend, outputText } from "../runner/outputs";
import { RAISES_EXCEPTION_TAG, cellSource, hasTag, lessonId, type Notebook } from "../runner/notebook";

/** The site's record of one lesson. */
export interface LessonInfo {
  /** Notebook file name, e.g. 03-fine-tuning-and-freeze-ratios.ipynb. */
  file: string;
  /** Two-digit lesson id. */
  id: string;
  title: string;
  /** One line: the goal sentence of the lesson's opening cell. */
  goal: string;
  /** Page of the executed lesson, relative to the site (null: not executed). */
  page: string | null;
  /** How the last run went (all null when the lesson was not executed). */
  backend: string | null;
  scale: string | null;
  seconds: number | null;
  ok: boolean | null;
  /** ISO time the run finished. */
  executedAt: string | null;
}

/** What the lesson runner knows of one run (its LessonResult fits this). */
export interface SiteRun {
  /** Notebook file name. */
  name: string;
  seconds: number;
  backend: string | null;
  ok: boolean;
  scale?: string;
}

/** Longest goal line kept on the index. */
export const MAX_GOAL_CHARS = 220;
/** A goal shorter than this takes the next sentence too. */
export const MIN_GOAL_CHARS = 50;

const TEX_SYMBOLS: Record<string, string> = {
  alpha: "α",
  beta: "β",
  Delta: "Δ",
  sigma: "σ",
  eta: "η",
  cdot: "·",
  times: "×",
  top: "ᵀ",
  le: "≤",
  ge: "≥",
  approx: "≈",
};

/** Inline TeX ($\Delta W = BA$) as plain text (ΔW = BA), for places without MathJax. */
export function plainTex(s: string): string {
  return s.replace(/\$([^$]+)\$/g, (_, tex: string) =>
    tex
      .replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "$1/$2")
      .replace(/\\([A-Za-z]+)\s?/g, (m: string, name: string) => TEX_SYMBOLS[name] ?? name)
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " "),
  );
}

/** Markdown inline syntax removed, for one line of plain text. */
export function plainText(md: string): string {
  return plainTex(md)
    .replace(/!\[[^\]]*\]\([^)]*\)/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\*\*([^*]+)\*\*/g, "$1")
    .replace(/__([^_]+)__/g, "$1")
    .replace(/(^|\W)\*([^*\s][^*]*)\*/g, "$1$2")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

function clip(s: string, max = MAX_GOAL_CHARS): string {
  return s.length <= max ? s : s.slice(0, max - 1).replace(/\s+\S*$/, "") + "…";
}

/** Title (first `# ` heading) and goal of a notebook's opening markdown. The goal is the first
 * sentence of the paragraph labelled "Goal" (`**Goal.** ...`, `Goal: ...`), else of the first
 * paragraph after the title. */
export function titleAndGoal(nb: Notebook, fallbackTitle: string): { title: string; goal: string } {
  const md = nb.cells.filter((c) => c.cell_type === "markdown").map(cellSource);
  const heading = /^#\s+(.+)$/m.exec(md[0] ?? "");
  const title = heading ? plainText(heading[1]) : fallbackTitle;
  const paragraphs = md
    .slice(0, 2)
    .join("\n\n")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== "" && !/^#/.test(p));
  const label = /^\W*goal\s*[:.\-—]\W*/i;
  const para =
    paragraphs.find((p) => label.test(p)) ??
    paragraphs.find((p) => !/^[-*\d]/.test(p) && !/you will learn/i.test(p)) ??
    "";
  const text = plainText(para.replace(label, ""));
  // Sentences until the line says something (a short first sentence often only sets the scene).
  const sentences = text.match(/[^.!?]+[.!?]+(\s|$)|[^.!?]+$/g) ?? [text];
  let goal = "";
  for (const sentence of sentences) {
    goal = (goal + " " + sentence.trim()).trim();
    if (goal.length >= MIN_GOAL_CHARS) break;
  }
  return { title, goal: clip(goal) };
}

/** Seconds the executed code cells took, from nbclient's per-cell timing metadata; null when
 * the notebook carries none. */
export function executionSeconds(nb: Notebook): number | null {
  let total = 0;
  let timed = 0;
  for (const c of nb.cells) {
    const ex = c.metadata?.execution as Record<string, string> | undefined;
    if (!ex) continue;
    const start = Date.parse(ex["iopub.status.busy"] ?? ex["iopub.execute_input"] ?? "");
    const end = Date.parse(ex["iopub.status.idle"] ?? ex["shell.execute_reply"] ?? "");
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) {
      total += (end - start) / 1000;
      timed++;
    }
  }
  return timed > 0 ? total : null;
}

/** ISO time the last timed cell finished, or null. */
export function executedAt(nb: Notebook): string | null {
  let last: number | null = null;
  for (const c of nb.cells) {
    const ex = c.metadata?.execution as Record<string, string> | undefined;
    const t = Date.parse(ex?.["iopub.status.idle"] ?? "");
    if (Number.isFinite(t)) last = Math.max(last ?? t, t);
  }
  return last === null ? null : new Date(last).toISOString();
}

/** Whether every code cell ran and none failed. An error in a cell tagged `raises-exception`
 * is expected (nbclient runs on after it), so it does not count. */
export function executedOk(nb: Notebook): boolean {
  const code = nb.cells.filter((c) => c.cell_type === "code");
  const failed = nb.cells.some((c, i) => !hasTag(c, RAISES_EXCEPTION_TAG) && cellErrorAt(nb, i) !== null);
  return !failed && code.every((c) => c.execution_count != null);
}

/** The scale a notebook ran at, when it printed one (`scale: smoke`) — else null. */
export function printedScale(nb: Notebook): string | null {
  for (const c of nb.cells) {
    const m = /\bscale:? (smoke|default|full)\b/.exec(outputText(c.outputs ?? []));
    if (m) return m[1];
  }
  return null;
}

/** The site's record of a lesson: from its source notebook alone (not executed), or from its
 * executed copy, with the runner's numbers where given. */
export function lessonInfo(
  file: string,
  source: Notebook | null,
  executed: Notebook | null,
  run?: SiteRun,
): LessonInfo {
  const id = lessonId(file) ?? file.slice(0, 2);
  const { title, goal } = titleAndGoal(
    executed ?? source ?? { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
    file.replace(/\.ipynb$/, ""),
  );
  if (!executed) {
    // Not executed: not run, or this run failed before writing a copy (a notebook that does not parse).
    const failed = run !== undefined && !run.ok;
    return {
      file,
      id,
      title,
      goal: goal || (failed && !source ? "(the notebook could not be read; see the runner's output)" : goal),
      page: null,
      backend: null,
      scale: failed ? (run.scale ?? null) : null,
      seconds: null,
      ok: failed ? false : null,
      executedAt: null,
    };
  }
  return {
    file,
    id,
    title,
    goal,
    page: file.replace(/\.ipynb$/, ".html"),
    backend: run?.backend ?? findBackend(executed),
    scale: run?.scale ?? printedScale(executed),
    seconds: run?.seconds ?? executionSeconds(executed),
    ok: run?.ok ?? executedOk(executed),
    executedAt: executedAt(executed),
  };
}
