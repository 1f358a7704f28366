// The WASM kernels of backend/wasm-kernels.ts against the tf-op compositions they replace (the
// composed paths are what every other backend runs, and what test/models checks against plain-array
// references), the SIMD module's build invariants, Adam bit for bit, memory, install/uninstall.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { setupBackend } from "../../src/backend/backend";
import { sha256Hex } from "../../src/store/cache";
import { WASM_SIMD_BASE64, WASM_SIMD_SOURCE_SHA256 } from "../../src/backend/wasm-simd-binary";
import {
  installWasmKernels,
  installedWasmKernels,
  uninstallWasmKernels,
  wasmKernelsAvailable,
  WASM_KERNEL_GROUPS,
} from "../../src/backend/wasm-kernels";
import { wasmMatMulStats } from "../../src/backend/wasm-matmul";
import { composedAttention, multiHeadAttention } from "../../src/models/attention";
import { buildViT, composedGelu, composedLayerNorm, gelu, layerNorm } from "../../src/models/transformer";
import { rng } from "../../src/core/random";
import { sparseSoftmaxCrossEntropy } from "../../src/train/losses";
import { buildBert, paddingDifference } from "../../src/models/bert";

const SRC = path.resolve(__dirname, "..", "..", "src", "backend");

/** Largest |a - b| over two tensors (not disposed). */
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** f and its gradients with respect to every input, weighted by a fixed random cotangent. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], seed: number) {
  const y = f(...xs);
  const dy = tf.randomNormal(y.shape, 0, 1, "float32", seed);
  const grads = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(f(...ins), dy)))(xs);
  dy.dispose();
  return { y, grads };
}

/** fused(xs) vs composed(xs), values and gradients, within tol. */
function expectSame(
  fused: (...xs: tf.Tensor[]) => tf.Tensor,
  composed: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  tol: number,
  what: string,
): void {
  tf.tidy(() => {
    const a = valueAndGrads(fused, xs, 9);
    const b = valueAndGrads(composed, xs, 9);
    expect(a.y.shape, what).toEqual(b.y.shape);
    expect(maxDiff(a.y, b.y), `${what}: value`).toBeLessThan(tol);
    a.grads.forEach((g, i) => expect(maxDiff(g, b.grads[i]), `${what}: gradient ${i}`).toBeLessThan(tol));
  });
}

beforeAll(async () => {
  await setupBackend({ backend: "wasm" });
});

afterAll(async () => {
  installWasmKernels();
  await tf.setBackend("cpu");
});

