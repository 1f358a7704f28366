// A tiny BERT for lesson 06: token ids [b, T] -> token embedding (a matrix E [V, d] that the masked-LM
// head reuses: logits = h·Eᵀ, weights tied as in BERT) + learned position embedding -> pre-norm blocks
// (multi-head self-attention whose keys skip [PAD] tokens, MLP) -> LayerNorm -> mean over the non-pad
// tokens -> softmax head. Every projection is a named Dense (`block0_q`) as in the ViT
// (models/transformer.ts, whose LayerNorm and GELU it imports), so LoRA targets q and v and freezing
// takes whole blocks the same way. Differences from the ViT, written here because transformer.ts is
// not this module's to change: the position table has maxPositions rows and adds its first T (so one
// set of weights serves any window length up to maxPositions), attention takes the token ids to mask
// padded keys, and pooling averages only real tokens — so padding changes no real token's output.
import * as tf from "@tensorflow/tfjs";
import { LayerNorm, POSITION_INIT_STDDEV } from "./transformer";
import { attentionProbs, multiHeadAttention } from "./attention";
import type { Kwargs, LayerArgs } from "./layer-args";
import { argError, checkFinite, checkIntInRange, checkPositiveFinite, checkPositiveInt, show } from "../core/validate";

import { TEXT_PAD as PAD_ID, TEXT_SPECIALS as SPECIAL_TOKENS } from "../data/text";

export const DEFAULT_BERT_WIDTH = 64;
export const DEFAULT_BERT_DEPTH = 4;
export const DEFAULT_BERT_HEADS = 4;
export const DEFAULT_BERT_MLP_RATIO = 2;
/** Added to the attention score of a padded key: its weight is exp(-1e9) = 0 in float32 (the WASM
 * kernel's exp clamps its argument at about -87.3, so there it is below 1e-37 of a real key's). */
const MASKED_SCORE = -1e9;

export interface BertArgs {
  /** Vocabulary size V (special tokens included). */
  vocabSize: number;
  /** Tokens per input window T (the model's input length); at most maxPositions. */
  seqLength: number;
  /** Rows of the position table (default seqLength). */
  maxPositions?: number;
  width?: number;
  depth?: number;
  numHeads?: number;
  mlpRatio?: number;
  numClasses?: number;
  /** Seeds every initializer (layer j uses seed·1000 + j). */
  seed?: number;
}

function truncNormal(seed: number): ReturnType<typeof tf.initializers.truncatedNormal> {
  // truncatedNormal treats seed 0 as "unseeded" (tfjs-core 4.22): map it to a fixed non-zero seed.
  return tf.initializers.truncatedNormal({ stddev: POSITION_INIT_STDDEV, seed: seed === 0 ? 0x5eed : seed });
}

/** Rows of E [V, d] at ids [b, T]: [b, T, d]. The gradient of E is a scatter-add of the incoming rows
 * (ScatterNd sums duplicate ids); tf.gather's own gradient needs UnsortedSegmentSum, which the WASM
 * backend lacks. */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [e, i] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([i]);
    const [v, d] = e.shape as number[];
    return {
      value: tf.gather(e, i),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const flat = saved[0].reshape([-1, 1]); // [b·T, 1]
        const rows = (dy as tf.Tensor).reshape([-1, d]); // [b·T, d]
        return [tf.scatterND(flat, rows, [v, d]), tf.zerosLike(saved[0])];
      },
    };
  });
  return f(table, ids);
}

interface EmbeddingArgs extends LayerArgs {
  vocabSize: number;
  width: number;
  seed?: number;
}

/** Token ids [b, T] (float or int) -> rows of E [V, d]: [b, T, d]. E is also the masked-LM output matrix. */
export class TokenEmbedding extends tf.layers.Layer {
  static className = "BertTokenEmbedding";
  readonly vocabSize: number;
  readonly width: number;
  readonly seed: number;
  embeddings: tf.LayerVariable | null = null;

  constructor(args: EmbeddingArgs) {
    super(args);
    checkPositiveInt("TokenEmbedding", "vocabSize", args.vocabSize);
    checkPositiveInt("TokenEmbedding", "width", args.width);
    this.vocabSize = args.vocabSize;
    this.width = args.width;
    this.seed = args.seed ?? 0;
  }

