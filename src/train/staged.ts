// Fine-tuning in stages on top of fit(): two-phase fine-tuning (head first, then the base at a lower
// rate) and progressive unfreezing (top layer first, one more layer each stage, ULMFiT), with their
// histories joined into one learning curve.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkDataset } from "../data/check";
import { checkNonNegativeInt, checkPositiveFinite, checkRatio } from "../core/validate";
import { FREEZE_RATIO_MEANING, freezeRatio, freezeTo, weightedLayers } from "../adapt/freezing";
import { progressiveStages } from "../adapt/schedules";
import { fit, type FitArgs, type History } from "./fit";

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
export async function twoPhaseFineTune(
  model: tf.LayersModel,
  data: Dataset,
  args: TwoPhaseArgs,
): Promise<{ head: History; full: History; all: History }> {
  const { headEpochs, headLearningRate, epochs, learningRate, freezeRatio: r, ...rest } = args;
  // Checked before the first freeze, so a bad call leaves the model as it was.
  checkNonNegativeInt("twoPhaseFineTune", "headEpochs", headEpochs);
  checkPositiveFinite("twoPhaseFineTune", "headLearningRate", headLearningRate);
  checkNonNegativeInt("twoPhaseFineTune", "epochs", epochs);
  checkPositiveFinite("twoPhaseFineTune", "learningRate", learningRate);
  if (r !== undefined) checkRatio("twoPhaseFineTune", "freezeRatio", r, FREEZE_RATIO_MEANING);
  checkDataset("twoPhaseFineTune", "data", data);
  freezeTo(model, -1);
  const head = await fit(model, data, {
    ...rest,
    epochs: headEpochs,
    learningRate: headLearningRate,
    seed: (rest.seed ?? 0) * 2 + 1,
  });
  freezeRatio(model, r ?? 0);
  const full = await fit(model, data, { ...rest, epochs, learningRate });
  return { head, full, all: concatHistories([head, full]) };
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
