// BatchNormalization when frozen. tfjs 4.22 ignores `trainable` in BatchNormalization.call: with
// {training: true} a frozen BN layer still normalizes with the batch's statistics and still
// updates its moving mean/variance. Keras (TF ≥ 2) runs a frozen BN layer in inference mode.
// followKerasBatchNormRule makes a model obey Keras' rule; probeFrozenBatchNorm measures both.
import * as tf from "@tensorflow/tfjs";
import { normalSampler, rng } from "../core/random";

/** Marks a BN layer whose `call` already follows Keras' rule. */
const PATCHED = Symbol.for("transfer-lab.kerasBatchNormRule");

type Kwargs = Record<string, unknown>;
type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];
interface CallableLayer {
  call: Call;
  /** The layer's own call, kept while the rule is installed. */
  [PATCHED]?: Call;
}

/** The model's BatchNormalization layers (top level), bottom to top. */
export function batchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() === "BatchNormalization");
}

/**
 * Makes every BatchNormalization layer of the model follow Keras' rule: while the layer is
 * frozen (`trainable = false`) it runs in inference mode — moving statistics, no updates —
 * even when the model is applied with {training: true}. Reads `trainable` at each call, so
 * later freezing/unfreezing takes effect at once. Idempotent; returns the number of BN layers.
 * The library's builders and freezing functions call it; a plain tfjs model does not follow it.
 */
export function followKerasBatchNormRule(model: tf.LayersModel): number {
  const bns = batchNormLayers(model);
  for (const layer of bns) {
    const l = layer as unknown as CallableLayer;
    if (l[PATCHED]) continue;
    const original = l.call.bind(l);
    l.call = (inputs, kwargs) => original(inputs, { ...kwargs, training: Boolean(kwargs?.training) && layer.trainable });
    l[PATCHED] = original;
  }
  return bns.length;
}

/** Puts plain tfjs behaviour back (frozen BN keeps using batch statistics and updating its moving
 * statistics in training): only for demonstrating the pitfall. Returns the number of BN layers. */
export function withoutKerasBatchNormRule(model: tf.LayersModel): number {
  const bns = batchNormLayers(model);
  for (const layer of bns) {
    const l = layer as unknown as CallableLayer;
    const original = l[PATCHED];
    if (!original) continue;
    l.call = original;
    delete l[PATCHED];
  }
  return bns.length;
}

/** True when the layer's call follows Keras' rule (see followKerasBatchNormRule). */
export function followsKerasBatchNormRule(layer: tf.layers.Layer): boolean {
  return Boolean((layer as unknown as CallableLayer)[PATCHED]);
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
  /** Apply followKerasBatchNormRule first (the library's behaviour) or not (plain tfjs). */
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
  const bn = tf.layers.batchNormalization({ momentum: 0.5 });
  const model = tf.model({ inputs: input, outputs: bn.apply(input) as tf.SymbolicTensor });
  if (args.kerasRule) followKerasBatchNormRule(model);
  bn.trainable = false;
  const result = tf.tidy(() => {
    // Drawn in JS: tf.randomNormal treats seed 0 as "no seed" (tfjs-core 4.22), so it would not repeat.
    const gauss = normalSampler(rng(`bn-probe:${args.seed ?? 0}`));
    const x = tf.tensor2d(Float32Array.from({ length: 32 * units }, () => 3 + 2 * gauss()), [32, units]); // [32, units], mean ≈ 3
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
