// Fast matrix products on the WASM backend. tfjs-backend-wasm 4.22 runs XNNPACK only for a
// plain [1, M, K] x [1, K, N] product; transposed or batched ones (backprop through Dense needs
// x^T·dy and dy·W^T) fall to a scalar loop 5-13x slower, whose fused bias is also wrong after
// the first row. This re-registers BatchMatMul and _FusedMatMul for 'wasm' to avoid that loop,
// and installs the SIMD kernels of wasm-kernels.ts with it (the WASM backend's other slow spots).
import * as tf from "@tensorflow/tfjs";
import {
  installWasmKernels,
  isWasmKernelGroupInstalled,
  uninstallWasmKernels,
  WASM_KERNEL_GROUPS,
  type WasmKernelGroup,
} from "./wasm-kernels";
import { simdKernels } from "./wasm-simd";

/** Batched products (both operands with batch > 1) run one XNNPACK call per item when each
 * item has at least this many multiply-adds (M*K*N) and DEFAULT_MIN_ITEM_ROWS rows (M).
 * Measured: an item's call costs ~3 µs plus packing its [K, N] operand, so [64,16,16]x[64,16,16]
 * gains 1.2x, [128,17,16]x[128,16,17] 1.5x, [16,64,64]^2 9x; [256,8,8]^2 and M = 1 lose. */
export const DEFAULT_MIN_ITEM_MACS = 4096;
/** See DEFAULT_MIN_ITEM_MACS: with fewer rows, packing an item's [K, N] operand is not repaid. */
export const DEFAULT_MIN_ITEM_ROWS = 8;

/** Counts of how the installed kernels routed products since the last reset (tests, bench). */
export interface WasmMatMulStats {
  /** Products handed to the stock kernel unchanged (already fast, or a case it alone handles). */
  stock: number;
  /** Products run as one XNNPACK call after explicit transposes and/or batch folding. */
  single: number;
  /** Products run as one XNNPACK call per batch item. */
  perItem: number;
  /** Products run by the SIMD tiles of wasm-simd.c (the "gemm" kernel group). */
  simd: number;
}

/** Minimal view of tfjs-backend-wasm's BackendWasm; `dataIdNextNumber` and the emscripten
 * module are not in its public typings, so this names exactly the members used here. */
interface WasmBackendInternals {
  wasm: {
    cwrap(name: string, ret: null, argTypes: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
    HEAPF32: Float32Array;
  };
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
}

/** The C entry points, wrapped once per emscripten module. */
interface WasmEntryPoints {
  batchMatMul(
    aId: number,
    aShape: Uint8Array,
    aRank: number,
    bId: number,
    bShape: Uint8Array,
    bRank: number,
    transposeA: boolean,
    transposeB: boolean,
    outId: number,
  ): void;
  fusedMatMul(
    aId: number,
    aShape: Uint8Array,
    aRank: number,
    bId: number,
    bShape: Uint8Array,
    bRank: number,
    transposeA: boolean,
    transposeB: boolean,
    activation: number,
    biasId: number,
    preluId: number,
    leakyreluAlpha: number,
    outId: number,
  ): void;
}

/** Activation codes of the wasm C kernels (tfjs-backend-wasm src/cc/fusable_activations.h). */
const FUSABLE_ACTIVATION: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  prelu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  elu: 6,
};

const KERNELS = ["BatchMatMul", "_FusedMatMul"] as const;
const originals = new Map<string, tf.KernelConfig>();
const entryPoints = new WeakMap<object, WasmEntryPoints>();
const stats: WasmMatMulStats = { stock: 0, single: 0, perItem: 0, simd: 0 };
let minItemMacs = DEFAULT_MIN_ITEM_MACS;
let minItemRows = DEFAULT_MIN_ITEM_ROWS;

function entries(backend: WasmBackendInternals): WasmEntryPoints {
  let e = entryPoints.get(backend.wasm);
  if (!e) {
    const n = "number",
      arr = "array";
    const bmm = backend.wasm.cwrap("BatchMatMul", null, [n, arr, n, n, arr, n, n, n, n]);
    const fmm = backend.wasm.cwrap("_FusedMatMul", null, [n, arr, n, n, arr, n, n, n, n, n, n, n, n]);
    e = { batchMatMul: bmm, fusedMatMul: fmm };
    entryPoints.set(backend.wasm, e);
  }
  return e;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);
const size = (shape: number[]) => tf.util.sizeFromShape(shape);

