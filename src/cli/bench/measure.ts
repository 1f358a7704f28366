// Timing harness of the bench: a raw tfjs runner per workload (train steps or forward passes
// over uploaded batches), warm-up, several runs, medians, and extrapolation for slow backends
// (a run covers as many steps as fit in maxRunSeconds; seconds are scaled to the full workload).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../data/types";
import { gatherRows } from "../../data/batches";
import { mlmTrainRunner } from "./mlm";
import {
  BENCH_LEARNING_RATE,
  buildRawNet,
  orderedTrainRunner,
  rawLoss,
  workloadFlops,
  workloadSteps,
  type RawNet,
  type StepRunner,
  type WorkloadSpec,
} from "./workloads";

export const DEFAULT_RUNS = 3;
export const DEFAULT_WARMUP_STEPS = 3;
/** A run longer than this (estimated from the warm-up) is cut to fewer steps and extrapolated. */
export const DEFAULT_MAX_RUN_SECONDS = 10;

export interface MeasureArgs {
  /** Timed runs after the warm-up; the median is reported. */
  runs?: number;
  /** Untimed steps first (kernel set-up, allocations); also estimate the time per step. */
  warmupSteps?: number;
  /** Cap on one run's wall time, from the warm-up estimate; longer workloads are cut to fewer
   * steps and their seconds extrapolated to the full step count. */
  maxRunSeconds?: number;
  seed?: number;
}

export interface Measurement {
  /** Wall seconds of each timed run (each run = `steps` steps). */
  runSeconds: number[];
  /** Steps per timed run; equals fullSteps unless the backend was too slow. */
  steps: number;
  fullSteps: number;
  /** True when steps < fullSteps and `seconds` is scaled up. */
  extrapolated: boolean;
  /** Median run seconds scaled to the full workload. */
  seconds: number;
  /** Median process CPU seconds (user + system, all threads) per run, scaled likewise: close to
   * `seconds` for one busy thread; less disturbed than wall time when other processes share
   * the cores. */
  cpuSeconds: number;
  gflops: number;
  /** Loss after the last timed step (train workloads). */
  finalLoss?: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /** process.resourceUsage().maxRSS after this workload, MiB (process-wide peak so far). */
  peakRssMiB: number;
}

export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error("median: needs at least one value, got an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

/** Wall and process-CPU seconds of `f`. */
export async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

export type { StepRunner };

/** Raw training steps: per-epoch seeded shuffle (as fit), rows gathered in JS and uploaded per
 * batch, one-hot labels on the device (as fit), variableGrads + Adam. */
export function rawTrainRunner(
  spec: WorkloadSpec,
  data: Dataset,
  seed = 0,
  net: RawNet = buildRawNet(spec, seed),
): StepRunner {
  const optimizer: tf.Optimizer = tf.train.adam(BENCH_LEARNING_RATE);
  return orderedTrainRunner(
    spec,
    seed,
    (order, from, b) => {
      const { x: xs, y: ys } = gatherRows(data, order, from, from + b);
      return tf.tidy(() => {
        const x = tf.tensor2d(xs, [b, data.dim]); // [b, 784]
        const y =
          spec.loss === "mse" ? x : (tf.oneHot(tf.tensor1d(ys, "int32"), data.numClasses).toFloat() as tf.Tensor2D); // [b, 10]
        const { value, grads } = tf.variableGrads(() => rawLoss(spec, net.forward(x), y), net.vars);
        optimizer.applyGradients(grads);
        return value;
      });
    },
    () => {
      optimizer.dispose();
      net.dispose();
    },
  );
}

/** Raw forward passes over batches uploaded once: [batch, 784] -> [batch, 10]. */
export function rawForwardRunner(spec: WorkloadSpec, data: Dataset, seed = 0): StepRunner {
  const net = buildRawNet(spec, seed);
  const batches: tf.Tensor2D[] = [];
  for (let from = 0; from < spec.samples; from += spec.batchSize) {
    const to = Math.min(spec.samples, from + spec.batchSize);
    batches.push(tf.tensor2d(data.x.subarray(from * data.dim, to * data.dim), [to - from, data.dim]));
  }
  let step = 0;
  let last: tf.Tensor | null = null;
  return {
    run(steps: number) {
      for (let k = 0; k < steps; k++, step++) {
        const out = tf.tidy(() => net.forward(batches[step % batches.length]));
        last?.dispose();
        last = out;
      }
    },
    async finish() {
      if (last) await last.data();
      return undefined;
    },
    dispose() {
      last?.dispose();
      batches.forEach((t) => t.dispose());
      net.dispose();
    },
  };
}

/** The runner of a workload: masked-LM steps (W5), training steps or forward passes. */
export function runnerFor(spec: WorkloadSpec, data: Dataset, seed = 0): StepRunner {
  if (spec.bert) return mlmTrainRunner(spec, seed);
  return spec.kind === "train" ? rawTrainRunner(spec, data, seed) : rawForwardRunner(spec, data, seed);
}

/** Times one workload with a fresh runner: warm-up, then `runs` timed runs; counts tensors
 * before it and after disposing everything it made. */
export async function measureWorkload(spec: WorkloadSpec, data: Dataset, args: MeasureArgs = {}): Promise<Measurement> {
  const runs = args.runs ?? DEFAULT_RUNS;
  const warmup = Math.max(1, args.warmupSteps ?? DEFAULT_WARMUP_STEPS);
  const maxRun = args.maxRunSeconds ?? DEFAULT_MAX_RUN_SECONDS;
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`measureWorkload: runs must be an integer >= 1, got ${runs}`);
  const tensorsBefore = tf.memory().numTensors;
  const runner = runnerFor(spec, data, args.seed);
  const fullSteps = workloadSteps(spec);
  const runSeconds: number[] = [];
  const runCpu: number[] = [];
  let steps = fullSteps;
  let finalLoss: number | undefined;
  try {
    // First step alone (kernel/XNNPACK set-up), then the rest of the warm-up timed for the estimate.
    runner.run(1);
    await runner.finish();
    if (warmup > 1) {
      const t0 = performance.now();
      runner.run(warmup - 1);
      await runner.finish();
      const perStep = (performance.now() - t0) / 1000 / (warmup - 1);
      if (perStep * fullSteps > maxRun) steps = Math.max(1, Math.floor(maxRun / perStep));
    }
    for (let r = 0; r < runs; r++) {
      const t = await timed(() => {
        runner.run(steps);
        return runner.finish();
      });
      finalLoss = t.value;
      runSeconds.push(t.wall);
      runCpu.push(t.cpu);
    }
  } finally {
    runner.dispose();
  }
  const med = median(runSeconds);
  return {
    runSeconds,
    steps,
    fullSteps,
    extrapolated: steps < fullSteps,
    seconds: (med * fullSteps) / steps,
    cpuSeconds: (median(runCpu) * fullSteps) / steps,
    gflops: workloadFlops(spec, steps) / med / 1e9,
    finalLoss,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    peakRssMiB: peakRssMiB(),
  };
}
