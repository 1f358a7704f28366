// Training an autoencoder to reconstruct its clean inputs from masked ones (denoising, Vincent
// et al. 2008): the masking noise and the loop, which is fit() with the inputs as the target.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkDataset, checkModelTakes } from "../data/check";
import { argError, checkNonNegativeInt, checkOneOf, show } from "../core/validate";
import type { ProgressReporter } from "../core/progress";
import type { OptimizerName } from "../models/recipes";
import { TiedAutoencoder } from "../models/autoencoder";
import { fit, type History } from "./fit";

/**
 * Masking noise for denoising autoencoders: each entry is zeroed with probability `level`
 * (the rest kept as is). Seeded per step, so a run is reproducible. For fit's inputTransform.
 */
export function maskingNoise(level: number, seed = 0): (x: tf.Tensor2D, step: number) => tf.Tensor2D {
  if (!(level >= 0 && level < 1)) throw new Error(`maskingNoise: level must be in [0, 1), got ${level} (0 = no noise)`);
  return (x, step) => {
    if (level === 0) return x.clone();
    // keep = 1[u >= level], u ~ U[0, 1): [b, d]
    const keep = tf
      .randomUniform(x.shape, 0, 1, "float32", seed * 1_000_003 + step)
      .greaterEqual(level)
      .toFloat();
    return x.mul(keep) as tf.Tensor2D;
  };
}

export interface TrainAutoencoderArgs {
  /** Passes over the data. */
  epochs: number;
  /** Masking-noise level in [0, 1); 0 trains a plain autoencoder. */
  noise?: number;
  /** Optimizer (fit's default: adam). */
  optimizer?: OptimizerName;
  /** Learning rate (fit's default: 1e-3). */
  learningRate?: number;
  /** Examples per step (fit's default: 64). */
  batchSize?: number;
  /** Seeds the batch order and the noise masks. */
  seed?: number;
  /** Reconstruction loss; default bce for a sigmoid decoder, mse for a linear one. */
  loss?: "bce" | "mse";
  /** Shows the run's progress (fit's `progress`). */
  progress?: ProgressReporter | false;
  /** Stage of a larger job, for the progress line (fit's `stage`). */
  stage?: string;
}

/** Trains an autoencoder to reconstruct the clean inputs from (optionally) masked ones. */
export async function trainAutoencoder(
  model: tf.LayersModel,
  data: Dataset,
  args: TrainAutoencoderArgs,
): Promise<History> {
  const where = "trainAutoencoder";
  checkNonNegativeInt(where, "epochs", args.epochs);
  if (args.noise !== undefined && !(args.noise >= 0 && args.noise < 1))
    throw argError(where, "noise", "a number in [0, 1)", show(args.noise), "0 = plain autoencoder");
  if (args.loss !== undefined) checkOneOf(where, "loss", args.loss, ["bce", "mse"] as const);
  checkDataset(where, "data", data);
  checkModelTakes(where, "data", model, data);
  const outAct =
    model.layers[0] instanceof TiedAutoencoder
      ? (model.layers[0] as TiedAutoencoder).outputActivation
      : (model.layers[model.layers.length - 1].getConfig().activation as string);
  const loss = args.loss ?? (outAct === "sigmoid" ? "bce" : "mse");
  const noise = args.noise ?? 0;
  return fit(model, data, {
    epochs: args.epochs,
    batchSize: args.batchSize,
    optimizer: args.optimizer,
    learningRate: args.learningRate,
    seed: args.seed,
    loss,
    target: "inputs",
    inputTransform: noise > 0 ? maskingNoise(noise, args.seed ?? 0) : undefined,
    progress: args.progress,
    stage: args.stage,
  });
}
