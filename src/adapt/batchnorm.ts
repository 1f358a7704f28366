// BatchNormalization when frozen: the probe that shows what a frozen BN layer does in training
// (plain tfjs: batch statistics, moving statistics updated; Keras' rule: inference mode), and the
// switch back to plain tfjs behaviour that lesson 03 uses to demonstrate the pitfall. The layer
// itself is models/batchnorm.ts's KerasBatchNormalization. AdaBN (lesson 08): the BN statistics
// re-estimated on unlabeled target images.
import * as tf from "@tensorflow/tfjs";
import { normalSampler, rng } from "../core/random";
import { batchNormLayers, KerasBatchNormalization, kerasBatchNormalization } from "../models/batchnorm";
import { weightNamed } from "../models/surgery";
import type { Dataset } from "../data/types";
import { checkDataset, checkModelTakes } from "../data/check";
import { argError, checkPositiveInt } from "../core/validate";

/** Puts plain tfjs behaviour back on the model's Keras-rule BN layers (a frozen BN layer then uses
 * batch statistics and updates its moving statistics in training), in place and kept by clones and
 * saves: only for demonstrating the pitfall. Returns the number of BN layers switched. */
export function withoutKerasBatchNormRule(model: tf.LayersModel): number {
  const layers = batchNormLayers(model).filter(
    (l): l is KerasBatchNormalization => l instanceof KerasBatchNormalization,
  );
  for (const l of layers) l.kerasRule = false;
  return layers.length;
}

/** What a frozen BN layer did in one {training: true} forward pass. */
export interface FrozenBatchNormBehaviour {
  /** The moving mean or variance changed. */
  updatesMovingStats: boolean;
  /** The output equals normalization with the batch's own mean/variance (training mode). */
  usesBatchStats: boolean;
  /** The output equals normalization with the moving statistics (inference mode). */
  usesMovingStats: boolean;
  /** Largest change of the moving mean in that pass. */
  movingMeanChange: number;
}

export interface ProbeBatchNormArgs {
  /** Keras' rule (the library's behaviour) or plain tfjs. */
  kerasRule: boolean;
  /** Features of the probe batch. */
  units?: number;
  /** Seed of the probe batch. */
  seed?: number;
}

/**
 * Builds a fresh BN layer, freezes it, applies it once with {training: true} to a batch whose
 * mean is far from the moving mean (0), and reports what happened. Leaves no tensors behind.
 */
export function probeFrozenBatchNorm(args: ProbeBatchNormArgs): FrozenBatchNormBehaviour {
  const units = args.units ?? 4;
  const input = tf.input({ shape: [units] });
  const bn = kerasBatchNormalization({ momentum: 0.5, kerasRule: args.kerasRule });
  const model = tf.model({ inputs: input, outputs: bn.apply(input) as tf.SymbolicTensor });
  bn.trainable = false;
  const result = tf.tidy(() => {
    // Drawn in JS: tf.randomNormal treats seed 0 as "no seed" (tfjs-core 4.22), so it would not repeat.
    const gauss = normalSampler(rng(`bn-probe:${args.seed ?? 0}`));
    const x = tf.tensor2d(
      Float32Array.from({ length: 32 * units }, () => 3 + 2 * gauss()),
      [32, units],
    ); // [32, units], mean ≈ 3
    const before = bn.getWeights().map((w) => w.clone()); // gamma, beta, movingMean, movingVariance
    const y = model.apply(x, { training: true }) as tf.Tensor;
    const after = bn.getWeights();
    const { mean, variance } = tf.moments(x, 0);
    const eps = 1e-3; // tfjs BatchNormalization's default epsilon
    const batchNormed = x.sub(mean).div(variance.add(eps).sqrt());
    const movingNormed = x.sub(before[2]).div(before[3].add(eps).sqrt());
    const close = (a: tf.Tensor, b: tf.Tensor) => a.sub(b).abs().max().dataSync()[0] < 1e-3;
    const meanChange = after[2].sub(before[2]).abs().max().dataSync()[0];
    const varChange = after[3].sub(before[3]).abs().max().dataSync()[0];
    return {
      updatesMovingStats: meanChange > 0 || varChange > 0,
      usesBatchStats: close(y, batchNormed),
      usesMovingStats: close(y, movingNormed),
      movingMeanChange: meanChange,
    };
  });
  model.dispose();
  return result;
}

