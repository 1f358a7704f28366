// Learning-rate schedules over a model's layers: discriminative learning rates (η_l = η_0 ·
// d^(L−l), ULMFiT) and the stages of progressive unfreezing (top layer first, one more each stage).
// The loops that train by them are in train/staged.ts.
import * as tf from "@tensorflow/tfjs";
import { weightedLayers } from "./freezing";
import { checkPositiveFinite } from "../core/validate";

/** ULMFiT's factor between neighbouring layers (η_{l-1} = η_l / 2.6). */
export const DEFAULT_LAYER_DECAY = 1 / 2.6;

/**
 * Learning-rate multipliers for fit's `layerLearningRates`: weighted layer l of L (1 = bottom,
 * L = head) gets d^(L−l), so η_l = η_0 · d^(L−l). With d = layerDecay < 1 the lower layers move less.
 */
export function discriminativeMultipliers(
  model: tf.LayersModel,
  layerDecay: number = DEFAULT_LAYER_DECAY,
): Record<string, number> {
  checkPositiveFinite(
    "discriminativeMultipliers",
    "layerDecay",
    layerDecay,
    "typical: 1/2.6 ≈ 0.38; 1 = one rate for all",
  );
  const ws = weightedLayers(model);
  const L = ws.length;
  const out: Record<string, number> = {};
  ws.forEach((layer, i) => {
    out[layer.name] = Math.pow(layerDecay, L - (i + 1));
  });
  return out;
}

/** The absolute rate of every weighted layer: η_0 · d^(L−l). */
export function discriminativeRates(
  model: tf.LayersModel,
  learningRate: number,
  layerDecay: number = DEFAULT_LAYER_DECAY,
): Record<string, number> {
  checkPositiveFinite("discriminativeRates", "learningRate", learningRate);
  const m = discriminativeMultipliers(model, layerDecay);
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, learningRate * v]));
}

/** Layer names trainable at each stage of progressive unfreezing: stage 0 the top weighted
 * layer, stage s the top s+1; `stages` defaults to one per weighted layer (the last trains all). */
export function progressiveStages(model: tf.LayersModel, stages?: number): string[][] {
  const names = weightedLayers(model).map((l) => l.name);
  const n = stages ?? names.length;
  if (!Number.isInteger(n) || n < 1 || n > names.length) {
    throw new Error(
      `progressiveUnfreeze: stages must be an integer in [1, ${names.length}] (one per weighted layer at most), got ${n}`,
    );
  }
  return Array.from({ length: n }, (_, s) => names.slice(names.length - (s + 1)));
}
