// Fine-tuning without forgetting: penalties that hold the weights near the source model's
// (L2-SP, Li, Grandvalet & Davoine 2018; EWC, Kirkpatrick et al. 2017, with a diagonal Fisher from
// task A) and a stratified rehearsal buffer of task A's rows. The penalties plug into fit's
// `penalty`, the buffer into fit's `replay`:
//   const pen = l2spPenalty(model, { alpha: 0.01 });          // anchored at the source weights now
//   await fit(model, taskB, { epochs, penalty: pen.loss, replay: { data: buffer, perBatch: 8 } });
//   pen.dispose();
// Strengths are not the papers' numbers: the papers trained with SGD, where the penalty's gradient
// alpha·(w − w0) is applied as is, while fit's default Adam divides every coordinate's step by its
// running gradient RMS, so alpha and lambda only set the penalty's share of each coordinate's
// gradient (the L2 vs weight-decay difference of Loshchilov & Hutter 2019); choose them on validation.
// Weights are named by LayerVariable.originalName ("block0_q/kernel", "head/bias"): the same in
// every model built with the same layer names (tfjs suffixes `.name` with _1, _2… per build).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { checkDataset, checkModelTakes } from "../data/check";
import { subset, type IndexedDataset } from "../data/subset";
import { gatherRows } from "../data/batches";
import { rng, shuffledIndices, subSeed } from "../core/random";
import { argError, checkFinite, checkIntInRange, checkOneOf, show } from "../core/validate";
import { predictBatched } from "../models/predict";

/** A regulariser of the model's weights, for fit's `penalty` (pass `penalty.loss`). */
export interface Penalty {
  /** The penalty now, as a scalar; differentiable in the model's weight variables. Call it inside
   * the caller's tidy (fit does); its intermediates are tidied away. */
  loss(): tf.Scalar;
  /** Frees the anchor (and Fisher) tensors the penalty owns; loss() throws afterwards. */
  dispose(): void;
  readonly kind: "l2-sp" | "ewc";
  /** alpha (L2-SP) or lambda (EWC). */
  readonly strength: number;
  /** Names of the weights penalised (LayerVariable.originalName); L2-SP with `beta`: the anchored
   * ones, then the excluded layers' weights under plain L2. */
  readonly weightNames: readonly string[];
  /** Scalars penalised. */
  readonly size: number;
}

/**
 * Labels at which diagonalFisher differentiates log p(y|x):
 * - "empirical": the data's labels y_n: the empirical Fisher (1/N) Σ_n (∇ log p(y_n|x_n))².
 * - "model": y ~ p(·|x_n) drawn from the model itself (one draw per example): a Monte-Carlo
 *   estimate of the (true) Fisher information of the model's predictive distribution,
 *   (1/N) Σ_n E_{y~p(·|x_n)} (∇ log p(y|x_n))², the matrix EWC's Laplace argument uses
 *   (Kirkpatrick et al. 2017).
 * They are not the same matrix (Kunstner, Balles & Hennig 2019, "Limitations of the empirical
 * Fisher approximation for natural gradient descent"): the empirical one weighs each example by
 * its residual at the observed label (large where the model misfits, near zero where it fits), the
 * true one by the model's own uncertainty (for a softmax bias, p_k(1 − p_k)); they agree only when
 * the model's p(y|x) matches the data's and N is large. The default is the empirical one (what most
 * EWC code computes); "model" is the Fisher the theory asks for.
 */
export type FisherLabels = "empirical" | "model";
export const FISHER_LABELS: readonly FisherLabels[] = ["empirical", "model"];

/** Diagonal Fisher per weight: F_i = mean over the samples of (∂ log p(y|x) / ∂w_i)², y as `labels` says. */
export interface Fisher {
  /** One tensor per weight, keyed by LayerVariable.originalName, of that weight's shape. */
  readonly tensors: Readonly<Record<string, tf.Tensor>>;
  /** Examples averaged over. */
  readonly samples: number;
  readonly labels: FisherLabels;
  /** Frees the Fisher tensors. */
  dispose(): void;
}