  override build(): void {
    this.embeddings = this.addWeight(
      "embeddings",
      [this.vocabSize, this.width],
      "float32",
      truncNormal(this.seed),
      undefined,
      true,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = inputShape as tf.Shape;
    return [s[0], s[1], this.width];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const ids = (Array.isArray(inputs) ? inputs[0] : inputs).toInt(); // [b, T]
      return embeddingLookup(this.embeddings!.read(), ids); // [b, T, d]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), vocabSize: this.vocabSize, width: this.width, seed: this.seed };
  }
}
tf.serialization.registerClass(TokenEmbedding);

interface PositionArgs extends LayerArgs {
  maxPositions: number;
  seed?: number;
}

/** Adds learned position vectors: [b, T, d] + P[0:T] with P [maxPositions, d]. */
export class BertPositionEmbedding extends tf.layers.Layer {
  static className = "BertPositionEmbedding";
  readonly maxPositions: number;
  readonly seed: number;
  embedding: tf.LayerVariable | null = null;

  constructor(args: PositionArgs) {
    super(args);
    checkPositiveInt("BertPositionEmbedding", "maxPositions", args.maxPositions);
    this.maxPositions = args.maxPositions;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    const t = s[1];
    if (s.length !== 3 || s[2] == null)
      throw new Error(
        `BertPositionEmbedding ${this.name}: input must be [batch, tokens, width], got [${s.join(", ")}]`,
      );
    if (t != null && t > this.maxPositions)
      throw argError("buildBert", "seqLength", `at most maxPositions = ${this.maxPositions}`, String(t));
    this.embedding = this.addWeight(
      "embedding",
      [this.maxPositions, s[2]],
      "float32",
      truncNormal(this.seed),
      undefined,
      true,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, T, d]
      const [t, d] = [x.shape[1] as number, x.shape[2] as number];
      const table = this.embedding!.read();
      return x.add(t === this.maxPositions ? table : table.slice([0, 0], [t, d]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxPositions: this.maxPositions, seed: this.seed };
  }
}
tf.serialization.registerClass(BertPositionEmbedding);

/** The additive key mask of token ids [b, T]: MASKED_SCORE on [PAD] tokens, 0 elsewhere, [b, T]. */
export function keyPaddingBias(ids: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => ids.toInt().equal(PAD_ID).toFloat().mul(MASKED_SCORE) as tf.Tensor2D);
}

/** Attention probabilities with padded keys masked: q, k [b, T, d], ids [b, T] -> [b, h, T, T]. */
export function maskedAttentionProbs(q: tf.Tensor, k: tf.Tensor, ids: tf.Tensor, numHeads: number): tf.Tensor4D {
  return tf.tidy(() => attentionProbs(q, k, numHeads, keyPaddingBias(ids)));
}

interface MaskedAttentionArgs extends LayerArgs {
  numHeads: number;
}

/** Inputs [q, k, v, ids] -> concat_heads(softmax(q_h·k_hᵀ/sqrt(d/h) + padding bias)·v_h): [b, T, d].
 * No weights of its own. A query never attends to a [PAD] key, so real tokens ignore the padding. */
export class MaskedSelfAttention extends tf.layers.Layer {
  static className = "BertMaskedSelfAttention";
  readonly numHeads: number;

  constructor(args: MaskedAttentionArgs) {
    super(args);
    checkPositiveInt("MaskedSelfAttention", "numHeads", args.numHeads);
    this.numHeads = args.numHeads;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[2].slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 4)
        throw new Error(`MaskedSelfAttention ${this.name}: expects [q, k, v, ids]`);
      const [q, k, v, ids] = inputs;
      // The fused kernel where the backend has it (composedAttention with the same bias elsewhere).
      return multiHeadAttention(q, k, v, this.numHeads, keyPaddingBias(ids)); // [b, T, d]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads };
  }
}
tf.serialization.registerClass(MaskedSelfAttention);

/** Inputs [h [b, T, d], ids [b, T]] -> mean of h over the non-[PAD] tokens: [b, d]. */
export class MaskedMeanPool extends tf.layers.Layer {
  static className = "BertMaskedMeanPool";

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (inputShape as tf.Shape[])[0];
    return [s[0], s[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [h, ids] = inputs as tf.Tensor[];
      const keep = ids.toInt().notEqual(PAD_ID).toFloat().expandDims(-1); // [b, T, 1]
      return h.mul(keep).sum(1).div(keep.sum(1).maximum(1)); // [b, d]
    });
  }
}
tf.serialization.registerClass(MaskedMeanPool);

/** Pooled features [b, d] -> (x − μ) ⊙ s with μ, s [d] fixed buffers (not trainable; identity until
 * set): the head reads standardised features. A masked-LM-pretrained encoder's pooled features are
 * nearly one vector for every window (per-dimension spread ~0.03 around a mean of ~1.2 at default), so a
 * softmax head trained by Adam for a few dozen steps moves its logits by almost nothing between windows
 * and predicts one class; standardising makes the head's steps count (set by setPoolStandardization). */
