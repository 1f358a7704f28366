// Results recording for lesson 10: every lesson appends the numbers it measured to one JSON-lines
// file in the artifact cache. Lessons only append; read back as rows or a table. Lines that are not
// records are skipped with one warning naming each; `npm run results -- --repair` (repairResults)
// is the one rewrite, keeping the valid records and moving the bad lines to a side file.
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic } from "./atomic";
import { checkCacheWritable } from "./writable";
import { cacheRoot } from "../core/paths";
import { meanCI, sampleMeanStd } from "../core/stats";
import { argError, show } from "../core/validate";

export interface ResultRecord {
  /** Lesson id, "01".."05". */
  lesson: string;
  /** Method, e.g. "scratch", "feature-extraction", "full-ft", "freeze-0.50", "lora-r4". */
  method: string;
  /** Task, e.g. "mild", "inverted", "class-split", "clean". */
  task: string;
  labelsPerClass: number | null;
  /** Test accuracy on the target task, in [0, 1]: scored once per final configuration. */
  accuracy: number;
  /** Validation accuracy on the target task, in [0, 1]: what choices are made on (null: none). */
  valAccuracy?: number | null;
  /** Task-A (clean) accuracy of the tuned base with its original head, when measured. */
  retention?: number | null;
  /** The source model's task-A accuracy minus retention, when measured. */
  forgetting?: number | null;
  trainableParams?: number;
  totalParams?: number;
  /** Training wall seconds of this run. */
  seconds?: number;
  backend: string;
  scale: string;
  seed: number;
  /** ISO time; filled in by recordResult when absent. */
  timestamp?: string;
  /** The measurement protocol the number was made under (PROTOCOL_VERSION; filled in by
   * recordResult when absent; records without one are version 1). */
  protocol?: number;
  /** Anything else worth keeping (learning rate, rank, freeze ratio...). */
  extra?: Record<string, number | string | boolean | null>;
}

export const RESULTS_FILE = "results.jsonl";

/** The measurement protocol results are recorded under. Version 2: every task has a validation
 * split and every choice is made on it, 10 seeds with a source model each, a 4-hidden-layer source
 * MLP. readResults returns only rows of this version unless asked, so a protocol change never
 * mixes old numbers into new tables. */
export const PROTOCOL_VERSION = 2;

/** The protocol version of a record (1 when it predates versioning). */
export function protocolOf(r: ResultRecord): number {
  return r.protocol ?? 1;
}

/** The results file of cache folder `dir` (as cacheDir: dir, else $TRANSFER_LAB_CACHE, else the default). */
function resultsPath(dir?: string): string {
  return path.join(dir !== undefined && dir !== "" ? path.resolve(dir) : cacheRoot(), RESULTS_FILE);
}

type FieldCheck = (v: unknown) => boolean;
const isString: FieldCheck = (v) => typeof v === "string";
const isName: FieldCheck = (v) => typeof v === "string" && v !== "";
const isNumber: FieldCheck = (v) => typeof v === "number" && Number.isFinite(v);
const isNumberOrNull: FieldCheck = (v) => v === null || isNumber(v);
const isUnit: FieldCheck = (v) => isNumber(v) && (v as number) >= 0 && (v as number) <= 1;
const isPlainObject: FieldCheck = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields of a ResultRecord as a reader checks them: [check, what it allows]. Optional numbers
 * may be null (JSON writes a NaN as null). */
const REQUIRED_FIELDS: Record<string, [FieldCheck, string]> = {
  lesson: [isName, "a non-empty string"],
  method: [isName, "a non-empty string"],
  task: [isName, "a non-empty string"],
  labelsPerClass: [isNumberOrNull, "a number or null"],
  accuracy: [isUnit, "a number in [0, 1]"],
  backend: [isString, "a string"],
  scale: [isString, "a string"],
  seed: [isNumber, "a number"],
};
const OPTIONAL_FIELDS: Record<string, [FieldCheck, string]> = {
  retention: [isNumberOrNull, "a number or null"],
  valAccuracy: [(v) => v === null || isUnit(v), "a number in [0, 1] or null"],
  forgetting: [isNumberOrNull, "a number or null"],
  protocol: [(v) => isNumber(v) && Number.isInteger(v) && (v as number) >= 1, "a positive integer"],
  trainableParams: [isNumberOrNull, "a number"],
  totalParams: [isNumberOrNull, "a number"],
  seconds: [isNumberOrNull, "a number"],
  timestamp: [isString, "a string"],
  extra: [isPlainObject, "an object"],
};

