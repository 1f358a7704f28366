// Results recording for lesson 06: every lesson appends the numbers it measured to one JSON-lines
// file in the artifact cache. Appends only, never rewrites; read back as rows or a table.
import * as fs from "fs";
import * as path from "path";
import { cacheRoot } from "./paths";

export interface ResultRecord {
  /** Lesson id, "01".."05". */
  lesson: string;
  /** Method, e.g. "scratch", "feature-extraction", "full-ft", "freeze-0.50", "lora-r4". */
  method: string;
  /** Task, e.g. "mild", "inverted", "class-split", "clean". */
  task: string;
  labelsPerClass: number | null;
  /** Held-out accuracy on the target task, in [0, 1]. */
  accuracy: number;
  /** Task-A (clean) accuracy of the tuned base with its original head, when measured. */
  retention?: number | null;
  trainableParams?: number;
  totalParams?: number;
  /** Training wall seconds of this run. */
  seconds?: number;
  backend: string;
  scale: string;
  seed: number;
  /** ISO time; filled in by recordResult when absent. */
  timestamp?: string;
  /** Anything else worth keeping (learning rate, rank, freeze ratio...). */
  extra?: Record<string, number | string | boolean | null>;
}

export const RESULTS_FILE = "results.jsonl";

function resultsPath(dir?: string): string {
  return path.join(dir ?? cacheRoot(), RESULTS_FILE);
}

function validate(r: ResultRecord): void {
  if (!r.lesson || !r.method || !r.task) {
    throw new Error(`recordResult: lesson, method and task are required, got ${JSON.stringify({ lesson: r.lesson, method: r.method, task: r.task })}`);
  }
  if (!(r.accuracy >= 0 && r.accuracy <= 1)) {
    throw new Error(`recordResult: accuracy must be in [0, 1], got ${r.accuracy} (method ${r.method})`);
  }
}

/** Appends one result (one line, one write call) and returns it with its timestamp. */
export function recordResult(r: ResultRecord, dir?: string): ResultRecord {
  validate(r);
  const rec: ResultRecord = { ...r, timestamp: r.timestamp ?? new Date().toISOString() };
  const file = resultsPath(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(rec) + "\n");
  return rec;
}

export interface ReadResultsArgs {
  lesson?: string;
  scale?: string;
  task?: string;
  dir?: string;
}

/** All recorded results matching the filter, oldest first. Damaged lines (e.g. a write cut off by
 * a crash) are skipped and counted in `skipped`. */
export function readResults(args: ReadResultsArgs = {}): ResultRecord[] & { skipped: number } {
  const file = resultsPath(args.dir);
  const out = [] as unknown as ResultRecord[] & { skipped: number };
  out.skipped = 0;
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let rec: ResultRecord;
    try {
      rec = JSON.parse(line) as ResultRecord;
    } catch {
      out.skipped++;
      continue;
    }
    if (args.lesson && rec.lesson !== args.lesson) continue;
    if (args.scale && rec.scale !== args.scale) continue;
    if (args.task && rec.task !== args.task) continue;
    out.push(rec);
  }
  return out;
}

export interface SummaryRow {
  lesson: string;
  method: string;
  task: string;
  labelsPerClass: number | null;
  runs: number;
  accuracyMean: number;
  accuracyStd: number;
  retentionMean: number | null;
  trainableParams: number | null;
  secondsMean: number | null;
}

function meanStd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return [m, Math.sqrt(v)];
}

/** Groups results by (lesson, method, task, labelsPerClass) with mean ± std over runs (seeds). */
export function summarizeResults(rows: ResultRecord[]): SummaryRow[] {
  const groups = new Map<string, ResultRecord[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.lesson, r.method, r.task, r.labelsPerClass]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const [accuracyMean, accuracyStd] = meanStd(g.map((r) => r.accuracy));
    const ret = g.map((r) => r.retention).filter((v): v is number => typeof v === "number");
    const secs = g.map((r) => r.seconds).filter((v): v is number => typeof v === "number");
    const last = g[g.length - 1];
    return {
      lesson: last.lesson,
      method: last.method,
      task: last.task,
      labelsPerClass: last.labelsPerClass,
      runs: g.length,
      accuracyMean,
      accuracyStd,
      retentionMean: ret.length ? meanStd(ret)[0] : null,
      trainableParams: last.trainableParams ?? null,
      secondsMean: secs.length ? meanStd(secs)[0] : null,
    };
  });
}