/** One parameter of a model: its name, the layer it belongs to and its weight. */
interface Param {
  name: string;
  layer: string;
  weight: tf.LayerVariable;
}

/** The parameters of every layer (frozen or not; BN's moving statistics excluded, as in
 * adapt/freezing.ts), bottom to top, leaving out the layers named in `exclude`. */
function modelParams(where: string, model: tf.LayersModel, exclude: unknown): Param[] {
  if (model === null || typeof model !== "object" || !Array.isArray((model as { layers?: unknown }).layers))
    throw argError(where, "model", "a tf.LayersModel", show(model));
  const names = model.layers.map((l) => l.name);
  if (exclude !== undefined) {
    if (!Array.isArray(exclude) || exclude.some((e) => typeof e !== "string"))
      throw argError(where, "exclude", "a list of layer names", show(exclude));
    for (const e of exclude)
      if (!names.includes(e))
        throw argError(where, "exclude", `layer names of the model (${names.join(", ")})`, show(e));
  }
  const skip = new Set<string>((exclude as string[] | undefined) ?? []);
  const out: Param[] = [];
  const seen = new Set<string>();
  for (const layer of model.layers) {
    if (skip.has(layer.name)) continue;
    // `_trainableWeights` holds the layer's parameters even while it is frozen (the public getter
    // returns [] then); frozen weights do not move, so they add nothing to a penalty.
    const own = (layer as unknown as { _trainableWeights: tf.LayerVariable[] })._trainableWeights;
    for (const w of own) {
      if (seen.has(w.originalName))
        throw new Error(`${where}: two weights are named ${JSON.stringify(w.originalName)}; weights need unique names`);
      seen.add(w.originalName);
      out.push({ name: w.originalName, layer: layer.name, weight: w });
    }
  }
  if (out.length === 0)
    throw argError(
      where,
      "exclude",
      "a list that leaves at least one weighted layer",
      show(exclude ?? []),
      `layers: ${names.join(", ")}`,
    );
  return out;
}

function checkStrength(where: string, param: string, v: unknown): asserts v is number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
    throw argError(where, param, "a finite number >= 0", show(v), "0 = no penalty");
}

function checkArgsObject(where: string, args: unknown, shape: string): void {
  if (args === null || typeof args !== "object") throw argError(where, "args", shape, show(args));
}

/** A penalty strength/2 · Σ_i c_i (w_i − a_i)² over `params`, owning `anchors` and `coefs`, plus
 * (when `plain` is given) plain L2 plain.beta/2 · Σ ||w||² over plain.params. */
function makePenalty(
  where: string,
  kind: Penalty["kind"],
  strength: number,
  params: Param[],
  anchors: tf.Tensor[],
  coefs: tf.Tensor[] | null,
  plain?: { params: Param[]; beta: number },
): Penalty {
  let disposed = false;
  const half = strength / 2;
  const extra = plain?.params ?? [];
  return {
    kind,
    strength,
    weightNames: [...params, ...extra].map((p) => p.name),
    size: anchors.reduce((s, a) => s + a.size, 0) + extra.reduce((s, p) => s + p.weight.read().size, 0),
    loss(): tf.Scalar {
      if (disposed) throw new Error(`${where}: this penalty was disposed; build a new one`);
      return tf.tidy(() => {
        const terms = params.map((p, i) => {
          const d = tf.sub(p.weight.read(), anchors[i]).square();
          return (coefs ? d.mul(coefs[i]) : d).sum();
        });
        const anchored = tf.addN(terms).mul(half) as tf.Scalar;
        if (!plain) return anchored;
        const sq = plain.params.map((p) => p.weight.read().square().sum());
        return anchored.add(tf.addN(sq).mul(plain.beta / 2)) as tf.Scalar;
      });
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      anchors.forEach((a) => a.dispose());
      coefs?.forEach((c) => c.dispose());
    },
  };
}

