// Runs lesson notebooks through the registered `transfer-lab` kernel with Jupyter's executor
// (execute_notebook.py + nbclient): inject --set parameters, execute at a scale, write the
// executed copy (its plotly bundle packed: plotly-bundle.ts), and report cells, seconds, backend
// and the first failing cell.
import { spawn } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { KERNEL_NAME, requireJupyter } from "../jupyter";
import type { Scale } from "../../core/scale";
import { injectParameters, type ParameterSet } from "./inject";
import { NotebookReadError, lessonId, readNotebook, writeNotebook } from "./notebook";
import { cellErrorAt, executedCells, findBackend, findCellError, firstLine } from "./outputs";
import { packPlotlyBundles } from "./plotly-bundle";
import { injectTensorProbes, readTensorProbes, type TensorCounts } from "./tensor-probe";

export const EXECUTOR = path.join(__dirname, "execute_notebook.py");
export const DEFAULT_OUT_DIR = path.resolve(__dirname, "..", "..", "..", "build", "lessons");
/** Seconds one cell may run; `full`-scale training cells on a CPU take minutes. */
export const DEFAULT_CELL_TIMEOUT_S = 1800;
export const DEFAULT_STARTUP_TIMEOUT_S = 120;

export interface RunLessonArgs {
  /** The .ipynb to execute. */
  notebook: string;
  /** Sets LESSON_SCALE in the kernel; unset leaves the notebook's own default. */
  scale?: Scale;
  /** Parameters injected after the `parameters` cell (see inject.ts). */
  sets?: ParameterSet[];
  /** Folder for the executed copy (same file name); default build/lessons. */
  outDir?: string;
  /** Seconds one cell may run before the lesson fails; default DEFAULT_CELL_TIMEOUT_S. */
  cellTimeoutSeconds?: number;
  /** Seconds the kernel may take to start; default DEFAULT_STARTUP_TIMEOUT_S. */
  startupTimeoutSeconds?: number;
  /** Kernelspec to run; default `transfer-lab`. */
  kernelName?: string;
  /** Python with nbclient; default the one kernel-setup finds. */
  python?: string;
  /** Extra environment for the kernel. */
  env?: Record<string, string>;
  /** Pack the plotly.js bundle the kernel embeds (gzip+base64, unpacked in the browser): the
   * executed copy shrinks from ~5 MB to ~2 MB and still draws offline. Default true. */
  packPlotly?: boolean;
  /** Add tensor-probe cells and report live tensors after setup and at the end (tests). */
  measureTensors?: boolean;
  /** Called after each executed code cell. */
  onCell?: (cell: { index: number; seconds: number; status: string }) => void;
}

export interface LessonResult {
  /** File name, e.g. 03-fine-tuning.ipynb. */
  name: string;
  /** The executed copy. */
  output: string;
  /** Code cells that ran. */
  cells: number;
  seconds: number;
  /** From the first `backend: <name>` line of the outputs; null when none was printed. */
  backend: string | null;
  ok: boolean;
  /** Why it failed: the erroring cell, or a timeout/dead kernel/start failure. */
  failure?: LessonFailure;
  /** With measureTensors: tf.memory().numTensors after the setup cell and at the end. */
  tensors?: TensorCounts | null;
  /** Last lines of the executor's stderr (kernel logs), for failures nbclient cannot explain. */
  stderrTail: string;
}

/** Failure kind of a lesson whose notebook does not parse (nothing ran). */
export const UNREADABLE_NOTEBOOK = "unreadable-notebook";
/** Failure kind of a lesson the runner could not run for another reason (no executor result, ...). */
export const RUNNER_ERROR = "runner-error";

export interface LessonFailure {
  /** Error name as the kernel sent it (`RangeError`, `CompileError` for a type error,
   * `Interrupted`) or `timeout`, `dead-kernel`, `unreadable-notebook`, `runner-error`, ... */
  kind: string;
  message: string;
  /** Index in the executed copy's cells (injected cell included); null when no cell ran. */
  cellIndex: number | null;
  /** First source line of that cell, to recognise it. */
  firstLine: string | null;
  /** The cell's traceback, or the executor's stderr tail. */
  details: string;
}