/** A value as a problem names it: its kind, and the value when short. */
function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  const shown = text.length > 40 ? text.slice(0, 40) + "…" : text;
  return `${typeof v === "string" ? "a string" : typeof v === "number" ? "a number" : `a ${typeof v}`} (${shown})`;
}

/** Why a parsed JSON value is not a result record, or null when it is one. */
export function resultRecordProblem(v: unknown): string | null {
  if (!isPlainObject(v)) return `${describeValue(v)}, not a result record`;
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  const missing = Object.keys(REQUIRED_FIELDS).filter((f) => !(f in o));
  if (missing.length > 0) {
    problems.push(`missing required field${missing.length > 1 ? "s" : ""} ${missing.map((f) => `"${f}"`).join(", ")}`);
  }
  for (const [field, [ok, allowed]] of Object.entries(REQUIRED_FIELDS)) {
    if (field in o && !ok(o[field]))
      problems.push(`field "${field}" is ${describeValue(o[field])}, expected ${allowed}`);
  }
  for (const [field, [ok, allowed]] of Object.entries(OPTIONAL_FIELDS)) {
    if (field in o && !ok(o[field]))
      problems.push(`field "${field}" is ${describeValue(o[field])}, expected ${allowed}`);
  }
  return problems.length > 0 ? problems.join(", ") : null;
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
 * written (a FolderNotWritableError names the folder, the cause and the remedy) and that the record
 * will read back as one (the checks readResults applies). Safe with several processes appending at
 * once: the file is opened O_APPEND and each record goes out as one write() of one buffer, which
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
  const rec: ResultRecord = {
    lesson, // first: RECORD_START
    ...rest,
    protocol: r.protocol ?? PROTOCOL_VERSION,
    timestamp: r.timestamp ?? new Date().toISOString(),
  };
  const text = JSON.stringify(rec);
  const problem = resultRecordProblem(JSON.parse(text)); // what a reader will see
  if (problem !== null) throw new Error(`recordResult: ${problem} (method ${r.method})`);
  checkCacheWritable(dir, "recordResult");
  const file = resultsPath(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a"); // O_APPEND
  try {
    const out = Buffer.from(text + "\n");
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
  /** Rows of this protocol version only (default PROTOCOL_VERSION); "any" for every version. */
  protocol?: number | "any";
  /** Where the note about skipped bad lines goes; default console.warn; false for silence. */
  warn?: ((message: string) => void) | false;
}

/** One line of the results file that is not a result record. */
export interface BadResultLine {
  /** 1-based line number. */
  line: number;
  /** What is wrong, e.g. `null, not a result record`, `missing required field "accuracy"`. */
  problem: string;
  /** The line's text (for a torn record with a whole one glued after it: the torn part only). */
  text: string;
}

/** The results file read line by line: the valid records (with their text) and the bad lines. */
export interface ResultsScan {
  file: string;
  exists: boolean;
  /** Bytes read (the file's size at the time). */
  bytes: number;
  records: { rec: ResultRecord; text: string; line: number }[];
  bad: BadResultLine[];
}

const TORN = "not valid JSON (a write cut off by a crash?)";

/** Scans the results file: each line is a record, or bad with the reason. A torn record followed by
 * a whole one (appended after a killed writer) gives the whole one, and the torn part is bad. */
export function scanResults(dir?: string): ResultsScan {
  const file = resultsPath(dir);
  const scan: ResultsScan = { file, exists: fs.existsSync(file), bytes: 0, records: [], bad: [] };
  if (!scan.exists) return scan;
  const content = fs.readFileSync(file);
  scan.bytes = content.byteLength;
  for (const [i, raw] of content.toString("utf8").split("\n").entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    let value: unknown;
    let parsed = false;
    try {
      value = JSON.parse(line);
      parsed = true;
    } catch {
      // torn: look for a whole record glued after it
    }
    if (parsed) {
      const problem = resultRecordProblem(value);
      if (problem === null) scan.records.push({ rec: value as ResultRecord, text: line, line: i + 1 });
      else scan.bad.push({ line: i + 1, problem, text: line });
      continue;
    }
    let recovered = false;
    for (let at = line.indexOf(RECORD_START, 1); at > 0 && !recovered; at = line.indexOf(RECORD_START, at + 1)) {
      try {
        const rec = JSON.parse(line.slice(at));
        if (resultRecordProblem(rec) !== null) continue;
        scan.bad.push({ line: i + 1, problem: `${TORN}, followed by a whole record (kept)`, text: line.slice(0, at) });
        scan.records.push({ rec, text: line.slice(at), line: i + 1 });
        recovered = true;
      } catch {
        // a nested "lesson" key or another torn record: try the next start
      }
    }
    if (!recovered) scan.bad.push({ line: i + 1, problem: TORN, text: line });
  }
  return scan;
}

/** Bad lines named with their problem in a warning; the rest are named by number only. */
const MAX_PROBLEMS_SHOWN = 20;

/** The command that repairs the results file of `file`'s folder. */
function repairCommand(file: string): string {
  const folder = path.dirname(file);
  return `npm run results -- --repair${folder === cacheRoot() ? "" : ` --dir ${JSON.stringify(folder)}`}`;
}

/** The one warning about bad lines: the file, every bad line by number (the first ones with their
 * problem), what was kept, and the command that repairs the file. */
export function describeBadLines(scan: ResultsScan, caller = "readResults"): string {
  const { bad, file } = scan;
  const shown = bad.slice(0, MAX_PROBLEMS_SHOWN).map((b) => `  line ${b.line}: ${b.problem}`);
  const rest = bad.slice(MAX_PROBLEMS_SHOWN).map((b) => b.line);
  if (rest.length > 0) shown.push(`  and line(s) ${rest.join(", ")}`);
  return [
    `${caller}: skipped ${bad.length} bad line(s) of ${file}, kept the other ${scan.records.length} results:`,
    ...shown,
    `To repair: ${repairCommand(file)} (keeps the valid records, moves the bad lines to ${RESULTS_FILE}.rejected-<time> beside it)`,
  ].join("\n");
}

/** All recorded results matching the filter (by default of the current protocol), oldest first;
 * `olderProtocol` counts the matching rows left out because another protocol made them (earlier ones,
 * when reading the current protocol). Lines that are not result records (a
 * write cut off by a crash, null, an array, a number, a record missing a required field or with a
 * wrong type) are skipped and counted in `skipped`, with one warning per read naming the file,
 * every bad line and its problem, and the repair command: one bad line should not cost the others. */
export function readResults(args: ReadResultsArgs = {}): ResultRecord[] & { skipped: number; olderProtocol: number } {
  const scan = scanResults(args.dir);
  const out = [] as unknown as ResultRecord[] & { skipped: number; olderProtocol: number };
  const version = args.protocol ?? PROTOCOL_VERSION;
  if (version !== "any" && !(typeof version === "number" && Number.isInteger(version) && version >= 1))
    throw argError("readResults", "protocol", 'a protocol version (a positive integer) or "any"', show(version));
  out.olderProtocol = 0;
  for (const { rec } of scan.records) {
    if (args.lesson && rec.lesson !== args.lesson) continue;
    if (args.scale && rec.scale !== args.scale) continue;
    if (args.task && rec.task !== args.task) continue;
    if (version !== "any" && protocolOf(rec) !== version) {
      out.olderProtocol++;
      continue;
    }
    out.push(rec);
  }
  out.skipped = scan.bad.length;
  if (scan.bad.length > 0 && args.warn !== false) (args.warn ?? console.warn)(describeBadLines(scan));
  return out;
}

/** What `repairResults` did. */
export interface RepairReport {
  file: string;
  /** Valid records kept in the file. */
  kept: number;
  /** Bad lines moved out. */
  rejected: number;
  /** Where the bad lines went; null when there were none (nothing was written). */
  rejectedFile: string | null;
  /** The bad lines, as readResults named them. */
  bad: BadResultLine[];
}

/** Tries before giving up when the file keeps changing under the repair. */
const REPAIR_ATTEMPTS = 5;

/**
 * Rewrites the results file keeping only its valid records (each line as it was; a whole record
 * glued after a torn one gets its own line) and moves the bad lines, as they were, to
 * `results.jsonl.rejected-<time>` beside it. Both files are written atomically; if the file grows
 * meanwhile (a lesson appending), the repair starts again from the new content. Run it when no
 * lesson is running: an append between the last check and the rename would be lost.
 */
export async function repairResults(args: { dir?: string } = {}): Promise<RepairReport> {
  checkCacheWritable(args.dir, "repairResults");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  for (let attempt = 0; attempt < REPAIR_ATTEMPTS; attempt++) {
    const scan = scanResults(args.dir);
    const { file } = scan;
    const report: RepairReport = { file, kept: scan.records.length, rejected: 0, rejectedFile: null, bad: scan.bad };
    if (!scan.exists || scan.bad.length === 0) return report;
    const rejectedFile = `${file}.rejected-${stamp}`;
    await writeFileAtomic(rejectedFile, scan.bad.map((b) => b.text + "\n").join(""));
    if (fs.statSync(file).size !== scan.bytes) continue; // appended to since it was read: read it again
    await writeFileAtomic(file, scan.records.map((r) => r.text + "\n").join(""));
    return { ...report, rejected: scan.bad.length, rejectedFile };
  }
  throw new Error(
    `repairResults: ${resultsPath(args.dir)} kept changing while being repaired (a lesson appending?); run the repair again when no lesson is running`,
  );
}

/** How many of a lesson's numbers were read back from the results log rather than measured now,
 * when they were recorded and under which protocol (the records' own): "trained 12 runs now; read
 * back 48 recorded 2026-12-03 09:51–10:02 UTC (protocol 2)". Every lesson prints this under its
 * experiments. */
export function describeReuse(runs: readonly { reused: boolean; record: ResultRecord }[]): string {
  const reused = runs.filter((r) => r.reused);
  const trained = runs.length - reused.length;
  const parts = [`trained ${trained} run${trained === 1 ? "" : "s"} now`];
  if (reused.length > 0) {
    const times = reused
      .map((r) => r.record.timestamp ?? "")
      .filter((t) => t !== "")
      .sort();
    const when = (t: string) => t.slice(0, 16).replace("T", " ");
    const [first, last] = [times[0], times[times.length - 1]];
    const span =
      times.length === 0
        ? ""
        : when(first) === when(last)
          ? ` recorded ${when(first)} UTC`
          : first.slice(0, 10) === last.slice(0, 10)
            ? ` recorded ${when(first)}–${when(last).slice(11)} UTC`
            : ` recorded between ${when(first)} and ${when(last)} UTC`;
    const protocols = [...new Set(reused.map((r) => protocolOf(r.record)))].sort((x, y) => x - y);
    parts.push(
      `read back ${reused.length}${span} (protocol${protocols.length > 1 ? "s" : ""} ${protocols.join(", ")})`,
    );
  }
  return parts.join("; ");
}

export interface SummaryRow {
  lesson: string;
  method: string;
  task: string;
  labelsPerClass: number | null;
  runs: number;
  accuracyMean: number;
  accuracyStd: number;
  /** 95 % t-interval half-width of the mean accuracy (Infinity with one run). */
  accuracyHalfWidth: number;
  /** Mean validation accuracy over the runs that have one (null: none has). */
  valAccuracyMean: number | null;
  retentionMean: number | null;
  /** Mean forgetting (source task-A accuracy − retention) over the runs that measured it. */
  forgettingMean: number | null;
  trainableParams: number | null;
  secondsMean: number | null;
}

/** Groups results by (lesson, method, task, labelsPerClass): mean, std and 95 % half-width over runs.
 * A seed recorded more than once on one backend (a demo re-run, a lesson run twice) counts once, with
 * its latest record, so `runs` counts seeds, not repeats of one seed. */
export function summarizeResults(rows: ResultRecord[]): SummaryRow[] {
  const groups = new Map<string, Map<string, ResultRecord>>();
  for (const r of rows) {
    const key = JSON.stringify([r.lesson, r.method, r.task, r.labelsPerClass]);
    if (!groups.has(key)) groups.set(key, new Map());
    const bySeed = groups.get(key)!;
    const seedKey = JSON.stringify([r.seed, r.backend, r.scale]);
    bySeed.delete(seedKey); // the latest record of a seed counts, in its place among the others
    bySeed.set(seedKey, r);
  }
  return [...groups.values()].map((bySeed) => {
    const g = [...bySeed.values()];
    const acc = meanCI(g.map((r) => r.accuracy));
    const ret = g.map((r) => r.retention).filter((v): v is number => typeof v === "number");
    const val = g.map((r) => r.valAccuracy).filter((v): v is number => typeof v === "number");
    const forg = g.map((r) => r.forgetting).filter((v): v is number => typeof v === "number");
    const secs = g.map((r) => r.seconds).filter((v): v is number => typeof v === "number");
    const last = g[g.length - 1];
    return {
      lesson: last.lesson,
      method: last.method,
      task: last.task,
      labelsPerClass: last.labelsPerClass,
      runs: g.length,
      accuracyMean: acc.mean,
      accuracyStd: g.length > 1 ? acc.sd : 0,
      accuracyHalfWidth: acc.halfWidth,
      valAccuracyMean: val.length ? sampleMeanStd(val)[0] : null,
      retentionMean: ret.length ? sampleMeanStd(ret)[0] : null,
      forgettingMean: forg.length ? sampleMeanStd(forg)[0] : null,
      trainableParams: last.trainableParams ?? null,
      secondsMean: secs.length ? sampleMeanStd(secs)[0] : null,
    };
  });
}