/** Fused-kernel extras; null for a plain BatchMatMul. */
interface Fused {
  activation: number;
  bias?: tf.TensorInfo;
  prelu?: tf.TensorInfo;
  leakyreluAlpha: number;
}

/** Registers tensors that alias existing wasm memory (no copy) and unregisters them after. */
class Views {
  private ids: number[] = [];
  constructor(private backend: WasmBackendInternals) {}
  /** A tensor id for `count` floats starting `elementOffset` floats into `base`. */
  at(base: tf.TensorInfo, elementOffset: number, count: number): number {
    const { memoryOffset } = this.backend.dataIdMap.get(base.dataId);
    const id = this.backend.dataIdNextNumber++;
    this.backend.wasm.tfjs.registerTensor(id, count, memoryOffset + 4 * elementOffset);
    this.ids.push(id);
    return id;
  }
  /** Unregistering a view also drops the XNNPACK operator cached on it; memory stays with its owner. */
  release(): void {
    for (const id of this.ids) this.backend.wasm.tfjs.disposeData(id);
    this.ids = [];
  }
}

/** Index of the operand's batch item that broadcasts to output batch item `i`. */
function broadcastIndex(i: number, outOuter: number[], operandOuter: number[]): number {
  const pad = outOuter.length - operandOuter.length;
  let index = 0,
    rest = i,
    operandStride = 1;
  for (let d = outOuter.length - 1; d >= 0; d--) {
    const coord = rest % outOuter[d];
    rest = Math.floor(rest / outOuter[d]);
    const dim = d >= pad ? operandOuter[d - pad] : 1;
    if (dim !== 1) index += coord * operandStride;
    operandStride *= dim;
  }
  return index;
}

/** Swaps the last two axes with the wasm Transpose kernel: [..., R, C] -> [..., C, R]. */
function transposeLast2(x: tf.TensorInfo, backend: object): tf.TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  const kernel = tf.getKernel(tf.Transpose, "wasm");
  return kernel.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

