// Fine-tuning schedules on top of fit(): discriminative learning rates (η_l = η_0 · α^(L−l),
// ULMFiT), two-phase fine-tuning (head first, then the base at a lower rate) and progressive
// unfreezing (top layer first, one more layer each stage).
import * as tf from "@tensorflow/tfjs";
import { fit, type FitArgs, type History } from "../train/fit";
import type { Dataset } from "../data/types";
import { FREEZE_RATIO_MEANING, freezeRatio, freezeTo, weightedLayers } from "./freezing";
import { checkDataset, checkNonNegativeInt, checkPositiveFinite, checkRatio } from "../core/validate";

/** ULMFiT's factor between neighbouring layers (η_{l-1} = η_l / 2.6). */
export const DEFAULT_ALPHA = 1 / 2.6;

/**
 * Learning-rate multipliers for fit's `layerLearningRates`: weighted layer l of L (1 = bottom,
 * L = head) gets α^(L−l), so η_l = η_0 · α^(L−l). With α < 1 the lower layers move less.
 */
export function discriminativeMultipliers(model: tf.LayersModel, alpha: number = DEFAULT_ALPHA): Record<string, number> {
  checkPositiveFinite("discriminativeMultipliers", "alpha", alpha, "typical: 1/2.6 ≈ 0.38; 1 = one rate for all");
  const ws = weightedLayers(model);
  const L = ws.length;
  const out: Record<string, number> = {};
  ws.forEach((layer, i) => {
    out[layer.name] = Math.pow(alpha, L - (i + 1));
  });
  return out;
}

/** The absolute rate of every weighted layer: η_0 · α^(L−l). */
export function discriminativeRates(model: tf.LayersModel, learningRate: number, alpha: number = DEFAULT_ALPHA): Record<string, number> {
  checkPositiveFinite("discriminativeRates", "learningRate", learningRate);
  const m = discriminativeMultipliers(model, alpha);
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, learningRate * v]));
}

/** Histories of consecutive fit calls joined into one learning curve. */
export function concatHistories(parts: History[]): History {
  const out: History = { loss: [], secondsPerEpoch: [], seconds: 0, trainableParams: 0, steps: 0 };
  const hasVal = parts.some((p) => p.valAccuracy);
  if (hasVal) out.valAccuracy = [];
  for (const p of parts) {
    out.loss.push(...p.loss);
    out.secondsPerEpoch.push(...p.secondsPerEpoch);
    if (hasVal) out.valAccuracy!.push(...(p.valAccuracy ?? p.loss.map(() => NaN)));
    out.seconds += p.seconds;
    out.steps += p.steps;
    out.trainableParams = Math.max(out.trainableParams, p.trainableParams);
  }
  return out;
}

export interface TwoPhaseArgs extends Omit<FitArgs, "epochs" | "learningRate"> {
  /** Phase 1: epochs training the head only (base frozen). */
  headEpochs: number;
  /** Phase 1 learning rate (the fresh head can take a large one). */
  headLearningRate: number;
  /** Phase 2: epochs with the base unfrozen. */
  epochs: number;
  /** Phase 2 learning rate, lower, so the pretrained base is nudged rather than overwritten. */
  learningRate: number;
  /** Phase 2 freezes this bottom fraction of the base (default 0: everything trains). */
  freezeRatio?: number;
}

/** Head first (base frozen), then unfreeze (down to `freezeRatio`) at the lower rate. */
export async function twoPhaseFineTune(model: tf.LayersModel, data: Dataset, args: TwoPhaseArgs): Promise<{ head: History; full: History; all: History }> {
  const { headEpochs, headLearningRate, epochs, learningRate, freezeRatio: r, ...rest } = args;
  // Checked before the first freeze, so a bad call leaves the model as it was.
  checkNonNegativeInt("twoPhaseFineTune", "headEpochs", headEpochs);
  checkPositiveFinite("twoPhaseFineTune", "headLearningRate", headLearningRate);
  checkNonNegativeInt("twoPhaseFineTune", "epochs", epochs);
  checkPositiveFinite("twoPhaseFineTune", "learningRate", learningRate);
  if (r !== undefined) checkRatio("twoPhaseFineTune", "freezeRatio", r, FREEZE_RATIO_MEANING);
  checkDataset("twoPhaseFineTune", "data", data);
  freezeTo(model, -1);
  const head = await fit(model, data, { ...rest, epochs: headEpochs, learningRate: headLearningRate, seed: (rest.seed ?? 0) * 2 + 1 });
  freezeRatio(model, r ?? 0);
  const full = await fit(model, data, { ...rest, epochs, learningRate });
  return { head, full, all: concatHistories([head, full]) };
}

/** Layer names trainable at each stage of progressive unfreezing: stage 0 the top weighted
 * layer, stage s the top s+1; `stages` defaults to one per weighted layer (the last trains all). */
export function progressiveStages(model: tf.LayersModel, stages?: number): string[][] {
  const names = weightedLayers(model).map((l) => l.name);
  const n = stages ?? names.length;
  if (!Number.isInteger(n) || n < 1 || n > names.length) {
    throw new Error(`progressiveUnfreeze: stages must be an integer in [1, ${names.length}] (one per weighted layer at most), got ${n}`);
  }
  return Array.from({ length: n }, (_, s) => names.slice(names.length - (s + 1)));
}

export interface ProgressiveArgs extends Omit<FitArgs, "epochs"> {
  /** Epochs per stage. */
  epochsPerStage: number;
  /** Number of stages (default: one per weighted layer). */
  stages?: number;
  /** Called before each stage with the layers that will train. */
  onStage?: (stage: number, trainable: string[]) => void;
}

/** Progressive unfreezing (ULMFiT): train the top layer, then the top two, ... one more layer per
 * stage. Each stage is one fit() call (fresh optimizer state). */
export async function progressiveUnfreeze(
  model: tf.LayersModel,
  data: Dataset,
  args: ProgressiveArgs,
): Promise<{ stages: { trainable: string[]; history: History }[]; all: History }> {
  const { epochsPerStage, stages, onStage, ...rest } = args;
  checkNonNegativeInt("progressiveUnfreeze", "epochsPerStage", epochsPerStage);
  checkDataset("progressiveUnfreeze", "data", data);
  const plan = progressiveStages(model, stages);
  const L = weightedLayers(model).length;
  const out: { trainable: string[]; history: History }[] = [];
  for (let s = 0; s < plan.length; s++) {
    freezeTo(model, L - plan[s].length);
    onStage?.(s, plan[s]);
    const history = await fit(model, data, { ...rest, epochs: epochsPerStage, seed: (rest.seed ?? 0) * 100 + s });
    out.push({ trainable: plan[s], history });
  }
  return { stages: out, all: concatHistories(out.map((o) => o.history)) };
}