describe("the SIMD module", () => {
  it("was built from the wasm-simd.c in the tree (run src/backend/wasm-simd-build.sh after editing it)", () => {
    expect(sha256Hex(fs.readFileSync(path.join(SRC, "wasm-simd.c")))).toBe(WASM_SIMD_SOURCE_SHA256);
  });

  it("imports only tfjs's memory and has no data of its own to copy over it", () => {
    const bytes = Buffer.from(WASM_SIMD_BASE64, "base64");
    const m = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
    // Section ids in order (LEB128 sizes); 11 = data, 12 = data count.
    const ids: number[] = [];
    for (let p = 8; p < bytes.length;) {
      ids.push(bytes[p++]);
      let size = 0,
        shift = 0,
        b: number;
      do {
        b = bytes[p++];
        size |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      p += size;
    }
    expect(ids).not.toContain(11);
    expect(ids).not.toContain(12);
    expect(wasmKernelsAvailable()).toBe(true);
  });
});

describe("fused kernels = the tf-op compositions", () => {
  it("attention, values and gradients, heads of 4 and of other widths", () => {
    for (const [b, t, w, h] of [
      [2, 5, 6, 3], // head width 2, odd token count: the scalar edges of the SIMD loops
      [4, 16, 64, 4], // the ViT's shape
      [3, 7, 12, 2],
      [2, 9, 40, 5],
    ]) {
      const xs = [1, 2, 3].map((s) => tf.randomNormal([b, t, w], 0, 1, "float32", s));
      expectSame(
        (q, k, v) => multiHeadAttention(q, k, v, h),
        (q, k, v) => composedAttention(q, k, v, h),
        xs,
        2e-6,
        `attention [${b}, ${t}, ${w}] / ${h}`,
      );
      tf.dispose(xs);
    }
  });

  it("attention with a key bias (the BERT's padding mask), values and gradients", () => {
    for (const [b, t, w, h] of [
      [2, 5, 6, 3],
      [3, 32, 48, 4], // lesson 06's default shape
    ]) {
      const xs = [1, 2, 3].map((s) => tf.randomNormal([b, t, w], 0, 1, "float32", s));
      // every item keeps its first 2 tokens; the rest padded at random (-1e9), or a small bias
      const r = rng(`bias${t}`);
      const bias = tf.tensor2d(
        Array.from({ length: b * t }, (_, i) => (i % t < 2 ? 0 : r() < 0.3 ? -1e9 : r() - 0.5)),
        [b, t],
      );
      expectSame(
        (q, k, v) => multiHeadAttention(q, k, v, h, bias),
        (q, k, v) => composedAttention(q, k, v, h, bias),
        xs,
        2e-6,
        `attention with key bias [${b}, ${t}, ${w}] / ${h}`,
      );
      tf.dispose([...xs, bias]);
    }
  });

  it("softmax cross-entropy against integer labels, values and gradients (vocabulary-sized rows)", () => {
    for (const [m, V, scale] of [
      [4, 3, 1], // rows narrower than one SIMD vector: the scalar path alone
      [3, 7, 1], // one vector and a scalar tail
      [40, 3001, 4], // masked-LM rows of a 3,000-word vocabulary, large logits, a tail of 1
    ]) {
      const r = rng(`xent${V}`);
      const labels = Array.from({ length: m }, () => Math.floor(r() * V));
      const logits = tf.randomNormal([m, V], 0, scale, "float32", 11);
      expectSame(
        (x) => sparseSoftmaxCrossEntropy(x as tf.Tensor2D, labels),
        (x) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, V), x, undefined, undefined, tf.Reduction.NONE),
        [logits],
        2e-5,
        `cross-entropy [${m}, ${V}]`,
      );
      logits.dispose();
    }
  });

  it("cross-entropy keeps huge logits exact, passes NaN on, and refuses out-of-range labels in the kernel", () => {
    // A row of -1e9 everywhere: ln V and a uniform softmax (1/V) minus the one-hot, not 0 and V times too much.
    const V = 5;
    const huge = tf.fill([2, V], -1e9) as tf.Tensor2D;
    const rows = sparseSoftmaxCrossEntropy(huge, [0, 3]);
    expect(Array.from(rows.dataSync()).map((x) => x - Math.log(V))).toEqual([0, 0].map(() => expect.closeTo(0, 6)));
    const g = tf.grad((x: tf.Tensor) => sparseSoftmaxCrossEntropy(x as tf.Tensor2D, [0, 3]).sum())(huge);
    expect(Array.from(g.dataSync().slice(0, V))).toEqual(
      [1 / V - 1, 1 / V, 1 / V, 1 / V, 1 / V].map((x) => expect.closeTo(x, 6)),
    );
    // A NaN logit makes its row's loss NaN (not a finite number with the NaN hidden in the gradient).
    const withNaN = tf.tensor2d([[0, NaN, 1, 2, 3, 4]]);
    expect(sparseSoftmaxCrossEntropy(withNaN, [2]).dataSync()[0]).toBeNaN();
    // Straight to the kernel (past the loss's own check): a label outside [0, V) is refused, no memory touched.
    const labels = tf.tensor1d([0, V], "int32");
    expect(() => tf.engine().runKernel("TLXent", { logits: huge, labels })).toThrow(
      /labels\[1\] must be in \[0, 4\], got 5/,
    );
    tf.dispose([huge, rows, g, withNaN, labels]);
  });

  it("LayerNorm, values and gradients", () => {
    for (const shape of [
      [3, 4, 8],
      [128, 16, 64],
      [5, 7],
    ]) {
      const c = shape[shape.length - 1];
      const xs = [
        tf.randomNormal(shape, 2, 3, "float32", 5),
        tf.randomNormal([c], 1, 0.5, "float32", 6),
        tf.randomNormal([c], 0, 0.5, "float32", 7),
      ];
      // gamma's gradient sums over up to 2,048 rows: float32 round-off of a sum that size
      expectSame(
        (x, g, b) => layerNorm(x, g, b, 1e-5),
        (x, g, b) => composedLayerNorm(x, g, b, 1e-5),
        xs,
        2e-4,
        `LayerNorm [${shape}]`,
      );
      tf.dispose(xs);
    }
  });

  it("GELU, values and gradient, within erf's approximation", () => {
    const x = tf.randomNormal([3, 17, 5], 0, 3, "float32", 8);
    expectSame(gelu, composedGelu, [x], 2e-6, "GELU");
    x.dispose();
  });

  it("Transpose, Sum over leading axes, Add/Sub/Multiply = the stock kernels", () => {
    const r = rng(2);
    const values = (n: number) => Float32Array.from({ length: n }, () => 2 * r() - 1);
    const check = (f: () => tf.Tensor, what: string) => {
      installWasmKernels();
      const fast = tf.tidy(f);
      uninstallWasmKernels(["layout"]);
      const stock = tf.tidy(f);
      installWasmKernels();
      expect(fast.shape, what).toEqual(stock.shape);
      expect(maxDiff(fast, stock), what).toBeLessThan(1e-5);
      tf.dispose([fast, stock]);
    };
    const x = tf.tensor(values(3 * 37 * 13), [3, 37, 13]);
    const y = tf.tensor(values(3 * 37 * 13), [3, 37, 13]);
    check(() => tf.transpose(x, [0, 2, 1]), "transpose");
    check(() => tf.transpose(x, [1, 0, 2]), "transpose, other perm (stock)");
    check(() => tf.sum(x, [0, 1]), "sum [0, 1]");
    check(() => tf.sum(x, 0, true), "sum 0 keepDims");
    check(() => tf.sum(x, -1), "sum -1 (stock)");
    check(() => tf.add(x, y), "add");
    check(() => tf.sub(x, y), "sub");
    check(() => tf.mul(x, y), "mul");
    check(() => tf.add(x, tf.scalar(2)), "add, a scalar");
    check(() => tf.sub(tf.scalar(1), x), "sub from a scalar");
    check(() => tf.mul(tf.tensor([[0.5]]), x), "mul by a [1, 1] value");
    check(() => tf.add(x, tf.ones([37, 13])), "add, another broadcast (stock)");
    const z = tf.tensor(values(3 * 37 * 16), [3, 37, 16]);
    const bias = tf.tensor(values(16), [1, 1, 16]);
    check(() => tf.add(z, bias), "add, a bias over the rows");
    check(() => tf.mul(z, bias.reshape([16])), "mul, a row over the rows");
    check(() => tf.sub(bias, z), "sub, the row first (stock)");
    tf.dispose([z, bias]);
    tf.dispose([x, y]);
  });

  it("routes Dense products through the SIMD tiles (aᵀ·b, a·b + bias + ReLU, a·bᵀ)", () => {
    wasmMatMulStats(true);
    tf.tidy(() => {
      const x = tf.randomNormal([130, 33]);
      const w = tf.randomNormal([33, 21]);
      const dy = tf.randomNormal([130, 21]);
      tf.fused.matMul({ a: x, b: w, bias: tf.randomNormal([21]), activation: "relu" });
      tf.matMul(x, dy, true, false);
      tf.matMul(dy, w, false, true);
    });
    expect(wasmMatMulStats().simd).toBe(3);
  });
});

