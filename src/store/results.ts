// Results recording for lesson 10: every lesson appends the numbers it measured to one JSON-lines
// file in the artifact cache. Appends only, never rewrites; read back as rows or a table.
import * as fs from "fs";
import * as path from "path";
import { checkCacheWritable } from "./writable";
import { cacheRoot } from "../core/paths";
import { sampleMeanStd } from "../core/stats";

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

/** The results file of cache folder `dir` (as cacheDir: dir, else $TRANSFER_LAB_CACHE, else the default). */
function resultsPath(dir?: string): string {
  return path.join(dir !== undefined && dir !== "" ? path.resolve(dir) : cacheRoot(), RESULTS_FILE);
}

function validate(r: ResultRecord): void {
  if (!r.lesson || !r.method || !r.task) {
    throw new Error(
      `recordResult: lesson, method and task are required, got ${JSON.stringify({ lesson: r.lesson, method: r.method, task: r.task })}`,
    );
  }
  if (!(r.accuracy >= 0 && r.accuracy <= 1)) {
    throw new Error(`recordResult: accuracy must be in [0, 1], got ${r.accuracy} (method ${r.method})`);
  }
}

/** Every record's line starts with this (recordResult puts `lesson` first), so readResults can
 * find a whole record glued after a torn one. Inside a string value it would be escaped. */
const RECORD_START = '{"lesson":';

/**
 * Appends one result and returns it with its timestamp. Checks first that the cache folder can be
 * written (a FolderNotWritableError names the folder, the cause and the remedy). Safe with several
 * processes appending at once: the file is opened O_APPEND and each record goes out as one write() of one buffer, which
 * the kernel applies whole at the then end of the file (on a local filesystem a write to a regular
 * file holds the file's lock throughout), so records never interleave, whatever their size; a
 * short write is reported, not completed by a second write that could land after someone else's.
 * No read-modify-write and no look at the file's end first: another process may be mid-append.
 * A record appended after a line torn by a killed writer lands on the same line; readResults
 * recovers it. Not safe on NFS, whose clients emulate O_APPEND.
 */
export function recordResult(r: ResultRecord, dir?: string): ResultRecord {
  validate(r);
  const { lesson, ...rest } = r;
  const rec: ResultRecord = { lesson, ...rest, timestamp: r.timestamp ?? new Date().toISOString() }; // lesson first: RECORD_START
  checkCacheWritable(dir, "recordResult");
  const file = resultsPath(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a"); // O_APPEND
  try {
    const out = Buffer.from(JSON.stringify(rec) + "\n");
    const written = fs.writeSync(fd, out);
    if (written !== out.length) {
      throw new Error(
        `recordResult: wrote only ${written} of ${out.length} bytes to ${file} (disk full?); that partial line will be skipped when read, record the result again`,
      );
    }
  } finally {
    fs.closeSync(fd);
  }
  return rec;
}

export interface ReadResultsArgs {
  lesson?: string;
  scale?: string;
  task?: string;
  dir?: string;
  /** Where the note about skipped damaged lines goes; default console.warn; false for silence. */
  warn?: ((message: string) => void) | false;
}

/** Line numbers named in the damaged-lines warning. */
const MAX_LINES_NAMED = 5;

/** The record on a line, if any, and whether the line is damaged. A torn record followed by a whole
 * one (appended after a killed writer) gives the whole one; the torn part still counts as damage. */
function parseLine(line: string): { rec?: ResultRecord; damaged: boolean } {
  try {
    return { rec: JSON.parse(line) as ResultRecord, damaged: false };
  } catch {
    for (let at = line.indexOf(RECORD_START, 1); at > 0; at = line.indexOf(RECORD_START, at + 1)) {
      try {
        return { rec: JSON.parse(line.slice(at)) as ResultRecord, damaged: true };
      } catch {
        // a nested "lesson" key or another torn record: try the next start
      }
    }
    return { damaged: true };
  }
}

/** All recorded results matching the filter, oldest first. Damaged lines (e.g. a write cut off by
 * a crash) are skipped with a warning naming the file and lines, and counted in `skipped`: one
 * torn line should not cost the other results. */
export function readResults(args: ReadResultsArgs = {}): ResultRecord[] & { skipped: number } {
  const file = resultsPath(args.dir);
  const out = [] as unknown as ResultRecord[] & { skipped: number };
  out.skipped = 0;
  if (!fs.existsSync(file)) return out;
  const damaged: number[] = [];
  let kept = 0;
  for (const [i, line] of fs.readFileSync(file, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    const { rec, damaged: torn } = parseLine(line);
    if (torn) damaged.push(i + 1);
    if (rec === undefined) continue;
    kept++;
    if (args.lesson && rec.lesson !== args.lesson) continue;
    if (args.scale && rec.scale !== args.scale) continue;
    if (args.task && rec.task !== args.task) continue;
    out.push(rec);
  }
  out.skipped = damaged.length;
  if (damaged.length > 0 && args.warn !== false) {
    const lines = damaged.slice(0, MAX_LINES_NAMED).join(", ") + (damaged.length > MAX_LINES_NAMED ? ", …" : "");
    (args.warn ?? console.warn)(
      `readResults: skipped ${damaged.length} damaged line(s) of ${file} (line ${lines}; a write cut off by a crash?); kept the other ${kept} results`,
    );
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

/** Groups results by (lesson, method, task, labelsPerClass) with mean ± std over runs (seeds). */
export function summarizeResults(rows: ResultRecord[]): SummaryRow[] {
  const groups = new Map<string, ResultRecord[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.lesson, r.method, r.task, r.labelsPerClass]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const [accuracyMean, accuracyStd] = sampleMeanStd(g.map((r) => r.accuracy));
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
      retentionMean: ret.length ? sampleMeanStd(ret)[0] : null,
      trainableParams: last.trainableParams ?? null,
      secondsMean: secs.length ? sampleMeanStd(secs)[0] : null,
    };
  });
}
