// Evaluation of transfer runs: accuracy, per-class accuracy and the confusion matrix (with its
// heatmap), zero-shot accuracy of the source model on task B, and forgetting — task-A accuracy
// of the tuned base seen through its original task-A head, on held-out task-A data.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { heatmap, type PlotSpec } from "../show/plot";
import { showPlot } from "../show/plotly";
import { withHeadOf } from "../models/surgery";
import { predictLabels } from "../models/predict";
import { checkPositiveInt } from "../core/validate";
import { checkDataset, checkModelTakes } from "../data/check";

/** confusion[t][p]: examples of true class t predicted as p. */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  numClasses: number,
): number[][] {
  checkPositiveInt("confusionMatrix", "numClasses", numClasses);
  if (labels.length !== predicted.length) {
    throw new Error(
      `confusionMatrix: labels (${labels.length}) and predictions (${predicted.length}) must be equally long`,
    );
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predicted[i];
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) {
      throw new Error(`confusionMatrix: example ${i} has label ${t} / prediction ${p}, outside 0..${numClasses - 1}`);
    }
    m[t][p]++;
  }
  return m;
}

/** Accuracy of each true class (NaN for a class with no examples). */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[c] / n : NaN;
  });
}

export interface Evaluation {
  accuracy: number;
  perClass: number[];
  /** confusion[true][predicted]. */
  confusion: number[][];
  n: number;
}

/** Accuracy, per-class accuracy and confusion matrix of a classifier on a labelled dataset. */
export function evaluateModel(model: tf.LayersModel, data: Dataset): Evaluation {
  checkDataset("evaluateModel", "data", data);
  checkModelTakes("evaluateModel", "data", model, data);
  const pred = predictLabels(model, data);
  const confusion = confusionMatrix(data.y, pred, data.numClasses);
  const correct = confusion.reduce((s, row, c) => s + row[c], 0);
  return { accuracy: correct / data.n, perClass: perClassAccuracy(confusion), confusion, n: data.n };
}

export interface ConfusionPlotArgs {
  title?: string;
  /** Show row-normalized rates (each row sums to 1) instead of counts. */
  normalize?: boolean;
}

/** The confusion matrix as a heatmap spec (rows true class, columns predicted). */
export function confusionHeatmap(confusion: number[][], args: ConfusionPlotArgs = {}): PlotSpec {
  const z = args.normalize
    ? confusion.map((row) => {
        const n = row.reduce((a, b) => a + b, 0);
        return row.map((v) => (n ? v / n : 0));
      })
    : confusion;
  return heatmap({ z, title: args.title ?? "confusion matrix", xTitle: "predicted", yTitle: "true", digits: 2 });
}

/** Displays the confusion matrix heatmap. */
export function plotConfusion(confusion: number[][], args: ConfusionPlotArgs = {}): void {
  showPlot(confusionHeatmap(confusion, args));
}

/** Accuracy of the untouched source model on task B (the classes are shared, so its head applies). */
export function zeroShotAccuracy(source: tf.LayersModel, targetTest: Dataset): number {
  if (source.outputs[0].shape[1] !== targetTest.numClasses) {
    throw new Error(
      `zeroShotAccuracy: the source head has ${source.outputs[0].shape[1]} classes, task B ${targetTest.numClasses}; zero-shot needs shared classes`,
    );
  }
  return evaluateModel(source, targetTest).accuracy;
}

/** Name tags of held-out splits (makeTransferTasks names them `source/test`, `target/test`). */
const HELD_OUT = /(^|\/)test$|\/test\b/;

export interface ForgettingArgs {
  /** The model after fine-tuning on task B (its head may be fresh or tuned). */
  tuned: tf.LayersModel;
  /** The source model before fine-tuning; its head is the original task-A head. */
  source: tf.LayersModel;
  /** Held-out task-A data (e.g. tasks.source.test); a training split is rejected. */
  taskATest: Dataset;
  /** Task-A training rows (baseIndices), to prove `taskATest` shares none of them; without
   * them the split must be named like a test split (`.../test`). */
  taskATrainRows?: Int32Array;
}

export interface Forgetting {
  /** Source model's task-A accuracy (before). */
  before: number;
  /** Tuned base + original task-A head, task-A accuracy (after): the retention. */
  retention: number;
  /** before − retention, in accuracy points (fraction). */
  forgetting: number;
}

/** Task-A retention: the tuned base's accuracy on held-out clean digits through the original
 * task-A head (measureForgetting without re-scoring the unchanged source). */
export function taskARetention(args: ForgettingArgs, where = "taskARetention"): number {
  const { tuned, source, taskATest } = args;
  const rows = (taskATest as Dataset & { baseIndices?: Int32Array }).baseIndices;
  if (args.taskATrainRows) {
    if (!rows)
      throw new Error(
        `${where}: taskATest ${JSON.stringify(taskATest.name)} has no baseIndices, so it cannot be checked against taskATrainRows`,
      );
    const train = new Set(args.taskATrainRows);
    const shared = rows.filter((r) => train.has(r)).length;
    if (shared > 0)
      throw new Error(
        `${where}: taskATest shares ${shared} images with task A's training split; use the held-out split (tasks.source.test)`,
      );
  } else if (!HELD_OUT.test(taskATest.name)) {
    throw new Error(
      `${where}: taskATest must be held-out task-A data (e.g. tasks.source.test), got ${JSON.stringify(taskATest.name)}; pass taskATrainRows to prove a custom split is held out`,
    );
  }
  const probe = withHeadOf(tuned, source);
  try {
    return evaluateModel(probe, taskATest).accuracy;
  } finally {
    probe.dispose();
  }
}

/** Forgetting of task A: how much worse the tuned base does on held-out clean digits through
 * the original task-A head. Frozen layers keep task A intact; moved layers erode it. */
export function measureForgetting(args: ForgettingArgs): Forgetting {
  const retention = taskARetention(args, "measureForgetting");
  const before = evaluateModel(args.source, args.taskATest).accuracy;
  return { before, retention, forgetting: before - retention };
}