function fastMatMul(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  fused: Fused | null,
  backendArg: object,
  stock: () => tf.TensorInfo | tf.TensorInfo[],
): tf.TensorInfo | tf.TensorInfo[] {
  const ra = a.shape.length,
    rb = b.shape.length;
  if (a.dtype !== "float32" || b.dtype !== "float32" || ra < 2 || rb < 2) return counted("stock", stock);
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  // Mismatched inner sizes: the stock kernel raises tfjs's own error message.
  if (K !== Kb) return counted("stock", stock);
  const outerA = a.shape.slice(0, -2),
    outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = size(outerA),
    batchB = size(outerB),
    batch = size(outer);

  const biasSize = fused?.bias ? size(fused.bias.shape) : N;
  const preluSize = fused?.prelu ? size(fused.prelu.shape) : 0;
  const simd = simdMatMul(a, b, transposeA, transposeB, fused, backendArg, { M, K, N, batchA, batchB, outer });
  if (simd) return simd;
  // b shared by every item (then batch === batchA): one call with a's items folded into rows.
  const singleCall = batchB === 1;
  // The stock batched loop adds bias[min(i * N + j, N - 1)] (wrong after row 0) and pairs
  // batches only when one side is 1 or both are equal ([2, 1] x [1, 3] reads out of bounds), so
  // those always split; other plain products only where an item is big enough to gain.
  const stockCanBatch = fused === null && batch === Math.max(batchA, batchB);
  const bigItem = !stockCanBatch || (M * K * N >= minItemMacs && M >= minItemRows);
  const perItemOk = bigItem && (preluSize === 0 || (M * N) % preluSize === 0);
  // Stock already takes XNNPACK for the plain case (with a full-width bias); bias sizes other
  // than 1 and N, and small batched items, stay with the stock kernel.
  if (!transposeA && !transposeB && batchA === 1 && batchB === 1 && biasSize === N) return counted("stock", stock);
  if ((biasSize !== N && biasSize !== 1) || (!singleCall && !perItemOk) || batch * M * K * N === 0) {
    return counted("stock", stock);
  }

  const backend = backendArg as unknown as WasmBackendInternals;
  const e = entries(backend);
  const temps: tf.TensorInfo[] = [];
  const views = new Views(backend);
  try {
    // a: [...outerA, M, K] and b: [...outerB, K, N], contiguous, after these explicit transposes.
    const aa = transposeA ? transposeLast2(a, backendArg) : a;
    if (aa !== a) temps.push(aa);
    const bb = transposeB ? transposeLast2(b, backendArg) : b;
    if (bb !== b) temps.push(bb);
    let bias = fused?.bias;
    if (bias && biasSize !== N) {
      // xnn reads N bias values: widen a [1] bias to [N].
      const value = (backend.readSync(bias.dataId) as Float32Array)[0];
      const wide = backend.makeOutput([N], "float32");
      temps.push(wide);
      // Read HEAPF32 after makeOutput: an allocation may grow (replace) the heap.
      const start = backend.dataIdMap.get(wide.dataId).memoryOffset / 4;
      backend.wasm.HEAPF32.fill(value, start, start + N);
      bias = wide;
    }
    const out = backend.makeOutput([...outer, M, N], "float32");
    const call = (aId: number, aShape: number[], bId: number, bShape: number[], outId: number) => {
      if (fused) {
        const biasId = bias ? backend.dataIdMap.get(bias.dataId).id : 0;
        const preluId = fused.prelu ? backend.dataIdMap.get(fused.prelu.dataId).id : 0;
        e.fusedMatMul(
          aId,
          shapeBytes(aShape),
          3,
          bId,
          shapeBytes(bShape),
          3,
          false,
          false,
          fused.activation,
          biasId,
          preluId,
          fused.leakyreluAlpha,
          outId,
        );
      } else {
        e.batchMatMul(aId, shapeBytes(aShape), 3, bId, shapeBytes(bShape), 3, false, false, outId);
      }
    };
    const id = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).id;
    if (singleCall) {
      // [batch * M, K] x [K, N] -> [batch * M, N]
      call(id(aa), [1, batch * M, K], id(bb), [1, K, N], id(out));
      stats.single++;
    } else {
      // One XNNPACK call per item on aliasing views: [M, K] x [K, N] -> [M, N]. Releasing the
      // b view after each item frees the operator (packed weights) XNNPACK cached on it.
      for (let i = 0; i < batch; i++) {
        const ia = broadcastIndex(i, outer, outerA),
          ib = broadcastIndex(i, outer, outerB);
        const aId = batchA === 1 ? id(aa) : views.at(aa, ia * M * K, M * K);
        const bId = views.at(bb, ib * K * N, K * N);
        call(aId, [1, M, K], bId, [1, K, N], views.at(out, i * M * N, M * N));
        views.release();
      }
      stats.perItem++;
    }
    return out;
  } finally {
    views.release();
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** a·bᵀ with at least this inner size runs as dot products (tl_matmul_nt); shorter, bᵀ is
 * transposed first and tl_matmul_nn runs (its tiles beat the dot products' final sums there). */
const MIN_NT_DEPTH = 128;

/**
 * The "gemm" group's route: a·b and a·bᵀ (b shared by the batch: its items fold into rows; bᵀ
 * transposed first, b being a weight matrix in practice) with an optional full-width bias and
 * linear or ReLU activation, and aᵀ·b unbatched and unfused. Null when the group is off or the
 * product is another kind.
 */
function simdMatMul(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  fused: Fused | null,
  backendArg: object,
  d: { M: number; K: number; N: number; batchA: number; batchB: number; outer: number[] },
): tf.TensorInfo | null {
  if (!isWasmKernelGroupInstalled("gemm") || d.batchB !== 1 || (transposeA && transposeB)) return null;
  const { M, K, N } = d;
  const batch = size(d.outer);
  if (batch * M * N === 0) return null;
  if (fused) {
    const simple = fused.activation === FUSABLE_ACTIVATION.linear || fused.activation === FUSABLE_ACTIVATION.relu;
    if (!simple || fused.prelu || (fused.bias && size(fused.bias.shape) !== N) || transposeA) return null;
  }
  if (transposeA && d.batchA !== 1) return null;
  const k = simdKernels(backendArg);
  if (!k) return null;
  const backend = backendArg as unknown as WasmBackendInternals;
  const off = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const out = backend.makeOutput([...d.outer, M, N], "float32");
  if (transposeA) {
    k.tl_matmul_tn(off(a), off(b), off(out), K, M, N);
  } else {
    const bias = fused?.bias ? off(fused.bias) : 0;
    const relu = fused?.activation === FUSABLE_ACTIVATION.relu ? 1 : 0;
    if (transposeB && K >= MIN_NT_DEPTH) {
      // Long rows: dot products along K beat transposing b (measured: 4-15 % at K = 128-784).
      k.tl_matmul_nt(off(a), off(b), off(out), bias, batch * M, K, N, relu);
    } else {
      const bb = transposeB ? transposeLast2(b, backendArg) : b;
      try {
        k.tl_matmul_nn(off(a), off(bb), off(out), bias, batch * M, K, N, relu);
      } finally {
        if (bb !== b) backend.disposeData(bb.dataId);
      }
    }
  }
  stats.simd++;
  return out;
}

function counted(kind: keyof WasmMatMulStats, f: () => tf.TensorInfo | tf.TensorInfo[]) {
  stats[kind]++;
  return f();
}

function makeConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const stock = () => original.kernelFunc(args);
    const a = inputs.a as tf.TensorInfo,
      b = inputs.b as tf.TensorInfo;
    const transposeA = Boolean(attrs?.transposeA),
      transposeB = Boolean(attrs?.transposeB);
    if (original.kernelName === "BatchMatMul") return fastMatMul(a, b, transposeA, transposeB, null, backend, stock);
    const activationName = String(attrs?.activation ?? "linear");
    const activation = FUSABLE_ACTIVATION[activationName];
    const bias = inputs.bias as tf.TensorInfo | undefined;
    // Unknown activations and non-rank-1 biases: the stock kernel names the problem.
    if (activation === undefined || (bias != null && bias.shape.length !== 1)) return counted("stock", stock);
    const fused: Fused = {
      activation,
      bias: bias ?? undefined,
      prelu: (inputs.preluActivationWeights as tf.TensorInfo | undefined) ?? undefined,
      leakyreluAlpha: Number(attrs?.leakyreluAlpha ?? 0),
    };
    return fastMatMul(a, b, transposeA, transposeB, fused, backend, stock);
  };
  return { ...original, kernelFunc };
}

