// Kernels for the WASM backend beyond the matmul fix, measured on the tiny ViT's training step
// (`npm run bench -- --profile`). Each group can be installed alone (the bench's ablation turns
// them on one at a time):
//   identity   Identity and same-dtype Cast share the input's memory (as the CPU backend does)
//              instead of copying it: the gradient tape clones every tensor it saves.
//   layout     Transpose of the last two axes, Sum over leading axes (bias gradients), and Add,
//              Sub, Multiply of same-shape tensors (residuals, gradient sums) as SIMD loops; the
//              stock kernels run ~5-10× slower on these shapes.
//   gemm       Matrix products (wasm-matmul.ts routes them) as SIMD register tiles: aᵀ·b without
//              transposing or packing a (a Dense layer's weight gradient), a·b (+ bias, ReLU)
//              without XNNPACK's per-call packing of b; 1.2-1.6× XNNPACK on the bench's shapes.
//   adam       tf.train.adam's update as one TLAdam kernel per variable instead of ~14 kernels
//              and their scalar tensors (same float32 operations in the same order: the same
//              bits); AdamOptimizer.applyGradients takes it on WASM while the group is installed.
//   attention  TLAttention: multi-head softmax attention on [b, T, h·d] in one pass per item and
//              head, no head transposes, an optional additive key bias [b, T] (the BERT's padding
//              mask), with its gradient kernel (models/attention.ts uses it).
//   layernorm  TLLayerNorm and its gradient in one pass per row (models/transformer.ts).
//   gelu       TLGelu, exact GELU x·Φ(x) and its gradient (models/transformer.ts).
//   xent       TLXent: softmax cross-entropy of logits [m, V] against integer labels, one pass per
//              row for the loss and one for its gradient (train/losses.ts; the masked-LM's output
//              over the vocabulary, where the composed ops ran ~3 exp passes and a one-hot).
// The SIMD loops live in wasm-simd.c; without WebAssembly SIMD nothing is installed.
import * as tf from "@tensorflow/tfjs";
import { int32View, offsetOf, simdAvailable, simdKernels, type SimdKernels, type WasmBackendView } from "./wasm-simd";

export const TL_ATTENTION = "TLAttention";
export const TL_ATTENTION_GRAD = "TLAttentionGrad";
export const TL_LAYER_NORM = "TLLayerNorm";
export const TL_LAYER_NORM_GRAD = "TLLayerNormGrad";
export const TL_GELU = "TLGelu";
export const TL_GELU_GRAD = "TLGeluGrad";
export const TL_ADAM = "TLAdam";
export const TL_XENT = "TLXent";
export const TL_XENT_GRAD = "TLXentGrad";

export type WasmKernelGroup = "identity" | "layout" | "gemm" | "adam" | "attention" | "layernorm" | "gelu" | "xent";
export const WASM_KERNEL_GROUPS: readonly WasmKernelGroup[] = [
  "identity",
  "layout",
  "gemm",
  "adam",
  "attention",
  "layernorm",
  "gelu",
  "xent",
];

type Out = tf.TensorInfo | tf.TensorInfo[];
type Stock = () => Out;

function kernels(backend: object): SimdKernels {
  const k = simdKernels(backend);
  if (!k) throw new Error("wasm-kernels: this tfjs-backend-wasm build does not expose its memory to the SIMD kernels");
  return k;
}