/** Arguments of l2spPenalty. */
export interface L2spArgs {
  /** Strength of the pull towards the source weights (α; >= 0). */
  alpha: number;
  /** Layers left out of the α term (default none). */
  exclude?: string[];
  /** Plain L2 β/2 · Σ ||w||² on the weights of the `exclude` layers (Li et al.'s second term;
   * default 0 = none). Needs `exclude` to name at least one weighted layer. */
  beta?: number;
}

/**
 * L2-SP (Li, Grandvalet & Davoine 2018): alpha/2 · Σ ||w − w_source||² over the model's
 * parameters, anchored at a copy of their values now (the source weights); zero there.
 *
 * Li et al.'s full form is α/2 ||w_S − w_S⁰||² + β/2 ||w_S̄||²: S the weights the source model
 * has, anchored; S̄ the new ones (their new head), which have no source value and get plain L2.
 * Default: every parameter, the head included, in the α term: here tasks A and B share the
 * 10-class head ("head"), whose source weights are half of what task A needs, so pulling it back
 * is what retains task A. `exclude: [HEAD_LAYER]` drops the head from the α term only, i.e. it is
 * then not penalised at all; add `beta` (β/2 ||w_head||², plain L2 on the excluded layers) for the
 * paper's full form. Weights of frozen layers are listed too (they do not move: their terms stay 0).
 */
export function l2spPenalty(model: tf.LayersModel, args: L2spArgs): Penalty {
  const where = "l2spPenalty";
  checkArgsObject(where, args, "{ alpha: number, exclude?: string[], beta?: number }");
  checkStrength(where, "alpha", args.alpha);
  if (args.beta !== undefined) checkStrength(where, "beta", args.beta);
  const params = modelParams(where, model, args.exclude);
  let plain: { params: Param[]; beta: number } | undefined;
  if (args.beta !== undefined && args.beta > 0) {
    const skipped = new Set(args.exclude ?? []);
    const rest = modelParams(where, model, undefined).filter((p) => skipped.has(p.layer));
    if (rest.length === 0)
      throw argError(
        where,
        "beta",
        "0 unless `exclude` names a weighted layer (beta is plain L2 on the excluded layers' weights)",
        show(args.beta),
        `exclude: ${show(args.exclude ?? [])}`,
      );
    plain = { params: rest, beta: args.beta };
  }
  const anchors = params.map((p) => tf.keep(p.weight.read().clone()));
  return makePenalty(where, "l2-sp", args.alpha, params, anchors, null, plain);
}

/** Arguments of diagonalFisher. */
export interface DiagonalFisherArgs {
  /** Examples of `data` (drawn without replacement, seeded) whose gradients are averaged; 1..n. */
  samples: number;
  seed?: number;
  /** Layers left out (default none: the head is shared by tasks A and B, see l2spPenalty). */
  exclude?: string[];
  /** "empirical" (default): gradients of log p(y|x) at the data's labels (the empirical Fisher).
   * "model": y drawn from the model's own p(·|x), seeded (the Fisher of the model's distribution,
   * estimated with one draw per example; one extra batched forward pass). See FisherLabels. */
  labels?: FisherLabels;
}

/**
 * Diagonal Fisher of the model's log-likelihood on `data` (task A): F_i = (1/S) Σ_s (∂ log p(y_s|x_s)
 * / ∂w_i)² over S = `samples` seeded examples, one tensor per parameter (named as the weights), with
 * y_s the data's labels (`labels: "empirical"`, default) or drawn from the model (`"model"`; see
 * FisherLabels).
 * Per-example gradients: tfjs has no vmap, so it is one forward + backward pass with batch 1 per
 * example (cost ≈ S single-example gradient steps; see the lesson's timing). Evaluated in
 * inference mode (training: false). Caller disposes (fisher.dispose()).
 */