/** Options of installWasmMatMulFix. */
export interface WasmMatMulFixArgs {
  /** Batched products (both operands with batch > 1) run one XNNPACK call per item only when
   * each item has at least this many multiply-adds, M*K*N (default DEFAULT_MIN_ITEM_MACS). */
  minItemMacs?: number;
  /** ... and at least this many rows M (default DEFAULT_MIN_ITEM_ROWS). */
  minItemRows?: number;
  /** The groups of wasm-kernels.ts to install along (default all; [] for the matmul fix alone). */
  kernels?: readonly WasmKernelGroup[];
}

/** Replaces the wasm BatchMatMul and _FusedMatMul kernels with the fast-path versions.
 * Loads tfjs-backend-wasm if needed; safe to call again (updates the options only). */
export function installWasmMatMulFix(args: WasmMatMulFixArgs = {}): void {
  const macs = args.minItemMacs ?? DEFAULT_MIN_ITEM_MACS;
  const rows = args.minItemRows ?? DEFAULT_MIN_ITEM_ROWS;
  for (const [name, v] of [
    ["minItemMacs", macs],
    ["minItemRows", rows],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new Error(`installWasmMatMulFix: ${name} must be a number >= 0, got ${v} (use 0 to always split batches)`);
    }
  }
  minItemMacs = macs;
  minItemRows = rows;
  if (!tf.getKernel("BatchMatMul", "wasm")) {
    require("@tensorflow/tfjs-backend-wasm");
  }
  const groups = args.kernels ?? WASM_KERNEL_GROUPS;
  uninstallWasmKernels(WASM_KERNEL_GROUPS.filter((g) => !groups.includes(g)));
  installWasmKernels(groups);
  if (originals.size > 0) return;
  for (const name of KERNELS) {
    const original = tf.getKernel(name, "wasm");
    if (!original)
      throw new Error(
        `installWasmMatMulFix: tfjs-backend-wasm registered no ${name} kernel (version mismatch with @tensorflow/tfjs-core ${tf.version_core}?)`,
      );
    originals.set(name, original);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(makeConfig(original));
  }
}

/** Puts the stock wasm kernels back (benchmarks compare both), wasm-kernels.ts's included. */
export function uninstallWasmMatMulFix(): void {
  uninstallWasmKernels();
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(original);
  }
  originals.clear();
}

/** True while the fast-path kernels are registered. */
export function isWasmMatMulFixInstalled(): boolean {
  return originals.size > 0;
}

/** How products were routed since the last reset (a copy). */
export function wasmMatMulStats(reset = false): WasmMatMulStats {
  const copy = { ...stats };
  if (reset) Object.assign(stats, { stock: 0, single: 0, perItem: 0, simd: 0 });
  return copy;
}