/** Shares x's memory: a new tensor on the same data (the CPU backend's Identity). */
function share(x: tf.TensorInfo, backend: object): tf.TensorInfo {
  (backend as WasmBackendView).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const disposeData = (backend: object, t: tf.TensorInfo) =>
  (backend as { disposeData(id: tf.DataId): void }).disposeData(t.dataId);
const out = (backend: object, shape: number[]) => (backend as WasmBackendView).makeOutput(shape, "float32");
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Replacements of stock kernels: (args, the stock kernel) -> outputs. */
const OVERRIDES: Record<string, { group: WasmKernelGroup; run: (a: AnyArgs, stock: Stock) => Out }> = {
  Identity: {
    group: "identity",
    run: ({ inputs, backend }, stock) => (inputs.x.dtype === "string" ? stock() : share(inputs.x, backend)),
  },
  Cast: {
    group: "identity",
    run: ({ inputs, backend, attrs }, stock) =>
      inputs.x.dtype === attrs.dtype && inputs.x.dtype !== "string" ? share(inputs.x, backend) : stock(),
  },
  Transpose: {
    group: "layout",
    run: ({ inputs, backend, attrs }, stock) => {
      const x = inputs.x;
      const perm = attrs.perm as number[];
      const r = x.shape.length;
      if (perm.every((p, i) => p === i) && x.dtype !== "string") return share(x, backend);
      const swapsLast2 = r >= 2 && perm.every((p, i) => (i < r - 2 ? p === i : p === (i === r - 2 ? r - 1 : r - 2)));
      if (!swapsLast2 || x.dtype !== "float32" || size(x.shape) === 0) return stock();
      const rows = x.shape[r - 2],
        cols = x.shape[r - 1];
      const y = out(backend, [...x.shape.slice(0, -2), cols, rows]);
      kernels(backend).tl_transpose(
        offsetOf(backend, x),
        offsetOf(backend, y),
        size(x.shape) / (rows * cols),
        rows,
        cols,
      );
      return y;
    },
  },
  Add: { group: "layout", run: (args, stock) => binary(args, 0, stock) },
  Sub: { group: "layout", run: (args, stock) => binary(args, 1, stock) },
  Multiply: { group: "layout", run: (args, stock) => binary(args, 2, stock) },
  Sum: {
    group: "layout",
    run: ({ inputs, backend, attrs }, stock) => {
      const x = inputs.x;
      const r = x.shape.length;
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
      // Leading axes only ([0], [0, 1], ...), and not all of them (the stock kernel is fast there).
      const k = axes.length;
      if (x.dtype !== "float32" || k === 0 || k >= r || axes.some((a, i) => a !== i) || size(x.shape) === 0) {
        return stock();
      }
      const rows = size(x.shape.slice(0, k)),
        rest = x.shape.slice(k);
      const y = out(backend, attrs.keepDims ? [...new Array(k).fill(1), ...rest] : rest);
      kernels(backend).tl_colsum(offsetOf(backend, x), offsetOf(backend, y), rows, size(rest));
      return y;
    },
  },
};

/** float32 a op b with SIMD (op 0 add, 1 sub, 2 mul) where b has a's shape, or b is a row repeated
 * over a's leading axes (a bias: [c], [1, 1, c]...), or either is one value ([], [1, 1]: a loss
 * gradient's scale); other broadcasts stay stock. Small tensors (the optimizer's scalars and
 * biases) stay stock too: the call costs more than the loop there. */
function binary({ inputs: { a, b }, backend }: AnyArgs, op: number, stock: Stock): Out {
  if (a.dtype !== "float32" || b.dtype !== "float32") return stock();
  const na = size(a.shape),
    nb = size(b.shape);
  // mode 0: same shape; 1: b a row over a's rows; 2: b one value; 3: a one value
  let mode = -1;
  const big = na >= nb ? a : b;
  if (tf.util.arraysEqual(a.shape, b.shape)) mode = 0;
  else if (nb === 1 && b.shape.length <= a.shape.length) mode = 2;
  else if (na === 1 && a.shape.length <= b.shape.length) mode = 3;
  else if (
    b.shape.length <= a.shape.length &&
    nb === a.shape[a.shape.length - 1] &&
    b.shape[b.shape.length - 1] === nb &&
    nb % 4 === 0
  )
    mode = 1;
  if (mode < 0 || size(big.shape) < 1024) return stock();
  const y = out(backend, big.shape.slice());
  const cols = mode === 1 ? nb : size(big.shape);
  kernels(backend).tl_binary(
    offsetOf(backend, a),
    offsetOf(backend, b),
    offsetOf(backend, y),
    size(big.shape) / cols,
    cols,
    mode,
    op,
  );
  return y;
}

interface AnyArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: object;
  attrs: tf.NamedAttrMap;
}

