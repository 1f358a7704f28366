// How far apart two domains are, as a model's layer sees them: the proxy A-distance of Ben-David et
// al. (2007, 2010). Train a linear domain classifier (source image → 0, target image → 1) on a layer's
// features and read its error ε on held-out images of both domains: d_A = 2(1 − 2ε). Chance (ε = ½)
// gives 0 — the layer cannot tell the domains apart; a perfect classifier (ε = 0) gives 2.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { shuffledIndices, subSeed } from "../core/random";
import { argError, checkFinite, checkPositiveFinite, checkPositiveInt, show } from "../core/validate";
import { checkDataset } from "../data/check";
import { subset } from "../data/subset";
import { fit } from "../train/fit";
import { evaluateAccuracy } from "../models/predict";
import { extractFeatures, INPUT_FEATURES, softmaxRegression } from "./features";

/** Images drawn from each domain (at most; fewer when a domain has fewer). */
export const DEFAULT_DOMAIN_IMAGES = 600;
/** Most epochs of the domain classifier; the epoch kept is chosen on its validation images. */
export const DEFAULT_DOMAIN_EPOCHS = 20;
export const DEFAULT_DOMAIN_LEARNING_RATE = 1e-2;
/** Fewest images per domain: each of the three splits (train ½, validation ¼, test ¼) needs some. */
export const MIN_DOMAIN_IMAGES = 8;

export interface DomainDistanceArgs {
  /** Layer whose outputs the domain classifier reads (INPUT_FEATURES = the pixels). */
  layer: string;
  /** Seeds which images are drawn, how they are split, the classifier's init and batch order. */
  seed?: number;
  /** Images drawn from each domain (default DEFAULT_DOMAIN_IMAGES); half train the classifier, a
   * quarter choose its epoch, a quarter give the held-out error ε. */
  imagesPerDomain?: number;
  /** Most epochs (default DEFAULT_DOMAIN_EPOCHS); the epoch with the best validation accuracy is kept. */
  epochs?: number;
  learningRate?: number;
  /** Model that computes the target images' features (default: `model`): AdaBN normalises each
   * domain with its own statistics, so its target features come from the adapted copy. */
  targetModel?: tf.LayersModel;
}

export interface DomainDistance {
  layer: string;
  /** Proxy A-distance 2(1 − 2ε): 0 = indistinguishable, 2 = separable. Negative when the held-out
   * error is above ½ (noise around 0). */
  distance: number;
  /** Held-out error ε of the domain classifier (test quarter, both domains). */
  error: number;
  /** Held-out AUC of the domain classifier's target probability (½ = chance, 1 = every target image
   * ranked above every source image): continuous where d_A saturates at 2. */
  auc: number;
  /** Held-out mean log-loss (nats) of the domain classifier: ln 2 ≈ 0.693 = chance, 0 = certain and
   * right; keeps falling after ε reaches 0, so it still orders shifts that d_A ties at 2. */
  logLoss: number;
  /** Width of the features the classifier read. */
  dim: number;
  /** Images per domain in each split. */
  train: number;
  val: number;
  test: number;
  /** Epochs the kept classifier had trained (chosen on validation). */
  epochs: number;
}

/** Row indices of `n` of a domain's images split train / validation / test (½, ¼, ¼). */
function splitDomain(total: number, n: number, seed: string): [Int32Array, Int32Array, Int32Array] {
  const order = shuffledIndices(total, seed).subarray(0, n);
  const nTest = Math.floor(n / 4);
  const nVal = Math.floor(n / 4);
  return [order.subarray(0, n - nVal - nTest), order.subarray(n - nVal - nTest, n - nTest), order.subarray(n - nTest)];
}

/** Source rows labeled 0 and target rows labeled 1, features standardised with `stats`. */
function domainSet(s: Dataset, t: Dataset, stats: { mean: Float64Array; std: Float64Array }, name: string): Dataset {
  const dim = s.dim;
  const n = s.n + t.n;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  [s, t].forEach((d, side) => {
    const at = side === 0 ? 0 : s.n;
    for (let i = 0; i < d.n; i++) {
      y[at + i] = side;
      for (let j = 0; j < dim; j++) x[(at + i) * dim + j] = (d.x[i * dim + j] - stats.mean[j]) / stats.std[j];
    }
  });
  return { x, y, n, dim, numClasses: 2, name };
}

/** Per-feature mean and standard deviation over the rows of both sets (constant features get std 1). */
function featureStats(a: Dataset, b: Dataset): { mean: Float64Array; std: Float64Array } {
  const dim = a.dim;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  const n = a.n + b.n;
  for (const d of [a, b])
    for (let i = 0; i < d.n; i++)
      for (let j = 0; j < dim; j++) {
        const v = d.x[i * dim + j];
        mean[j] += v;
        sq[j] += v * v;
      }
  const std = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    mean[j] /= n;
    const v = sq[j] / n - mean[j] * mean[j];
    std[j] = v > 1e-12 ? Math.sqrt(v) : 1;
  }
  return { mean, std };
}

/** The classifier's probability of "target" (class 1) for each row of `d`. */
function targetProbabilities(clf: tf.LayersModel, d: Dataset): Float32Array {
  return tf.tidy(() => {
    const out = clf.predict(tf.tensor2d(d.x, [d.n, d.dim])) as tf.Tensor;
    return out.slice([0, 1], [d.n, 1]).dataSync() as Float32Array;
  });
}

/** Area under the ROC curve of scores `p` for labels `y` (1 = positive): the Mann-Whitney statistic,
 * ties counted ½. NaN when one class is absent. */
