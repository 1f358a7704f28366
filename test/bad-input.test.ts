// Bad input at the public boundary: one table of bad calls across the lessons' functions. Each
// error must name the parameter, print the value and say what is allowed; a rejected call must
// leave tf.memory().numTensors unchanged (checks run before any tensor is built).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as tf from "@tensorflow/tfjs";
import * as tl from "./helpers/lib";
import type { Dataset } from "../src/data/types";
import { blobs } from "./helpers/fixtures";
import { fakeMnist, idxBytes, tempDir, writeIdx } from "./data/idx-helpers";

interface BadCase {
  name: string;
  call: () => unknown;
  /** Parameter as the message names it. */
  param: string;
  /** The bad value as the message prints it. */
  value: string;
  /** What is allowed, as the message says it. */
  allowed: string;
}

// Models and data shared by the cases, built once (outside the leak check).
let mlp: tf.LayersModel; // 12 -> 8 -> 6 -> 4 -> 3, layers hidden1..3 + head
let src16: tf.LayersModel; // the same on 16 = 4×4 pixels, the source of the transfer runs
let vit: tf.LayersModel; // tiny ViT on 4×4 images, 1 block
let ae: tf.LayersModel; // autoencoder 16 -> 4 -> 16
let images3d: tf.Tensor; // [2, 4, 4]: images not flattened
let flat16: tf.Tensor2D; // [1, 16]: one flat 4×4 image
let tasks: tl.TransferTasks;
let data12: Dataset;
let data16: Dataset;
let dir: string;
const empty = (dim: number): Dataset => ({
  x: new Float32Array(0),
  y: new Int32Array(0),
  n: 0,
  dim,
  numClasses: 3,
  name: "empty",
});
const recipe = () => tl.getRecipe("modern");
const budget = { epochs: 1, minSteps: 1 };

/** Runs `f` with environment variable `name` set to `value`, restoring it after. */
function withEnv<T>(name: string, value: string, f: () => T): T {
  const saved = process.env[name];
  process.env[name] = value;
  const restore = () => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  };
  try {
    const out = f();
    if (out instanceof Promise) return out.finally(restore) as T;
    restore();
    return out;
  } catch (e) {
    restore();
    throw e;
  }
}

beforeAll(() => {
  mlp = tl.buildSourceModel({ hiddenUnits: [8, 6, 4], inputDim: 12, numClasses: 3 });
  src16 = tl.buildSourceModel({ hiddenUnits: [8, 6, 4], inputDim: 16, numClasses: 3 });
  vit = tl.buildViT({ imageSize: 4, patchSize: 2, width: 4, depth: 1, numHeads: 1, mlpRatio: 1, numClasses: 3 });
  ae = tl.buildAutoencoder({ inputDim: 16, units: 4, activation: "relu" });
  images3d = tf.zeros([2, 4, 4]);
  flat16 = tf.zeros([1, 16]);
  data12 = blobs(30, 12, 0);
  data16 = blobs(300, 16, 1);
  // 300 images: room for small validation splits only (5 source, 2 target images per class).
  tasks = tl.makeTransferTasks({
    data: data16,
    testSize: 30,
    targetPoolSize: 60,
    sourceSize: 100,
    shift: "none",
    sourceValPerClass: 5,
    targetValPerClass: 2,
  });
  dir = tempDir("bad-input-");
  const { images, labels } = fakeMnist(3);
  fs.mkdirSync(path.join(dir, "good"));
  writeIdx(path.join(dir, "good"), "train-images-idx3-ubyte", images);
  writeIdx(path.join(dir, "good"), "train-labels-idx1-ubyte", labels);
  writeIdx(dir, "labels-as-images", labels);
  writeIdx(dir, "truncated-images", images.subarray(0, 100));
  fs.writeFileSync(path.join(dir, "corrupt.gz"), zlib.gzipSync(images).subarray(0, 60));
  fs.writeFileSync(path.join(dir, "page.html"), "<html>404 not found</html>");
  writeIdx(dir, "two-labels", idxBytes([2], new Uint8Array([1, 2])));
  writeIdx(dir, "label-12", idxBytes([3], new Uint8Array([1, 2, 12])));
});