function checkFloat(name: string, ts: Record<string, tf.TensorInfo>): void {
  for (const [k, t] of Object.entries(ts)) {
    if (t.dtype !== "float32") throw new Error(`${name}: ${k} must be float32, got ${t.dtype}`);
  }
}

function attentionDims(name: string, q: tf.TensorInfo, heads: number) {
  if (q.shape.length !== 3) throw new Error(`${name}: q must be [batch, tokens, width], got [${q.shape.join(", ")}]`);
  const [b, t, w] = q.shape;
  if (!Number.isInteger(heads) || heads < 1 || w % heads !== 0)
    throw new Error(`${name}: numHeads ${heads} must divide the width ${w}`);
  return { b, t, h: heads, d: w / heads, scale: 1 / Math.sqrt(w / heads) };
}

/** Rows and classes of a cross-entropy kernel's inputs, checked: the C loops index logits by label
 * and share tfjs's memory, so a label outside [0, V) would read and write other tensors' data. */
function xentDims(
  name: string,
  backend: object,
  logits: tf.TensorInfo,
  labels: tf.TensorInfo,
  rows: Record<string, tf.TensorInfo> = {},
): [number, number] {
  checkFloat(name, { logits, ...rows });
  if (logits.shape.length !== 2 || logits.shape[1] < 1)
    throw new Error(`${name}: logits must be [rows, classes] with classes >= 1, got [${logits.shape}]`);
  const [m, V] = logits.shape;
  for (const [k, t] of Object.entries({ labels, ...rows }))
    if (t.shape.length !== 1 || t.shape[0] !== m) throw new Error(`${name}: ${k} must be [${m}], got [${t.shape}]`);
  if (labels.dtype !== "int32") throw new Error(`${name}: labels must be int32, got ${labels.dtype}`);
  const ids = int32View(backend, labels);
  for (let i = 0; i < m; i++)
    if (ids[i] < 0 || ids[i] >= V) throw new Error(`${name}: labels[${i}] must be in [0, ${V - 1}], got ${ids[i]}`);
  return [m, V];
}

