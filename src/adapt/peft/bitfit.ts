// BitFit (Ben Zaken et al. 2021): train only the bias terms. Here every bias of the model below the
// head: Dense biases and the LayerNorm/BatchNorm betas (the additive terms); kernels, LayerNorm
// gammas and the position embedding stay frozen. Trainability is per weight: a layer with a bias
// stays `trainable` while its kernel's LayerVariable is switched off, which layer.trainableWeights
// (and so fit(), countParams, snapshotWeights) honours. The model holds plain layers, so "merging"
// is a clone with every weight trainable again.
import * as tf from "@tensorflow/tfjs";
import { copySharedWeights, modelConfig, modelFromConfig, setConfigTrainable } from "./graph";

/** A layer's parameters (trainable-kind weights), frozen or not (the public getter hides them once frozen). */
export function layerParams(layer: tf.layers.Layer): tf.LayerVariable[] {
  return (layer as unknown as { _trainableWeights: tf.LayerVariable[] })._trainableWeights;
}

/** Whether a weight is an additive bias term: a Dense `bias` or a normalisation layer's `beta`. */
export function isBiasWeight(w: tf.LayerVariable): boolean {
  const last = w.originalName.split("/").pop();
  return last === "bias" || last === "beta";
}

function sizeOf(shape: (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** The bias weights BitFit trains: every bias and beta of every layer but `head`. */
export function bitfitWeights(model: tf.LayersModel, head: string | null): tf.LayerVariable[] {
  return model.layers.filter((l) => l.name !== head).flatMap((l) => layerParams(l).filter(isBiasWeight));
}

/** Parameters BitFit trains on `base` (head excluded). */
export function bitfitCount(base: tf.LayersModel, head: string): number {
  return bitfitWeights(base, head).reduce((s, w) => s + sizeOf(w.shape), 0);
}

/** A copy of `base` in which only the biases (and the head, when `trainHead` names it) train. */
export function applyBitFit(base: tf.LayersModel, head: string, trainHead: boolean): tf.LayersModel {
  const config = modelConfig(base);
  setConfigTrainable(config, () => true);
  const out = modelFromConfig(config);
  copySharedWeights(base, out);
  for (const l of out.layers) {
    if (l.name === head) {
      if (!trainHead) l.trainable = false;
      continue;
    }
    const params = layerParams(l);
    if (params.some(isBiasWeight)) {
      for (const w of params) w.trainable = isBiasWeight(w);
    } else {
      l.trainable = false;
    }
  }
  return out;
}

/** A plain copy of a model with every layer and weight trainable (BitFit's merge: nothing to fold). */
export function plainClone(model: tf.LayersModel): tf.LayersModel {
  const config = modelConfig(model);
  setConfigTrainable(config, () => true);
  const out = modelFromConfig(config);
  copySharedWeights(model, out);
  return out;
}
