// BatchNormalization when frozen: the probe that shows what a frozen BN layer does in training
// (plain tfjs: batch statistics, moving statistics updated; Keras' rule: inference mode), and the
// switch back to plain tfjs behaviour that lesson 03 uses to demonstrate the pitfall. The layer
// itself is models/batchnorm.ts's KerasBatchNormalization.
import * as tf from "@tensorflow/tfjs";
import { normalSampler, rng } from "../core/random";
import { batchNormLayers, KerasBatchNormalization, kerasBatchNormalization } from "../models/batchnorm";

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
