import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  installWasmMatMulFix,
  uninstallWasmMatMulFix,
  isWasmMatMulFixInstalled,
  wasmMatMulStats,
} from "../../src/backend/wasm-matmul";
import { rng } from "../../src/core/random";

type Activation = "linear" | "relu" | "relu6" | "sigmoid" | "elu" | "leakyrelu" | "prelu";

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  /** Fused matmul: bias length (0 = none) and activation. */
  bias?: number;
  activation?: Activation;
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** Shapes of a and b for [..outer, M, K] x [..outer, K, N] with the given transposes. */
function shapes(outerA: number[], outerB: number[], m: number, k: number, n: number, ta: boolean, tb: boolean) {
  return { a: [...outerA, ...(ta ? [k, m] : [m, k])], b: [...outerB, ...(tb ? [n, k] : [k, n])] };
}

function values(shape: number[], r: () => number): Float32Array {
  return Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => 2 * r() - 1);
}

/** Runs one case on a backend from the same JS data; returns the output values and shape. */
async function run(backend: string, c: Case, data: Float32Array[]): Promise<{ out: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    let a = tf.tensor(data[0], c.a),
      b = tf.tensor(data[1], c.b);
    if (backend === "cpu") {
      // The reference broadcasts batches explicitly: the cpu kernel pairs batch items by
      // index modulo batch size, which is wrong for [2, 1] x [1, 3].
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(c.a.slice(0, -2), c.b.slice(0, -2));
      a = tf.broadcastTo(a, [...outer, ...c.a.slice(-2)]);
      b = tf.broadcastTo(b, [...outer, ...c.b.slice(-2)]);
    }
    let y: tf.Tensor;
    if (c.activation === undefined) {
      y = tf.matMul(a, b, c.transposeA, c.transposeB);
    } else {
      const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
      y = tf.fused.matMul({
        a,
        b,
        transposeA: c.transposeA,
        transposeB: c.transposeB,
        bias: c.bias ? tf.tensor1d(data[2]) : undefined,
        activation: c.activation,
        preluActivationWeights: c.activation === "prelu" ? tf.tensor1d(data[3].subarray(0, n)) : undefined,
        leakyreluAlpha: 0.2,
      });
    }
    return { out: y.dataSync() as Float32Array, shape: y.shape };
  });
}

async function expectSameAsCpu(c: Case, seed: number): Promise<void> {
  const r = rng(seed);
  const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  const data = [values(c.a, r), values(c.b, r), values([c.bias || 1], r), values([n], r)];
  const ref = await run("cpu", c, data);
  const got = await run("wasm", c, data);
  expect(got.shape).toEqual(ref.shape);
  const k = c.transposeA ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
  let worst = 0;
  for (let i = 0; i < ref.out.length; i++) worst = Math.max(worst, Math.abs(ref.out[i] - got.out[i]));
  // Sums of k products of values in [-1, 1]: float32 rounding grows like sqrt(k).
  expect(worst, JSON.stringify(c)).toBeLessThan(1e-5 * Math.max(1, k));
}

beforeAll(async () => {
  await tf.setBackend("wasm");
  installWasmMatMulFix();
});

afterAll(async () => {
  installWasmMatMulFix();
  await tf.setBackend("cpu");
});

