// The bench's JSON shape (build/bench.json), the ratios derived from it, and the text tables
// `npm run bench` prints.
import type { FitComparison } from "./fitcompare";
import type { HotPathResult } from "./hotpaths";
import type { Measurement } from "./measure";
import type { AblationResult, StepProfile } from "./profile";
import { formatAblation, formatProfile } from "./profile";
import { formatTable } from "./table";

export { formatTable };
import type { WorkloadName } from "./workloads";

/** 2: W4 (the tiny ViT) and its torch twin, targets.vitWithinTorchFactor, vitParams, profiles.
 * 3: W5 (lesson 06's masked-LM) and its torch twin, targets.mlmWithinTorchFactor, bertParams. */
export const REPORT_VERSION = 3;
/** The bench's targets: W1, W2 on the default CPU backend within this factor of PyTorch... */
export const TORCH_TARGET_FACTOR = 4;
/** ...and the transformers' training (W4, the tiny ViT; W5, the tiny BERT's masked-LM) within this factor. */
export const VIT_TORCH_TARGET_FACTOR = 3;
/** ...and fit() within this fraction of the raw loop. */
export const FIT_OVERHEAD_TARGET = 0.1;

/** The bench's names for backends: setupBackend choices, plus wasm with the stock kernels. */
export type BenchBackend = "gpu" | "node" | "webgpu" | "wasm" | "wasm-stock" | "cpu";
export const BENCH_BACKENDS: readonly BenchBackend[] = ["gpu", "node", "webgpu", "wasm", "wasm-stock", "cpu"];
/** The CPU backend setupBackend picks on a machine without TensorFlow or a GPU; ratios use it. */
export const DEFAULT_CPU_BACKEND: BenchBackend = "wasm";

export interface BackendResult {
  backend: BenchBackend;
  /** Why it did not run (not installed, no adapter...); absent when it ran. */
  skipped?: string;
  /** setupBackend's name and reason. */
  name?: string;
  reason?: string;
  workloads: Partial<Record<WorkloadName, Measurement>>;
  fitVsRaw?: FitComparison[];
  hotPaths?: HotPathResult[];
  /** Peak RSS of this backend's process (process.resourceUsage().maxRSS), MiB. */
  peakRssMiB?: number;
  /** tf.memory().numTensors when the process started measuring and when it ended. */
  tensorsStart?: number;
  tensorsEnd?: number;
  /** Wall seconds of the whole backend process. */
  wallSeconds?: number;
  /** `--profile`: one step of each workload per kernel. */
  profiles?: StepProfile[];
  /** `--profile --ablate` on wasm: each training workload with the kernel groups added in turn. */
  ablation?: AblationResult[];
}

export interface TorchWorkload {
  /** Wall seconds per run. */
  runs: number[];
  median: number;
  /** Median process CPU seconds (all threads). */
  cpuMedian: number;
  finalLoss?: number;
  /** Threads of the configuration this entry comes from (set on the best-of entries). */
  threads?: number;
}

export interface TorchConfigResult {
  threads: number;
  workloads: Partial<Record<WorkloadName, TorchWorkload>>;
}

export interface TorchResult {
  skipped?: string;
  python?: string;
  torch?: string;
  blas?: { name: string; mapped: string[]; buildBlasInfo: string | null };
  /** One set of runs per thread count asked for. */
  configs?: TorchConfigResult[];
  /** Per workload, the fastest configuration's entry: the peer the ratios compare against. */
  workloads?: Partial<Record<WorkloadName, TorchWorkload>>;
  /** Parameters of torch_bench.py's W4 twin. */
  vitParams?: number;
  /** Masked-LM parameters of torch_bench.py's W5 twin. */
  bertParams?: number;
}

export interface WorkloadInfo {
  name: WorkloadName;
  title: string;
  samples: number;
  epochs: number;
  batchSize: number;
  steps: number;
  flops: number;
}