export class PooledStandardize extends tf.layers.Layer {
  static className = "BertPooledStandardize";
  mean: tf.LayerVariable | null = null;
  invStd: tf.LayerVariable | null = null;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const d = (inputShape as tf.Shape)[1];
    if (d == null) throw new Error(`PooledStandardize ${this.name}: input must be [batch, width] with a known width`);
    this.mean = this.addWeight("mean", [d], "float32", tf.initializers.zeros(), undefined, false);
    this.invStd = this.addWeight("inv_std", [d], "float32", tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, d]
      return x.sub(this.mean!.read()).mul(this.invStd!.read());
    });
  }
}
tf.serialization.registerClass(PooledStandardize);

/** Resolved sizes of a BERT (what buildBert used). */
export interface BertShape {
  vocabSize: number;
  seqLength: number;
  maxPositions: number;
  width: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  numClasses: number;
  seed: number;
}

/** Checks and fills BertArgs; errors name the parameter, the value and what is allowed. */
export function bertShape(args: BertArgs): BertShape {
  const where = "buildBert";
  if (typeof args !== "object" || args === null)
    throw argError(where, "args", "{ vocabSize, seqLength, ... }", show(args));
  checkIntInRange(where, "vocabSize", args.vocabSize, SPECIAL_TOKENS.length + 1, 1e6, "special tokens plus words");
  checkPositiveInt(where, "seqLength", args.seqLength);
  const maxPositions = args.maxPositions ?? args.seqLength;
  checkPositiveInt(where, "maxPositions", maxPositions);
  if (args.seqLength > maxPositions)
    throw argError(
      where,
      "seqLength",
      `at most maxPositions = ${maxPositions} (the position table's rows)`,
      show(args.seqLength),
      "shorter windows, or a model with more positions",
    );
  const width = args.width ?? DEFAULT_BERT_WIDTH;
  const depth = args.depth ?? DEFAULT_BERT_DEPTH;
  const numHeads = args.numHeads ?? DEFAULT_BERT_HEADS;
  checkPositiveInt(where, "width", width);
  checkPositiveInt(where, "depth", depth);
  checkPositiveInt(where, "numHeads", numHeads);
  if (width % numHeads !== 0)
    throw argError(where, "numHeads", `a divisor of width ${width}`, show(numHeads), "each head gets width / numHeads");
  const mlpRatio = args.mlpRatio ?? DEFAULT_BERT_MLP_RATIO;
  checkPositiveFinite(where, "mlpRatio", mlpRatio);
  const numClasses = args.numClasses ?? 2;
  checkIntInRange(where, "numClasses", numClasses, 2, 1000);
  const seed = args.seed ?? 0;
  checkFinite(where, "seed", seed);
  return {
    vocabSize: args.vocabSize,
    seqLength: args.seqLength,
    maxPositions,
    width,
    depth,
    numHeads,
    mlpRatio,
    numClasses,
    seed,
  };
}

/**
 * The tiny BERT as a functional model on token ids [b, T] (float32 ids, as Dataset rows hold them) ->
 * class probabilities [b, C]. Layers: tokens, token_embed, pos_embed; per block i: block{i}_ln1, _q,
 * _k, _v, _attn (padding-masked), _o, _add1, _ln2, _mlp1 (GELU), _mlp2, _add2; then final_ln, pool
 * (mean over non-pad tokens), pool_norm (fixed standardisation, identity until setPoolStandardization),
 * head (softmax). The masked-LM head is bertMlmLogits (tied to token_embed).
 */
