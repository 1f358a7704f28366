// Lesson 06's experiments with the tiny BERT: masked-LM pretraining on one seed's pretraining addresses
// (cached per seed in the atomic artifact cache, with its loss curve), a fill-in-the-blank read-out,
// and transfer to the near target (era of held-out addresses) and the far one (spam vs ham) by scratch,
// head-only, freezing the first k of L blocks (k = 0 is full fine-tuning), and LoRA on q and v. Each
// seed chooses full fine-tuning's base rate on ITS validation split and runs the freeze sweep at that
// rate; every run checks its invariants (frozen weights unchanged, LoRA merged = unmerged) and is
// scored on validation (choices) and test (reported), windows and (near) whole addresses. Runs are
// cached as JSON per configuration, so re-running the lesson or adding a parameter point retrains
// only what is new. They are not written to the results log: lesson 10's review reads the digit
// lessons' tasks and does not know these targets.
import * as tf from "@tensorflow/tfjs";
import {
  documentAccuracy,
  maskTokens,
  MLM_RATE,
  TEXT_CLS,
  TEXT_MASK,
  TEXT_TARGETS,
  textTasks,
  type TextSplit,
  type TextTarget,
  type TextTargetName,
  type TextTasks,
  type Vocabulary,
} from "../data/text";
import {
  bertDepth,
  bertEncoder,
  bertLayersBelow,
  bertMlmLogits,
  BERT_LORA_TARGETS,
  buildBert,
  copyBertWeights,
  embeddingLookup,
  pooledSpread,
  setPoolStandardization,
  type BertShape,
} from "../models/bert";
import { assertFrozenUnchanged, countParams, freeze, snapshotWeights, unfreeze } from "../adapt/freezing";
import { applyLora } from "../adapt/lora/inject";
import { DEFAULT_LORA_ALPHA, checkLoraHyper } from "../adapt/lora/layer";
import { fit, disposeOnThrow } from "../train/fit";
import { sparseSoftmaxCrossEntropy } from "../train/losses";
import { predictLabels } from "../models/predict";
import { shuffledIndices, subSeed } from "../core/random";
import { getScale, scaleArg, type Scale } from "../core/scale";
import { lessonSettings, type Lesson06Settings } from "../core/settings";
import {
  argError,
  checkIntInRange,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  checkSeeds,
  show,
} from "../core/validate";
import { cacheKey, cachedJson, cachedModel, loadJson, saveJson, stableHash } from "../store/cache";
import { checkCacheWritable } from "../store/writable";
import { mergeCheck } from "./lora";
import { compareOnSeeds, type SeedComparison } from "../core/stats";
import { MERGE_TOLERANCE } from "./vit";
import { newDisplay } from "../show/display";
import { progressLine } from "../show/progress";

export { TEXT_TARGETS };

/** The lesson's settings at a scale (core/settings.ts, lesson "06"). */
export function bertSettings(scale: Scale = getScale()): Lesson06Settings {
  return lessonSettings("06", scaleArg("bertSettings", scale));
}

/** One seed's text tasks at the lesson's settings (memoized). */
export function bertTasks(seed: number, s: Lesson06Settings): TextTasks {
  return textTasks({
    seed,
    seqLength: s.seqLength,
    vocabSize: s.vocabSize,
    heldOutFraction: s.heldOutFraction,
    pretrainWindows: s.pretrainWindows,
    valPerClass: s.valPerClass,
    testWindowsPerAddress: s.testWindowsPerAddress,
    farTestPerClass: s.farTestPerClass,
  });
}

/** The BERT's sizes for a seed's tasks (its vocabulary) and a number of classes. */
function shapeFor(tasks: TextTasks, s: Lesson06Settings, numClasses: number, seed: number) {
  return {
    vocabSize: tasks.vocab.words.length,
    seqLength: tasks.seqLength,
    maxPositions: s.bert.maxPositions,
    width: s.bert.width,
    depth: s.bert.depth,
    numHeads: s.bert.numHeads,
    mlpRatio: s.bert.mlpRatio,
    numClasses,
    seed,
  };
}

// ---- Masked-LM pretraining ---------------------------------------------------------------------

export interface PretrainedBert {
  /** The pretrained BERT (its head is untrained: transfer builds its own). Caller disposes. */
  model: tf.LayersModel;
  key: string;
  fromCache: boolean;
  /** Training seconds (0 when read from the cache). */
  seconds: number;
  /** Mean masked-LM loss (nats per masked token) every `curveEvery` steps. */
  curve: number[];
  curveEvery: number;
  /** Masked-LM loss and top-1 accuracy on windows of the near target's test addresses (never
   * pretrained on), with a fixed mask; and the loss of always guessing by word frequency. */
  heldOut: { loss: number; top1: number; unigramLoss: number };
}

/** Mean masked-LM loss of one batch of windows [b, T] with its mask, inside variableGrads or a tidy. */
function mlmLoss(
  model: tf.LayersModel,
  encoder: tf.LayersModel,
  batch: ReturnType<typeof maskTokens>,
  b: number,
  T: number,
  training: boolean,
): tf.Scalar {
  const x = tf.tensor2d(Float32Array.from(batch.input), [b, T]);
  const h = encoder.apply(x, { training }) as tf.Tensor3D; // [b, T, d]
  const flat = h.reshape([b * T, h.shape[2]]); // [b·T, d]
  const hm = embeddingLookup(flat, tf.tensor1d(batch.positions, "int32")) as tf.Tensor2D; // only the masked rows: [m, d]
  const logits = bertMlmLogits(model, hm); // [m, V]
  return sparseSoftmaxCrossEntropy(logits, batch.labels).mean() as tf.Scalar;
}

