// The PyTorch peer for `--torch`: finds a Python that imports torch (TORCH_PYTHON, Debian's
// /usr/bin/python3, then python3 on PATH), runs torch_bench.py with the same workload sizes (W4 and
// W5: the same ViT and BERT shapes, whose twins' parameter counts it reports) and reads its JSON
// (which BLAS it really loaded included).
import { spawnSync } from "child_process";
import * as path from "path";
import type { TorchResult, TorchWorkload } from "./report";
import type { BertBenchShape, ViTShape, WorkloadName, WorkloadSpec } from "./workloads";

/** Issue 7 compares with 2 threads; 1 thread is also run because OpenMP's 2-thread barriers
 * collapse when other processes share the 2 cores (seen: 25× slower at load average 13). */
export const DEFAULT_TORCH_THREADS = [2, 1];
const TORCH_TIMEOUT_MS = 30 * 60 * 1000;

/** The first candidate interpreter that can import torch, or the reason none could. */
export function findTorchPython(): { python: string } | { skipped: string } {
  const env = process.env.TORCH_PYTHON;
  const candidates = [...(env ? [env] : []), "/usr/bin/python3", "python3"];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) return { python: py };
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr || "").trim().split("\n").pop()}`);
  }
  return {
    skipped: `no Python with torch found (${tried.join("; ")}); on Debian: apt-get install python3-torch, or set TORCH_PYTHON`,
  };
}

export const TORCH_SCRIPT = path.join(__dirname, "torch_bench.py");

/** torch_bench.py's arguments for a ViT shape. */
export function vitArgs(v: ViTShape): string[] {
  return [
    "--vit-image",
    String(v.imageSize),
    "--vit-patch",
    String(v.patchSize),
    "--vit-width",
    String(v.width),
    "--vit-depth",
    String(v.depth),
    "--vit-heads",
    String(v.numHeads),
    "--vit-mlp-ratio",
    String(v.mlpRatio),
    "--vit-classes",
    String(v.numClasses),
  ];
}

/** torch_bench.py's arguments for a masked-LM BERT shape. */
export function bertArgs(b: BertBenchShape): string[] {
  return [
    "--bert-vocab",
    String(b.vocabSize),
    "--bert-seq",
    String(b.seqLength),
    "--bert-width",
    String(b.width),
    "--bert-depth",
    String(b.depth),
    "--bert-heads",
    String(b.numHeads),
    "--bert-mlp-ratio",
    String(b.mlpRatio),
    "--bert-mask-rate",
    String(b.maskRate),
  ];
}

function countOnly(python: string, args: string[]): { vitParams: number; bertParams: number } {
  const r = spawnSync(python, [TORCH_SCRIPT, "--count-only", ...args], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`torch_bench.py --count-only failed (exit ${r.status}): ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as { vitParams: number; bertParams: number };
}

/** Parameters of torch_bench.py's twin of this ViT (`--count-only`: builds it, times nothing). */
export function torchViTParams(python: string, v: ViTShape): number {
  return countOnly(python, vitArgs(v)).vitParams;
}

/** Masked-LM parameters of torch_bench.py's twin of this BERT (`--count-only`: times nothing). */
export function torchBertParams(python: string, b: BertBenchShape): number {
  return countOnly(python, bertArgs(b)).bertParams;
}

/** Runs the workloads named in PyTorch; `train` and `forward` give the sizes (W1/W2 and W3 specs),
 * `vit` W4's (its samples, epochs, batch and ViT shape), `bert` W5's (windows, epochs, batch, BERT). */
export function runTorch(
  train: WorkloadSpec,
  forward: WorkloadSpec,
  vit: WorkloadSpec,
  bert: WorkloadSpec,
  runs: number,
  threads: number[] = DEFAULT_TORCH_THREADS,
  workloads: readonly WorkloadName[] = ["W1", "W2", "W3", "W4", "W5"],
): TorchResult {
  const found = findTorchPython();
  if ("skipped" in found) return { skipped: found.skipped };
  if (!vit.vit) throw new Error(`runTorch: ${vit.name} is not a ViT workload`);
  if (!bert.bert) throw new Error(`runTorch: ${bert.name} is not a masked-LM workload`);
  const script = TORCH_SCRIPT;
  const args = [
    script,
    "--workloads",
    workloads.join(","),
    "--threads",
    threads.join(","),
    "--runs",
    String(runs),
    "--samples",
    String(train.samples),
    "--epochs",
    String(train.epochs),
    "--batch",
    String(train.batchSize),
    "--forward-batch",
    String(forward.batchSize),
    "--forward-passes",
    String(forward.epochs),
    "--vit-samples",
    String(vit.samples),
    "--vit-epochs",
    String(vit.epochs),
    "--vit-batch",
    String(vit.batchSize),
    ...vitArgs(vit.vit),
    "--bert-samples",
    String(bert.samples),
    "--bert-epochs",
    String(bert.epochs),
    "--bert-batch",
    String(bert.batchSize),
    ...bertArgs(bert.bert),
  ];
  const r = spawnSync(found.python, args, { encoding: "utf8", timeout: TORCH_TIMEOUT_MS, maxBuffer: 16 << 20 });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || "").trim().split("\n").slice(-3).join(" | ");
    return {
      skipped: `${found.python} ${path.basename(script)} failed (exit ${r.status}): ${why}`,
      python: found.python,
    };
  }
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    const parsed = JSON.parse(last) as Omit<TorchResult, "python" | "workloads">;
    return { ...parsed, python: found.python, workloads: fastest(parsed) };
  } catch {
    return {
      skipped: `torch_bench.py printed no JSON (last line: ${JSON.stringify(last.slice(0, 200))})`,
      python: found.python,
    };
  }
}

/** Per workload, the configuration with the smallest median (tagged with its thread count). */
function fastest(r: Omit<TorchResult, "python" | "workloads">): Partial<Record<WorkloadName, TorchWorkload>> {
  const out: Partial<Record<WorkloadName, TorchWorkload>> = {};
  for (const c of r.configs ?? []) {
    for (const [w, t] of Object.entries(c.workloads) as [WorkloadName, TorchWorkload][]) {
      if (!out[w] || t.median < out[w]!.median) out[w] = { ...t, threads: c.threads };
    }
  }
  return out;
}
