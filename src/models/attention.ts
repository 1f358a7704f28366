// Multi-head scaled dot-product attention for the tiny ViT: the weight-free core that mixes
// already-projected queries, keys and values (the q/k/v/o projections are ordinary named Dense
// layers around it, so LoRA and freezing can address them), and the maps it computes. On WASM
// the core is one kernel per direction (backend/wasm-kernels.ts TLAttention: no head transposes,
// no per-head matmul calls); elsewhere it is composed of tf ops, the reference the kernel is
// tested against.
import * as tf from "@tensorflow/tfjs";
import { hasKernel, TL_ATTENTION, TL_ATTENTION_GRAD } from "../backend/wasm-kernels";
import type { Kwargs, LayerArgs } from "./layer-args";

export interface DotProductAttentionArgs extends LayerArgs {
  /** Heads h; the model width d must be divisible by h (each head sees d/h dimensions). */
  numHeads: number;
}

function checkHeads(width: number, numHeads: number, where: string): number {
  if (!Number.isInteger(numHeads) || numHeads < 1)
    throw new Error(`${where}: numHeads must be a positive integer, got ${numHeads}`);
  if (width % numHeads !== 0)
    throw new Error(
      `${where}: the width ${width} must be divisible by numHeads ${numHeads} (each head gets width / numHeads dimensions)`,
    );
  return width / numHeads;
}

/** [b, T, d] -> [b, h, T, d/h]: one slice of the width per head. */
export function splitHeads(x: tf.Tensor, numHeads: number): tf.Tensor4D {
  const [b, t, d] = x.shape;
  const dh = checkHeads(d, numHeads, "splitHeads");
  return x.reshape([b, t, numHeads, dh]).transpose([0, 2, 1, 3]);
}

/** [b, h, T, d/h] -> [b, T, d]: heads side by side again. */
export function mergeHeads(x: tf.Tensor): tf.Tensor3D {
  const [b, h, t, dh] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([b, t, h * dh]);
}

/**
 * Attention probabilities softmax(q·kᵀ / sqrt(d/h) + keyBias) per head: q, k [b, T, d] -> [b, h, T, T];
 * row i (a query token) is a distribution over the key tokens, so every row sums to 1. keyBias [b, T]
 * (optional) is added to every query's score of key j (a padding mask: a large negative number).
 */
export function attentionProbs(q: tf.Tensor, k: tf.Tensor, numHeads: number, keyBias?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const qh = splitHeads(q, numHeads); // [b, h, T, dh]
    const khT = splitHeads(k, numHeads).transpose([0, 1, 3, 2]); // [b, h, dh, T]
    const dh = qh.shape[3];
    // Explicit transpose: the stock WASM batched matmul is slow with transposeB set.
    const scores = tf.matMul(qh, khT).mul(1 / Math.sqrt(dh)); // [b, h, T, dh] x [b, h, dh, T] -> [b, h, T, T]
    const [b, t] = [qh.shape[0], qh.shape[2]];
    return tf.softmax(keyBias ? scores.add(keyBias.reshape([b, 1, 1, t])) : scores, -1) as tf.Tensor4D;
  });
}

/** The attention core from tf ops: concat_heads(softmax(q_h·k_hᵀ / sqrt(d/h) + keyBias) · v_h), [b, T, d];
 * keyBias [b, T] (optional) is added to every query's score of key j. */
export function composedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  numHeads: number,
  keyBias?: tf.Tensor2D,
): tf.Tensor3D {
  return tf.tidy(() => {
    const p = attentionProbs(q, k, numHeads, keyBias); // [b, h, T, T]
    return mergeHeads(tf.matMul(p, splitHeads(v, numHeads))); // [b, h, T, dh] -> [b, T, d]
  });
}

/** The attention core as the TLAttention kernel pair (forward saves the probabilities); the key
 * bias is a constant of the inputs (no gradient flows to it). */
function fusedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  numHeads: number,
  keyBias?: tf.Tensor2D,
): tf.Tensor3D {
  checkHeads(q.shape[2] as number, numHeads, "attention");
  const attrs = { numHeads };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const inputs: tf.NamedTensorMap = { q: qi, k: ki, v: vi };
    if (keyBias) inputs.keyBias = keyBias;
    const [out, probs] = tf.engine().runKernel(TL_ATTENTION, inputs, attrs) as tf.Tensor[];
    save([qi, ki, vi, probs]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved;
        return tf
          .engine()
          .runKernel(TL_ATTENTION_GRAD, { dy: dy as tf.Tensor, q: sq, k: sk, v: sv, probs: sp }, attrs) as tf.Tensor[];
      },
    };
  });
  return f(q, k, v) as tf.Tensor3D;
}

/** Multi-head attention of projected q, k, v [b, T, d] -> [b, T, d], with an optional additive key
 * bias [b, T] (a padding mask: a large negative number on padded keys): the fused kernel where the
 * backend has it (float32), else composedAttention. The bias is a constant: the fused path gives it
 * no gradient (the composed one would), so pass a mask, not a trainable tensor. */
export function multiHeadAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  numHeads: number,
  keyBias?: tf.Tensor2D,
): tf.Tensor3D {
  if (keyBias && (keyBias.rank !== 2 || keyBias.shape[0] !== q.shape[0] || keyBias.shape[1] !== q.shape[1]))
    throw new Error(
      `multiHeadAttention: keyBias must be [${q.shape[0]}, ${q.shape[1]}] (batch, tokens), got [${keyBias.shape}]`,
    );
  const fused =
    hasKernel(TL_ATTENTION) &&
    q.rank === 3 &&
    [q, k, v, ...(keyBias ? [keyBias] : [])].every((t) => t.dtype === "float32") &&
    [k, v].every((t) => tf.util.arraysEqual(t.shape, q.shape));
  return fused ? fusedAttention(q, k, v, numHeads, keyBias) : composedAttention(q, k, v, numHeads, keyBias);
}

/**
 * The attention core: inputs [q, k, v], each [b, T, d], output [b, T, d] =
 * concat_heads(softmax(q_h·k_hᵀ / sqrt(d/h)) · v_h). No weights of its own.
 */
export class DotProductAttention extends tf.layers.Layer {
  static className = "DotProductAttention";
  readonly numHeads: number;

  constructor(args: DotProductAttentionArgs) {
    super(args);
    if (!Number.isInteger(args.numHeads) || args.numHeads < 1) {
      throw new Error(`DotProductAttention: numHeads must be a positive integer, got ${args.numHeads}`);
    }
    this.numHeads = args.numHeads;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 3) {
      throw new Error(
        `DotProductAttention ${this.name}: expects three inputs [q, k, v], got ${JSON.stringify(inputShape)}`,
      );
    }
    const width = shapes[0][shapes[0].length - 1];
    if (width != null) checkHeads(width, this.numHeads, `DotProductAttention ${this.name}`);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = inputShape as tf.Shape[];
    return shapes[2].slice(); // like v: [b, T, d]
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 3)
        throw new Error(`DotProductAttention ${this.name}: expects [q, k, v]`);
      const [q, k, v] = inputs; // each [b, T, d]
      return multiHeadAttention(q, k, v, this.numHeads); // [b, T, d]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads };
  }
}
tf.serialization.registerClass(DotProductAttention);