/** Masked-LM loss and top-1 accuracy over windows, with masks drawn from `seed` (same seed, same masks). */
export function evaluateMlm(
  model: tf.LayersModel,
  windows: TextSplit,
  seed: string,
  batchSize = 128,
): { loss: number; top1: number } {
  const encoder = bertEncoder(model);
  const T = windows.dim;
  const V = (model.getLayer("token_embed") as unknown as { vocabSize: number }).vocabSize;
  let lossSum = 0;
  let right = 0;
  let count = 0;
  for (let from = 0; from < windows.n; from += batchSize) {
    const to = Math.min(windows.n, from + batchSize);
    const batch = maskTokens(windows.x.subarray(from * T, to * T), V, `${seed}/${from}`);
    const [l, r] = tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from(batch.input), [to - from, T]);
      const h = (encoder.predict(x) as tf.Tensor3D).reshape([(to - from) * T, -1]) as tf.Tensor2D;
      const logits = bertMlmLogits(model, tf.gather(h, tf.tensor1d(batch.positions, "int32")) as tf.Tensor2D);
      const loss = sparseSoftmaxCrossEntropy(logits, batch.labels).sum();
      const hits = logits.argMax(-1).equal(tf.tensor1d(batch.labels, "int32")).sum();
      return [loss.dataSync()[0], hits.dataSync()[0]];
    });
    lossSum += l;
    right += r;
    count += batch.positions.length;
  }
  return { loss: count ? lossSum / count : NaN, top1: count ? right / count : NaN };
}

/** Loss of predicting every masked token by its frequency in the pretraining windows (the baseline a
 * masked-LM must beat to have learned anything about context). */
function unigramLoss(tasks: TextTasks, windows: TextSplit): number {
  const V = tasks.vocab.words.length;
  const counts = new Float64Array(V).fill(1); // add-one
  for (const t of tasks.pretrain.x) counts[t]++;
  const total = counts.reduce((a, b) => a + b, 0);
  let loss = 0;
  let n = 0;
  for (const t of windows.x) {
    if (t < 4) continue;
    loss -= Math.log(counts[t] / total);
    n++;
  }
  return n ? loss / n : NaN;
}

export interface PretrainBertArgs {
  seed: number;
  settings: Lesson06Settings;
  scale: Scale;
  tasks?: TextTasks;
  retrain?: boolean;
  log?: ((message: string) => void) | false;
  /** Live progress line (default true). */
  progress?: boolean;
}

/** One seed's BERT pretrained by masked-LM on its pretraining windows: from the artifact cache, or
 * trained (and cached, with its loss curve) now. The key holds the architecture, the recipe, the
 * vocabulary and the exact windows. */
export async function pretrainBert(args: PretrainBertArgs): Promise<PretrainedBert> {
  const where = "pretrainBert";
  const s = args.settings;
  const tasks = args.tasks ?? bertTasks(args.seed, s);
  const shape = shapeFor(tasks, s, 2, args.seed);
  const recipe = { epochs: s.mlmEpochs, batchSize: s.mlmBatchSize, learningRate: s.mlmLearningRate, rate: MLM_RATE };
  const config = {
    shape,
    recipe,
    vocab: stableHash(tasks.vocab.words),
    windows: stableHash(Array.from(tasks.pretrain.x.subarray(0, Math.min(tasks.pretrain.x.length, 1 << 20)))),
    n: tasks.pretrain.n,
  };
  const key = cacheKey({ name: "tiny-bert-mlm", config, scale: args.scale, seed: args.seed });
  let curve: number[] = [];
  let seconds = 0;
  const curveEvery = Math.max(1, Math.ceil(tasks.pretrain.n / recipe.batchSize / 10));
  const got = await cachedModel(
    key,
    async () => {
      const model = buildBert(shape);
      return disposeOnThrow(model, async () => {
        const r = await trainMlm(
          model,
          tasks,
          recipe,
          args.seed,
          curveEvery,
          args.progress !== false ? `masked-LM pretraining (seed ${args.seed})` : null,
        );
        curve = r.curve;
        seconds = r.seconds;
        return model;
      });
    },
    { retrain: args.retrain, log: args.log },
  );
  const curveKey = `${key}-curve`;
  if (!got.fromCache) await saveJson(curveKey, { curve, seconds });
  else {
    const saved = await loadJson<{ curve: number[]; seconds: number }>(curveKey);
    curve = saved?.curve ?? [];
  }
  const probe = tasks.near.test;
  const held = evaluateMlm(got.model, probe, subSeed(args.seed, "mlm-eval"));
  return {
    model: got.model,
    key,
    fromCache: got.fromCache,
    seconds,
    curve,
    curveEvery,
    heldOut: { ...held, unigramLoss: unigramLoss(tasks, probe) },
  };
}

/** The variables masked-LM pretraining trains: every trainable weight but the classification head's. */
export function mlmVariables(model: tf.LayersModel): tf.Variable[] {
  return model.layers
    .filter((l) => l.name !== "head")
    .flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)); // LayerVariable.read() is the tf.Variable
}

/** One masked-LM training step on a masked batch of b windows of T tokens: the loss's gradients of
 * `vars` applied by `opt`; returns the loss (the caller disposes it). `encoder` is bertEncoder(model). */
export function mlmTrainStep(
  model: tf.LayersModel,
  encoder: tf.LayersModel,
  vars: tf.Variable[],
  opt: tf.Optimizer,
  batch: ReturnType<typeof maskTokens>,
  b: number,
  T: number,
): tf.Scalar {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => mlmLoss(model, encoder, batch, b, T, true), vars);
    opt.applyGradients(grads);
    return value;
  });
}