interface ExecutorResult {
  ok: boolean;
  failedCell: number | null;
  errorType: string | null;
  message: string | null;
  /** The failing cell's error reply (errorType "cell-error"). */
  ename?: string | null;
  evalue?: string | null;
  seconds: number;
}

/** One line per lesson: `03-fine-tuning.ipynb  cells 24  312.4 s  backend wasm  ok`. */
export function formatResult(r: LessonResult): string {
  const head = `${r.name.padEnd(40)} cells ${String(r.cells).padStart(3)}  ${r.seconds.toFixed(1).padStart(7)} s  backend ${r.backend ?? "?"}`;
  return r.ok ? `${head}  ok` : `${head}  FAILED\n${describeFailure(r)}`;
}

/** What the kernel's log says about a kernel that died: V8's out-of-memory crash or the kernel's
 * own low-memory warning become a sentence with the remedy; otherwise null. */
export function deadKernelCause(stderr: string): string | null {
  const oom = /JavaScript heap out of memory|Reached heap limit|FATAL ERROR: .*Allocation failed/.test(stderr);
  const low = /transfer-lab kernel: low on memory: ([^\n]*)/.exec(stderr);
  if (!oom && !low) return null;
  return (
    `the kernel ran out of memory${low ? ` (its last warning: ${low[1].replace(/;.*$/, "")})` : ""}: ` +
    `use a smaller scale or smaller sizes, or raise Node's heap limit with NODE_OPTIONS=--max-old-space-size=<MB>`
  );
}

/** Names notebook, cell index and the error. */
export function describeFailure(r: LessonResult): string {
  const f = r.failure;
  if (!f) return "";
  const where = f.cellIndex !== null ? `cell ${f.cellIndex}` : "before any cell";
  // A lesson that never ran has no executed copy to look at.
  const see = f.kind === UNREADABLE_NOTEBOOK || f.kind === RUNNER_ERROR ? "" : ` (see ${r.output})`;
  const lines = [`  ${r.name}, ${where}${see}: ${f.kind}: ${f.message.replace(/\n/g, "\n    ")}`];
  if (f.firstLine !== null) lines.push(`  cell starts: ${f.firstLine}`);
  // tslab's own frames say nothing about the lesson.
  const details = f.details
    .split("\n")
    .filter((l) => l.trim() !== "" && !/node_modules\/tslab\/dist\/|\(node:vm:/.test(l));
  lines.push(...details.slice(0, 20).map((l) => `    ${l}`));
  return lines.join("\n");
}

export async function runLesson(args: RunLessonArgs): Promise<LessonResult> {
  const name = path.basename(args.notebook);
  const label = lessonId(name) ?? name;
  const withSets = injectParameters(readNotebook(args.notebook), args.sets ?? [], label);
  const nb = args.measureTensors ? injectTensorProbes(withSets, label) : withSets;
  const outDir = path.resolve(args.outDir ?? DEFAULT_OUT_DIR);
  const output = path.join(outDir, name);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "transfer-lab-run-"));
  const input = path.join(tmp, name);
  const resultFile = path.join(tmp, "result.json");
  writeNotebook(input, nb);
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(output, { force: true }); // never report on a previous run's copy

  const python = args.python ?? requireJupyter().python;
  const env: NodeJS.ProcessEnv = { ...process.env, TRANSFER_LAB_HEADLESS: "1", ...args.env };
  if (args.scale) env.LESSON_SCALE = args.scale;
  const argv = [
    EXECUTOR,
    "--input",
    input,
    "--output",
    output,
    "--result",
    resultFile,
    "--cwd",
    path.dirname(path.resolve(args.notebook)),
    "--kernel",
    args.kernelName ?? KERNEL_NAME,
    "--timeout",
    String(Math.ceil(args.cellTimeoutSeconds ?? DEFAULT_CELL_TIMEOUT_S)),
    "--startup-timeout",
    String(Math.ceil(args.startupTimeoutSeconds ?? DEFAULT_STARTUP_TIMEOUT_S)),
  ];
  const started = Date.now();
  const { stderr } = await spawnExecutor(python, argv, env, args.onCell);
  const wall = (Date.now() - started) / 1000;
  const stderrTail = stderr.trim().split("\n").slice(-15).join("\n");

  let result: ExecutorResult | null = null;
  try {
    result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as ExecutorResult;
  } catch {
    result = null;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (!result) throw new Error(`${name}: ${python} ${path.basename(EXECUTOR)} wrote no result:\n${stderrTail}`);
  const executed = fs.existsSync(output) ? readNotebook(output) : nb;
  if (fs.existsSync(output) && args.packPlotly !== false && packPlotlyBundles(executed) > 0) {
    writeNotebook(output, executed);
  }
  const base = {
    name,
    output,
    cells: executedCells(executed),
    seconds: result.seconds ?? wall,
    backend: findBackend(executed),
    stderrTail,
    ...(args.measureTensors ? { tensors: readTensorProbes(executed) } : {}),
  };
  if (result.ok) return { ...base, ok: true };
  // A failing cell: the kernel's `error` output in the executed copy (with its traceback; an
  // earlier `raises-exception` cell's error is not the failure), else the ename/evalue of its
  // error reply; other failures (timeout, dead kernel) come from nbclient.
  const cellError =
    result.errorType === "cell-error"
      ? ((result.failedCell !== null ? cellErrorAt(executed, result.failedCell) : null) ?? findCellError(executed))
      : null;
  const cellIndex = cellError?.cellIndex ?? result.failedCell;
  const cell = cellIndex !== null ? executed.cells[cellIndex] : undefined;
  const failure: LessonFailure = {
    kind: cellError?.ename ?? result.ename ?? result.errorType ?? "error",
    message:
      cellError?.evalue ??
      result.evalue ??
      (result.errorType === "dead-kernel"
        ? [result.message ?? "the kernel died", deadKernelCause(stderr)].filter(Boolean).join(": ")
        : result.message) ??
      "unknown failure",
    cellIndex,
    firstLine: cell ? firstLine(cell) : null,
    details: cellError?.traceback ?? stderrTail,
  };
  return { ...base, ok: false, failure };
}