export interface BenchReport {
  version: number;
  date: string;
  quick: boolean;
  runs: number;
  host: {
    cpus: number;
    cpuModel: string;
    node: string;
    platform: string;
    loadavgStart: number[];
    loadavgEnd: number[];
    totalMemGiB: number;
  };
  flopFormula: { workloads: string; hotPaths: string };
  workloads: WorkloadInfo[];
  backends: BackendResult[];
  torch?: TorchResult;
  /** W4's parameter count in tfjs (buildViT) and in the torch twin; the W4 ratio needs them equal. */
  vitParams?: { tfjs: number; torch?: number };
  /** W5's masked-LM parameters in tfjs (buildBert without its head) and in the torch twin; the W5
   * ratio needs them equal. */
  bertParams?: { tfjs: number; torch?: number };
  /** Seconds ratios: backend / default CPU backend, and tfjs backend / torch, per workload. */
  ratios: {
    vsDefault: Partial<Record<BenchBackend, Partial<Record<WorkloadName, number>>>>;
    vsTorch: Partial<Record<BenchBackend, Partial<Record<WorkloadName, number>>>>;
  };
  targets: {
    /** W1 and W2 of the default CPU backend within TORCH_TARGET_FACTOR × torch (null: not measured). */
    defaultWithinTorchFactor: boolean | null;
    /** W4 of the default CPU backend within VIT_TORCH_TARGET_FACTOR × torch (null: not measured). */
    vitWithinTorchFactor: boolean | null;
    /** W5 of the default CPU backend within VIT_TORCH_TARGET_FACTOR × torch (null: not measured). */
    mlmWithinTorchFactor: boolean | null;
    /** fit within FIT_OVERHEAD_TARGET of raw-ops on the default CPU backend (wall time). */
    fitWithinOverhead: boolean | null;
  };
  warnings: string[];
}

/** Fills report.ratios and report.targets from the measurements. */
export function computeRatios(report: BenchReport): void {
  const ran = report.backends.filter((b) => !b.skipped);
  const base = ran.find((b) => b.backend === DEFAULT_CPU_BACKEND);
  const names = report.workloads.map((w) => w.name);
  report.ratios = { vsDefault: {}, vsTorch: {} };
  // W4 and W5 are compared with their twins only when both have the same parameters.
  const sameParams = (p?: { tfjs: number; torch?: number }) => p?.torch !== undefined && p.torch === p.tfjs;
  const twinOk: Partial<Record<WorkloadName, boolean>> = {
    W4: sameParams(report.vitParams),
    W5: sameParams(report.bertParams),
  };
  for (const b of ran) {
    const vd: Partial<Record<WorkloadName, number>> = {};
    const vt: Partial<Record<WorkloadName, number>> = {};
    for (const w of names) {
      const m = b.workloads[w];
      const bm = base?.workloads[w];
      if (m && bm) vd[w] = m.seconds / bm.seconds;
      const t = report.torch?.workloads?.[w];
      if (m && t && twinOk[w] !== false) vt[w] = m.seconds / t.median;
    }
    report.ratios.vsDefault[b.backend] = vd;
    if (Object.keys(vt).length) report.ratios.vsTorch[b.backend] = vt;
  }
  const vt = report.ratios.vsTorch[DEFAULT_CPU_BACKEND];
  report.targets.defaultWithinTorchFactor =
    vt && vt.W1 !== undefined && vt.W2 !== undefined
      ? vt.W1 <= TORCH_TARGET_FACTOR && vt.W2 <= TORCH_TARGET_FACTOR
      : null;
  report.targets.vitWithinTorchFactor = vt?.W4 !== undefined ? vt.W4 <= VIT_TORCH_TARGET_FACTOR : null;
  report.targets.mlmWithinTorchFactor = vt?.W5 !== undefined ? vt.W5 <= VIT_TORCH_TARGET_FACTOR : null;
  const fits = base?.fitVsRaw ?? [];
  report.targets.fitWithinOverhead = fits.length ? fits.every((f) => f.overhead <= FIT_OVERHEAD_TARGET) : null;
}

