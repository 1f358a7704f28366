// A tiny Vision Transformer for 28×28 digits: flat pixels -> (optionally a 3×3 convolutional stem: c
// feature maps at full resolution) -> 16 patches of 7×7 -> linear patch embedding + learned position
// embedding -> pre-norm blocks (multi-head self-attention, MLP) -> LayerNorm -> mean pooling -> softmax head. Every projection is a named Dense (`block0_q`), so
// LoRA can target q and v and freezing can take whole blocks; plus a read-out of attention maps.
import * as tf from "@tensorflow/tfjs";
import { hasKernel, TL_GELU, TL_GELU_GRAD, TL_LAYER_NORM, TL_LAYER_NORM_GRAD } from "../backend/wasm-kernels";
import { attentionProbs, DotProductAttention } from "./attention";
import type { Kwargs, LayerArgs } from "./layer-args";
import { checkFinite, checkNonNegativeInt, checkPositiveFinite, checkPositiveInt, checkShape } from "../core/validate";

export const DEFAULT_VIT_IMAGE_SIZE = 28;
export const DEFAULT_VIT_PATCH_SIZE = 7;
export const DEFAULT_VIT_WIDTH = 64;
export const DEFAULT_VIT_DEPTH = 4;
export const DEFAULT_VIT_HEADS = 4;
/** MLP hidden width = mlpRatio · width (ViT uses 4; 2 keeps the tiny model cheap on a CPU). */
export const DEFAULT_VIT_MLP_RATIO = 2;
export const DEFAULT_VIT_CLASSES = 10;
/** Std of the position embedding's initial values (as in ViT/BERT). */
export const POSITION_INIT_STDDEV = 0.02;
/** Names of the per-block projections, in block order; `block<i>_<name>`. */
export const VIT_PROJECTIONS = ["q", "k", "v", "o", "mlp1", "mlp2"] as const;

export interface ViTArgs {
  /** Side of the square input image; the model takes its flat side·side pixels. */
  imageSize?: number;
  /** Side of a square patch; must divide imageSize. 28/7 gives 16 patches of 49 pixels. */
  patchSize?: number;
  /** Model width d (token size). */
  width?: number;
  /** Transformer blocks. */
  depth?: number;
  /** Attention heads per block; must divide width. */
  numHeads?: number;
  /** MLP hidden width as a multiple of width. */
  mlpRatio?: number;
  numClasses?: number;
  /** Feature maps of the convolutional stem (a 3×3 convolution + GELU at full resolution, whose
   * maps are then cut into patches); 0 (default): patches of raw pixels. */
  stemChannels?: number;
  /** Seeds every initializer (layer j uses seed·1000 + j). */
  seed?: number;
}

export interface PatchifyArgs extends LayerArgs {
  imageSize: number;
  patchSize: number;
  /** Values per pixel (default 1: input [b, S·S]; c > 1: input [b, S·S, c]). */
  channels?: number;
}