export function buildBert(args: BertArgs): tf.LayersModel {
  const s = bertShape(args);
  let j = 0;
  const init = () => tf.initializers.glorotUniform({ seed: s.seed * 1000 + j++ });
  const dense = (name: string, units: number, activation?: "gelu" | "softmax") =>
    tf.layers.dense({ name, units, activation, kernelInitializer: init() });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    layer.apply(x) as tf.SymbolicTensor;
  const mlpWidth = Math.max(1, Math.round(s.mlpRatio * s.width));

  const ids = tf.input({ shape: [s.seqLength], name: "tokens" }); // [b, T]
  let x = apply(
    new TokenEmbedding({ vocabSize: s.vocabSize, width: s.width, seed: s.seed * 1000 + j++, name: "token_embed" }),
    ids,
  );
  x = apply(
    new BertPositionEmbedding({ maxPositions: s.maxPositions, seed: s.seed * 1000 + j++, name: "pos_embed" }),
    x,
  );
  for (let i = 0; i < s.depth; i++) {
    const b = `block${i}_`;
    const h = apply(new LayerNorm({ name: `${b}ln1` }), x);
    const q = apply(dense(`${b}q`, s.width), h);
    const k = apply(dense(`${b}k`, s.width), h);
    const v = apply(dense(`${b}v`, s.width), h);
    const a = apply(new MaskedSelfAttention({ numHeads: s.numHeads, name: `${b}attn` }), [q, k, v, ids]);
    x = apply(tf.layers.add({ name: `${b}add1` }), [x, apply(dense(`${b}o`, s.width), a)]);
    const h2 = apply(new LayerNorm({ name: `${b}ln2` }), x);
    const m = apply(dense(`${b}mlp2`, s.width), apply(dense(`${b}mlp1`, mlpWidth, "gelu"), h2));
    x = apply(tf.layers.add({ name: `${b}add2` }), [x, m]);
  }
  x = apply(new LayerNorm({ name: "final_ln" }), x);
  const pooled = apply(new MaskedMeanPool({ name: "pool" }), [x, ids]); // [b, d]
  const standardised = apply(new PooledStandardize({ name: "pool_norm" }), pooled); // [b, d], identity until set
  const out = apply(dense("head", s.numClasses, "softmax"), standardised); // [b, C]
  return tf.model({ inputs: ids, outputs: out, name: "tiny_bert" });
}

/** Number of transformer blocks of a model built by buildBert (LoRA-wrapped or not). */
export function bertDepth(model: tf.LayersModel): number {
  return model.layers.filter((l) => /^block\d+_attn$/.test(l.name)).length;
}

/** LoRA targets in the BERT: every block's query and value projections (Hu et al. 2021). */
export const BERT_LORA_TARGETS = /^block\d+_(q|v)$/;

/** Names of the weighted layers below block k: the embeddings (token and position) and blocks 0..k-1,
 * what "freeze the first k layers" of BERT freezes (k = 0: nothing). */
export function bertLayersBelow(model: tf.LayersModel, k: number): string[] {
  const depth = bertDepth(model);
  checkIntInRange("bertLayersBelow", "k", k, 0, depth, `the model has ${depth} blocks`);
  if (k === 0) return [];
  return model.layers
    .filter((l) => {
      if (l.weights.length === 0) return false;
      if (l.name === "token_embed" || l.name === "pos_embed") return true;
      const m = /^block(\d+)_/.exec(l.name);
      return m !== null && Number(m[1]) < k;
    })
    .map((l) => l.name);
}

/** A view of the model that stops at final_ln: token ids [b, T] -> hidden states [b, T, d]. It shares
 * the model's layers and owns no weights: never dispose it (dispose the model). */
export function bertEncoder(model: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer("final_ln").output as tf.SymbolicTensor });
}

/** The token embedding matrix E [V, d] of a BERT (the model's own variable: do not dispose). */
export function tokenEmbeddings(model: tf.LayersModel): tf.Tensor2D {
  const layer = model.getLayer("token_embed");
  if (!(layer instanceof TokenEmbedding))
    throw new Error(
      `tokenEmbeddings: layer token_embed is a ${layer.getClassName()}, not a TokenEmbedding (build the model with buildBert)`,
    );
  return layer.embeddings!.read() as tf.Tensor2D;
}

/** Masked-LM logits of hidden states h [m, d]: h·Eᵀ [m, V], the output layer tied to the token embedding. */
export function bertMlmLogits(model: tf.LayersModel, h: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(h, tokenEmbeddings(model).transpose()) as tf.Tensor2D); // explicit transpose: fast on WASM
}

/** Copies every weight of `from` into `to` for the layers both have with equal weight shapes except
 * those named in `skip` (by default the head, whose class count differs, and pool_norm, which each
 * transfer run sets from its own training windows); returns the names copied. */
export function copyBertWeights(
  from: tf.LayersModel,
  to: tf.LayersModel,
  skip: readonly string[] = ["head", "pool_norm"],
): string[] {
  const copied: string[] = [];
  for (const layer of to.layers) {
    if (layer.weights.length === 0 || skip.includes(layer.name)) continue;
    const src = from.layers.find((l) => l.name === layer.name);
    if (!src) throw new Error(`copyBertWeights: the source model has no layer ${JSON.stringify(layer.name)}`);
    const w = src.getWeights();
    const shapes = (ws: tf.Tensor[]) => ws.map((t) => t.shape.join("×")).join(", ");
    if (shapes(w) !== shapes(layer.getWeights()))
      throw new Error(
        `copyBertWeights: layer ${layer.name} has weights ${shapes(layer.getWeights())} but the source has ${shapes(w)} (same vocabulary, width and positions needed)`,
      );
    layer.setWeights(w);
    copied.push(layer.name);
  }
  return copied;
}