describe("Adam", () => {
  it("takes the same float32 steps bit for bit as tfjs's own, and keeps the same optimizer state", async () => {
    const train = async (fused: boolean) => {
      if (fused) installWasmKernels(["adam"]);
      else uninstallWasmKernels(["adam"]);
      const w = tf.tidy(() => tf.variable(tf.randomNormal([37, 29], 0, 1, "float32", 1), true, `adam_w_${fused}`));
      const b = tf.tidy(() => tf.variable(tf.randomNormal([29], 0, 1, "float32", 2), true, `adam_b_${fused}`));
      const x = tf.randomNormal([16, 37], 0, 1, "float32", 3);
      const opt = tf.train.adam(0.01);
      for (let i = 0; i < 20; i++) {
        opt.minimize(() => tf.tidy(() => tf.add(tf.matMul(x, w), b).square().mean() as tf.Scalar), true)?.dispose();
      }
      const out = [w.dataSync().slice(), b.dataSync().slice()];
      const weights = await opt.getWeights();
      const state = weights.map((s) => ({ name: s.name.replace(`_${fused}`, ""), v: s.tensor.dataSync().slice() }));
      weights[0].tensor.dispose(); // "iter", made for the call; the moments belong to the optimizer
      tf.dispose([w, b, x]);
      opt.dispose();
      return { out, state };
    };
    const before = tf.memory().numTensors;
    const stock = await train(false);
    const fused = await train(true);
    installWasmKernels();
    expect(fused.out).toEqual(stock.out);
    expect(fused.state.map((s) => s.name)).toEqual(stock.state.map((s) => s.name));
    fused.state.forEach((s, i) => expect(s.v).toEqual(stock.state[i].v));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("the tiny ViT on WASM", () => {
  it("trains like the pure-JS backend (same losses over a few steps) and leaks nothing", async () => {
    const losses: Record<string, number[]> = {};
    const r = rng(5);
    const x = Float32Array.from({ length: 32 * 784 }, () => r());
    const labels = Int32Array.from({ length: 32 }, () => Math.floor(10 * r()));
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const m = buildViT({ width: 16, depth: 2, numHeads: 2, seed: 1 });
      const opt = tf.train.adam(3e-3);
      const xt = tf.tensor2d(x, [32, 784]);
      const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat());
      losses[backend] = [];
      for (let i = 0; i < 5; i++) {
        const l = opt.minimize(
          () =>
            tf.metrics.categoricalCrossentropy(yt, m.apply(xt, { training: true }) as tf.Tensor).mean() as tf.Scalar,
          true,
        )!;
        losses[backend].push(l.dataSync()[0]);
        l.dispose();
      }
      tf.dispose([xt, yt]);
      opt.dispose();
      m.dispose();
      expect(tf.memory().numTensors, backend).toBe(before);
    }
    for (let i = 0; i < 5; i++) expect(losses.wasm[i]).toBeCloseTo(losses.cpu[i], 4);
    expect(losses.wasm[4]).toBeLessThan(losses.wasm[0]);
  });
});

describe("the tiny BERT on WASM", () => {
  it("takes the fused attention with its padding mask: padding changes no real token's output", async () => {
    const args = { vocabSize: 40, seqLength: 8, width: 16, depth: 2, numHeads: 2, numClasses: 3, seed: 1 };
    const ids = [2, 7, 9, 11, 13, 0, 0, 0]; // [CLS], 4 words, padding
    const before = tf.memory().numTensors;
    const model = buildBert(args);
    const info = await tf.profile(() => tf.tidy(() => model.predict(tf.tensor2d([ids], [1, 8])) as tf.Tensor));
    (info.result as tf.Tensor).dispose();
    model.dispose();
    expect(info.kernelNames).toContain("TLAttention"); // the fused kernel, not the composed fallback
    expect(info.kernelNames).not.toContain("BatchMatMul");
    expect(paddingDifference(args, ids, 4)).toBeLessThan(1e-6);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("memory and install", () => {
  it("Identity and Cast share their input's memory, safely: a clone outlives its source", () => {
    const backend = tf.backend();
    const x = tf.tensor([1, 2, 3]);
    const ids = backend.numDataIds();
    const y = tf.clone(x);
    const z = tf.cast(x, "float32");
    expect(backend.numDataIds()).toBe(ids); // no copies
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([y, z]);
    expect(backend.numDataIds()).toBe(ids - 1);
  });

  it("installs and removes groups, restoring the stock kernels", () => {
    const stock = () => tf.getKernel("Transpose", "wasm").kernelFunc;
    installWasmKernels();
    expect(installedWasmKernels()).toEqual([...WASM_KERNEL_GROUPS]);
    const fast = stock();
    uninstallWasmKernels(["layout", "attention"]);
    expect(installedWasmKernels()).not.toContain("layout");
    expect(tf.getKernel("TLAttention", "wasm")).toBeUndefined();
    expect(stock()).not.toBe(fast);
    installWasmKernels();
    expect(tf.getKernel("TLAttention", "wasm")).toBeDefined();
    expect(() => installWasmKernels(["nope" as never])).toThrow(/"nope" is not one of identity, layout/);
  });
});
