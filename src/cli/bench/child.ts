// What one backend's bench process does: set the backend up (setupBackend; wasm-stock = WASM
// without the matmul fix and kernels), then W1-W5, fit-vs-raw and the hot paths, each with tensor
// counts; or, with `profile`, only the per-kernel profile of a step of each workload (and, on WASM
// with `ablate`, each training workload with the kernel groups of backend/wasm-kernels.ts added
// one at a time).
// One process per backend keeps kernel registrations apart and makes peak RSS per backend.
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../backend/backend";
import { compareFitToRaw } from "./fitcompare";
import { DEFAULT_PROFILE_STEPS, profileWorkload, runAblation } from "./profile";
import { DEFAULT_HOT_BATCH, DEFAULT_HOT_MAX_EPOCH_SECONDS, DEFAULT_HOT_SAMPLES, runHotPaths } from "./hotpaths";
import { DEFAULT_MAX_RUN_SECONDS, DEFAULT_RUNS, measureWorkload, peakRssMiB } from "./measure";
import type { BackendResult, BenchBackend } from "./report";
import { WORKLOADS, quickSpec, syntheticDataset, type WorkloadName, type WorkloadSpec } from "./workloads";

export interface BenchConfig {
  quick: boolean;
  runs: number;
  workloads: WorkloadName[];
  /** Cap on one timed run of a workload; slower backends run fewer steps, extrapolated. */
  maxRunSeconds: number;
  /** Backends on which fit() is timed against the raw loop. */
  fitBackends: BenchBackend[];
  /** Run the lessons' hot paths (and which: substrings of their names; empty = all). */
  hot: boolean;
  hotOnly: string[];
  hotSamples: number;
  hotMaxEpochSeconds: number;
  /** Only profile a step of each workload per kernel (no timings of the workloads). */
  profile: boolean;
  /** With profile, on wasm: time each training workload with the kernel groups added one at a
   * time, in one process. */
  ablate: boolean;
  profileSteps: number;
}

export function specFor(name: WorkloadName, quick: boolean): WorkloadSpec {
  return quick ? quickSpec(WORKLOADS[name]) : WORKLOADS[name];
}

const say = (backend: string, msg: string) => process.stderr.write(`[bench ${backend}] ${msg}\n`);

/** Runs everything for one backend in this process. Never throws for an unavailable backend:
 * the result says `skipped` with setupBackend's reason. */
export async function runBackend(backend: BenchBackend, cfg: BenchConfig): Promise<BackendResult> {
  const t0 = performance.now();
  let info;
  try {
    info = await setupBackend(backend === "wasm-stock" ? { backend: "wasm", matmulFix: false } : { backend });
  } catch (e) {
    return { backend, skipped: (e instanceof Error ? e.message : String(e)).split("\n")[0], workloads: {} };
  }
  const result: BackendResult = {
    backend,
    name: info.name,
    reason: info.reason,
    workloads: {},
    tensorsStart: tf.memory().numTensors,
  };
  const specs = cfg.workloads.map((w) => specFor(w, cfg.quick));
  const rows = Math.max(cfg.hotSamples, ...specs.map((s) => s.samples));
  const data = syntheticDataset(rows, 784);
  if (cfg.profile) {
    result.profiles = [];
    for (const spec of specs) {
      const p = await profileWorkload(spec, data, { steps: cfg.quick ? 2 : cfg.profileSteps });
      result.profiles.push(p);
      say(backend, `profiled ${p.steps} ${spec.name} steps: ${p.stepMs.toFixed(1)} ms/step`);
    }
    if (cfg.ablate && backend === "wasm") {
      result.ablation = [];
      for (const spec of specs.filter((s) => s.kind === "train")) {
        result.ablation.push(await runAblation(spec, data, { runs: cfg.runs, log: (m) => say(backend, m) }));
      }
    }
    result.tensorsEnd = tf.memory().numTensors;
    result.peakRssMiB = peakRssMiB();
    result.wallSeconds = (performance.now() - t0) / 1000;
    return result;
  }
  for (const spec of specs) {
    const m = await measureWorkload(spec, data, {
      runs: cfg.runs,
      maxRunSeconds: cfg.maxRunSeconds,
      warmupSteps: cfg.quick ? 2 : undefined,
    });
    result.workloads[spec.name] = m;
    say(
      backend,
      `${spec.name}: ${m.extrapolated ? "~" : ""}${m.seconds.toFixed(3)} s, ${m.gflops.toFixed(2)} GFLOP/s${m.extrapolated ? ` (${m.steps} of ${m.fullSteps} steps timed)` : ""}`,
    );
  }
  if (cfg.fitBackends.includes(backend)) {
    result.fitVsRaw = [];
    for (const spec of specs.filter((s) => s.kind === "train" && !s.vit && !s.bert)) {
      const c = await compareFitToRaw(spec, data, { runs: cfg.runs });
      result.fitVsRaw.push(c);
      say(
        backend,
        `fit vs raw ${spec.name}: raw ops ${c.seconds["raw-ops"].toFixed(3)} s, raw+layers ${c.seconds["raw-layers"].toFixed(3)} s, fit ${c.seconds.fit.toFixed(3)} s`,
      );
    }
  }
  if (cfg.hot) {
    result.hotPaths = await runHotPaths(
      data,
      {
        runs: cfg.runs,
        samples: cfg.quick ? 64 : cfg.hotSamples,
        batchSize: cfg.quick ? 32 : DEFAULT_HOT_BATCH,
        maxEpochSeconds: cfg.hotMaxEpochSeconds,
        quick: cfg.quick,
      },
      cfg.hotOnly.length ? cfg.hotOnly : undefined,
    );
    for (const h of result.hotPaths) {
      say(
        backend,
        `${h.name}: ${h.skipped ? `skipped (${h.skipped})` : h.timings.map((t) => `${t.label} ${t.seconds.toFixed(3)} s`).join(", ")}`,
      );
    }
  }
  result.tensorsEnd = tf.memory().numTensors;
  result.peakRssMiB = peakRssMiB();
  result.wallSeconds = (performance.now() - t0) / 1000;
  return result;
}

export const DEFAULT_BENCH_CONFIG: BenchConfig = {
  quick: false,
  runs: DEFAULT_RUNS,
  workloads: ["W1", "W2", "W3", "W4", "W5"],
  maxRunSeconds: DEFAULT_MAX_RUN_SECONDS,
  fitBackends: ["wasm"],
  hot: true,
  hotOnly: [],
  hotSamples: DEFAULT_HOT_SAMPLES,
  hotMaxEpochSeconds: DEFAULT_HOT_MAX_EPOCH_SECONDS,
  profile: false,
  ablate: false,
  profileSteps: DEFAULT_PROFILE_STEPS,
};