export function diagonalFisher(model: tf.LayersModel, data: Dataset, args: DiagonalFisherArgs): Fisher {
  const where = "diagonalFisher";
  checkArgsObject(where, args, "{ samples: number, seed?: number, exclude?: string[], labels?: string }");
  const params = modelParams(where, model, args.exclude);
  checkDataset(where, "data", data);
  checkModelTakes(where, "data", model, data);
  checkIntInRange(where, "samples", args.samples, 1, data.n, `data ${show(data.name)} has ${data.n} rows`);
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
  const labelsKind = args.labels ?? "empirical";
  checkOneOf(
    where,
    "labels",
    labelsKind,
    FISHER_LABELS,
    '"empirical": the data\'s labels; "model": labels drawn from the model\'s p(y|x)',
  );
  const seed = args.seed ?? 0;
  const rows = shuffledIndices(data.n, subSeed(seed, "fisher")).subarray(0, args.samples);
  const picked = gatherRows(data, rows);
  if (labelsKind === "empirical")
    for (let i = 0; i < picked.y.length; i++)
      if (!(picked.y[i] >= 0 && picked.y[i] < data.numClasses))
        throw argError(
          where,
          "data.y",
          `labels in 0..${data.numClasses - 1}`,
          String(picked.y[i]),
          `row ${rows[i]} of ${show(data.name)}`,
        );
  const labels = labelsKind === "empirical" ? picked.y : sampleLabels(model, picked, data, seed);
  const vars = params.map((p) => p.weight.read() as tf.Variable);
  // Frozen weights are non-trainable variables, which variableGrads skips: make them trainable
  // for these gradients only (nothing is applied), and restore.
  const wasTrainable = vars.map((v) => v.trainable);
  const sums: tf.Tensor[] = vars.map((v) => tf.keep(tf.zerosLike(v as tf.Tensor)));
  try {
    vars.forEach((v) => (v.trainable = true));
    for (let s = 0; s < args.samples; s++) {
      const next = tf.tidy(() => {
        const x = tf.tensor2d(picked.x.subarray(s * data.dim, (s + 1) * data.dim), [1, data.dim]);
        const { grads } = tf.variableGrads(() => {
          const p = model.apply(x, { training: false }) as tf.Tensor2D; // [1, C] softmax
          return p.slice([0, labels[s]], [1, 1]).clipByValue(1e-12, 1).log().neg().sum() as tf.Scalar;
        }, vars);
        // A weight the output does not depend on has no gradient: its Fisher is 0.
        return vars.map((v, i) => (grads[v.name] ? sums[i].add(grads[v.name].square()) : sums[i].clone()));
      });
      sums.forEach((t, i) => {
        t.dispose();
        sums[i] = tf.keep(next[i]);
      });
    }
  } catch (e) {
    sums.forEach((t) => t.dispose());
    throw e;
  } finally {
    vars.forEach((v, i) => (v.trainable = wasTrainable[i]));
  }
  const tensors: Record<string, tf.Tensor> = {};
  params.forEach((p, i) => {
    tensors[p.name] = tf.tidy(() => sums[i].div(args.samples));
    sums[i].dispose();
  });
  let disposed = false;
  return {
    tensors,
    samples: args.samples,
    labels: labelsKind,
    dispose(): void {
      if (disposed) return;
      disposed = true;
      Object.values(tensors).forEach((t) => t.dispose());
    },
  };
}

/** Labels drawn from the model's own predictive distribution (seeded), one per picked row. */
function sampleLabels(
  model: tf.LayersModel,
  picked: { x: Float32Array; y: Int32Array },
  data: Dataset,
  seed: number,
): Int32Array {
  const n = picked.y.length;
  const probs = predictBatched(model, { ...data, x: picked.x, y: picked.y, n, name: `${data.name}/fisher` });
  const p = probs.dataSync();
  const c = probs.shape[1];
  probs.dispose();
  const u = rng(subSeed(seed, "fisher-labels"));
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let r = u();
    let k = 0;
    while (k < c - 1 && r >= p[i * c + k]) r -= p[i * c + k++];
    out[i] = k;
  }
  return out;
}

