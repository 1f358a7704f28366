// Shared by the tests that talk to the real transfer-lab kernel: a throwaway JUPYTER_DATA_DIR
// with the kernelspec installed, Python runs, and cells run through test/kernel_session.py.
import { spawn } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { afterAll, beforeAll } from "vitest";
import { KERNEL_NAME, PROJECT_ROOT, installKernelSpec, requireJupyter } from "../../src/cli/jupyter";

const SESSION = path.join(PROJECT_ROOT, "test", "kernel_session.py");

export interface ThrowawayJupyter {
  /** The Python with jupyter_client (set in beforeAll). */
  python(): string;
  /** A temp folder for the test file, removed in afterAll. */
  tmp: string;
}

/** Registers beforeAll/afterAll hooks: JUPYTER_DATA_DIR points at a temp folder holding the
 * transfer-lab kernelspec for the duration of the test file. `extraSetup` runs before the spec
 * is installed (to check prerequisites). */
export function useThrowawayJupyter(prefix: string, extraSetup?: (python: string) => Promise<void>): ThrowawayJupyter {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const saved = process.env.JUPYTER_DATA_DIR;
  let python = "";
  beforeAll(async () => {
    process.env.JUPYTER_DATA_DIR = path.join(tmp, "jupyter-data");
    python = requireJupyter().python;
    await extraSetup?.(python);
    installKernelSpec(python);
  }, 120_000);
  afterAll(() => {
    if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
    else process.env.JUPYTER_DATA_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return { python: () => python, tmp };
}

export interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runPython(
  python: string,
  args: string[],
  input = "",
  env: NodeJS.ProcessEnv = process.env,
): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { cwd: PROJECT_ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

export interface KernelMessage {
  msg_type: string;
  content: Record<string, unknown> & {
    name?: string;
    text?: string;
    data?: Record<string, string>;
    execution_count?: number;
    ename?: string;
    evalue?: string;
  };
}
export interface CellRun {
  reply: { status: string; execution_count?: number; ename?: string; evalue?: string; traceback?: string[] };
  outputs: KernelMessage[];
}
export interface CellRequest {
  code: string;
  stopOnError?: boolean;
  /** Seconds after the cell's first stream output to send SIGINT (as Jupyter's interrupt). */
  interruptAfterOutput?: number;
  /** Seconds to wait, after the cell before it replied and went idle, before sending it. */
  delayBefore?: number;
  /** Send it right after the cell before it, without waiting for that one's reply (as "run
   * all" does), so it waits in the kernel's queue. */
  pipelined?: boolean;
}

/** Runs `cells` one after another in a fresh kernel; throws with the session's stderr if it fails. */
export async function runCells(
  python: string,
  cells: CellRequest[],
  opts: { timeoutSeconds?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CellRun[]> {
  const request = JSON.stringify({ kernel: KERNEL_NAME, timeout: opts.timeoutSeconds ?? 120, cells });
  const r = await runPython(python, [SESSION], request, { ...process.env, ...opts.env });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !last.startsWith("{"))
    throw new Error(`kernel_session.py exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  return (JSON.parse(last) as { cells: CellRun[] }).cells;
}

/** The value a cell returned (its execute_result), if any. */
export function resultText(run: CellRun): string | undefined {
  return run.outputs.find((o) => o.msg_type === "execute_result")?.content.data?.["text/plain"];
}

/** What a cell printed on one stream, in order. */
export function streamText(run: CellRun, name: "stdout" | "stderr"): string {
  return run.outputs
    .filter((o) => o.msg_type === "stream" && o.content.name === name)
    .map((o) => o.content.text ?? "")
    .join("");
}

/** Everything a cell printed, returned or raised, as text. */
export function cellText(run: CellRun): string {
  return run.outputs
    .map(
      (o) =>
        o.content.text ??
        o.content.data?.["text/plain"] ??
        (o.content.ename ? `${o.content.ename}: ${o.content.evalue}\n` : ""),
    )
    .join("");
}