/** New kernels (no stock counterpart). */
const NEW_KERNELS: Record<string, { group: WasmKernelGroup; run: (a: AnyArgs) => Out }> = {
  // inputs q, k, v [b, T, h·d], optional keyBias [b, T] (added to every score of key j);
  // attrs numHeads -> [out [b, T, h·d], probs [b, h, T, T]]
  [TL_ATTENTION]: {
    group: "attention",
    run: ({ inputs: { q, k, v, keyBias }, backend, attrs }) => {
      checkFloat(TL_ATTENTION, { q, k, v, ...(keyBias ? { keyBias } : {}) });
      const s = attentionDims(TL_ATTENTION, q, attrs.numHeads as number);
      if (!tf.util.arraysEqual(q.shape, k.shape) || !tf.util.arraysEqual(q.shape, v.shape))
        throw new Error(`${TL_ATTENTION}: q, k, v must have one shape, got ${[q, k, v].map((t) => `[${t.shape}]`)}`);
      if (keyBias && !tf.util.arraysEqual(keyBias.shape, [s.b, s.t]))
        throw new Error(`${TL_ATTENTION}: keyBias must be [${s.b}, ${s.t}] (batch, tokens), got [${keyBias.shape}]`);
      const o = out(backend, q.shape.slice());
      const p = out(backend, [s.b, s.h, s.t, s.t]);
      const scratch = out(backend, [s.t * s.d]);
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      kernels(backend).tl_attention(
        off(q),
        off(k),
        off(v),
        off(o),
        off(p),
        off(scratch),
        s.b,
        s.t,
        s.h,
        s.d,
        s.scale,
        keyBias ? off(keyBias) : 0,
        keyBias ? 1 : 0,
      );
      disposeData(backend, scratch);
      return [o, p];
    },
  },
  // inputs dy, q, k, v, probs; attrs numHeads -> [dq, dk, dv]
  [TL_ATTENTION_GRAD]: {
    group: "attention",
    run: ({ inputs: { dy, q, k, v, probs }, backend, attrs }) => {
      checkFloat(TL_ATTENTION_GRAD, { dy, q, k, v, probs });
      const s = attentionDims(TL_ATTENTION_GRAD, q, attrs.numHeads as number);
      const [dq, dk, dv] = [0, 1, 2].map(() => out(backend, q.shape.slice()));
      const scratch = out(backend, [s.t * s.t + s.t * s.d]);
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      kernels(backend).tl_attention_grad(
        off(q),
        off(k),
        off(v),
        off(probs),
        off(dy),
        off(dq),
        off(dk),
        off(dv),
        off(scratch),
        s.b,
        s.t,
        s.h,
        s.d,
        s.scale,
      );
      disposeData(backend, scratch);
      return [dq, dk, dv];
    },
  },
  // inputs x [..., C], gamma [C], beta [C]; attrs epsilon -> [y, mean [rows], rstd [rows]]
  [TL_LAYER_NORM]: {
    group: "layernorm",
    run: ({ inputs: { x, gamma, beta }, backend, attrs }) => {
      checkFloat(TL_LAYER_NORM, { x, gamma, beta });
      const c = x.shape[x.shape.length - 1];
      if (size(gamma.shape) !== c || size(beta.shape) !== c)
        throw new Error(`${TL_LAYER_NORM}: gamma and beta must have ${c} values (the last axis of x)`);
      const rows = size(x.shape) / c;
      const y = out(backend, x.shape.slice());
      const [mean, rstd] = [out(backend, [rows]), out(backend, [rows])];
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      kernels(backend).tl_layer_norm(
        off(x),
        off(gamma),
        off(beta),
        off(y),
        off(mean),
        off(rstd),
        rows,
        c,
        attrs.epsilon as number,
      );
      return [y, mean, rstd];
    },
  },
  // inputs dy, x, gamma, mean, rstd -> [dx, dgamma, dbeta]
  [TL_LAYER_NORM_GRAD]: {
    group: "layernorm",
    run: ({ inputs: { dy, x, gamma, mean, rstd }, backend }) => {
      checkFloat(TL_LAYER_NORM_GRAD, { dy, x, gamma, mean, rstd });
      const c = x.shape[x.shape.length - 1];
      const rows = size(x.shape) / c;
      const dx = out(backend, x.shape.slice());
      const [dgamma, dbeta] = [out(backend, [c]), out(backend, [c])];
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      kernels(backend).tl_layer_norm_grad(
        off(x),
        off(gamma),
        off(mean),
        off(rstd),
        off(dy),
        off(dx),
        off(dgamma),
        off(dbeta),
        rows,
        c,
      );
      return [dx, dgamma, dbeta];
    },
  },
  [TL_GELU]: {
    group: "gelu",
    run: ({ inputs: { x }, backend }) => {
      checkFloat(TL_GELU, { x });
      const y = out(backend, x.shape.slice());
      kernels(backend).tl_gelu(offsetOf(backend, x), offsetOf(backend, y), size(x.shape));
      return y;
    },
  },
  // inputs x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 (scalars); attrs beta1, beta2,
  // learningRate, epsilon -> [x', m', v']
  [TL_ADAM]: {
    group: "adam",
    run: ({ inputs: { x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 }, backend, attrs }) => {
      checkFloat(TL_ADAM, { x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 });
      const n = size(x.shape);
      if ([m, v, g].some((t) => size(t.shape) !== n)) throw new Error(`${TL_ADAM}: x, m, v, g must have one size`);
      const [xo, mo, vo] = [0, 1, 2].map(() => out(backend, x.shape.slice()));
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      const [b1, b2, lr, eps] = [attrs.beta1, attrs.beta2, attrs.learningRate, attrs.epsilon] as number[];
      // As tfjs turns the JS numbers into float32 scalars: 1 - b1 is computed in double first.
      const f = Math.fround;
      kernels(backend).tl_adam(
        off(x),
        off(m),
        off(v),
        off(g),
        off(xo),
        off(mo),
        off(vo),
        n,
        f(b1),
        f(1 - b1),
        f(b2),
        f(1 - b2),
        off(oneMinusAccBeta1),
        off(oneMinusAccBeta2),
        f(-lr),
        f(eps),
      );
      return [xo, mo, vo];
    },
  },
  // inputs logits [m, V] float32, labels [m] int32 in [0, V) -> [loss, max, logSum], each [m]: per row
  // loss = logSum + (max - logits[label]), the max kept apart from log Σ exp(logits - max)
  [TL_XENT]: {
    group: "xent",
    run: ({ inputs: { logits, labels }, backend }) => {
      const [m, V] = xentDims(TL_XENT, backend, logits, labels);
      const [loss, max, logSum] = [0, 1, 2].map(() => out(backend, [m]));
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      kernels(backend).tl_xent(off(logits), off(labels), off(loss), off(max), off(logSum), m, V);
      return [loss, max, logSum];
    },
  },
  // inputs logits, labels, max, logSum, dy (each [m] but logits) -> dlogits [m, V]
  [TL_XENT_GRAD]: {
    group: "xent",
    run: ({ inputs: { logits, labels, max, logSum, dy }, backend }) => {
      const [m, V] = xentDims(TL_XENT_GRAD, backend, logits, labels, { max, logSum, dy });
      const dx = out(backend, [m, V]);
      const off = (t: tf.TensorInfo) => offsetOf(backend, t);
      kernels(backend).tl_xent_grad(off(logits), off(labels), off(max), off(logSum), off(dy), off(dx), m, V);
      return dx;
    },
  },
  // inputs dy, x -> dx
  [TL_GELU_GRAD]: {
    group: "gelu",
    run: ({ inputs: { dy, x }, backend }) => {
      checkFloat(TL_GELU_GRAD, { dy, x });
      const dx = out(backend, x.shape.slice());
      kernels(backend).tl_gelu_grad(offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dx), size(x.shape));
      return dx;
    },
  },
};

