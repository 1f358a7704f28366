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
    return {
      layer: args.layer,
      distance: 2 * (1 - 2 * error),
      error,
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