describe("wasm matmul fix: same results as the pure-JS backend", () => {
  it("2-D products with every transpose combination, and takes the fast path for transposed ones", async () => {
    let seed = 0;
    // XNNPACK alone (no "gemm" kernel group), then with the SIMD tiles of wasm-kernels.ts.
    for (const gemm of [false, true]) {
      installWasmMatMulFix(gemm ? {} : { kernels: [] });
      for (const [m, k, n] of [
        [7, 5, 3],
        [33, 64, 17],
        [128, 96, 40],
        [1, 9, 1],
        [13, 131, 7], // long rows: a·bᵀ as dot products, with every edge (rows, columns, depth)
        [64, 260, 30],
      ]) {
        for (const [ta, tb] of TRANSPOSES) {
          wasmMatMulStats(true);
          await expectSameAsCpu({ ...shapes([], [], m, k, n, ta, tb), transposeA: ta, transposeB: tb }, seed++);
          const s = wasmMatMulStats();
          if (gemm && !(ta && tb)) expect(s.simd).toBe(1);
          else if (ta || tb) expect(s.single).toBe(1);
          else expect(s.stock).toBe(1);
        }
      }
    }
    installWasmMatMulFix();
  });

  it("batched 3-D and 4-D products, with broadcast batches, per item and folded", async () => {
    for (const gemm of [false, true]) {
      installWasmMatMulFix(gemm ? {} : { kernels: [] });
      await batchedCases();
    }
  });

  async function batchedCases(): Promise<void> {
    let seed = 100;
    const outers: [number[], number[]][] = [
      [[3], [3]],
      [[4], [1]],
      [[1], [4]],
      [[4], []],
      [[], [3]],
      [
        [2, 3],
        [2, 3],
      ],
      [
        [2, 1],
        [1, 3],
      ],
    ];
    for (const [outerA, outerB] of outers) {
      for (const [ta, tb] of TRANSPOSES) {
        for (const [m, k, n] of [
          [9, 16, 12],
          [20, 33, 31],
        ]) {
          await expectSameAsCpu({ ...shapes(outerA, outerB, m, k, n, ta, tb), transposeA: ta, transposeB: tb }, seed++);
        }
      }
    }
  }

  it("splits every batch into items when told to, and leaves tiny items to the stock kernel by default", async () => {
    installWasmMatMulFix({ minItemMacs: 0, minItemRows: 0 });
    try {
      wasmMatMulStats(true);
      for (const [ta, tb] of TRANSPOSES) {
        await expectSameAsCpu({ ...shapes([5], [5], 3, 4, 2, ta, tb), transposeA: ta, transposeB: tb }, 7);
      }
      expect(wasmMatMulStats().perItem).toBe(4);
    } finally {
      installWasmMatMulFix();
    }
    wasmMatMulStats(true);
    await expectSameAsCpu({ ...shapes([5], [5], 3, 4, 2, false, false), transposeA: false, transposeB: false }, 8);
    expect(wasmMatMulStats()).toEqual({ stock: 1, single: 0, perItem: 0, simd: 0 });
  });

  it("fused matmul with bias and every activation, transposed and batched", async () => {
    for (const gemm of [false, true]) {
      installWasmMatMulFix(gemm ? {} : { kernels: [] });
      await fusedCases();
    }
  });

  async function fusedCases(): Promise<void> {
    let seed = 200;
    const activations: Activation[] = ["linear", "relu", "relu6", "sigmoid", "elu", "leakyrelu", "prelu"];
    for (const activation of activations) {
      for (const [ta, tb] of TRANSPOSES) {
        const [m, k, n] = [11, 24, 10];
        await expectSameAsCpu(
          { ...shapes([], [], m, k, n, ta, tb), transposeA: ta, transposeB: tb, bias: n, activation },
          seed++,
        );
        await expectSameAsCpu(
          { ...shapes([3], [3], m, k, n, ta, tb), transposeA: ta, transposeB: tb, bias: n, activation },
          seed++,
        );
        await expectSameAsCpu(
          { ...shapes([2], [1], m, k, n, ta, tb), transposeA: ta, transposeB: tb, bias: 1, activation },
          seed++,
        );
        await expectSameAsCpu(
          { ...shapes([], [], 9, 133, 5, ta, tb), transposeA: ta, transposeB: tb, bias: 5, activation },
          seed++,
        );
      }
    }
    // No bias at all, as tfjs-layers' Dense without fusable activation calls it.
    await expectSameAsCpu(
      { ...shapes([], [], 8, 8, 8, true, false), transposeA: true, transposeB: false, activation: "linear" },
      seed++,
    );
  }

  it("fixes the stock kernel's fused bias, which is wrong after the first row when transposed", async () => {
    const c: Case = {
      ...shapes([], [], 4, 6, 5, false, true),
      transposeA: false,
      transposeB: true,
      bias: 5,
      activation: "linear",
    };
    uninstallWasmMatMulFix();
    try {
      const r = rng(1);
      const data = [values(c.a, r), values(c.b, r), values([5], r), values([5], r)];
      const ref = await run("cpu", c, data);
      const stock = await run("wasm", c, data);
      const diff = Math.max(...ref.out.map((v, i) => Math.abs(v - stock.out[i])));
      expect(diff).toBeGreaterThan(1e-3); // documents the upstream bug this module routes around
    } finally {
      installWasmMatMulFix();
    }
    await expectSameAsCpu(c, 1);
  });
});