function spawnExecutor(
  python: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  onCell: RunLessonArgs["onCell"],
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let pending = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    child.stdout.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const ev = JSON.parse(line) as { event?: string; index: number; seconds: number; status: string };
          if (ev.event === "cell") onCell?.(ev);
        } catch {
          continue;
        }
      }
    });
    child.on("error", (e) => reject(new Error(`could not start ${python}: ${e.message}`)));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** The result of a lesson the runner could not run (its notebook does not parse, the executor
 * wrote no result, ...): failed before any cell, its earlier executed copy removed. */
export function notRunResult(notebook: string, error: unknown, outDir: string = DEFAULT_OUT_DIR): LessonResult {
  const name = path.basename(notebook);
  const output = path.join(path.resolve(outDir), name);
  fs.rmSync(output, { force: true }); // never report on a previous run's copy
  const unreadable = error instanceof NotebookReadError;
  return {
    name,
    output,
    cells: 0,
    seconds: 0,
    backend: null,
    ok: false,
    failure: {
      kind: unreadable ? UNREADABLE_NOTEBOOK : RUNNER_ERROR,
      message: (error as Error)?.message ?? String(error),
      cellIndex: null,
      firstLine: null,
      details: "",
    },
    stderrTail: "",
  };
}

export interface RunLessonsArgs extends Omit<RunLessonArgs, "notebook"> {
  /** The sets of one notebook (the runner gives each lesson only the parameters it declares);
   * default `sets` for every notebook. */
  setsFor?: (notebook: string) => ParameterSet[];
}

/** Runs lessons one after another (all of them, also after a failure, and after a notebook that
 * cannot be run: it is reported as a failed lesson). */
export async function runLessons(
  notebooks: string[],
  args: RunLessonsArgs,
  onResult: (r: LessonResult) => void = () => undefined,
): Promise<LessonResult[]> {
  const { setsFor, ...common } = args;
  const results: LessonResult[] = [];
  for (const notebook of notebooks) {
    let r: LessonResult;
    try {
      r = await runLesson({ ...common, notebook, sets: setsFor ? setsFor(notebook) : common.sets });
    } catch (e) {
      r = notRunResult(notebook, e, common.outDir);
    }
    onResult(r);
    results.push(r);
  }
  return results;
}
