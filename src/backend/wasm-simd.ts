// The SIMD kernels of wasm-simd.c, instantiated on tfjs-backend-wasm's own memory: each call takes
// byte offsets of tensors tfjs already holds (dataIdMap's memoryOffset), so nothing is copied.
import type * as tf from "@tensorflow/tfjs";
import { WASM_SIMD_BASE64 } from "./wasm-simd-binary";

/** The exports of wasm-simd.c; pointers are byte offsets into tfjs's wasm memory. */
export interface SimdKernels {
  tl_transpose(x: number, y: number, batch: number, rows: number, cols: number): void;
  tl_colsum(x: number, y: number, rows: number, cols: number): void;
  tl_binary(a: number, b: number, y: number, rows: number, cols: number, mode: number, op: number): void;
  tl_matmul_tn(a: number, b: number, c: number, k: number, m: number, n: number): void;
  tl_matmul_nn(a: number, b: number, c: number, bias: number, m: number, k: number, n: number, relu: number): void;
  tl_matmul_nt(a: number, b: number, c: number, bias: number, m: number, k: number, n: number, relu: number): void;
  tl_attention(
    q: number,
    k: number,
    v: number,
    out: number,
    p: number,
    scratch: number,
    batch: number,
    tokens: number,
    heads: number,
    headDim: number,
    scale: number,
    keyBias: number,
    hasKeyBias: number,
  ): void;
  tl_attention_grad(
    q: number,
    k: number,
    v: number,
    p: number,
    dout: number,
    dq: number,
    dk: number,
    dv: number,
    scratch: number,
    batch: number,
    tokens: number,
    heads: number,
    headDim: number,
    scale: number,
  ): void;
  tl_layer_norm(
    x: number,
    gamma: number,
    beta: number,
    y: number,
    mean: number,
    rstd: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  tl_layer_norm_grad(
    x: number,
    gamma: number,
    mean: number,
    rstd: number,
    dy: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    rows: number,
    cols: number,
  ): void;
  tl_gelu(x: number, y: number, n: number): void;
  tl_adam(
    x: number,
    m: number,
    v: number,
    g: number,
    xo: number,
    mo: number,
    vo: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    negLr: number,
    epsilon: number,
  ): void;
  tl_gelu_grad(x: number, dy: number, dx: number, n: number): void;
  tl_xent(
    logits: number,
    labels: number,
    loss: number,
    max: number,
    logSum: number,
    rows: number,
    classes: number,
  ): void;
  tl_xent_grad(
    logits: number,
    labels: number,
    max: number,
    logSum: number,
    dy: number,
    dx: number,
    rows: number,
    classes: number,
  ): void;
}

/** The members of tfjs-backend-wasm's BackendWasm used here (not in its public typings). */
export interface WasmBackendView {
  wasm: { asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
}

/** The engine's WebAssembly API, reached through globalThis: the TypeScript lib the notebook
 * kernel (tslab) compiles with types the WebAssembly namespace but not its global value, so
 * `new WebAssembly.Module(…)` compiles under tsc and fails in every lesson. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => WebAssembly.Module;
  Instance: new (
    module: WebAssembly.Module,
    imports: Record<string, Record<string, unknown>>,
  ) => {
    exports: Record<string, unknown>;
  };
  Memory: abstract new (...args: never[]) => object;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<object, SimdKernels | null>();

function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes =
        typeof Buffer !== "undefined"
          ? Buffer.from(WASM_SIMD_BASE64, "base64")
          : Uint8Array.from(atob(WASM_SIMD_BASE64), (c) => c.charCodeAt(0));
      compiled = new wasmApi.Module(bytes);
    } catch {
      compiled = null; // no WebAssembly SIMD here: callers keep the stock kernels
    }
  }
  return compiled;
}

/** True when this JavaScript engine compiles the module (WebAssembly SIMD). */
export function simdAvailable(): boolean {
  return module() !== null;
}

/** The kernels bound to this backend's memory, or null where they cannot run (no SIMD, or a
 * tfjs-backend-wasm build whose memory is not reachable). */
export function simdKernels(backend: object): SimdKernels | null {
  const b = backend as WasmBackendView;
  const key = b.wasm as object | undefined;
  if (!key) return null;
  let k = instances.get(key);
  if (k === undefined) {
    const memory = b.wasm.asm?.memory;
    const m = module();
    k =
      m && memory instanceof wasmApi.Memory
        ? (new wasmApi.Instance(m, { env: { memory } }).exports as unknown as SimdKernels)
        : null;
    instances.set(key, k);
  }
  return k;
}

/** The int32 values of a tensor on the wasm backend, read in place (a view: copy before tfjs runs again). */
export function int32View(backend: object, t: tf.TensorInfo): Int32Array {
  const memory = (backend as WasmBackendView).wasm.asm?.memory as { buffer: ArrayBuffer } | undefined;
  if (!memory) throw new Error("wasm-simd: the backend's memory is not reachable");
  return new Int32Array(
    memory.buffer,
    offsetOf(backend, t),
    t.shape.reduce((a, b) => a * b, 1),
  );
}

/** Byte offset of a tensor's data in the wasm memory. */
export function offsetOf(backend: object, t: tf.TensorInfo): number {
  const d = (backend as WasmBackendView).dataIdMap.get(t.dataId);
  if (!d) throw new Error("wasm-simd: tensor data is not on the wasm backend");
  return d.memoryOffset;
}
