// A tiny timed matrix product: the first thing lesson 00 measures on the reader's machine, and
// the quickest way to see what the chosen backend (and the WASM transposed-matmul fix) is worth.
import * as tf from "@tensorflow/tfjs";

export const DEFAULT_MATMUL_REPEATS = 5;
export const DEFAULT_MATMUL_WARMUP = 1;

export interface TimeMatMulArgs {
  /** Side of the square matrices: [n, n] x [n, n]. */
  n: number;
  /** Multiply by the transpose of the first operand (what backprop's x^T·dy does). */
  transposeA?: boolean;
  /** Multiply by the transpose of the second operand (what backprop's dy·W^T does). */
  transposeB?: boolean;
  /** Timed runs; the median is reported. */
  repeats?: number;
  /** Untimed runs first (kernel compilation, memory growth). */
  warmup?: number;
  seed?: number;
}

export interface MatMulTiming {
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Median milliseconds of one product, including reading the result back. */
  medianMs: number;
  /** 2·n³ floating-point operations over the median time. */
  gflops: number;
  backend: string;
}

/** Times C = op(A)·op(B) for random n×n matrices on the current backend. Leaves no tensors. */
export async function timeMatMul(args: TimeMatMulArgs): Promise<MatMulTiming> {
  const { n } = args;
  if (!Number.isInteger(n) || n < 1) throw new Error(`timeMatMul: n must be a positive integer, got ${n}`);
  const repeats = args.repeats ?? DEFAULT_MATMUL_REPEATS;
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`timeMatMul: repeats must be a positive integer, got ${repeats}`);
  const tA = args.transposeA ?? false;
  const tB = args.transposeB ?? false;
  // +1: tf.randomNormal ignores seed 0 (tfjs-core 4.22), and timings should repeat on the same data.
  const a = tf.randomNormal([n, n], 0, 1, "float32", (args.seed ?? 0) + 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", (args.seed ?? 0) + 2);
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const c = tf.matMul(a, b, tA, tB);
    await c.data(); // the product is done only once its values are back
    c.dispose();
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < (args.warmup ?? DEFAULT_MATMUL_WARMUP); i++) await once();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await once());
    times.sort((x, y) => x - y);
    const medianMs = times[Math.floor(times.length / 2)];
    return {
      n,
      transposeA: tA,
      transposeB: tB,
      medianMs,
      gflops: (2 * n ** 3) / (medianMs * 1e6),
      backend: tf.getBackend(),
    };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** Largest |tf.matMul − plain-JS triple loop| on random [m, k] x [k, n] inputs: a correctness check
 * of the backend's product (float32 accumulation gives ~1e-5 for k in the hundreds). */
export function matMulMaxError(m: number, k: number, n: number, seed = 3): number {
  const a = tf.randomUniform([m, k], -1, 1, "float32", seed);
  const b = tf.randomUniform([k, n], -1, 1, "float32", seed + 1);
  const av = a.dataSync();
  const bv = b.dataSync();
  const c = tf.matMul(a, b);
  const cv = c.dataSync();
  tf.dispose([a, b, c]);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += av[i * k + t] * bv[t * n + j];
      worst = Math.max(worst, Math.abs(s - cv[i * n + j]));
    }
  }
  return worst;
}