describe("wasm matmul fix: memory", () => {
  it("leaves no tensors, backend data or heap growth behind across calls", async () => {
    await tf.setBackend("wasm");
    const backend = tf.backend();
    const r = rng(3);
    const a = tf.tensor(values([64, 48], r), [64, 48]);
    const b = tf.tensor(values([32, 48], r), [32, 48]);
    const a3 = tf.tensor(values([4, 48, 20], r), [4, 48, 20]);
    const b3 = tf.tensor(values([4, 24, 48], r), [4, 24, 48]);
    const bias = tf.tensor1d(values([32], r));
    const calls = () => {
      tf.matMul(a, b, false, true).dispose(); // [64, 48] x [32, 48]^T -> [64, 32]
      tf.matMul(b, a, false, true).dispose(); // [32, 48] x [64, 48]^T -> [32, 64]
      tf.matMul(a3, b3, true, true).dispose(); // [4, 48, 20]^T x [4, 24, 48]^T -> [4, 20, 24]
      tf.fused.matMul({ a, b, transposeB: true, bias, activation: "relu" }).dispose();
      tf.grad((x: tf.Tensor) => tf.matMul(x, b, false, true).sum())(a).dispose();
    };
    calls();
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, dataIds: backend.numDataIds() };
    for (let i = 0; i < 20; i++) calls();
    expect({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, dataIds: backend.numDataIds() }).toEqual(
      before,
    );
    tf.dispose([a, b, a3, b3, bias]);
  });
});

describe("wasm matmul fix: training", () => {
  it("trains a Dense autoencoder to the same losses as the pure-JS backend", async () => {
    const r = rng(4);
    const x = values([64, 40], r).map((v) => (v + 1) / 2);
    const losses: Record<string, number[]> = {};
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const model = tf.sequential({
        layers: [
          tf.layers.dense({
            inputShape: [40],
            units: 16,
            activation: "sigmoid",
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          }),
          tf.layers.dense({
            units: 40,
            activation: "sigmoid",
            kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
          }),
        ],
      });
      const opt = tf.train.adam(0.01);
      const xt = tf.tensor2d(x, [64, 40]);
      losses[backend] = [];
      for (let i = 0; i < 10; i++) {
        const l = opt.minimize(() => tf.losses.meanSquaredError(xt, model.apply(xt) as tf.Tensor) as tf.Scalar, true)!;
        losses[backend].push(l.dataSync()[0]);
        l.dispose();
      }
      xt.dispose();
      opt.dispose();
      model.dispose();
    }
    for (let i = 0; i < 10; i++) expect(losses.wasm[i]).toBeCloseTo(losses.cpu[i], 6);
    expect(losses.wasm[9]).toBeLessThan(losses.wasm[0]);
  });
});

describe("wasm matmul fix: install / uninstall", () => {
  it("swaps the registered kernels and restores the stock ones", () => {
    expect(isWasmMatMulFixInstalled()).toBe(true);
    const fixed = tf.getKernel("BatchMatMul", "wasm").kernelFunc;
    uninstallWasmMatMulFix();
    expect(isWasmMatMulFixInstalled()).toBe(false);
    const stock = tf.getKernel("BatchMatMul", "wasm").kernelFunc;
    expect(stock).not.toBe(fixed);
    installWasmMatMulFix();
    installWasmMatMulFix(); // idempotent
    expect(isWasmMatMulFixInstalled()).toBe(true);
    uninstallWasmMatMulFix();
    expect(tf.getKernel("BatchMatMul", "wasm").kernelFunc).toBe(stock);
    installWasmMatMulFix();
  });

  it("names a bad option and the remedy", () => {
    expect(() => installWasmMatMulFix({ minItemMacs: -1 })).toThrow(/minItemMacs must be a number >= 0, got -1/);
    expect(() => installWasmMatMulFix({ minItemRows: Number.NaN })).toThrow(
      /minItemRows must be a number >= 0, got NaN/,
    );
  });
});
