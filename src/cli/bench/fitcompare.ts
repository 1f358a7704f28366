// The library's training loop (src/train/fit.ts `fit`) against the raw tfjs ops it wraps, on the same
// workload, data order and initial weights: raw ops on tf.Variables, the same raw loop through
// tfjs-layers' model.apply (to split loop overhead from layers overhead), and fit itself.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../data/types";
import { fit } from "../../train/fit";
import { median, rawTrainRunner, timed, type StepRunner } from "./measure";
import { BENCH_LEARNING_RATE, buildRawNet, layersNet, workloadSteps, type WorkloadSpec } from "./workloads";

export type LoopVariant = "raw-ops" | "raw-layers" | "fit";
export const LOOP_VARIANTS: readonly LoopVariant[] = ["raw-ops", "raw-layers", "fit"];

export interface FitCompareArgs {
  /** Timed runs per variant (interleaved, order rotated each round); medians reported. */
  runs: number;
  seed?: number;
}

export interface FitComparison {
  workload: string;
  /** Median wall and process-CPU seconds of one whole workload per variant. */
  seconds: Record<LoopVariant, number>;
  cpuSeconds: Record<LoopVariant, number>;
  /** The loop's own cost: fit / raw-layers - 1 on wall and on CPU time (0.05 = 5 % longer).
   * raw-layers runs the ops fit wraps (model.apply, variableGrads, the optimizer) without it. */
  overhead: number;
  cpuOverhead: number;
  /** Everything above hand-written ops: fit / raw-ops - 1 (wall, CPU); includes what
   * tfjs-layers adds to the same computation (see kernelsPerStep). */
  opsOverhead: number;
  cpuOpsOverhead: number;
  /** Kernels and matmul kernels one training step launches, hand-written ops vs model.apply. */
  kernelsPerStep: { rawOps: { kernels: number; matmuls: number }; layers: { kernels: number; matmuls: number } };
  /** Largest |weight difference| between fit and raw-ops after the same training: shows they
   * ran the same computation (float32 round-off only). */
  maxWeightDiff: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

/** The tfjs-layers model fit() trains for this workload (same layers as the raw net). */
export function layersModel(spec: WorkloadSpec, seed = 0): tf.Sequential {
  const model = tf.sequential();
  spec.activations.forEach((activation, i) => {
    model.add(
      tf.layers.dense({
        units: spec.widths[i + 1],
        activation,
        inputShape: i === 0 ? [spec.widths[0]] : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
      }),
    );
  });
  return model;
}

async function runRaw(runner: StepRunner, steps: number): Promise<void> {
  runner.run(steps);
  await runner.finish();
}

/** Times raw-ops, raw-layers and fit on one training workload (spec.kind must be "train"). */
export async function compareFitToRaw(
  spec: WorkloadSpec,
  allData: Dataset,
  args: FitCompareArgs,
): Promise<FitComparison> {
  if (allData.n < spec.samples)
    throw new Error(`compareFitToRaw: data has ${allData.n} rows, the workload needs spec.samples = ${spec.samples}`);
  // fit trains on every row of its dataset: give it exactly the workload's first `samples` rows.
  const data: Dataset = { ...allData, n: spec.samples };
  if (spec.kind !== "train" || spec.loss === "mlm")
    throw new Error(
      `compareFitToRaw: spec must be a Dense-stack training workload, got ${spec.name} (${spec.kind}, loss ${spec.loss})`,
    );
  const loss = spec.loss;
  if (!Number.isInteger(args.runs) || args.runs < 1)
    throw new Error(`compareFitToRaw: runs must be an integer >= 1, got ${args.runs}`);
  const seed = args.seed ?? 0;
  const steps = workloadSteps(spec);
  const tensorsBefore = tf.memory().numTensors;
  const model = layersModel(spec, seed);
  const init = model.getWeights().map((w) => w.clone());
  const fitArgs = {
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    seed,
    optimizer: "adam" as const,
    learningRate: BENCH_LEARNING_RATE,
    loss,
    target: loss === "mse" ? ("inputs" as const) : ("labels" as const),
    progress: false as const,
  };
  let maxWeightDiff = NaN;
  let kernelsPerStep: FitComparison["kernelsPerStep"] = {
    rawOps: { kernels: 0, matmuls: 0 },
    layers: { kernels: 0, matmuls: 0 },
  };
  const once: Record<LoopVariant, () => Promise<void>> = {
    "raw-ops": async () => {
      const runner = rawTrainRunner(spec, data, seed, buildRawNet(spec, seed, init));
      await runRaw(runner, steps);
      runner.dispose();
    },
    "raw-layers": async () => {
      model.setWeights(init);
      const runner = rawTrainRunner(spec, data, seed, layersNet(model));
      await runRaw(runner, steps);
      runner.dispose();
    },
    fit: async () => {
      model.setWeights(init);
      await fit(model, data, fitArgs);
    },
  };
  const wall: Record<LoopVariant, number[]> = { "raw-ops": [], "raw-layers": [], fit: [] };
  const cpu: Record<LoopVariant, number[]> = { "raw-ops": [], "raw-layers": [], fit: [] };
  try {
    // Warm-up: a few steps of each path (kernel set-up), then a weight check on one full run.
    const warm = rawTrainRunner(spec, data, seed, buildRawNet(spec, seed, init));
    await runRaw(warm, 2);
    warm.dispose();
    model.setWeights(init);
    await fit(model, { ...data, n: Math.min(data.n, 2 * spec.batchSize) }, { ...fitArgs, epochs: 1 });
    maxWeightDiff = await weightDiffAfterTraining(spec, data, seed, init, model, fitArgs);
    kernelsPerStep = await countKernels(spec, data, seed, init, model);
    for (let r = 0; r < args.runs; r++) {
      for (let k = 0; k < LOOP_VARIANTS.length; k++) {
        const v = LOOP_VARIANTS[(k + r) % LOOP_VARIANTS.length];
        const t = await timed(once[v]);
        wall[v].push(t.wall);
        cpu[v].push(t.cpu);
      }
    }
  } finally {
    init.forEach((t) => t.dispose());
    model.dispose();
  }
  const seconds = {
    "raw-ops": median(wall["raw-ops"]),
    "raw-layers": median(wall["raw-layers"]),
    fit: median(wall.fit),
  };
  const cpuSeconds = {
    "raw-ops": median(cpu["raw-ops"]),
    "raw-layers": median(cpu["raw-layers"]),
    fit: median(cpu.fit),
  };
  return {
    workload: spec.name,
    seconds,
    cpuSeconds,
    overhead: seconds.fit / seconds["raw-layers"] - 1,
    cpuOverhead: cpuSeconds.fit / cpuSeconds["raw-layers"] - 1,
    opsOverhead: seconds.fit / seconds["raw-ops"] - 1,
    cpuOpsOverhead: cpuSeconds.fit / cpuSeconds["raw-ops"] - 1,
    kernelsPerStep,
    maxWeightDiff,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
  };
}

/** Trains once with raw ops and once with fit from the same weights; max |difference|. */
async function weightDiffAfterTraining(
  spec: WorkloadSpec,
  data: Dataset,
  seed: number,
  init: tf.Tensor[],
  model: tf.LayersModel,
  fitArgs: Parameters<typeof fit>[2],
): Promise<number> {
  const net = buildRawNet(spec, seed, init);
  const runner = rawTrainRunner(spec, data, seed, net);
  await runRaw(runner, workloadSteps(spec));
  model.setWeights(init);
  await fit(model, data, fitArgs);
  const fitted = model.getWeights();
  const diff = tf.tidy(() => Math.max(...net.vars.map((v, i) => tf.max(tf.abs(tf.sub(v, fitted[i]))).dataSync()[0])));
  runner.dispose();
  return diff;
}

/** Kernels one training step launches (tf.profile), hand-written ops vs the layers model. */
async function countKernels(
  spec: WorkloadSpec,
  data: Dataset,
  seed: number,
  init: tf.Tensor[],
  model: tf.LayersModel,
): Promise<FitComparison["kernelsPerStep"]> {
  const count = async (runner: StepRunner) => {
    const p = await tf.profile(() => runner.run(1));
    runner.dispose();
    // Fused matmuls appear twice in a profile (the op and its kernel): count kernels only.
    const mm = p.kernels.filter((k) => k.name === "BatchMatMul" || k.name === "_FusedMatMul").length;
    return { kernels: p.kernels.length, matmuls: mm };
  };
  model.setWeights(init);
  return {
    rawOps: await count(rawTrainRunner(spec, data, seed, buildRawNet(spec, seed, init))),
    layers: await count(rawTrainRunner(spec, data, seed, layersNet(model))),
  };
}