const replaced = new Map<string, tf.KernelConfig>(); // stock configs of overridden kernels
const installed = new Set<WasmKernelGroup>();

/** True when this JavaScript engine runs the kernels' WebAssembly SIMD module. */
export function wasmKernelsAvailable(): boolean {
  return simdAvailable();
}

/** Installs the given groups (default all) on the 'wasm' backend, before or after it starts; a
 * no-op without WebAssembly SIMD. Returns the groups installed now. */
export function installWasmKernels(groups: readonly WasmKernelGroup[] = WASM_KERNEL_GROUPS): WasmKernelGroup[] {
  if (!wasmKernelsAvailable()) return [];
  for (const g of groups) {
    if (!WASM_KERNEL_GROUPS.includes(g))
      throw new Error(`installWasmKernels: ${JSON.stringify(g)} is not one of ${WASM_KERNEL_GROUPS.join(", ")}`);
    if (installed.has(g)) continue;
    for (const [name, o] of Object.entries(OVERRIDES)) {
      if (o.group !== g) continue;
      const stock = tf.getKernel(name, "wasm");
      if (!stock) continue;
      replaced.set(name, stock);
      tf.unregisterKernel(name, "wasm");
      tf.registerKernel({
        ...stock,
        kernelFunc: (args) => o.run(args as unknown as AnyArgs, () => stock.kernelFunc(args)),
      });
    }
    if (g === "adam") patchAdam();
    for (const [name, k] of Object.entries(NEW_KERNELS)) {
      if (k.group !== g) continue;
      tf.registerKernel({
        kernelName: name,
        backendName: "wasm",
        kernelFunc: (args) => k.run(args as unknown as AnyArgs) as tf.TensorInfo,
      });
    }
    installed.add(g);
  }
  return [...installed];
}