async function trainMlm(
  model: tf.LayersModel,
  tasks: TextTasks,
  recipe: { epochs: number; batchSize: number; learningRate: number; rate: number },
  seed: number,
  curveEvery: number,
  label: string | null,
): Promise<{ curve: number[]; seconds: number }> {
  const encoder = bertEncoder(model);
  const vars = mlmVariables(model);
  const opt: tf.Optimizer = tf.train.adam(recipe.learningRate);
  const data = tasks.pretrain;
  const T = data.dim;
  const V = tasks.vocab.words.length;
  const steps = Math.ceil(data.n / recipe.batchSize);
  const progress = label ? progressLine(label)({ epochs: recipe.epochs, stepsPerEpoch: steps }) : null;
  const curve: number[] = [];
  const t0 = performance.now();
  let acc = 0;
  let accN = 0;
  try {
    for (let e = 0; e < recipe.epochs; e++) {
      const order = shuffledIndices(data.n, subSeed(seed, `mlm-epoch${e}`));
      for (let st = 0; st < steps; st++) {
        const from = st * recipe.batchSize;
        const to = Math.min(data.n, from + recipe.batchSize);
        const ids = new Int32Array((to - from) * T);
        for (let i = from; i < to; i++) ids.set(data.x.subarray(order[i] * T, (order[i] + 1) * T), (i - from) * T);
        const batch = maskTokens(ids, V, subSeed(seed, `mlm-${e}-${st}`), recipe.rate);
        const loss = mlmTrainStep(model, encoder, vars, opt, batch, to - from, T);
        acc += (await loss.data())[0];
        loss.dispose();
        accN++;
        if (accN === curveEvery) {
          curve.push(acc / accN);
          progress?.update({ epoch: e, step: st + 1, loss: acc / accN });
          acc = 0;
          accN = 0;
        }
        await new Promise((r) => setImmediate(r));
      }
    }
    if (accN > 0) curve.push(acc / accN);
  } finally {
    opt.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  progress?.done(`${recipe.epochs} epochs, ${seconds.toFixed(1)} s, final loss ${curve[curve.length - 1]?.toFixed(3)}`);
  return { curve, seconds };
}

/** The pretrained model's top-5 words for one [MASK] in a held-out sentence. */
export interface FillIn {
  sentence: string;
  /** The word that was masked. */
  answer: string;
  top5: { word: string; p: number }[];
  /** The answer's rank among all words (1 = top). */
  rank: number;
}

/** Masks word `position` (0-based, in the sentence) of each sentence and reads the masked-LM's top 5. */
export function fillInTheBlank(
  model: tf.LayersModel,
  vocab: Vocabulary,
  sentences: Int32Array[],
  positions: number[],
): FillIn[] {
  if (sentences.length !== positions.length)
    throw argError(
      "fillInTheBlank",
      "positions",
      `one position per sentence (${sentences.length})`,
      show(positions.length),
    );
  const T = model.inputs[0].shape[1] as number;
  const encoder = bertEncoder(model);
  return sentences.map((ids, i) => {
    const p = positions[i];
    checkIntInRange(
      "fillInTheBlank",
      `positions[${i}]`,
      p,
      0,
      Math.min(ids.length, T - 1) - 1,
      "a word of the sentence inside the window",
    );
    const w = new Float32Array(T);
    w[0] = TEXT_CLS;
    w.set(Array.from(ids.subarray(0, T - 1)), 1);
    w[p + 1] = TEXT_MASK;
    const probs = tf.tidy(() => {
      const h = (encoder.predict(tf.tensor2d(w, [1, T])) as tf.Tensor3D)
        .reshape([T, -1])
        .slice([p + 1, 0], [1, -1]) as tf.Tensor2D;
      return tf.softmax(bertMlmLogits(model, h)).reshape([-1]);
    });
    const v = probs.dataSync() as Float32Array;
    probs.dispose();
    const order = Array.from(v.keys()).sort((a, b) => v[b] - v[a]);
    const words = Array.from(ids, (t) => vocab.words[t]);
    const shown = words.map((x, j) => (j === p ? "[MASK]" : x)).join(" ");
    return {
      sentence: shown,
      answer: words[p],
      top5: order.slice(0, 5).map((j) => ({ word: vocab.words[j], p: v[j] })),
      rank: order.indexOf(ids[p]) + 1,
    };
  });
}

// ---- Transfer ----------------------------------------------------------------------------------

export type BertMethod = "scratch" | "head-only" | "freeze" | "lora-qv";
export const BERT_METHODS: readonly BertMethod[] = ["scratch", "head-only", "freeze", "lora-qv"];

export interface BertVariant {
  method: BertMethod;
  /** freeze: the embeddings and blocks 0..k-1 frozen (k = 0: full fine-tuning). */
  frozenBlocks?: number;
  /** Rate of what trains below the head (scratch: everything; LoRA: the adapters). */
  learningRate?: number;
  r?: number;
  alpha?: number;
}

/** One transfer run's scores. */
export interface BertRun {
  seed: number;
  target: TextTargetName;
  labelsPerClass: number;
  method: BertMethod;
  /** Table name: scratch, head-only, freeze-<k> (freeze-0 = full FT), lora-qv-r<r>, with @lr. */
  name: string;
  frozenBlocks: number | null;
  learningRate: number;
  headLearningRate: number;
  r: number | null;
  /** Window accuracy on the target's test and validation splits. */
  accuracy: number;
  valAccuracy: number;
  /** Near: address-level accuracy (majority of each test address's windows); far: = accuracy (one window per e-mail). */
  docAccuracy: number;
  trainableParams: number;
  totalParams: number;
  steps: number;
  seconds: number;
  /** Frozen weight tensors checked unchanged. */
  frozenWeights: number;
  /** LoRA: largest |merged − unmerged| output on validation. */
  mergeMaxDiff: number | null;
  /** Pooled features of the training windows under the starting weights: median per-feature standard
   * deviation and mean |mean| (a small ratio = features nearly the same vector for every window). */
  poolStd: number;
  poolMeanAbs: number;
  /** The head read standardised pooled features (pool_norm set from the training windows). */
  standardized: boolean;
  /** Read from the run cache instead of trained now. */
  reused?: boolean;
}

export function bertVariantName(v: BertVariant, r?: number): string {
  const lr = v.learningRate !== undefined ? `@lr=${v.learningRate}` : "";
  switch (v.method) {
    case "scratch":
      return `scratch${lr}`;
    case "head-only":
      return "head-only";
    case "freeze":
      return `freeze-${v.frozenBlocks ?? 0}${lr}`;
    case "lora-qv":
      return `lora-qv-r${v.r ?? r ?? 4}${lr}`;
  }
}

function checkVariant(where: string, v: BertVariant, depth: number): void {
  if (typeof v !== "object" || v === null) throw argError(where, "variant", "{ method, ... }", show(v));
  checkOneOf(where, "method", v.method, BERT_METHODS);
  if (v.method === "freeze")
    checkIntInRange(where, "frozenBlocks", v.frozenBlocks, 0, depth, `the BERT has ${depth} blocks`);
  if (v.learningRate !== undefined) checkPositiveFinite(where, "learningRate", v.learningRate);
  if (v.method === "lora-qv") checkLoraHyper(where, v.r ?? 4, v.alpha ?? DEFAULT_LORA_ALPHA, 0);
}

export interface BertTransferArgs {
  /** The pretrained BERT (never modified). */
  source: tf.LayersModel;
  tasks: TextTasks;
  target: TextTargetName;
  labelsPerClass: number;
  seed: number;
  variant: BertVariant;
  settings: Lesson06Settings;
}

/** The model a variant trains, with its frozen layers set (a new model; the source is untouched). */
function prepareModel(args: BertTransferArgs, target: TextTarget): tf.LayersModel {
  const s = args.settings;
  const shape = shapeFor(args.tasks, s, target.classNames.length, args.seed * 7919 + 17);
  const fresh = buildBert(shape);
  if (args.variant.method === "scratch") return fresh;
  copyBertWeights(args.source, fresh);
  switch (args.variant.method) {
    case "head-only":
      freeze(fresh);
      unfreeze(fresh, ["head"]);
      return fresh;
    case "freeze":
      unfreeze(fresh);
      freeze(fresh, bertLayersBelow(fresh, args.variant.frozenBlocks ?? 0));
      return fresh;
    case "lora-qv": {
      try {
        return applyLora(fresh, {
          r: args.variant.r ?? s.loraR,
          alpha: args.variant.alpha ?? DEFAULT_LORA_ALPHA,
          targets: BERT_LORA_TARGETS,
          trainHead: true,
          seed: args.seed,
        });
      } finally {
        fresh.dispose();
      }
    }
  }
}

function rateOf(v: BertVariant, s: Lesson06Settings): number {
  if (v.learningRate !== undefined) return v.learningRate;
  switch (v.method) {
    case "scratch":
      return s.scratchLearningRate;
    case "head-only":
      return s.headLearningRate;
    case "freeze":
      return s.fullFtLearningRates[0];
    case "lora-qv":
      return s.loraLearningRate;
  }
}

/** One transfer run on k labelled windows per class of a target. Throws if a frozen weight moved or the
 * merged LoRA model disagrees with the adapters (invariants). */
export async function runBertTransfer(args: BertTransferArgs): Promise<BertRun> {
  const where = "runBertTransfer";
  checkOneOf(where, "target", args.target, TEXT_TARGETS);
  const depth = bertDepth(args.source);
  checkVariant(where, args.variant, depth);
  const s = args.settings;
  const target = args.tasks[args.target];
  const train = target.labels(args.labelsPerClass, args.seed); // checks the budget against the pool
  const lr = rateOf(args.variant, s);
  // Scratch trains everything at its one rate; the others' heads train at the head rate.
  const headLr = args.variant.method === "scratch" ? lr : s.headLearningRate;
  const model = prepareModel(args, target);
  try {
    // A pretrained encoder's head reads standardised pooled features (μ, s of these training windows under the
    // starting weights). Scratch keeps the identity: its random encoder's features are not collapsed, and a
    // standardisation fixed at its random start would amplify the updates of an encoder that trains from step one.
    const standardized = s.standardizePooled && args.variant.method !== "scratch";
    const pool = standardized ? setPoolStandardization(model, train) : pooledSpread(model, train);
    const batchSize = Math.min(s.fineTune.batchSize, train.n);
    const perEpoch = Math.ceil(train.n / batchSize);
    const epochs = Math.max(s.fineTune.epochs, Math.ceil(s.fineTune.minSteps / perEpoch));
    const before = snapshotWeights(model);
    const h = await fit(model, train, {
      epochs,
      batchSize,
      learningRate: lr,
      seed: args.seed,
      progress: false,
      layerLearningRates: headLr === lr ? undefined : { head: headLr / lr },
    });
    assertFrozenUnchanged(model, before);
    let mergeMaxDiff: number | null = null;
    if (args.variant.method === "lora-qv") {
      const m = mergeCheck(model, target.val);
      mergeMaxDiff = m.maxAbsDiff;
      if (!(m.maxAbsDiff <= MERGE_TOLERANCE) || !m.labelsAgree)
        throw new Error(
          `${where}: the merged LoRA model differs from the adapters by ${m.maxAbsDiff} (at most ${MERGE_TOLERANCE} expected)`,
        );
    }
    const testPred = predictLabels(model, target.test);
    const valPred = predictLabels(model, target.val);
    const acc = (split: TextSplit, p: Int32Array) => p.reduce((a, c, i) => a + (c === split.y[i] ? 1 : 0), 0) / split.n;
    const counts = countParams(model);
    return {
      seed: args.seed,
      target: args.target,
      labelsPerClass: args.labelsPerClass,
      method: args.variant.method,
      name: bertVariantName(args.variant, s.loraR),
      frozenBlocks: args.variant.method === "freeze" ? (args.variant.frozenBlocks ?? 0) : null,
      learningRate: lr,
      headLearningRate: headLr,
      r: args.variant.method === "lora-qv" ? (args.variant.r ?? s.loraR) : null,
      accuracy: acc(target.test, testPred),
      valAccuracy: acc(target.val, valPred),
      docAccuracy: documentAccuracy(target.test, testPred),
      trainableParams: counts.trainable,
      totalParams: counts.all,
      steps: h.steps,
      seconds: h.seconds,
      frozenWeights: before.entries.filter((e) => e.frozen).length,
      mergeMaxDiff,
      standardized,
      poolStd: pool.medianStd,
      poolMeanAbs: pool.meanAbs,
    };
  } finally {
    model.dispose();
  }
}

// ---- A no-pretraining text baseline --------------------------------------------------------------

/** Smoothing candidates of the naive-Bayes baseline (chosen on validation; ties: the earlier). */
export const NAIVE_BAYES_ALPHAS: readonly number[] = [0.03, 0.1, 0.3, 1];

/** The naive-Bayes baseline's scores on one target and budget. */
export interface NaiveBayesRun {
  seed: number;
  target: TextTargetName;
  labelsPerClass: number;
  accuracy: number;
  valAccuracy: number;
  docAccuracy: number;
  /** The smoothing chosen on validation. */
  alpha: number;
}

/**
 * Multinomial naive Bayes on the bag of words of each window (the classic few-label text baseline, no
 * pretraining, no gradient steps): log p(c) + Σ_w n_w log θ_cw with θ_cw = (N_cw + α) / (N_c + αV)
 * counted on the k labelled windows per class; [PAD], [CLS] and [MASK] are not words. The smoothing α
 * is chosen on the target's validation split; test is scored once.
 */
export function naiveBayesBaseline(
  tasks: TextTasks,
  target: TextTargetName,
  labelsPerClass: number,
  seed: number,
  alphas: readonly number[] = NAIVE_BAYES_ALPHAS,
): NaiveBayesRun {
  const where = "naiveBayesBaseline";
  checkOneOf(where, "target", target, TEXT_TARGETS);
  if (!Array.isArray(alphas) || alphas.length === 0 || alphas.some((a) => !(a > 0) || !Number.isFinite(a)))
    throw argError(where, "alphas", "a non-empty list of finite numbers > 0", show(alphas));
  const t = tasks[target];
  const train = t.labels(labelsPerClass, seed);
  const V = tasks.vocab.words.length;
  const C = t.classNames.length;
  const T = train.dim;
  const isWord = (id: number) => id !== 0 && id !== TEXT_CLS && id !== TEXT_MASK;
  const counts = Array.from({ length: C }, () => new Float64Array(V));
  const totals = new Float64Array(C);
  const docs = new Float64Array(C);
  for (let i = 0; i < train.n; i++) {
    const c = train.y[i];
    docs[c]++;
    for (let j = 0; j < T; j++) {
      const id = train.x[i * T + j];
      if (!isWord(id)) continue;
      counts[c][id]++;
      totals[c]++;
    }
  }
  const predict = (split: TextSplit, alpha: number): Int32Array => {
    const logTheta = counts.map((row, c) => row.map((n) => Math.log((n + alpha) / (totals[c] + alpha * V))));
    const logPrior = Array.from(docs, (d) => Math.log(d / train.n));
    const out = new Int32Array(split.n);
    for (let i = 0; i < split.n; i++) {
      let best = -Infinity;
      for (let c = 0; c < C; c++) {
        let score = logPrior[c];
        for (let j = 0; j < T; j++) {
          const id = split.x[i * T + j];
          if (isWord(id)) score += logTheta[c][id];
        }
        if (score > best) {
          best = score;
          out[i] = c;
        }
      }
    }
    return out;
  };
  const acc = (split: TextSplit, p: Int32Array) => p.reduce((a, c, i) => a + (c === split.y[i] ? 1 : 0), 0) / split.n;
  let bestAlpha = alphas[0];
  let bestVal = -1;
  for (const a of alphas) {
    const v = acc(t.val, predict(t.val, a));
    if (v > bestVal) {
      bestVal = v;
      bestAlpha = a;
    }
  }
  const testPred = predict(t.test, bestAlpha);
  return {
    seed,
    target,
    labelsPerClass,
    accuracy: acc(t.test, testPred),
    valAccuracy: bestVal,
    docAccuracy: documentAccuracy(t.test, testPred),
    alpha: bestAlpha,
  };
}

// ---- The lesson's experiment ---------------------------------------------------------------------

export interface BertExperimentArgs {
  scale?: Scale;
  seeds?: number[];
  targets?: TextTargetName[];
  labelBudgets?: number[];
  /** Settings to use instead of the scale's (e.g. with edited parameters). */
  settings?: Lesson06Settings;
  /** Also run these variants in every cell (e.g. an extra freeze depth or rank from the parameters cell). */
  extra?: BertVariant[];
  /** Read runs back from the run cache (default true). */
  reuse?: boolean;
  progress?: boolean;
}

/** What the experiment measured of one seed's pretrained BERT. */
export interface PretrainRow {
  seed: number;
  key: string;
  fromCache: boolean;
  seconds: number;
  curve: number[];
  curveEvery: number;
  heldOutLoss: number;
  heldOutTop1: number;
  unigramLoss: number;
  params: number;
  nearUnknownRate: number;
  farUnknownRate: number;
}

export interface BertCell {
  target: TextTargetName;
  labelsPerClass: number;
  /** Each seed's full fine-tuning rate, chosen on that seed's validation split. */
  chosenRate: { seed: number; rate: number }[];
}

export interface BertExperiment {
  runs: BertRun[];
  /** The naive-Bayes bag-of-words baseline per seed, target and budget (no pretraining). */
  naiveBayes: NaiveBayesRun[];
  pretrained: PretrainRow[];
  cells: BertCell[];
  depth: number;
  settings: Lesson06Settings;
  seconds: number;
}

/** Checks the experiment's arguments (before any pretraining): errors name the parameter, value and what is allowed. */
function checkExperimentArgs(where: string, args: BertExperimentArgs, s: Lesson06Settings): void {
  if (args.seeds !== undefined) checkSeeds(where, args.seeds);
  (args.targets ?? []).forEach((t, i) => checkOneOf(where, `targets[${i}]`, t, TEXT_TARGETS));
  (args.labelBudgets ?? []).forEach((k, i) => checkPositiveInt(where, `labelBudgets[${i}]`, k));
  (args.extra ?? []).forEach((v) => checkVariant(where, v, s.bert.depth));
  if (s.seqLength > s.bert.maxPositions)
    throw argError(where, "seqLength", `at most bert.maxPositions = ${s.bert.maxPositions}`, show(s.seqLength));
}

/**
 * For every seed: its tasks and pretrained BERT (cached), then for each target and label budget:
 * scratch, head-only, full fine-tuning at each candidate rate (the best on this seed's validation is
 * the cell's full-FT run and the rate of the freeze sweep), freeze-k for k = 1..L at that rate, LoRA on
 * q and v, and `extra`. Runs are cached per configuration (JSON) and read back on a re-run.
 */
export async function runBertExperiment(args: BertExperimentArgs = {}): Promise<BertExperiment> {
  const where = "runBertExperiment";
  const scale = scaleArg(where, args.scale);
  const s = args.settings ?? bertSettings(scale);
  checkExperimentArgs(where, args, s);
  checkCacheWritable(undefined, where);
  const seeds = args.seeds ?? s.seeds;
  const targets = args.targets ?? [...TEXT_TARGETS];
  const budgets = args.labelBudgets ?? s.labelBudgets;
  const t0 = performance.now();
  // Check the budgets against every seed's pools before any training.
  for (const seed of seeds) {
    const tasks = bertTasks(seed, s);
    for (const t of targets) for (const k of budgets) tasks[t].labels(k, seed);
  }
  const runs: BertRun[] = [];
  const naiveBayes: NaiveBayesRun[] = [];
  const pretrained: PretrainRow[] = [];
  const cells = new Map<string, BertCell>();
  const line = args.progress === false ? null : newDisplay();
  let trained = 0;
  const perSeed = targets.length * budgets.length * (3 + s.fullFtLearningRates.length + s.bert.depth);
  const total = seeds.length * perSeed;
  for (const seed of seeds) {
    const tasks = bertTasks(seed, s);
    const pre = await pretrainBert({ seed, settings: s, scale, tasks, log: false, progress: args.progress });
    try {
      pretrained.push({
        seed,
        key: pre.key,
        fromCache: pre.fromCache,
        seconds: pre.seconds,
        curve: pre.curve,
        curveEvery: pre.curveEvery,
        heldOutLoss: pre.heldOut.loss,
        heldOutTop1: pre.heldOut.top1,
        unigramLoss: pre.heldOut.unigramLoss,
        params: pre.model.countParams(),
        nearUnknownRate: tasks.near.unknownRate,
        farUnknownRate: tasks.far.unknownRate,
      });
      for (const target of targets) {
        for (const k of budgets) {
          const run = async (variant: BertVariant): Promise<BertRun> => {
            const runKey = cacheKey({
              name: "tiny-bert-run",
              config: {
                pre: pre.key,
                target,
                k,
                variant,
                ft: s.fineTune,
                headLr: s.headLearningRate,
                standardize: s.standardizePooled,
                loraR: s.loraR,
                scratchLr: s.scratchLearningRate,
                lora: s.loraLearningRate,
                eval: [s.valPerClass, s.testWindowsPerAddress, s.farTestPerClass],
              },
              scale,
              seed,
            });
            const got = await cachedJson(
              runKey,
              () =>
                runBertTransfer({ source: pre.model, tasks, target, labelsPerClass: k, seed, variant, settings: s }),
              {
                retrain: args.reuse === false,
                log: false,
              },
            );
            const r: BertRun = { ...got.value, reused: got.fromCache };
            if (!got.fromCache) trained++;
            runs.push(r);
            line?.text(
              `06: ${runs.length}/${total}+ runs (${trained} trained), last: ${target} k=${k} ${r.name} seed ${seed} → ` +
                `${(100 * r.accuracy).toFixed(1)} % (validation ${(100 * r.valAccuracy).toFixed(1)} %), ${((performance.now() - t0) / 1000).toFixed(0)} s`,
            );
            return r;
          };
          naiveBayes.push(naiveBayesBaseline(tasks, target, k, seed));
          await run({ method: "scratch" });
          await run({ method: "head-only" });
          const ft: BertRun[] = [];
          for (const lr of s.fullFtLearningRates)
            ft.push(await run({ method: "freeze", frozenBlocks: 0, learningRate: lr }));
          const best = ft.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
          const cellKey = `${target}/${k}`;
          const cell = cells.get(cellKey) ?? { target, labelsPerClass: k, chosenRate: [] };
          cell.chosenRate.push({ seed, rate: best.learningRate });
          cells.set(cellKey, cell);
          for (let f = 1; f <= s.bert.depth; f++)
            await run({ method: "freeze", frozenBlocks: f, learningRate: best.learningRate });
          await run({ method: "lora-qv" });
          for (const v of args.extra ?? []) {
            const v2 =
              v.method === "freeze" && v.learningRate === undefined ? { ...v, learningRate: best.learningRate } : v;
            const dup = runs.some(
              (r) =>
                r.seed === seed &&
                r.target === target &&
                r.labelsPerClass === k &&
                r.name === bertVariantName(v2, s.loraR),
            );
            if (!dup) await run(v2);
          }
        }
      }
    } finally {
      pre.model.dispose();
    }
  }
  return {
    runs,
    naiveBayes,
    pretrained,
    cells: [...cells.values()],
    depth: s.bert.depth,
    settings: s,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The runs of one arm of one cell, one per seed: "scratch", "head-only", "lora", "full-ft" (freeze-0 at
 * the seed's validated rate), or a freeze depth k (at the validated rate; k = 0 is full-ft). */
export function bertArm(
  exp: BertExperiment,
  target: TextTargetName,
  k: number,
  arm: "scratch" | "head-only" | "lora" | "full-ft" | number,
): BertRun[] {
  const cell = exp.cells.find((c) => c.target === target && c.labelsPerClass === k);
  const rateOfSeed = new Map(cell?.chosenRate.map((c) => [c.seed, c.rate]) ?? []);
  const depth = arm === "full-ft" ? 0 : arm;
  return exp.runs.filter((r) => {
    if (r.target !== target || r.labelsPerClass !== k) return false;
    if (arm === "scratch") return r.method === "scratch";
    if (arm === "head-only") return r.method === "head-only";
    if (arm === "lora")
      return r.method === "lora-qv" && r.r === exp.settings.loraR && r.learningRate === exp.settings.loraLearningRate;
    return r.method === "freeze" && r.frozenBlocks === depth && r.learningRate === rateOfSeed.get(r.seed);
  });
}

/** {seed, value} pairs of a field of runs, for compareOnSeeds. */
export function bertValues(
  runs: readonly BertRun[],
  field: "accuracy" | "valAccuracy" | "docAccuracy" = "accuracy",
): { seed: number; value: number }[] {
  return runs.map((r) => ({ seed: r.seed, value: r[field] }));
}

/** Paired per-seed difference of two arms' values (a − b), as {seed, value}. */
export function bertGain(
  a: readonly BertRun[],
  b: readonly BertRun[],
  field: "accuracy" | "valAccuracy" = "accuracy",
): { seed: number; value: number }[] {
  const bySeed = new Map(b.map((r) => [r.seed, r[field]]));
  return a.filter((r) => bySeed.has(r.seed)).map((r) => ({ seed: r.seed, value: r[field] - bySeed.get(r.seed)! }));
}

export type { BertShape };

// ---- Tables and verdicts -------------------------------------------------------------------------

/** The freeze depth "freeze more" stands for: ⌈3L/4⌉ of L blocks (3 of 4, as 8-9 of 12 in BERT-base). */
export function deepFreeze(depth: number): number {
  return Math.max(1, Math.ceil((3 * depth) / 4));
}

/** The freeze depth "only the first 1-2 layers" stands for: 1 block (of 4: 25 %, as 3 of 12). */
export const SHALLOW_FREEZE = 1;

/** The freeze depth (0..L, each at the seed's validated full-FT rate) with the best mean validation
 * accuracy over seeds in one cell (ties: the shallower), and every depth's validation mean. */
export function bestFreezeDepth(
  exp: BertExperiment,
  target: TextTargetName,
  k: number,
): { depth: number; candidates: { depth: number; valMean: number; testMean: number; n: number }[] } {
  const candidates = Array.from({ length: exp.depth + 1 }, (_, d) => {
    const runs = bertArm(exp, target, k, d);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    return {
      depth: d,
      valMean: mean(runs.map((r) => r.valAccuracy)),
      testMean: mean(runs.map((r) => r.accuracy)),
      n: runs.length,
    };
  });
  let best = 0;
  candidates.forEach((c, i) => {
    if (c.valMean > candidates[best].valMean) best = i;
  });
  return { depth: candidates[best].depth, candidates };
}

/** The runs of the depth chosen on validation (one depth for all seeds of the cell). */
export function bestFreezeRuns(exp: BertExperiment, target: TextTargetName, k: number): BertRun[] {
  return bertArm(exp, target, k, bestFreezeDepth(exp, target, k).depth);
}

/** The arms of a cell as table columns: name -> runs. */
export function bertArms(exp: BertExperiment, target: TextTargetName, k: number): { arm: string; runs: BertRun[] }[] {
  const arms: { arm: string; runs: BertRun[] }[] = [
    { arm: "scratch", runs: bertArm(exp, target, k, "scratch") },
    { arm: "head-only", runs: bertArm(exp, target, k, "head-only") },
  ];
  for (let d = exp.depth; d >= 1; d--) arms.push({ arm: `freeze ${d}/${exp.depth}`, runs: bertArm(exp, target, k, d) });
  arms.push({ arm: "full FT", runs: bertArm(exp, target, k, "full-ft") });
  arms.push({ arm: `LoRA q,v r=${exp.settings.loraR}`, runs: bertArm(exp, target, k, "lora") });
  return arms;
}

/** One claim and its paired verdict (show/verdicts.ts's VerdictRow). */
export interface BertVerdict {
  claim: string;
  comparison: SeedComparison;
  /** Which rule or question it answers. */
  group: "pretraining" | "similarity" | "data" | "low-similarity" | "interview" | "lora";
}

/** Points within which "no worse than" claims are judged (equivalence margin, 2 points as lesson 04). */
export const BERT_NEAR_MARGIN = 0.02;

/**
 * The seeds' rule of thumb as paired verdicts on test accuracy (every arm at the configuration chosen on
 * validation: full FT's rate per seed, the best freeze depth per cell):
 * - pretraining pays: best freeze depth (chosen on validation) > scratch, per target and budget;
 * - high similarity → freeze more: the gain of freezing ⌈3L/4⌉ blocks over full FT is larger near than far, per budget;
 * - small data → freeze more: that gain is larger at the smallest budget than at the largest, per target;
 * - low similarity → freeze only the first 1-2 layers: far, freezing 1 block > freezing ⌈3L/4⌉, per budget;
 * - the interview's "freeze 8 of 12": near, freezing ⌈3L/4⌉ is within 2 points of full FT, per budget;
 * - LoRA on q,v is within 2 points of full FT, per target and budget.
 */
export function ruleOfThumbVerdicts(exp: BertExperiment): BertVerdict[] {
  const out: BertVerdict[] = [];
  const L = exp.depth;
  const deep = deepFreeze(L);
  const targets = [...new Set(exp.runs.map((r) => r.target))];
  const budgets = [...new Set(exp.runs.map((r) => r.labelsPerClass))].sort((a, b) => a - b);
  const gain = (t: TextTargetName, k: number) => bertGain(bertArm(exp, t, k, deep), bertArm(exp, t, k, "full-ft"));
  for (const t of targets)
    for (const k of budgets) {
      const best = bestFreezeDepth(exp, t, k).depth;
      out.push({
        group: "pretraining",
        claim: `${t}, ${k}/class: pretrained (freeze ${best}/${L}, chosen on validation) > scratch`,
        comparison: compareOnSeeds(bertValues(bertArm(exp, t, k, best)), bertValues(bertArm(exp, t, k, "scratch")), {
          direction: "greater",
        }),
      });
    }
  for (const t of targets)
    for (const k of budgets) {
      const best = bestFreezeDepth(exp, t, k).depth;
      const nb = exp.naiveBayes.filter((r) => r.target === t && r.labelsPerClass === k);
      out.push({
        group: "pretraining",
        claim: `${t}, ${k}/class: pretrained (freeze ${best}/${L}, chosen on validation) > naive Bayes on word counts`,
        comparison: compareOnSeeds(
          bertValues(bertArm(exp, t, k, best)),
          nb.map((r) => ({ seed: r.seed, value: r.accuracy })),
          { direction: "greater" },
        ),
      });
    }
  if (targets.includes("near") && targets.includes("far"))
    for (const k of budgets)
      out.push({
        group: "similarity",
        claim: `high similarity → freeze more: gain of freezing ${deep}/${L} over full FT, near > far (${k}/class)`,
        comparison: compareOnSeeds(gain("near", k), gain("far", k), { direction: "greater" }),
      });
  if (budgets.length >= 2)
    for (const t of targets)
      out.push({
        group: "data",
        claim: `small data → freeze more: gain of freezing ${deep}/${L} over full FT, ${budgets[0]}/class > ${budgets[budgets.length - 1]}/class (${t})`,
        comparison: compareOnSeeds(gain(t, budgets[0]), gain(t, budgets[budgets.length - 1]), { direction: "greater" }),
      });
  if (targets.includes("far"))
    for (const k of budgets)
      out.push({
        group: "low-similarity",
        claim: `low similarity → freeze only the first layers: far, freeze ${SHALLOW_FREEZE}/${L} > freeze ${deep}/${L} (${k}/class)`,
        comparison: compareOnSeeds(
          bertValues(bertArm(exp, "far", k, SHALLOW_FREEZE)),
          bertValues(bertArm(exp, "far", k, deep)),
          { direction: "greater" },
        ),
      });
  if (targets.includes("near"))
    for (const k of budgets)
      out.push({
        group: "interview",
        claim: `"freeze the first 8 of 12": near, freeze ${deep}/${L} within ${100 * BERT_NEAR_MARGIN} points of full FT (${k}/class)`,
        comparison: compareOnSeeds(
          bertValues(bertArm(exp, "near", k, deep)),
          bertValues(bertArm(exp, "near", k, "full-ft")),
          {
            direction: "within",
            margin: BERT_NEAR_MARGIN,
          },
        ),
      });
  for (const t of targets)
    for (const k of budgets)
      out.push({
        group: "lora",
        claim: `${t}, ${k}/class: LoRA on q,v within ${100 * BERT_NEAR_MARGIN} points of full FT`,
        comparison: compareOnSeeds(bertValues(bertArm(exp, t, k, "lora")), bertValues(bertArm(exp, t, k, "full-ft")), {
          direction: "within",
          margin: BERT_NEAR_MARGIN,
        }),
      });
  return out;
}

/** The parameters cell's values, checked against the settings: errors name the parameter, the value and
 * what is allowed (an unknown target, a budget larger than a pool, a freeze depth or rank out of range,
 * windows longer than the model's positions). Returns the extra variants the parameters add. */
export function checkBertParameters(
  p: { freezeLayers: number; r: number; target: string; labelsPerClass: number },
  s: Lesson06Settings,
  seeds: number[] = s.seeds,
): BertVariant[] {
  const where = "lesson 06 parameters";
  checkOneOf(where, "target", p.target, TEXT_TARGETS);
  checkIntInRange(where, "freezeLayers", p.freezeLayers, 0, s.bert.depth, `the BERT has ${s.bert.depth} blocks`);
  checkLoraHyper(where, p.r, DEFAULT_LORA_ALPHA, 0);
  checkPositiveInt(where, "labelsPerClass", p.labelsPerClass);
  if (s.seqLength > s.bert.maxPositions)
    throw argError(
      where,
      "seqLength",
      `at most bert.maxPositions = ${s.bert.maxPositions}`,
      show(s.seqLength),
      "the position table has that many rows",
    );
  for (const seed of seeds) bertTasks(seed, s)[p.target as TextTargetName].labels(p.labelsPerClass, seed);
  return [
    { method: "freeze", frozenBlocks: p.freezeLayers },
    { method: "lora-qv", r: p.r },
  ];
}