afterAll(() => {
  for (const m of [mlp, src16, vit, ae]) m.dispose();
  images3d.dispose();
  flat16.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const f = (name: string) => path.join(dir, name);

const CASES: Record<string, BadCase[]> = {
  "freeze ratios and counts out of range": [
    {
      name: "freezeRatio above 1",
      call: () => tl.freezeRatio(mlp, 1.5),
      param: "r",
      value: "1.5",
      allowed: "a number in [0, 1]",
    },
    {
      name: "freezeRatio below 0",
      call: () => tl.freezeRatio(mlp, -0.1),
      param: "r",
      value: "-0.1",
      allowed: "a number in [0, 1]",
    },
    {
      name: "freezeRatio NaN",
      call: () => tl.freezeRatio(mlp, NaN),
      param: "r",
      value: "NaN",
      allowed: "a number in [0, 1]",
    },
    {
      name: "freezeRatio headLayers too many",
      call: () => tl.freezeRatio(mlp, 0.5, { headLayers: 9 }),
      param: "headLayers",
      value: "9",
      allowed: "an integer in [0, 4]",
    },
    {
      name: "freezeTo past the top",
      call: () => tl.freezeTo(mlp, 7),
      param: "n",
      value: "7",
      allowed: "an integer in [-4, 4]",
    },
    {
      name: "twoPhaseFineTune freezeRatio",
      call: () =>
        tl.twoPhaseFineTune(mlp, data12, {
          headEpochs: 1,
          headLearningRate: 1e-2,
          epochs: 1,
          learningRate: 1e-3,
          freezeRatio: 2,
          progress: false,
        }),
      param: "freezeRatio",
      value: "2",
      allowed: "a number in [0, 1]",
    },
    {
      name: "runTransfer freezeRatio",
      call: () =>
        tl.runTransfer({
          method: "freeze-ratio",
          freezeRatio: 1.2,
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "freezeRatio",
      value: "1.2",
      allowed: "a number in [0, 1]",
    },
    {
      name: "runTransfer freeze-ratio without a ratio",
      call: () =>
        tl.runTransfer({ method: "freeze-ratio", source: src16, tasks, labelsPerClass: 1, scale: "smoke", budget }),
      param: "freezeRatio",
      value: "undefined",
      allowed: "a number in [0, 1]",
    },
    {
      name: "progressiveStages zero stages",
      call: () => tl.progressiveStages(mlp, 0),
      param: "stages",
      value: "0",
      allowed: "an integer in [1, 4]",
    },
    {
      name: "freezeBlocks beyond the depth",
      call: () => tl.freezeBlocks(vit, 5),
      param: "k",
      value: "5",
      allowed: "an integer in [0, 1]",
    },
  ],
  "LoRA rank r ≤ 0 or fractional, alpha ≤ 0, dropout": [
    {
      name: "applyLora r = 0",
      call: () => tl.applyLora(mlp, { r: 0, targets: ["hidden1"] }),
      param: "r",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "applyLora r < 0",
      call: () => tl.applyLora(mlp, { r: -1, targets: ["hidden1"] }),
      param: "r",
      value: "-1",
      allowed: "a positive integer",
    },
    {
      name: "applyLora fractional r",
      call: () => tl.applyLora(mlp, { r: 2.5, targets: ["hidden1"] }),
      param: "r",
      value: "2.5",
      allowed: "a positive integer",
    },
    {
      name: "LoraDense r = 0",
      call: () => new tl.LoraDense({ units: 4, r: 0 }),
      param: "r",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "runLora r = 0",
      call: () => tl.runLora({ source: src16, tasks, labelsPerClass: 1, r: 0, scale: "smoke", budget }),
      param: "r",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "runLoraSweep fractional rank",
      call: () => tl.runLoraSweep({ ranks: [1, 1.5], scale: "smoke" }),
      param: "ranks[1]",
      value: "1.5",
      allowed: "a positive integer",
    },
    {
      name: "runViTTransfer r = 0",
      call: () =>
        tl.runViTTransfer({ method: "lora-qv", r: 0, source: vit, tasks, labelsPerClass: 1, scale: "smoke", budget }),
      param: "r",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "applyLora alpha = 0",
      call: () => tl.applyLora(mlp, { r: 2, alpha: 0, targets: ["hidden1"] }),
      param: "alpha",
      value: "0",
      allowed: "a positive finite number",
    },
    {
      name: "applyLora alpha < 0",
      call: () => tl.applyLora(mlp, { r: 2, alpha: -2, targets: ["hidden1"] }),
      param: "alpha",
      value: "-2",
      allowed: "a positive finite number",
    },
    {
      name: "applyLora alpha infinite",
      call: () => tl.applyLora(mlp, { r: 2, alpha: Infinity, targets: ["hidden1"] }),
      param: "alpha",
      value: "Infinity",
      allowed: "a positive finite number",
    },
    {
      name: "runLora alpha = 0",
      call: () => tl.runLora({ source: src16, tasks, labelsPerClass: 1, r: 2, alpha: 0, scale: "smoke", budget }),
      param: "alpha",
      value: "0",
      allowed: "a positive finite number",
    },
    {
      name: "applyLora dropout = 1",
      call: () => tl.applyLora(mlp, { r: 2, dropout: 1, targets: ["hidden1"] }),
      param: "dropout",
      value: "1",
      allowed: "in [0, 1)",
    },
    {
      name: "discriminative layerDecay = 0",
      call: () => tl.discriminativeMultipliers(mlp, 0),
      param: "layerDecay",
      value: "0",
      allowed: "a finite number > 0",
    },
    {
      name: "runTransfer layerDecay < 0",
      call: () =>
        tl.runTransfer({
          method: "full-ft",
          layerDecay: -1,
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "layerDecay",
      value: "-1",
      allowed: "a finite number > 0",
    },
  ],
  "unknown layer names": [
    {
      name: "applyLora target",
      call: () => tl.applyLora(mlp, { r: 2, targets: ["nope"] }),
      param: "targets",
      value: '"nope"',
      allowed: "dense layers: hidden1, hidden2, hidden3, head",
    },
    {
      name: "applyLora pattern matching nothing",
      call: () => tl.applyLora(mlp, { r: 2, targets: /^block/ }),
      param: "targets",
      value: "/^block/",
      allowed: "dense layers: hidden1",
    },
    {
      name: "applyLora trainHead",
      call: () => tl.applyLora(mlp, { r: 2, targets: ["hidden1"], trainHead: "nope" }),
      param: "trainHead",
      value: '"nope"',
      allowed: "layers: ",
    },
    {
      name: "runLora target",
      call: () =>
        tl.runLora({ source: src16, tasks, labelsPerClass: 1, r: 2, targets: ["hidden9"], scale: "smoke", budget }),
      param: "targets",
      value: '"hidden9"',
      allowed: "dense layers: hidden1",
    },
    {
      name: "freeze",
      call: () => tl.freeze(mlp, ["nope"]),
      param: "names",
      value: '"nope"',
      allowed: "layers of the model (layers: ",
    },
    {
      name: "unfreeze",
      call: () => tl.unfreeze(mlp, ["hidden1", "nope"]),
      param: "names",
      value: '"nope"',
      allowed: "layers of the model (layers: ",
    },
    {
      name: "extractFeatures",
      call: () => tl.extractFeatures(mlp, "nope", data12),
      param: "layerName",
      value: '"nope"',
      allowed: "hidden1",
    },
    {
      name: "fit layerLearningRates",
      call: () => tl.fit(mlp, data12, { epochs: 1, progress: false, layerLearningRates: { nope: 1 } }),
      param: "layerLearningRates",
      value: '"nope"',
      allowed: "layers: ",
    },
    {
      name: "runTransfer trainLayers",
      call: () =>
        tl.runTransfer({
          method: "tune-layers",
          trainLayers: ["hidden7"],
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "trainLayers",
      value: '"hidden7"',
      allowed: "hidden1",
    },
  ],
  "wrong input shapes": [
    {
      name: "fit data of another width",
      call: () => tl.fit(mlp, data16, { epochs: 1, progress: false }),
      param: "data.dim",
      value: "16",
      allowed: "12 (the model's input is [batch, 12])",
    },
    {
      name: "fit x shorter than n·dim",
      call: () => tl.fit(mlp, { ...data12, x: new Float32Array(50) }, { epochs: 1, progress: false }),
      param: "data.x",
      value: "50 values",
      allowed: "at least n·dim = 30·12 = 360 values",
    },
    {
      name: "fit y shorter than n",
      call: () => tl.fit(mlp, { ...data12, y: new Int32Array(29) }, { epochs: 1, progress: false }),
      param: "data.y",
      value: "29 labels",
      allowed: "at least n = 30 labels",
    },
    {
      name: "fit validation of another width",
      call: () => tl.fit(mlp, data12, { epochs: 1, progress: false, validation: data16 }),
      param: "validation.dim",
      value: "16",
      allowed: "12",
    },
    {
      name: "predictBatched",
      call: () => tl.predictBatched(mlp, data16),
      param: "data.dim",
      value: "16",
      allowed: "12",
    },
    {
      name: "evaluateAccuracy",
      call: () => tl.evaluateAccuracy(mlp, data16),
      param: "data.dim",
      value: "16",
      allowed: "12",
    },
    {
      name: "evaluateModel",
      call: () => tl.evaluateModel(src16, data12),
      param: "data.dim",
      value: "12",
      allowed: "16",
    },
    {
      name: "trainAutoencoder",
      call: () => tl.trainAutoencoder(ae, data12, { epochs: 1, progress: false }),
      param: "data.dim",
      value: "12",
      allowed: "16",
    },
    {
      name: "attentionMaps on unflattened images",
      call: () => tl.attentionMaps(vit, images3d as tf.Tensor2D, 0),
      param: "x",
      value: "shape [2, 4, 4]",
      allowed: "a tensor of shape [n, 16]",
    },
    {
      name: "attentionMaps block",
      call: () => tl.attentionMaps(vit, flat16, 3),
      param: "block",
      value: "3",
      allowed: "an integer in [0, 0]",
    },
  ],
  "empty datasets": [
    {
      name: "fit",
      call: () => tl.fit(mlp, empty(12), { epochs: 1, progress: false }),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset (n >= 1)",
    },
    {
      name: "evaluateModel",
      call: () => tl.evaluateModel(mlp, empty(12)),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "evaluateAccuracy",
      call: () => tl.evaluateAccuracy(mlp, empty(12)),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "predictBatched",
      call: () => tl.predictBatched(mlp, empty(12)),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "pretrainGreedy",
      call: () => tl.pretrainGreedy({ data: empty(16), sizes: [4], recipe: recipe(), progress: false }),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "trainAutoencoder",
      call: () => tl.trainAutoencoder(ae, empty(16), { epochs: 1, progress: false }),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "makeTransferTasks",
      call: () => tl.makeTransferTasks({ data: empty(16) }),
      param: "data",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "runPretrainingExperiment",
      call: () =>
        tl.runPretrainingExperiment({
          train: empty(16),
          test: data16,
          sizes: [4],
          labelBudgets: [1],
          seeds: [0],
          budget,
        }),
      param: "train",
      value: "n = 0",
      allowed: "a non-empty dataset",
    },
    {
      name: "selectClasses with no classes",
      call: () => tl.selectClasses(data12, []),
      param: "classes",
      value: "[]",
      allowed: "a non-empty list of class numbers in 0..2",
    },
  ],
  "label budgets larger than the data": [
    {
      name: "takeLabelsPerClass",
      call: () => tl.takeLabelsPerClass(tasks.target.pool, 1000, 0),
      param: "k",
      value: "1000",
      allowed: "at most ",
    },
    {
      name: "takeLabelsPerClass k = 0",
      call: () => tl.takeLabelsPerClass(tasks.target.pool, 0, 0),
      param: "k",
      value: "0",
      allowed: "a positive integer",
    },
    { name: "tasks.targetLabels", call: () => tasks.targetLabels(500), param: "k", value: "500", allowed: "at most " },
    {
      name: "runTransfer",
      call: () =>
        tl.runTransfer({ method: "full-ft", source: src16, tasks, labelsPerClass: 1000, scale: "smoke", budget }),
      param: "labelsPerClass",
      value: "1000",
      allowed: "at most ",
    },
    {
      name: "runLora",
      call: () => tl.runLora({ source: src16, tasks, labelsPerClass: 1000, r: 2, scale: "smoke", budget }),
      param: "labelsPerClass",
      value: "1000",
      allowed: "at most ",
    },
    {
      name: "runViTTransfer",
      call: () =>
        tl.runViTTransfer({ method: "full-ft", source: vit, tasks, labelsPerClass: 1000, scale: "smoke", budget }),
      param: "labelsPerClass",
      value: "1000",
      allowed: "at most ",
    },
    {
      name: "labeledSubset",
      call: () => tl.labeledSubset(data12, 11, 0),
      param: "budget",
      value: "11",
      allowed: "at most 10",
    },
    {
      name: "runPretrainingExperiment",
      call: () =>
        tl.runPretrainingExperiment({
          train: data16,
          test: data16,
          sizes: [4],
          labelBudgets: [1, 200],
          seeds: [0],
          budget,
        }),
      param: "labelBudgets[1]",
      value: "200",
      allowed: "at most 100",
    },
    {
      name: "makeTransferTasks sizes beyond the data",
      call: () => tl.makeTransferTasks({ data: data16, testSize: 200 }),
      param: "testSize",
      value: "200",
      allowed: "more than the 300 available",
    },
  ],
  "validation splits, choices on validation, verdicts on seeds": [
    {
      name: "makeTransferTasks sourceValPerClass 0",
      call: () => tl.makeTransferTasks({ data: data16, testSize: 30, targetPoolSize: 60, sourceValPerClass: 0 }),
      param: "sourceValPerClass",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "makeTransferTasks targetValPerClass fractional",
      call: () => tl.makeTransferTasks({ data: data16, testSize: 30, targetPoolSize: 60, targetValPerClass: 1.5 }),
      param: "targetValPerClass",
      value: "1.5",
      allowed: "a positive integer",
    },
    {
      name: "makeTransferTasks targetValPerClass beyond the pool",
      call: () =>
        tl.makeTransferTasks({
          data: data16,
          testSize: 30,
          targetPoolSize: 60,
          sourceValPerClass: 5,
          targetValPerClass: 50,
        }),
      param: "targetValPerClass",
      value: "50",
      allowed: "at most ",
    },
    {
      name: "makeTransferTasks sourceValPerClass beyond the data",
      call: () => tl.makeTransferTasks({ data: data16, testSize: 30, targetPoolSize: 60, sourceValPerClass: 100 }),
      param: "sourceValPerClass",
      value: "100 × 3 classes",
      allowed: "more than the 300 available",
    },
    {
      name: "makeClassSplitTasks targetValPerClass beyond the target classes",
      call: () =>
        tl.makeClassSplitTasks({
          data: data16,
          sourceClasses: [0],
          targetClasses: [1, 2],
          testSize: 10,
          sourceValPerClass: 5,
          targetValPerClass: 150,
        }),
      param: "targetValPerClass",
      value: "150",
      allowed: "at most ",
    },
    {
      name: "chooseOnValidation no candidates",
      call: () => tl.chooseOnValidation([]),
      param: "candidates",
      value: "[]",
      allowed: "a non-empty list of { key, runs }",
    },
    {
      name: "chooseOnValidation run without valAccuracy",
      call: () => tl.chooseOnValidation([{ key: "a", runs: [{ seed: 0, accuracy: 0.9 } as never] }]),
      param: "candidates[0].runs[0].valAccuracy",
      value: "undefined",
      allowed: "a finite number",
    },
    {
      name: "choosePerSeed unknown score",
      call: () =>
        tl.choosePerSeed([{ key: "a", runs: [{ seed: 0, valAccuracy: 0.8, accuracy: 0.9 }] }], "test" as never),
      param: "by",
      value: '"test"',
      allowed: "one of valAccuracy, accuracy",
    },
    {
      name: "choosePerSeed seed listed twice",
      call: () =>
        tl.choosePerSeed([
          {
            key: "a",
            runs: [
              { seed: 3, valAccuracy: 0.8, accuracy: 0.9 },
              { seed: 3, valAccuracy: 0.7, accuracy: 0.9 },
            ],
          },
        ]),
      param: "candidates[0].runs[1].seed",
      value: "3",
      allowed: "a finite seed listed once per candidate",
    },
    {
      name: "compareOnSeeds seed listed twice",
      call: () =>
        tl.compareOnSeeds(
          [{ seed: 0, value: 0.5 }],
          [
            { seed: 0, value: 0.5 },
            { seed: 0, value: 0.6 },
          ],
          { direction: "greater" },
        ),
      param: "b[1].seed",
      value: "0",
      allowed: "a seed listed once",
    },
    {
      name: "compareOnSeeds NaN value",
      call: () => tl.compareOnSeeds([{ seed: 0, value: NaN }], [{ seed: 0, value: 0.5 }], { direction: "greater" }),
      param: "a[0].value",
      value: "NaN",
      allowed: "a finite number",
    },
    {
      name: "compareOnSeeds unknown direction",
      call: () => tl.compareOnSeeds([], [], { direction: "more" as never }),
      param: "spec.direction",
      value: '"more"',
      allowed: "one of greater, less, within",
    },
    {
      name: "compareOnSeeds within without a margin",
      call: () => tl.compareOnSeeds([], [], { direction: "within" }),
      param: "spec.margin",
      value: "undefined",
      allowed: 'a number > 0 for a "within" claim',
    },
  ],
  "counts, rates and sizes (epochs, batchSize, learningRate, widths, seeds)": [
    {
      name: "fit epochs < 0",
      call: () => tl.fit(mlp, data12, { epochs: -1, progress: false }),
      param: "epochs",
      value: "-1",
      allowed: "a non-negative integer",
    },
    {
      name: "fit fractional epochs",
      call: () => tl.fit(mlp, data12, { epochs: 1.5, progress: false }),
      param: "epochs",
      value: "1.5",
      allowed: "a non-negative integer",
    },
    {
      name: "fit batchSize 0",
      call: () => tl.fit(mlp, data12, { epochs: 1, batchSize: 0, progress: false }),
      param: "batchSize",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "fit learningRate 0",
      call: () => tl.fit(mlp, data12, { epochs: 1, learningRate: 0, progress: false }),
      param: "learningRate",
      value: "0",
      allowed: "a finite number > 0",
    },
    {
      name: "fit learningRate NaN",
      call: () => tl.fit(mlp, data12, { epochs: 1, learningRate: NaN, progress: false }),
      param: "learningRate",
      value: "NaN",
      allowed: "a finite number > 0",
    },
    {
      name: "fit seed NaN",
      call: () => tl.fit(mlp, data12, { epochs: 1, seed: NaN, progress: false }),
      param: "seed",
      value: "NaN",
      allowed: "a finite number",
    },
    {
      name: "fit lossEvery 0",
      call: () => tl.fit(mlp, data12, { epochs: 1, lossEvery: 0, progress: false }),
      param: "lossEvery",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "predictBatched batchSize 0",
      call: () => tl.predictBatched(mlp, data12, 0),
      param: "batchSize",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "extractFeatures batchSize 0",
      call: () => tl.extractFeatures(mlp, "hidden1", data12, 0),
      param: "batchSize",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "discriminativeRates learningRate",
      call: () => tl.discriminativeRates(mlp, -1e-3),
      param: "learningRate",
      value: "-0.001",
      allowed: "a finite number > 0",
    },
    {
      name: "twoPhaseFineTune headEpochs",
      call: () =>
        tl.twoPhaseFineTune(mlp, data12, {
          headEpochs: -2,
          headLearningRate: 1e-2,
          epochs: 1,
          learningRate: 1e-3,
          progress: false,
        }),
      param: "headEpochs",
      value: "-2",
      allowed: "a non-negative integer",
    },
    {
      name: "progressiveUnfreeze epochsPerStage",
      call: () => tl.progressiveUnfreeze(mlp, data12, { epochsPerStage: 0.5, progress: false }),
      param: "epochsPerStage",
      value: "0.5",
      allowed: "a non-negative integer",
    },
    {
      name: "runTransfer learningRate",
      call: () =>
        tl.runTransfer({
          method: "full-ft",
          learningRate: 0,
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "learningRate",
      value: "0",
      allowed: "a finite number > 0",
    },
    {
      name: "runLora learningRate",
      call: () =>
        tl.runLora({ source: src16, tasks, labelsPerClass: 1, r: 2, learningRate: Infinity, scale: "smoke", budget }),
      param: "learningRate",
      value: "Infinity",
      allowed: "a finite number > 0",
    },
    {
      name: "runLoraLearningRates rates",
      call: () => tl.runLoraLearningRates({ learningRates: [1e-3, -1], scale: "smoke" }),
      param: "learningRates[1]",
      value: "-1",
      allowed: "a finite number > 0",
    },
    {
      name: "buildSourceModel hidden width 0",
      call: () => tl.buildSourceModel({ hiddenUnits: [8, 0] }),
      param: "hiddenUnits[1]",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "buildSourceModel numClasses 0",
      call: () => tl.buildSourceModel({ numClasses: 0 }),
      param: "numClasses",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "replaceHead numClasses",
      call: () => tl.replaceHead(mlp, { numClasses: 2.5 }),
      param: "numClasses",
      value: "2.5",
      allowed: "a positive integer",
    },
    {
      name: "softmaxRegression numClasses",
      call: () => tl.softmaxRegression(12, 0),
      param: "numClasses",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "confusionMatrix numClasses",
      call: () => tl.confusionMatrix([0], [0], -1),
      param: "numClasses",
      value: "-1",
      allowed: "a positive integer",
    },
    {
      name: "transferEpochs n",
      call: () => tl.transferEpochs(0, { epochs: 1, minSteps: 1, batchSize: 8 }),
      param: "n",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "epochsFor batchSize",
      call: () => tl.epochsFor(100, 0, budget),
      param: "batchSize",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "runTransfer budget batchSize",
      call: () =>
        tl.runTransfer({
          method: "full-ft",
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget: { batchSize: 0 },
        }),
      param: "budget.batchSize",
      value: "0",
      allowed: "a positive integer",
    },
  ],
  "greedy pretraining and autoencoder config": [
    {
      name: "pretrainGreedy width 0",
      call: () => tl.pretrainGreedy({ data: data16, sizes: [4, 0], recipe: recipe(), progress: false }),
      param: "sizes",
      value: "[4,0]",
      allowed: "a non-empty list of positive integers",
    },
    {
      name: "pretrainGreedy no layers",
      call: () => tl.pretrainGreedy({ data: data16, sizes: [], recipe: recipe(), progress: false }),
      param: "sizes",
      value: "[]",
      allowed: "a non-empty list of positive integers",
    },
    {
      name: "pretrainGreedy noise 1",
      call: () => tl.pretrainGreedy({ data: data16, sizes: [4], recipe: recipe(), noise: 1, progress: false }),
      param: "noise",
      value: "1",
      allowed: "in [0, 1)",
    },
    {
      name: "pretrainGreedy epochs < 0",
      call: () => tl.pretrainGreedy({ data: data16, sizes: [4], recipe: recipe(), epochs: -1, progress: false }),
      param: "epochs",
      value: "-1",
      allowed: "a non-negative integer",
    },
    {
      name: "pretrainGreedy recipe batchSize",
      call: () =>
        tl.pretrainGreedy({
          data: data16,
          sizes: [4],
          recipe: { ...recipe(), pretrain: { ...recipe().pretrain, batchSize: 0 } },
          progress: false,
        }),
      param: "pretrain.batchSize",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "buildAutoencoder units 0",
      call: () => tl.buildAutoencoder({ inputDim: 16, units: 0, activation: "sigmoid" }),
      param: "units",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "buildAutoencoder activation",
      call: () => tl.buildAutoencoder({ inputDim: 16, units: 4, activation: "tanh" as never }),
      param: "activation",
      value: '"tanh"',
      allowed: "one of sigmoid, relu",
    },
    {
      name: "trainAutoencoder noise",
      call: () => tl.trainAutoencoder(ae, data16, { epochs: 1, noise: -0.5, progress: false }),
      param: "noise",
      value: "-0.5",
      allowed: "a number in [0, 1)",
    },
    {
      name: "maskingNoise level",
      call: () => tl.maskingNoise(1.5),
      param: "level",
      value: "1.5",
      allowed: "in [0, 1)",
    },
    {
      name: "buildClassifier numClasses",
      call: () =>
        tl.buildClassifier({
          inputDim: 16,
          sizes: [4],
          numClasses: 0,
          activation: "relu",
          kernelInit: { kind: "glorotUniform" },
        }),
      param: "numClasses",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "getRecipe learningRate",
      call: () => tl.getRecipe("modern", { learningRate: 0 }),
      param: "learningRate",
      value: "0",
      allowed: "a positive number",
    },
    {
      name: "getRecipe optimizer",
      call: () => tl.getRecipe("modern", { optimizer: "adamw" as never }),
      param: "optimizer",
      value: '"adamw"',
      allowed: "one of adam, sgd, momentum",
    },
    {
      name: "getRecipe unknown recipe",
      call: () => tl.getRecipe("ancient" as never),
      param: "name",
      value: '"ancient"',
      allowed: "one of historical, modern",
    },
  ],
  "unknown names: shifts, methods, optimizers, losses": [
    {
      name: "shiftTransform",
      call: () => tl.shiftTransform("wild" as never),
      param: "shift",
      value: '"wild"',
      allowed: "one of none, mild, heavy, inverted",
    },
    {
      name: "makeTransferTasks shift",
      call: () => tl.makeTransferTasks({ data: data16, shift: "wild" as never }),
      param: "shift",
      value: '"wild"',
      allowed: "one of none, mild, heavy, inverted",
    },
    {
      name: "makeClassSplitTasks shift",
      call: () => tl.makeClassSplitTasks({ data: data16, shift: "strong" as never }),
      param: "shift",
      value: '"strong"',
      allowed: "one of none, mild, heavy, inverted",
    },
    {
      name: "runLoraSweep shift",
      call: () => tl.runLoraSweep({ shift: "wild" as never, scale: "smoke" }),
      param: "shift",
      value: '"wild"',
      allowed: "one of none, mild, heavy, inverted",
    },
    {
      name: "makeClassSplitTasks no source classes",
      call: () => tl.makeClassSplitTasks({ data: data16, sourceClasses: [] }),
      param: "sourceClasses",
      value: "[]",
      allowed: "a non-empty list of classes in 0..2",
    },
    {
      name: "rotate NaN degrees",
      call: () => tl.rotate(NaN),
      param: "degrees",
      value: "NaN",
      allowed: "a finite number",
    },
    {
      name: "gaussianNoise sigma < 0",
      call: () => tl.gaussianNoise(-1),
      param: "sigma",
      value: "-1",
      allowed: "a finite number >= 0",
    },
    {
      name: "runTransfer method",
      call: () =>
        tl.runTransfer({
          method: "fine-tune" as never,
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "method",
      value: '"fine-tune"',
      allowed: "one of scratch, zero-shot, feature-extraction, full-ft, freeze-ratio, tune-layers",
    },
    {
      name: "runTransfer head",
      call: () =>
        tl.runTransfer({
          method: "full-ft",
          head: "new" as never,
          source: src16,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "head",
      value: '"new"',
      allowed: "one of fresh, source",
    },
    {
      name: "runViTTransfer method",
      call: () =>
        tl.runViTTransfer({ method: "prompt" as never, source: vit, tasks, labelsPerClass: 1, scale: "smoke", budget }),
      param: "method",
      value: '"prompt"',
      allowed: "one of scratch, head-only, freeze-blocks, full-ft, lora-qv",
    },
    {
      name: "runPretrainingExperiment method",
      call: () =>
        tl.runPretrainingExperiment({
          train: data16,
          test: data16,
          sizes: [4],
          labelBudgets: [1],
          seeds: [0],
          budget,
          methods: ["greedy" as never],
        }),
      param: "methods",
      value: '"greedy"',
      allowed: "scratch, pretrained, modern",
    },
    {
      name: "fit optimizer",
      call: () => tl.fit(mlp, data12, { epochs: 1, optimizer: "adamw" as never, progress: false }),
      param: "optimizer",
      value: '"adamw"',
      allowed: "one of adam, sgd, momentum",
    },
    {
      name: "fit loss",
      call: () => tl.fit(mlp, data12, { epochs: 1, loss: "hinge" as never, progress: false }),
      param: "loss",
      value: '"hinge"',
      allowed: "one of crossentropy, mse, bce",
    },
    {
      name: "fit target",
      call: () => tl.fit(mlp, data12, { epochs: 1, target: "features" as never, progress: false }),
      param: "target",
      value: '"features"',
      allowed: "one of labels, inputs",
    },
    {
      name: "sourceTasks scenario",
      call: () => tl.sourceTasks({ scale: "smoke", scenario: "split" as never }),
      param: "scenario",
      value: '"split"',
      allowed: "one of shift, class-split",
    },
  ],
  "ViT and transformer config": [
    {
      name: "buildViT depth 0",
      call: () => tl.buildViT({ depth: 0 }),
      param: "depth",
      value: "0",
      allowed: "a positive integer",
    },
    {
      name: "buildViT fractional width",
      call: () => tl.buildViT({ width: 7.5 }),
      param: "width",
      value: "7.5",
      allowed: "a positive integer",
    },
    {
      name: "buildViT heads not dividing width",
      call: () => tl.buildViT({ width: 16, numHeads: 3 }),
      param: "numHeads",
      value: "3",
      allowed: "divisible",
    },
    {
      name: "buildViT patch not dividing image",
      call: () => tl.buildViT({ patchSize: 5 }),
      param: "patchSize",
      value: "5",
      allowed: "must divide imageSize 28",
    },
    {
      name: "buildViT mlpRatio < 0",
      call: () => tl.buildViT({ mlpRatio: -1 }),
      param: "mlpRatio",
      value: "-1",
      allowed: "a finite number > 0",
    },
    {
      name: "runViTTransfer frozenBlocks",
      call: () =>
        tl.runViTTransfer({
          method: "freeze-blocks",
          frozenBlocks: 5,
          source: vit,
          tasks,
          labelsPerClass: 1,
          scale: "smoke",
          budget,
        }),
      param: "frozenBlocks",
      value: "5",
      allowed: "an integer in [0, 1]",
    },
    {
      name: "runViTTransfer frozenBlocks missing",
      call: () =>
        tl.runViTTransfer({ method: "freeze-blocks", source: vit, tasks, labelsPerClass: 1, scale: "smoke", budget }),
      param: "frozenBlocks",
      value: "undefined",
      allowed: "an integer in [0, 1]",
    },
    {
      name: "runViTSweep seeds",
      call: () => tl.runViTSweep({ seeds: [], scale: "smoke" }),
      param: "seeds",
      value: "[]",
      allowed: "a non-empty list",
    },
    {
      name: "attentionHeatmaps example",
      call: () => tl.attentionHeatmaps(vit, images3d as tf.Tensor2D, 0, 5),
      param: "example",
      value: "5",
      allowed: "an integer in [0, 1]",
    },
  ],
  "missing and corrupt data files": [
    {
      name: "readIdxFile missing",
      call: () => tl.readIdxFile(f("nope-idx3-ubyte")),
      param: "nope-idx3-ubyte",
      value: "no such file",
      allowed: "an existing, readable IDX file",
    },
    {
      name: "loadIdxDataset missing folder",
      call: () => tl.loadIdxDataset(f("no-folder")),
      param: "no-folder",
      value: "is not a folder",
      allowed: "a folder of IDX files or {images, labels}",
    },
    {
      name: "loadIdxDataset folder without files",
      call: () => tl.loadIdxDataset(dir, { split: "test" }),
      param: "test images file",
      value: "no test images file",
      allowed: "tried t10k-images-idx3-ubyte",
    },
    {
      name: "labels file given as images",
      call: () => tl.loadIdxDataset({ images: f("labels-as-images"), labels: f("two-labels") }),
      param: "labels-as-images",
      value: "0x00000801",
      allowed: "expected 0x00000803 for images",
    },
    {
      name: "truncated images",
      call: () => tl.readIdxFile(f("truncated-images"), "images"),
      param: "truncated-images",
      value: "file has 84",
      allowed: "3×28×28 = 2352 bytes of pixels",
    },
    {
      name: "corrupt gzip",
      call: () => tl.readIdxFile(f("corrupt.gz")),
      param: "corrupt.gz",
      value: "gzip data is corrupt or truncated",
      allowed: "download the file again",
    },
    {
      name: "an HTML page instead of IDX",
      call: () => tl.readIdxFile(f("page.html")),
      param: "page.html",
      value: "magic number 0x3c68746d",
      allowed: "expected 0x00000803 or 0x00000801",
    },
    {
      name: "an HTML page saved as .gz",
      call: () => {
        fs.writeFileSync(f("page-saved.gz"), "<!DOCTYPE html><html><body>Service Unavailable</body></html>");
        return tl.readIdxFile(f("page-saved.gz"));
      },
      param: "page-saved.gz",
      value: "looks like an HTML page",
      allowed: "download the file again",
    },
    {
      name: "an IDX header too large for memory",
      call: () => {
        fs.writeFileSync(f("huge.gz"), zlib.gzipSync(idxBytes([1_000_000, 1000, 1000], new Uint8Array(8))));
        return tl.readIdxFile(f("huge.gz"), "images");
      },
      param: "huge.gz",
      value: "too large for memory: its header says 1000000×1000×1000",
      allowed: "use a smaller file",
    },
    {
      name: "labels of another length",
      call: () =>
        tl.loadIdxDataset({ images: path.join(dir, "good", "train-images-idx3-ubyte"), labels: f("two-labels") }),
      param: "two-labels",
      value: "2 labels",
      allowed: "use the matching labels file",
    },
    {
      name: "label out of range",
      call: () =>
        tl.loadIdxDataset({ images: path.join(dir, "good", "train-images-idx3-ubyte"), labels: f("label-12") }),
      param: "label-12",
      value: "label 12",
      allowed: "outside 0..9",
    },
    {
      name: "loadIdxDataset split",
      call: () => tl.loadIdxDataset(path.join(dir, "good"), { split: "dev" as never }),
      param: "split",
      value: '"dev"',
      allowed: "train, test or all",
    },
    {
      name: "loadIdxDataset numClasses",
      call: () => tl.loadIdxDataset(path.join(dir, "good"), { numClasses: 0 }),
      param: "numClasses",
      value: "0",
      allowed: "an integer in 1..256",
    },
  ],
  "unwritable cache folder (checked before any training)": [
    {
      name: "cachedJson dir is a file",
      call: () => tl.cachedJson("k", () => 1, { dir: f("page.html"), log: false }),
      param: "page.html",
      value: "is a file, not a folder",
      allowed: "pass a writable cache folder as dir",
    },
    {
      name: "cachedModel under TRANSFER_LAB_CACHE that is a file",
      call: () =>
        withEnv("TRANSFER_LAB_CACHE", f("page.html"), () =>
          tl.cachedModel("k", async () => tl.buildSourceModel({ hiddenUnits: [4], inputDim: 4, numClasses: 2 }), {
            log: false,
          }),
        ),
      param: "TRANSFER_LAB_CACHE",
      value: "is a file, not a folder",
      allowed: "point TRANSFER_LAB_CACHE at a writable folder",
    },
    {
      name: "recordResult under TRANSFER_LAB_CACHE below a file",
      call: () =>
        withEnv("TRANSFER_LAB_CACHE", path.join(f("page.html"), "cache"), () =>
          tl.recordResult({
            lesson: "02",
            method: "head-only",
            task: "mild",
            labelsPerClass: 5,
            accuracy: 0.5,
            backend: "cpu",
            scale: "smoke",
            seed: 0,
          }),
        ),
      param: "TRANSFER_LAB_CACHE",
      value: "so nothing can be created under it",
      allowed: "point TRANSFER_LAB_CACHE at a writable folder",
    },
    {
      name: "saveModel dir is a file",
      call: () => tl.saveModel("k", mlp, { dir: f("page.html") }),
      param: "page.html",
      value: "is not writable",
      allowed: "pass a writable cache folder as dir",
    },
  ],
  "LESSON_SCALE and TFJS_BACKEND": [
    {
      name: "LESSON_SCALE unknown",
      call: () => withEnv("LESSON_SCALE", "huge", () => tl.getScale()),
      param: "LESSON_SCALE",
      value: '"huge"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "LESSON_SCALE misspelt",
      call: () => withEnv("LESSON_SCALE", "smok", () => tl.getScale()),
      param: "LESSON_SCALE",
      value: '"smok"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "LESSON_SCALE reaches lessonSettings",
      call: () => withEnv("LESSON_SCALE", "fast", () => tl.lessonSettings("02")),
      param: "LESSON_SCALE",
      value: '"fast"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "getScale explicit",
      call: () => tl.getScale("tiny"),
      param: "scale",
      value: '"tiny"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "lessonSettings scale",
      call: () => tl.lessonSettings("02", "huge" as never),
      param: "scale",
      value: '"huge"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "lessonSettings lesson",
      call: () => tl.lessonSettings("11" as never),
      param: "lesson",
      value: '"11"',
      allowed: "one of 00, 01, 02, 03, 04, 05, 06, 07, 08, 09",
    },
    {
      name: "runTransfer scale",
      call: () =>
        tl.runTransfer({ method: "full-ft", source: src16, tasks, labelsPerClass: 1, scale: "huge" as never, budget }),
      param: "scale",
      value: '"huge"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "sourceTasks scale",
      call: () => tl.sourceTasks({ scale: "large" as never }),
      param: "scale",
      value: '"large"',
      allowed: "one of smoke, default, full",
    },
    {
      name: "TFJS_BACKEND unknown",
      call: () => withEnv("TFJS_BACKEND", "tpu", () => tl.describeBackendChoice()),
      param: "TFJS_BACKEND",
      value: '"tpu"',
      allowed: "use one of gpu, node, webgpu, wasm, cpu (or auto)",
    },
    {
      name: "TFJS_BACKEND misspelt",
      call: () => withEnv("TFJS_BACKEND", "wasmm", () => tl.setupBackend()),
      param: "TFJS_BACKEND",
      value: '"wasmm"',
      allowed: "use one of gpu, node, webgpu, wasm, cpu (or auto)",
    },
    {
      name: "setupBackend argument",
      call: () => tl.setupBackend({ backend: "cuda" as never }),
      param: "backend",
      value: '"cuda"',
      allowed: "use one of gpu, node, webgpu, wasm, cpu (or auto)",
    },
  ],
};

const rows = Object.entries(CASES).flatMap(([category, cases]) => cases.map((c) => ({ category, ...c })));

describe("bad input names the parameter, the value and what is allowed", () => {
  it("covers every category of the issue with several cases", () => {
    for (const cases of Object.values(CASES)) expect(cases.length).toBeGreaterThanOrEqual(3);
  });

  it.each(rows)("$category: $name", async ({ call, param, value, allowed }) => {
    const before = tf.memory().numTensors;
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(error, "the call should have thrown").toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(param);
    expect(message).toContain(value);
    expect(message).toContain(allowed);
    expect(tf.memory().numTensors, `tensors leaked by: ${message}`).toBe(before);
  });
});