const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));
const ratio = (x: number | undefined) => (x === undefined ? "–" : `${x.toFixed(2)}×`);
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)} %`;

/** The text `npm run bench` prints. */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  out.push(`transfer-lab bench ${r.date}${r.quick ? " (--quick: tiny sizes, numbers meaningless)" : ""}`);
  out.push(
    `host: ${r.host.cpus} CPUs (${r.host.cpuModel}), node ${r.host.node}, load average ${r.host.loadavgStart.map((x) => x.toFixed(2)).join(" ")} at start, ${r.host.loadavgEnd.map((x) => x.toFixed(2)).join(" ")} at end`,
  );
  out.push(`FLOPs: ${r.flopFormula.workloads}`);
  for (const w of r.workloads) {
    out.push(
      `  ${w.name}: ${w.title}; ${w.samples} samples × ${w.epochs} ${w.name === "W3" ? "passes" : w.epochs === 1 ? "epoch" : "epochs"}, batch ${w.batchSize}, ${w.steps} steps, ${(w.flops / 1e9).toFixed(2)} GFLOP`,
    );
  }
  const rows: string[][] = [];
  for (const w of r.workloads) {
    for (const b of r.backends) {
      if (b.skipped) continue;
      const m = b.workloads[w.name];
      if (!m) continue;
      rows.push([
        `${w.name} ${b.backend}`,
        `${m.extrapolated ? "~" : ""}${f(m.seconds, 3)}`,
        f(m.cpuSeconds, 3),
        f(m.gflops, 2),
        f(w.flops / m.cpuSeconds / 1e9, 2),
        ratio(r.ratios.vsDefault[b.backend]?.[w.name]),
        ratio(r.ratios.vsTorch[b.backend]?.[w.name]),
        f(m.peakRssMiB, 0),
        `${m.tensorsBefore}→${m.tensorsAfter}`,
      ]);
    }
    for (const c of r.torch?.configs ?? []) {
      const t = c.workloads[w.name];
      const best = r.torch?.workloads?.[w.name]?.threads === c.threads;
      if (t)
        rows.push([
          `${w.name} torch ${c.threads}T${best ? " *" : ""}`,
          f(t.median, 3),
          f(t.cpuMedian, 3),
          f(w.flops / t.median / 1e9, 2),
          f(w.flops / t.cpuMedian / 1e9, 2),
          "",
          best ? "1.00×" : ratio(t.median / r.torch!.workloads![w.name]!.median),
          "",
          "",
        ]);
    }
  }
  // --profile measures no workload: then there is no table to print.
  if (rows.length) {
    out.push(
      `Medians of ${r.runs} run(s) after a warm-up; seconds are wall time of the whole workload ("~": extrapolated from fewer steps); cpu s = process CPU time (all threads); GFLOP/cpu-s = FLOPs per CPU second, steadier than wall time when other processes share the cores.`,
    );
    out.push("");
  }
  if (rows.length)
    out.push(
      formatTable(
        [
          "workload backend",
          "seconds",
          "cpu s",
          "GFLOP/s",
          "GFLOP/cpu-s",
          `vs ${DEFAULT_CPU_BACKEND}`,
          "vs torch",
          "peak RSS MiB",
          "tensors",
        ],
        rows,
      ),
    );
  if (r.torch) {
    out.push("");
    out.push(
      r.torch.skipped
        ? `torch: skipped: ${r.torch.skipped}`
        : `torch ${r.torch.torch} (${r.torch.python}; "torch nT" = n threads, "*" = fastest, the peer of "vs torch"), BLAS: ${r.torch.blas?.name} [${r.torch.blas?.mapped.join(", ")}], build BLAS_INFO=${r.torch.blas?.buildBlasInfo}`,
    );
  }
  for (const [w, p] of [
    ["W4", r.vitParams],
    ["W5", r.bertParams],
  ] as const) {
    if (!p) continue;
    const t = p.torch;
    out.push(
      `${w} parameters${w === "W5" ? " (masked-LM)" : ""}: tfjs ${p.tfjs}, torch twin ${t ?? "–"}${t === undefined ? "" : t === p.tfjs ? " (equal)" : ` (DIFFERENT: no ${w} ratio)`}`,
    );
  }
  for (const b of r.backends) if (b.skipped) out.push(`backend ${b.backend}: skipped: ${b.skipped}`);
  for (const b of r.backends)
    if (!b.skipped)
      out.push(
        `backend ${b.backend}: ${b.name}: ${b.reason}; process peak RSS ${f(b.peakRssMiB, 0)} MiB, tensors ${b.tensorsStart}→${b.tensorsEnd}`,
      );

  const fits = r.backends.filter((b) => b.fitVsRaw?.length);
  if (fits.length) {
    out.push("");
    out.push(
      `fit() vs the raw loop it wraps: "raw+layers" = the same loop over model.apply, variableGrads and Adam without fit (target: fit within ${100 * FIT_OVERHEAD_TARGET} %); "raw ops" = hand-written tf ops on tf.Variables. Same data order and initial weights; max |Δw| = fit vs raw ops after training.`,
    );
    const fr: string[][] = [];
    for (const b of fits) {
      for (const c of b.fitVsRaw!) {
        const k = c.kernelsPerStep;
        fr.push([
          `${c.workload} ${b.backend}`,
          f(c.seconds["raw-ops"], 3),
          f(c.seconds["raw-layers"], 3),
          f(c.seconds.fit, 3),
          `${pct(c.overhead)} (cpu ${pct(c.cpuOverhead)})`,
          `${pct(c.opsOverhead)} (cpu ${pct(c.cpuOpsOverhead)})`,
          `${k.rawOps.matmuls}/${k.rawOps.kernels} vs ${k.layers.matmuls}/${k.layers.kernels}`,
          c.maxWeightDiff.toExponential(1),
          `${c.tensorsBefore}→${c.tensorsAfter}`,
        ]);
      }
    }
    out.push(
      formatTable(
        [
          "workload backend",
          "raw ops s",
          "raw+layers s",
          "fit s",
          "fit vs raw+layers",
          "fit vs raw ops",
          "matmuls/kernels per step: ops vs layers",
          "max |Δw|",
          "tensors",
        ],
        fr,
      ),
    );
  }

  const hots = r.backends.filter((b) => b.hotPaths?.length);
  if (hots.length) {
    out.push("");
    out.push(`Lessons' hot paths (one epoch through the library; FLOPs: ${r.flopFormula.hotPaths}):`);
    const hr: string[][] = [];
    for (const b of hots) {
      for (const h of b.hotPaths!) {
        const key = `${h.name} ${b.backend}`;
        if (h.skipped) {
          hr.push([key, `skipped: ${h.skipped.slice(0, 100)}`, "", "", "", "", ""]);
          continue;
        }
        for (const t of h.timings) {
          hr.push([
            key,
            t.label,
            f(t.seconds, 3),
            String(t.samples),
            f(t.gflops, 2),
            String(t.trainableParams),
            `${h.tensorsBefore}→${h.tensorsAfter}`,
          ]);
        }
        if (h.timeRatio !== undefined) {
          hr.push([
            key,
            `ratio first / second: time ${f(h.timeRatio, 2)}×, FLOPs ${f(h.flopRatio, 2)}×`,
            "",
            "",
            "",
            "",
            "",
          ]);
        }
      }
    }
    out.push(
      formatTable(["hot path", "configuration", "s/epoch", "samples", "GFLOP/s", "trainable", "tensors"], hr, 2),
    );
  }
  for (const b of r.backends) {
    for (const p of b.profiles ?? []) out.push("", formatProfile(p));
    for (const a of b.ablation ?? []) out.push("", formatAblation(a));
  }
  out.push("");
  const t = r.targets;
  const yes = (x: boolean | null, missing: string) => (x === null ? missing : x ? "yes" : "NO");
  out.push(
    `targets: W1, W2 on ${DEFAULT_CPU_BACKEND} within ${TORCH_TARGET_FACTOR}× of torch: ${yes(t.defaultWithinTorchFactor, "not measured (run with --torch)")}; W4 (tiny ViT) within ${VIT_TORCH_TARGET_FACTOR}× of torch: ${yes(t.vitWithinTorchFactor, "not measured (run with --torch)")}; W5 (tiny BERT masked-LM) within ${VIT_TORCH_TARGET_FACTOR}× of torch: ${yes(t.mlmWithinTorchFactor, "not measured (run with --torch)")}; fit within ${100 * FIT_OVERHEAD_TARGET} % of raw: ${yes(t.fitWithinOverhead, "not measured")}`,
  );
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join("\n");
}
