// BitFit (Ben Zaken et al. 2021): train only the bias terms. Here every bias of the model below the
// head: Dense biases and the LayerNorm/BatchNorm betas (the additive terms); kernels, LayerNorm
// gammas and the position embedding stay frozen. Trainability is per weight: a layer with a bias
// stays `trainable` while its kernel's LayerVariable is switched off, which layer.trainableWeights
// (and so fit(), countParams, snapshotWeights) honours. The model holds plain layers, so "merging"
// is a clone with every weight trainable again.
//
// TRAPS of per-weight trainability in tfjs (and how this file defuses them):
// 1. `layer.trainable = v` and `model.trainable = v` write v into EVERY weight's own flag, so a later
//    freeze/unfreeze call would silently turn BitFit into full fine-tuning. Every non-head layer of a
//    BitFit model therefore has its non-bias weights pinned frozen (src/models/surgery.ts pinFrozen:
//    instance accessors, as LoraDense has by subclassing, that re-freeze them whenever the weights
//    are listed and after every `trainable` write); cloneModel keeps the pins. A model rebuilt from
//    the config (tf.loadLayersModel, fromConfig) loses them: the config has no per-weight flags.
// 2. tfjs orders a layer's `weights` trainable-first, so a frozen kernel would come AFTER its bias in
//    getWeights() ([bias, kernel]; LayerNorm [beta, gamma]). Pinned layers keep the declared order,
//    but a model's getWeights() still lists every trainable weight of the model first: copy weights
//    by name (graph.ts copySharedWeights, surgery.ts copyWeightsByName), never by position.
// mergePeft's output (plainClone) is a plain model with every weight trainable and nothing pinned.
import * as tf from "@tensorflow/tfjs";
import { ownWeightName, pinFrozen } from "../../models/surgery";
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
    if (!params.some(isBiasWeight)) l.trainable = false;
    // Pinned: neither layer.trainable = true nor model.trainable = true can unfreeze them (header, trap 1).
    const frozen = params.filter((w) => !isBiasWeight(w)).map(ownWeightName);
    if (frozen.length) pinFrozen(l, frozen);
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