/** Removes the given groups (default all), putting the stock kernels back. */
export function uninstallWasmKernels(groups: readonly WasmKernelGroup[] = WASM_KERNEL_GROUPS): void {
  for (const g of groups) {
    if (!installed.has(g)) continue;
    for (const [name, o] of Object.entries(OVERRIDES)) {
      const stock = replaced.get(name);
      if (o.group !== g || !stock) continue;
      tf.unregisterKernel(name, "wasm");
      tf.registerKernel(stock);
      replaced.delete(name);
    }
    for (const [name, k] of Object.entries(NEW_KERNELS)) {
      if (k.group === g) tf.unregisterKernel(name, "wasm");
    }
    if (g === "adam") unpatchAdam();
    installed.delete(g);
  }
}

/** What applyGradients reads of tfjs-core 4.22's AdamOptimizer (not in its public typings). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
  applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void;
}

let stockAdamApply: AdamInternals["applyGradients"] | null = null;

/** tfjs's AdamOptimizer.applyGradients with the per-variable update as one TLAdam kernel; the
 * moments are created, named and kept as tfjs does, so saving and restoring optimizer state and
 * switching the group off mid-training behave as before. Other backends, and non-float32
 * variables, take the stock method. */
function fusedAdamApply(
  this: AdamInternals,
  variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[],
): void {
  const stock = stockAdamApply!;
  const grads: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
    ? variableGradients.map((v) => [v.name, v.tensor])
    : Object.entries(variableGradients);
  const vars = tf.engine().registeredVariables;
  if (!hasKernel(TL_ADAM) || grads.some(([name, g]) => vars[name]?.dtype !== "float32" || (g && g.dtype !== "float32")))
    return stock.call(this, variableGradients);
  tf.tidy(() => {
    const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
    const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
    const attrs = { beta1: this.beta1, beta2: this.beta2, learningRate: this.learningRate, epsilon: this.epsilon };
    grads.forEach(([name, gradient], i) => {
      const value = vars[name];
      const moment = (list: AdamInternals["accumulatedFirstMoment"], suffix: string) => {
        if (list[i] == null) {
          list[i] = { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        return list[i]!.variable;
      };
      const m = moment(this.accumulatedFirstMoment, "m");
      const v = moment(this.accumulatedSecondMoment, "v");
      if (gradient == null) return;
      const inputs = { x: value, m, v, g: gradient, oneMinusAccBeta1, oneMinusAccBeta2 };
      const [x2, m2, v2] = tf.engine().runKernel(TL_ADAM, inputs, attrs) as tf.Tensor[];
      m.assign(m2);
      v.assign(v2);
      value.assign(x2);
    });
    this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
    this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
  });
  this.incrementIterations();
}

function patchAdam(): void {
  const proto = tf.AdamOptimizer.prototype as unknown as AdamInternals;
  if (stockAdamApply) return;
  stockAdamApply = proto.applyGradients;
  proto.applyGradients = fusedAdamApply;
}

function unpatchAdam(): void {
  if (!stockAdamApply) return;
  (tf.AdamOptimizer.prototype as unknown as AdamInternals).applyGradients = stockAdamApply;
  stockAdamApply = null;
}

/** True while group `g` is installed. */
export function isWasmKernelGroupInstalled(g: WasmKernelGroup): boolean {
  return installed.has(g);
}

/** The groups installed now. */
export function installedWasmKernels(): WasmKernelGroup[] {
  return WASM_KERNEL_GROUPS.filter((g) => installed.has(g));
}

/** True when kernel `name` is registered for the active backend (the models' fast-path test). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}