/**
 * EWC (Kirkpatrick et al. 2017), diagonal: lambda/2 · Σ_i F_i (w_i − w*_i)² over the weights the
 * Fisher covers, anchored at their current values w* (call it on the task-A model before
 * fine-tuning). The penalty keeps its own copy of F: dispose the Fisher whenever you like.
 *
 * Scale of lambda: diagonalFisher's F is a per-example mean, and the Laplace approximation of the
 * posterior after task A has precision N_A·F (N_A = task-A training examples, however many
 * `samples` estimated F). The Bayesian objective −log p(B|w) + N_A/2 · Σ F_i (w_i − w*_i)² has
 * λ = N_A against task B's *summed* loss; fit minimises the *mean* loss over task B's N_B rows,
 * i.e. that objective divided by N_B, so the Laplace-derived λ is N_A / N_B (thousands of task-A
 * rows over tens of task-B labels: λ in the tens to hundreds). That is why useful λ are large;
 * under Adam (see the header) take it as the centre of a search on validation, not as the answer.
 */
export function ewcPenalty(model: tf.LayersModel, fisher: Fisher, args: { lambda: number }): Penalty {
  const where = "ewcPenalty";
  checkArgsObject(where, args, "{ lambda: number }");
  checkStrength(where, "lambda", args.lambda);
  const tensors = (fisher as Partial<Fisher> | null)?.tensors;
  if (tensors === null || typeof tensors !== "object")
    throw argError(where, "fisher", "a Fisher from diagonalFisher()", show(fisher));
  const all = modelParams(where, model, undefined);
  const byName = new Map(all.map((p) => [p.name, p]));
  const params: Param[] = [];
  for (const [name, f] of Object.entries(tensors)) {
    const p = byName.get(name);
    if (!p)
      throw argError(
        where,
        "fisher",
        `a Fisher of this model's weights (${all.map((q) => q.name).join(", ")})`,
        `a weight named ${JSON.stringify(name)}`,
      );
    if (f.isDisposed) throw argError(where, "fisher", "a Fisher not yet disposed", "a disposed Fisher");
    if (f.shape.join(",") !== p.weight.shape.join(","))
      throw argError(
        where,
        `fisher[${JSON.stringify(name)}]`,
        `shape [${p.weight.shape.join(", ")}] (the weight's)`,
        `shape [${f.shape.join(", ")}]`,
      );
    params.push(p);
  }
  if (params.length === 0) throw argError(where, "fisher", "a Fisher of at least one weight", "an empty one");
  const anchors = params.map((p) => tf.keep(p.weight.read().clone()));
  const coefs = params.map((p) => tf.keep(tensors[p.name].clone()));
  return makePenalty(where, "ewc", args.lambda, params, anchors, coefs);
}

/**
 * A rehearsal buffer: round(fraction · n) rows of `data` (at least one), seeded, stratified by
 * class (each class gets its share of the rows, largest remainders rounding), in data order.
 */
export function replayBuffer(data: Dataset, args: { fraction: number; seed?: number }): IndexedDataset {
  const where = "replayBuffer";
  checkDataset(where, "data", data);
  checkArgsObject(where, args, "{ fraction: number, seed?: number }");
  if (typeof args.fraction !== "number" || !(args.fraction > 0 && args.fraction <= 1))
    throw argError(where, "fraction", "a number in (0, 1]", show(args.fraction));
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < data.n; i++) {
    const c = data.y[i];
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  const total = Math.max(1, Math.round(args.fraction * data.n));
  // Largest-remainder apportionment of `total` over the classes by their sizes.
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const exact = classes.map((c) => (total * byClass.get(c)!.length) / data.n);
  const quota = exact.map(Math.floor);
  const order = classes.map((_, i) => i).sort((a, b) => exact[b] - quota[b] - (exact[a] - quota[a]) || a - b);
  for (let k = 0, left = total - quota.reduce((s, q) => s + q, 0); k < left; k++) quota[order[k]]++;
  const chosen: number[] = [];
  classes.forEach((c, i) => {
    const rows = byClass.get(c)!;
    const perm = shuffledIndices(rows.length, subSeed(args.seed ?? 0, `replay-class${c}`));
    for (let j = 0; j < quota[i]; j++) chosen.push(rows[perm[j]]);
  });
  chosen.sort((a, b) => a - b);
  return subset(data, chosen, `${data.name}/replay(${args.fraction})`);
}