/** A view of the model that stops at pool: token ids [b, T] -> pooled features [b, d] (shares the
 * model's layers and owns no weights: never dispose it). */
export function bertPooled(model: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer("pool").output as tf.SymbolicTensor });
}

/** Spread of pooled features: median per-feature standard deviation and mean |mean|. */
export interface PooledSpread {
  medianStd: number;
  meanAbs: number;
}

/** Pooled features of `windows` (ids [n, T], float) under the model's weights: their per-feature mean
 * and 1/sqrt(variance + 1e-8) as tensors (caller disposes), and their spread. */
function pooledMoments(
  model: tf.LayersModel,
  windows: { x: Float32Array; n: number; dim: number },
  where: string,
): { mean: tf.Tensor1D; invStd: tf.Tensor1D; spread: PooledSpread } {
  checkPositiveInt(where, "windows.n", windows.n);
  const pooled = bertPooled(model);
  const [mean, invStd, sd] = tf.tidy(() => {
    const f = pooled.predict(tf.tensor2d(windows.x, [windows.n, windows.dim])) as tf.Tensor2D; // [n, d]
    const { mean: m, variance } = tf.moments(f, 0);
    return [m as tf.Tensor1D, variance.add(1e-8).rsqrt() as tf.Tensor1D, variance.sqrt()];
  });
  const spread = Float64Array.from(sd.dataSync()).sort();
  sd.dispose();
  const mu = Array.from(mean.dataSync());
  const meanAbs = mu.reduce((a, v) => a + Math.abs(v), 0) / mu.length;
  return { mean, invStd, spread: { medianStd: spread[spread.length >> 1], meanAbs } };
}

/** The spread of the pooled features of `windows` under the model's weights (nothing set). */
export function pooledSpread(
  model: tf.LayersModel,
  windows: { x: Float32Array; n: number; dim: number },
): PooledSpread {
  const m = pooledMoments(model, windows, "pooledSpread");
  tf.dispose([m.mean, m.invStd]);
  return m.spread;
}

/** Sets pool_norm to standardise with the mean and spread of the pooled features of `windows` (ids
 * [n, T], float) under the model's current weights: μ = mean, s = 1 / sqrt(variance + 1e-8) per feature.
 * Returns their spread before standardising (median std against mean |μ|: how collapsed they are). */
export function setPoolStandardization(
  model: tf.LayersModel,
  windows: { x: Float32Array; n: number; dim: number },
): PooledSpread {
  const layer = model.getLayer("pool_norm");
  if (!(layer instanceof PooledStandardize))
    throw new Error(
      `setPoolStandardization: layer pool_norm is a ${layer.getClassName()} (build the model with buildBert)`,
    );
  const m = pooledMoments(model, windows, "setPoolStandardization");
  layer.setWeights([m.mean, m.invStd]);
  tf.dispose([m.mean, m.invStd]);
  return m.spread;
}

/** Largest |difference| of the class probabilities of one window (ids [T]) and the same window with
 * `extra` more [PAD]s, through two BERTs with the same weights (built from `args`, position table
 * seqLength + extra rows). The padding mask makes it 0 up to float rounding. */
export function paddingDifference(args: BertArgs, ids: ArrayLike<number>, extra = 4): number {
  checkPositiveInt("paddingDifference", "extra", extra);
  const T = args.seqLength;
  if (ids.length !== T)
    throw argError("paddingDifference", "ids", `a window of seqLength = ${T} ids`, `${ids.length} ids`);
  const short = buildBert({ ...args, maxPositions: T + extra });
  const long = buildBert({ ...args, seqLength: T + extra, maxPositions: T + extra });
  try {
    copyBertWeights(short, long, []);
    const diff = tf.tidy(() => {
      const a = short.predict(tf.tensor2d(Float32Array.from(ids), [1, T])) as tf.Tensor;
      const padded = new Float32Array(T + extra);
      padded.set(Array.from(ids));
      const b = long.predict(tf.tensor2d(padded, [1, T + extra])) as tf.Tensor;
      return a.sub(b).abs().max();
    });
    const v = diff.dataSync()[0];
    diff.dispose();
    return v;
  } finally {
    short.dispose();
    long.dispose();
  }
}