function checkPatches(imageSize: number, patchSize: number, where: string): number {
  for (const [n, v] of [
    ["imageSize", imageSize],
    ["patchSize", patchSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${n} must be a positive integer, got ${v}`);
  }
  if (imageSize % patchSize !== 0)
    throw new Error(`${where}: patchSize ${patchSize} must divide imageSize ${imageSize} (e.g. 7 for 28)`);
  return imageSize / patchSize;
}

/** Cuts flat images [b, S·S] (or feature maps [b, S·S, c]) into patch rows [b, (S/P)², P·P·c]
 * (patches row-major, pixels row-major, channels innermost). */
export class Patchify extends tf.layers.Layer {
  static className = "Patchify";
  readonly imageSize: number;
  readonly patchSize: number;
  readonly channels: number;
  readonly grid: number;

  constructor(args: PatchifyArgs) {
    super(args);
    this.grid = checkPatches(args.imageSize, args.patchSize, "Patchify");
    this.imageSize = args.imageSize;
    this.patchSize = args.patchSize;
    this.channels = args.channels ?? 1;
    checkPositiveInt("Patchify", "channels", this.channels);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = inputShape as tf.Shape;
    const pixels = this.imageSize * this.imageSize;
    const ok =
      this.channels === 1
        ? s.length === 2 && (s[1] == null || s[1] === pixels)
        : s.length === 3 && (s[1] == null || s[1] === pixels) && (s[2] == null || s[2] === this.channels);
    if (!ok) {
      const want = this.channels === 1 ? `[batch, ${pixels}] flat pixels` : `[batch, ${pixels}, ${this.channels}]`;
      throw new Error(`Patchify ${this.name}: input must be ${want}, got [${s.join(", ")}]`);
    }
    return [s[0], this.grid * this.grid, this.patchSize * this.patchSize * this.channels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, S·S] or [b, S·S, c]
      const b = x.shape[0];
      const g = this.grid;
      const p = this.patchSize;
      const c = this.channels;
      // value (gi·P + pr, gj·P + pc, ch) sits at [b·g + gi][pr][gj][pc·c + ch]; rank-4 transposes only.
      return x
        .reshape([b * g, p, g, p * c]) // [b·g, pr, gj, pc·c]
        .transpose([0, 2, 1, 3]) // [b·g, gj, pr, pc·c]
        .reshape([b, g * g, p * p * c]); // [b, T, P·P·c]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), imageSize: this.imageSize, patchSize: this.patchSize, channels: this.channels };
  }
}
tf.serialization.registerClass(Patchify);

export interface PixelWindowsArgs extends LayerArgs {
  imageSize: number;
}

/** The 3×3 neighbourhood of every pixel (zero outside the image): flat images [b, S·S] ->
 * [b, S·S, 9] (offsets row-major). A Dense on it is a 3×3 convolution with 'same' padding, built
 * from a gather and a matrix product (the WASM backend has no Conv2D filter gradient). It is meant
 * for the model's input: tfjs would need GatherV2's gradient to backpropagate through it. */
export class PixelWindows extends tf.layers.Layer {
  static className = "PixelWindows";
  readonly imageSize: number;
  private indices: Int32Array | null = null;

  constructor(args: PixelWindowsArgs) {
    super(args);
    checkPositiveInt("PixelWindows", "imageSize", args.imageSize);
    this.imageSize = args.imageSize;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = inputShape as tf.Shape;
    const pixels = this.imageSize * this.imageSize;
    if (s.length !== 2 || (s[1] != null && s[1] !== pixels))
      throw new Error(`PixelWindows ${this.name}: input must be [batch, ${pixels}] flat pixels, got [${s.join(", ")}]`);
    return [s[0], pixels, 9];
  }

  /** Index into the zero-padded (S+2)² image of pixel (py, px)'s offset (dy, dx), row-major. */
  private windowIndices(): Int32Array {
    if (this.indices === null) {
      const S = this.imageSize;
      const idx = new Int32Array(S * S * 9);
      for (let py = 0; py < S; py++)
        for (let px = 0; px < S; px++)
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++) idx[(py * S + px) * 9 + dy * 3 + dx] = (py + dy) * (S + 2) + px + dx;
      this.indices = idx;
    }
    return this.indices;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, S·S]
      const b = x.shape[0];
      const S = this.imageSize;
      const padded = x.reshape([b, S, S]).pad([
        [0, 0],
        [1, 1],
        [1, 1],
      ]); // [b, S+2, S+2]
      return padded
        .reshape([b, (S + 2) * (S + 2)])
        .gather(tf.tensor1d(this.windowIndices(), "int32"), 1)
        .reshape([b, S * S, 9]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), imageSize: this.imageSize };
  }
}
tf.serialization.registerClass(PixelWindows);

export interface PositionEmbeddingArgs extends LayerArgs {
  /** Seed of the initial values N(0, 0.02²) (truncated). */
  seed?: number;
}

/** Adds a learned vector per token position: [b, T, d] + E[T, d]. */
export class PositionEmbedding extends tf.layers.Layer {
  static className = "PositionEmbedding";
  readonly seed: number;
  embedding: tf.LayerVariable | null = null;

  constructor(args: PositionEmbeddingArgs = {}) {
    super(args);
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    if (s.length !== 3 || s[1] == null || s[2] == null)
      throw new Error(
        `PositionEmbedding ${this.name}: input must be [batch, tokens, width] with known tokens and width, got [${s.join(", ")}]`,
      );
    // truncatedNormal treats seed 0 as "unseeded" (tfjs-core 4.22): map it to a fixed non-zero seed.
    const init = tf.initializers.truncatedNormal({
      stddev: POSITION_INIT_STDDEV,
      seed: this.seed === 0 ? 0x5eed : this.seed,
    });
    this.embedding = this.addWeight("embedding", [s[1], s[2]], "float32", init, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, T, d]
      return x.add(this.embedding!.read()); // + [T, d], broadcast over the batch
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}
tf.serialization.registerClass(PositionEmbedding);

export interface LayerNormArgs extends LayerArgs {
  /** Added to the variance before the square root. */
  epsilon?: number;
}
export const DEFAULT_LAYER_NORM_EPSILON = 1e-5;

/**
 * LayerNorm over the last axis: (x - mean) / sqrt(var + eps) · gamma + beta, with broadcasting.
 * tfjs's LayerNormalization tiles its statistics, and Tile's gradient is one slice per repeat
 * (~1,000 per call here), which made a ViT step ~20x slower on WASM.
 */
export class LayerNorm extends tf.layers.Layer {
  static className = "LayerNorm";
  readonly epsilon: number;
  gamma: tf.LayerVariable | null = null;
  beta: tf.LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? DEFAULT_LAYER_NORM_EPSILON;
    if (!(this.epsilon > 0)) throw new Error(`LayerNorm: epsilon must be > 0, got ${this.epsilon}`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    const d = s[s.length - 1];
    if (d == null)
      throw new Error(`LayerNorm ${this.name}: the last input dimension must be known, got [${s.join(", ")}]`);
    this.gamma = this.addWeight("gamma", [d], "float32", tf.initializers.ones(), undefined, true);
    this.beta = this.addWeight("beta", [d], "float32", tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [..., d]
      return layerNorm(x, this.gamma!.read(), this.beta!.read(), this.epsilon);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(LayerNorm);

/** LayerNorm from tf ops (the reference of the fused kernel). */
export function composedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = x.mean(-1, true); // [..., 1]
    const centered = x.sub(mean);
    const variance = centered.square().mean(-1, true); // [..., 1]
    return centered.mul(variance.add(epsilon).rsqrt()).mul(gamma).add(beta);
  });
}

/** LayerNorm as the TLLayerNorm kernel pair: one pass per row each way. */
function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, rstd] = tf
      .engine()
      .runKernel(TL_LAYER_NORM, { x: xi, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
    save([xi, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        return tf
          .engine()
          .runKernel(TL_LAYER_NORM_GRAD, { dy: dy as tf.Tensor, x: sx, gamma: sg, mean: sm, rstd: sr }) as tf.Tensor[];
      },
    };
  });
  return f(x, gamma, beta);
}

/** (x - mean) / sqrt(var + epsilon) · gamma + beta over the last axis: the fused kernel where the
 * backend has it, else composedLayerNorm. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const fused = hasKernel(TL_LAYER_NORM) && [x, gamma, beta].every((t) => t.dtype === "float32");
  return fused ? fusedLayerNorm(x, gamma, beta, epsilon) : composedLayerNorm(x, gamma, beta, epsilon);
}

/** Exact GELU from tf ops, as tfjs-layers' "gelu" activation computes it: x · Φ(x). */
export function composedGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))));
}

/** Exact GELU x · Φ(x): the TLGelu kernel pair where the backend has it, else composedGelu. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (!hasKernel(TL_GELU) || x.dtype !== "float32") return composedGelu(x);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([xi]);
    return {
      value: tf.engine().runKernel(TL_GELU, { x: xi }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.engine().runKernel(TL_GELU_GRAD, { dy: dy as tf.Tensor, x: saved[0] }) as tf.Tensor,
    };
  });
  return f(x);
}

/**
 * The "gelu" activation of Dense layers, registered under tfjs-layers' own name so that layer
 * configs and saved models stay as they were: the same function, computed by `gelu` (the fused
 * kernel on WASM). Every Dense built or loaded with activation "gelu" after this module loads
 * uses it.
 */
export class Gelu extends tf.serialization.Serializable {
  static className = "gelu";
  apply(x: tf.Tensor): tf.Tensor {
    return gelu(x);
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
tf.serialization.registerClass(Gelu);

function positiveInt(v: number, name: string): number {
  checkPositiveInt("buildViT", name, v);
  return v;
}

/**
 * The tiny ViT as a functional model on flat pixels [b, S·S] -> class probabilities [b, C].
 * Layers: pixels, (with a stem: stem_windows, stem (GELU),) patchify, patch_embed, pos_embed; per block i: block{i}_ln1, _q, _k, _v, _attn,
 * _o, _add1, _ln2, _mlp1 (GELU), _mlp2, _add2; then final_ln, pool, head (softmax).
 */
export function buildViT(args: ViTArgs = {}): tf.LayersModel {
  const imageSize = args.imageSize ?? DEFAULT_VIT_IMAGE_SIZE;
  const patchSize = args.patchSize ?? DEFAULT_VIT_PATCH_SIZE;
  checkPatches(imageSize, patchSize, "buildViT");
  const width = positiveInt(args.width ?? DEFAULT_VIT_WIDTH, "width");
  const depth = positiveInt(args.depth ?? DEFAULT_VIT_DEPTH, "depth");
  const numHeads = positiveInt(args.numHeads ?? DEFAULT_VIT_HEADS, "numHeads");
  if (width % numHeads !== 0) throw new Error(`buildViT: width ${width} must be divisible by numHeads ${numHeads}`);
  const mlpRatio = args.mlpRatio ?? DEFAULT_VIT_MLP_RATIO;
  checkPositiveFinite("buildViT", "mlpRatio", mlpRatio, "MLP width = mlpRatio · width; ViT uses 4");
  const mlpWidth = positiveInt(Math.round(mlpRatio * width), "mlpRatio · width");
  const numClasses = positiveInt(args.numClasses ?? DEFAULT_VIT_CLASSES, "numClasses");
  const stemChannels = args.stemChannels ?? 0;
  checkNonNegativeInt("buildViT", "stemChannels", stemChannels);
  const seed = args.seed ?? 0;
  checkFinite("buildViT", "seed", seed);
  let j = 0;
  const init = () => tf.initializers.glorotUniform({ seed: seed * 1000 + j++ });
  const dense = (name: string, units: number, activation?: "gelu" | "softmax") =>
    tf.layers.dense({ name, units, activation, kernelInitializer: init() });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    layer.apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [imageSize * imageSize], name: "pixels" }); // [b, S·S]
  let x: tf.SymbolicTensor;
  if (stemChannels > 0) {
    // A 3×3 convolution with c feature maps at full resolution, then patches of feature maps.
    const windows = apply(new PixelWindows({ imageSize, name: "stem_windows" }), input); // [b, S·S, 9]
    const maps = apply(dense("stem", stemChannels, "gelu"), windows); // [b, S·S, c]
    x = apply(new Patchify({ imageSize, patchSize, channels: stemChannels, name: "patchify" }), maps); // [b, T, P·P·c]
  } else {
    x = apply(new Patchify({ imageSize, patchSize, name: "patchify" }), input); // [b, T, P·P]
  }
  x = apply(dense("patch_embed", width), x); // [b, T, d]
  x = apply(new PositionEmbedding({ name: "pos_embed", seed: seed * 1000 + j++ }), x);
  for (let i = 0; i < depth; i++) {
    const b = `block${i}_`;
    const h = apply(new LayerNorm({ name: `${b}ln1` }), x);
    const q = apply(dense(`${b}q`, width), h);
    const k = apply(dense(`${b}k`, width), h);
    const v = apply(dense(`${b}v`, width), h);
    const a = apply(new DotProductAttention({ numHeads, name: `${b}attn` }), [q, k, v]); // [b, T, d]
    x = apply(tf.layers.add({ name: `${b}add1` }), [x, apply(dense(`${b}o`, width), a)]);
    const h2 = apply(new LayerNorm({ name: `${b}ln2` }), x);
    const m = apply(dense(`${b}mlp2`, width), apply(dense(`${b}mlp1`, mlpWidth, "gelu"), h2)); // [b, T, 2d] -> [b, T, d]
    x = apply(tf.layers.add({ name: `${b}add2` }), [x, m]);
  }
  x = apply(new LayerNorm({ name: "final_ln" }), x);
  x = apply(tf.layers.globalAveragePooling1d({ name: "pool" }), x); // mean over tokens: [b, d]
  const out = apply(dense("head", numClasses, "softmax"), x); // [b, C]
  return tf.model({ inputs: input, outputs: out, name: "tiny_vit" });
}

/** The layers below block 0 that hold weights: the stem (when there is one) and the embeddings. */
export const VIT_EMBEDDING_LAYERS: readonly string[] = ["stem", "patch_embed", "pos_embed"];

/** Number of transformer blocks in a model built by buildViT (LoRA-wrapped or not). */
export function vitDepth(model: tf.LayersModel): number {
  return model.layers.filter((l) => /^block\d+_attn$/.test(l.name)).length;
}

/** Names of the layers below block k: the embeddings and blocks 0..k-1 (what "freeze the first k
 * blocks" freezes, as freezing BERT's first layers includes its embeddings). */
export function vitLayersBelow(model: tf.LayersModel, k: number): string[] {
  const depth = vitDepth(model);
  if (!Number.isInteger(k) || k < 0 || k > depth)
    throw new Error(`freezeBlocks: k must be an integer in [0, ${depth}] (the model has ${depth} blocks), got ${k}`);
  const inBlock = (name: string) => {
    const m = /^block(\d+)_/.exec(name);
    return m !== null && Number(m[1]) < k;
  };
  return model.layers
    .filter((l) => l.weights.length > 0 && (VIT_EMBEDDING_LAYERS.includes(l.name) || inBlock(l.name)))
    .map((l) => l.name);
}

/**
 * Attention probabilities of one block for a batch of flat images x [n, S·S]:
 * [n, heads, T, T], row i = how query token i spreads over the key tokens (rows sum to 1).
 * Caller disposes.
 */
export function attentionMaps(model: tf.LayersModel, x: tf.Tensor2D, block: number): tf.Tensor4D {
  const depth = vitDepth(model);
  if (!Number.isInteger(block) || block < 0 || block >= depth) {
    throw new Error(`attentionMaps: block must be an integer in [0, ${depth - 1}], got ${block}`);
  }
  const pixels = model.inputs[0].shape[1];
  checkShape("attentionMaps", "x", x, [null, pixels], ["n"]);
  const attn = model.getLayer(`block${block}_attn`);
  if (!(attn instanceof DotProductAttention))
    throw new Error(
      `attentionMaps: layer block${block}_attn is a ${attn.getClassName()}, not DotProductAttention (build the model with buildViT)`,
    );
  // A view of the same layers that stops at this block's queries and keys; it owns no weights.
  const probe = tf.model({
    inputs: model.inputs,
    outputs: [
      model.getLayer(`block${block}_q`).output,
      model.getLayer(`block${block}_k`).output,
    ] as tf.SymbolicTensor[],
  });
  return tf.tidy(() => {
    const [q, k] = probe.predict(x) as tf.Tensor[]; // [n, T, d] each
    return attentionProbs(q, k, attn.numHeads);
  });
}