export function rocAuc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && p[idx[j + 1]] === p[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (y[idx[k]] === 1) {
        rankSumPos += r;
        nPos++;
      }
    i = j + 1;
  }
  const nNeg = p.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean binary log-loss (nats) of probabilities `p` of class 1 for labels `y`, clipped at 1e-7. */
function meanLogLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]));
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

/**
 * Proxy A-distance between the source and target images at one layer of `model`: a linear (softmax)
 * domain classifier is trained on the layer's standardised features of half the images, its epoch
 * chosen on a quarter, and its error ε read on the last quarter (both domains, equal counts):
 * d_A = 2(1 − 2ε). Labels of the images are never read. Leaves no tensors behind.
 */
export async function domainDistance(
  model: tf.LayersModel,
  sourceImages: Dataset,
  targetImages: Dataset,
  args: DomainDistanceArgs,
): Promise<DomainDistance> {
  const where = "domainDistance";
  if (typeof args !== "object" || args === null)
    throw argError(where, "args", "{ layer, seed?, imagesPerDomain?, epochs?, learningRate? }", show(args));
  checkDataset(where, "sourceImages", sourceImages);
  checkDataset(where, "targetImages", targetImages);
  if (sourceImages.dim !== targetImages.dim)
    throw argError(
      where,
      "targetImages.dim",
      `the width of sourceImages (${sourceImages.dim})`,
      show(targetImages.dim),
      "both domains must be images of one size",
    );
  const seed = args.seed ?? 0;
  checkFinite(where, "seed", seed);
  const wanted = args.imagesPerDomain ?? DEFAULT_DOMAIN_IMAGES;
  checkPositiveInt(where, "imagesPerDomain", wanted);
  const epochs = args.epochs ?? DEFAULT_DOMAIN_EPOCHS;
  checkPositiveInt(where, "epochs", epochs);
  const learningRate = args.learningRate ?? DEFAULT_DOMAIN_LEARNING_RATE;
  checkPositiveFinite(where, "learningRate", learningRate);
  if (typeof args.layer !== "string")
    throw argError(where, "layer", `${JSON.stringify(INPUT_FEATURES)} or a layer name of the model`, show(args.layer));
  const n = Math.min(wanted, sourceImages.n, targetImages.n);
  if (n < MIN_DOMAIN_IMAGES)
    throw argError(
      where,
      "sourceImages/targetImages",
      `at least ${MIN_DOMAIN_IMAGES} images each (half train the domain classifier, a quarter validate, a quarter test)`,
      `${sourceImages.n} and ${targetImages.n} images`,
    );
  const targetModel = args.targetModel ?? model;
  // Equal counts from both domains, so ε = ½ is chance; each domain split on its own stream.
  const [sTr, sVa, sTe] = splitDomain(sourceImages.n, n, subSeed(seed, "domain:source"));
  const [tTr, tVa, tTe] = splitDomain(targetImages.n, n, subSeed(seed, "domain:target"));
  const feats = (m: tf.LayersModel, d: Dataset, rows: Int32Array) => extractFeatures(m, args.layer, subset(d, rows));
  const [fsTr, fsVa, fsTe] = [sTr, sVa, sTe].map((r) => feats(model, sourceImages, r));
  const [ftTr, ftVa, ftTe] = [tTr, tVa, tTe].map((r) => feats(targetModel, targetImages, r));
  const stats = featureStats(fsTr, ftTr); // from the training images only
  const train = domainSet(fsTr, ftTr, stats, "domain/train");
  const val = domainSet(fsVa, ftVa, stats, "domain/val");
  const test = domainSet(fsTe, ftTe, stats, "domain/test");
  const clf = softmaxRegression(train.dim, 2, seed);
  const kept: { best: { epoch: number; acc: number; weights: tf.Tensor[] } | null } = { best: null };
  try {
    await fit(clf, train, {
      epochs,
      batchSize: 64,
      learningRate,
      seed,
      progress: false,
      validation: val,
      onEpochEnd: (epoch, logs) => {
        const acc = logs.valAccuracy;
        if (acc === undefined || (kept.best !== null && !(acc > kept.best.acc))) return;
        kept.best?.weights.forEach((w) => w.dispose());
        kept.best = { epoch: epoch + 1, acc, weights: clf.getWeights().map((w) => w.clone()) };
      },
    });
    if (kept.best) clf.setWeights(kept.best.weights);
    const error = 1 - evaluateAccuracy(clf, test);
    const p = targetProbabilities(clf, test);
    return {
      layer: args.layer,
      distance: 2 * (1 - 2 * error),
      error,
      auc: rocAuc(p, test.y),
      logLoss: meanLogLoss(p, test.y),
      dim: train.dim,
      train: sTr.length,
      val: sVa.length,
      test: sTe.length,
      epochs: kept.best?.epoch ?? epochs,
    };
  } finally {
    kept.best?.weights.forEach((w) => w.dispose());
    clf.dispose();
  }
}

/** The proxy A-distance at each of `layers` (bottom to top), one domain classifier per layer. */
export async function distanceProfile(
  model: tf.LayersModel,
  sourceImages: Dataset,
  targetImages: Dataset,
  args: Omit<DomainDistanceArgs, "layer"> & { layers: string[] },
): Promise<DomainDistance[]> {
  if (!Array.isArray(args?.layers) || args.layers.length === 0)
    throw argError("distanceProfile", "layers", "a non-empty list of layer names", show(args?.layers));
  const out: DomainDistance[] = [];
  for (const layer of args.layers)
    out.push(await domainDistance(model, sourceImages, targetImages, { ...args, layer }));
  return out;
}
