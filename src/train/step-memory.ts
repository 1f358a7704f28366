// How much tensor memory one training step needs: the weights, plus the peak the step reaches above
// what was live before it (activations kept for backprop, gradients, Adam's two moment slots per
// weight), read from tf.profile's peakBytes against tf.memory() before the step. Greedy layer-wise
// pretraining trains one autoencoder at a time; end-to-end pretraining the whole stack at once.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkDataset } from "../data/check";
import { gatherRows } from "../data/batches";
import { rng } from "../core/random";
import { argError, checkPositiveInt, show } from "../core/validate";
import { applyDense, buildAutoencoder } from "../models/autoencoder";
import { buildSslNetworks, objectiveLoss, type SslObjective } from "./selfsupervised";

/** One training step's memory, in bytes. */
export interface StepMemory {
  /** The trained weights (float32). */
  weightBytes: number;
  /** The step's peak above what was live before it: activations, gradients, optimizer slots. */
  stepBytes: number;
  /** weightBytes + stepBytes: what training this network needs at its peak. */
  peakBytes: number;
}

/** Peak memory of one Adam step on `vars` minimising `loss` (built inside the step). Leaves no tensors. */
export async function trainingStepMemory(vars: tf.Variable[], loss: () => tf.Scalar): Promise<StepMemory> {
  if (!Array.isArray(vars) || vars.length === 0)
    throw argError("trainingStepMemory", "vars", "a non-empty list of tf.Variable", show(vars));
  const weightBytes = vars.reduce((s, v) => s + 4 * v.size, 0);
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const before = tf.memory().numBytes;
  try {
    const info = await tf.profile(() => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(loss, vars);
        optimizer.applyGradients(grads);
      });
    });
    const stepBytes = Math.max(0, info.peakBytes - before);
    return { weightBytes, stepBytes, peakBytes: weightBytes + stepBytes };
  } finally {
    optimizer.dispose();
  }
}

/** One stage of greedy pretraining, measured: its layer, the width it reads and its step's memory. */
export interface StageMemory extends StepMemory {
  stage: number;
  inputDim: number;
  units: number;
  /** The codes of the whole unlabeled set that the stage trains on (pretrainGreedy's encodeDataset: n ×
   * inputDim float32, computed once and held for the stage; 0 for stage 1, which reads the images
   * themselves, as end-to-end training does). Counted beside the step, not inside tf.profile's peak. */
  codeCacheBytes: number;
  /** peakBytes + codeCacheBytes: what the stage holds at its peak, its input set included. */
  withCodesBytes: number;
}

function firstBatch(data: Dataset, batchSize: number): { x: Float32Array; b: number } {
  const b = Math.min(batchSize, data.n);
  return {
    x: gatherRows(
      data,
      Array.from({ length: b }, (_, i) => i),
    ).x,
    b,
  };
}

/** Step memory of every greedy stage (a tied ReLU autoencoder per layer, as pretrainGreedy builds
 * under the modern recipe: stage 1 reconstructs pixels with a sigmoid decoder and cross-entropy, the
 * others codes with a linear decoder and squared error) on a batch of `data`'s first rows, and the
 * code cache each stage from the second on reads (all of `data`, encoded by the stages below). */
export async function greedyStageMemory(
  data: Dataset,
  sizes: readonly number[],
  batchSize: number,
): Promise<StageMemory[]> {
  const where = "greedyStageMemory";
  checkDataset(where, "data", data);
  checkPositiveInt(where, "batchSize", batchSize);
  sizes.forEach((u, i) => checkPositiveInt(where, `sizes[${i}]`, u));
  let { x, b } = firstBatch(data, batchSize);
  let inputDim = data.dim;
  const out: StageMemory[] = [];
  for (const [i, units] of sizes.entries()) {
    const stage = i + 1;
    const outputActivation = stage === 1 ? "sigmoid" : "linear";
    const ae = buildAutoencoder({ inputDim, units, activation: "relu", outputActivation, tied: true, seed: stage });
    try {
      const vars = ae.trainableWeights.map((w) => w.read() as tf.Variable);
      const input = x;
      const dim = inputDim;
      const m = await trainingStepMemory(vars, () => {
        const t = tf.tensor2d(input, [b, dim]);
        const pred = ae.apply(t, { training: true }) as tf.Tensor;
        return (
          stage === 1 ? tf.metrics.binaryCrossentropy(t, pred).mean() : tf.losses.meanSquaredError(t, pred)
        ) as tf.Scalar;
      });
      const codeCacheBytes = stage === 1 ? 0 : 4 * data.n * inputDim;
      out.push({ stage, inputDim, units, ...m, codeCacheBytes, withCodesBytes: m.peakBytes + codeCacheBytes });
      // The next stage reads this stage's codes (only their width matters for memory).
      const [k, bias] = ae.layers[0].getWeights();
      x = applyDense(
        {
          kernel: k.dataSync() as Float32Array,
          bias: bias.dataSync() as Float32Array,
          inputDim,
          units,
          activation: "relu",
        },
        x,
      );
      inputDim = units;
    } finally {
      ae.dispose();
    }
  }
  return out;
}

/** Step memory of end-to-end pretraining of the whole encoder with `objective` (the same widths). */
export async function endToEndMemory(
  data: Dataset,
  sizes: readonly number[],
  batchSize: number,
  objective: SslObjective = "denoising",
): Promise<StepMemory> {
  const where = "endToEndMemory";
  checkDataset(where, "data", data);
  checkPositiveInt(where, "batchSize", batchSize);
  const nets = buildSslNetworks(objective, data.dim, sizes);
  try {
    const { x, b } = firstBatch(data, batchSize);
    const vars = [...nets.encoder.trainableWeights, ...nets.head.trainableWeights].map((w) => w.read() as tf.Variable);
    return await trainingStepMemory(vars, objectiveLoss({ objective }, nets, x, b, data.dim, 0, rng("memory")));
  } finally {
    nets.encoder.dispose();
    nets.head.dispose();
  }
}