/** What adaptBatchNorm changed in one BN layer. */
export interface AdaBNLayerChange {
  layer: string;
  /** Largest change of the moving mean / variance. */
  meanChange: number;
  varianceChange: number;
}

export interface AdaptBatchNormArgs {
  /** Rows per forward pass (default 512). */
  batchSize?: number;
}

/**
 * AdaBN (Li et al. 2016): re-estimates every BatchNorm layer's moving mean and variance on the
 * target images, bottom to top (each layer's statistics are taken after the layers below it were
 * adapted), in place. γ, β and every other weight stay as they are; no label is read. The model
 * must run its BN layers in inference mode to use them (evaluation does). Leaves no tensors behind.
 */
export function adaptBatchNorm(
  model: tf.LayersModel,
  targetImages: Dataset,
  args: AdaptBatchNormArgs = {},
): AdaBNLayerChange[] {
  const where = "adaptBatchNorm";
  checkDataset(where, "targetImages", targetImages);
  checkModelTakes(where, "targetImages", model, targetImages);
  const batchSize = args.batchSize ?? 512;
  checkPositiveInt(where, "batchSize", batchSize);
  const layers = batchNormLayers(model);
  if (layers.length === 0)
    throw argError(where, "model", "a model with BatchNormalization layers", `${model.name} (none)`);
  const changes: AdaBNLayerChange[] = [];
  for (const bn of layers) {
    // Shares the model's layers: never dispose it. Inference mode below, so the layers under this
    // one use their (already adapted) moving statistics.
    const sub = tf.model({ inputs: model.inputs, outputs: bn.input as tf.SymbolicTensor });
    const units = (bn.input as tf.SymbolicTensor).shape[1] as number;
    const sum = new Float64Array(units);
    const sq = new Float64Array(units);
    for (let from = 0; from < targetImages.n; from += batchSize) {
      const to = Math.min(targetImages.n, from + batchSize);
      const h = tf.tidy(() => {
        const x = tf.tensor2d(targetImages.x.subarray(from * targetImages.dim, to * targetImages.dim), [
          to - from,
          targetImages.dim,
        ]);
        return sub.predict(x) as tf.Tensor2D; // [b, units]: the BN layer's input
      });
      const v = h.dataSync();
      h.dispose();
      for (let i = 0; i < to - from; i++)
        for (let j = 0; j < units; j++) {
          const a = v[i * units + j];
          sum[j] += a;
          sq[j] += a * a;
        }
    }
    const n = targetImages.n;
    const mean = Float32Array.from(sum, (s) => s / n);
    const variance = Float32Array.from(sq, (s, j) => Math.max(0, s / n - mean[j] * mean[j]));
    // By name, not position: tfjs lists a layer's trainable weights first, so freezing gamma alone would reorder them.
    const stat = (name: string): tf.LayerVariable => {
      const w = weightNamed(bn, name);
      if (!w) throw new Error(`adaptBatchNorm: layer ${bn.name} has no weight ${name}`);
      return w;
    };
    const meanVar = stat("moving_mean");
    const varVar = stat("moving_variance");
    const oldMean = meanVar.read();
    const oldVar = varVar.read();
    const diff = (a: tf.Tensor, b: Float32Array) => {
      const old = a.dataSync();
      let m = 0;
      for (let j = 0; j < b.length; j++) m = Math.max(m, Math.abs(old[j] - b[j]));
      return m;
    };
    changes.push({ layer: bn.name, meanChange: diff(oldMean, mean), varianceChange: diff(oldVar, variance) });
    const newMean = tf.tensor1d(mean);
    const newVar = tf.tensor1d(variance);
    meanVar.write(newMean);
    varVar.write(newVar);
    tf.dispose([newMean, newVar]);
  }
  return changes;
}
