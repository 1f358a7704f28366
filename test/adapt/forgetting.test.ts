// Fine-tuning without forgetting: L2-SP (with and without Li et al.'s β term) and EWC penalties
// (zero at the anchor, gradients equal to central finite differences, a pull towards the anchor
// inside fit), the diagonal Fisher (empirical: closed form on softmax regression; "model": labels
// really drawn from p(·|x), against their expectation p_k(1 − p_k)), the stratified replay buffer,
// named errors and no leaked tensors.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { diagonalFisher, ewcPenalty, l2spPenalty, replayBuffer, type Fisher } from "../../src/adapt/forgetting";
import { buildSourceModel, HEAD_LAYER } from "../../src/models/mlp";
import { fit } from "../../src/train/fit";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

function blobs(n: number, dim: number, classes: number, seed: number, shift = 0): Dataset {
  const r = rng(`blobs${seed}`);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < dim; j++) x[i * dim + j] = 0.3 * r() + (j % classes === (y[i] + shift) % classes ? 0.7 : 0);
  }
  return { x, y, n, dim, numClasses: classes, name: `blobs${seed}` };
}

const tiny = (seed = 0, hiddenUnits: number[] = [5]) =>
  buildSourceModel({ seed, inputDim: 6, numClasses: 3, hiddenUnits });

/** Moves every weight by seeded noise of size `scale` (in place). */
function perturb(model: tf.LayersModel, scale: number, seed: number): void {
  const r = rng(`perturb${seed}`);
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tidy(() =>
        w.add(
          tf.tensor(
            Array.from(w.dataSync(), () => scale * (r() - 0.5)),
            w.shape,
          ),
        ),
      ),
    ),
  );
}

const flat = (m: tf.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));
const sqDist = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
const value = (f: () => tf.Scalar) => tf.tidy(() => f().dataSync()[0]);

/** Analytic gradients of `loss` vs central finite differences, on a few coordinates of every weight. */
function checkGradients(model: tf.LayersModel, loss: () => tf.Scalar): void {
  const vars = model.weights.map((w) => w.read() as tf.Variable);
  const { grads, value: v } = tf.variableGrads(loss, vars);
  v.dispose();
  const h = 1e-2;
  for (const variable of vars) {
    const g = grads[variable.name].dataSync();
    const base = variable.dataSync().slice();
    for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (d: number) => {
        const w = base.slice();
        w[i] += d;
        tf.tidy(() => variable.assign(tf.tensor(w, variable.shape)));
        return value(loss);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      tf.tidy(() => variable.assign(tf.tensor(base, variable.shape)));
      expect(Math.abs(fd - g[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(g[i])));
    }
  }
  Object.values(grads).forEach((t) => t.dispose());
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("l2spPenalty", () => {
  it("is exactly zero at the anchor and alpha/2 · Σ (w − w0)² away from it", () => {
    const m = tiny();
    const w0 = flat(m);
    const pen = l2spPenalty(m, { alpha: 0.3 });
    expect(pen.kind).toBe("l2-sp");
    expect(pen.strength).toBe(0.3);
    expect(pen.weightNames).toEqual(["hidden1/kernel", "hidden1/bias", "head/kernel", "head/bias"]);
    expect(pen.size).toBe(6 * 5 + 5 + 5 * 3 + 3);
    expect(value(pen.loss)).toBe(0);
    perturb(m, 0.2, 1);
    expect(value(pen.loss)).toBeCloseTo((0.3 / 2) * sqDist(flat(m), w0), 5);
    pen.dispose();
    m.dispose();
  });

  it("covers the head by default; exclude leaves layers out", () => {
    const m = tiny();
    const pen = l2spPenalty(m, { alpha: 1, exclude: [HEAD_LAYER] });
    expect(pen.weightNames).toEqual(["hidden1/kernel", "hidden1/bias"]);
    const w = m.getLayer(HEAD_LAYER).getWeights();
    m.getLayer(HEAD_LAYER).setWeights(w.map((t) => tf.tidy(() => t.add(1))));
    expect(value(pen.loss)).toBe(0);
    pen.dispose();
    m.dispose();
  });

  it("with beta, adds Li et al.'s β/2 ||w||² on the excluded layers (full form), gradients included", () => {
    const m = tiny(12);
    const body = () =>
      m
        .getLayer("hidden1")
        .getWeights()
        .flatMap((w) => Array.from(w.dataSync()));
    const headW = () =>
      m
        .getLayer(HEAD_LAYER)
        .getWeights()
        .flatMap((w) => Array.from(w.dataSync()));
    const b0 = body();
    const pen = l2spPenalty(m, { alpha: 0.4, exclude: [HEAD_LAYER], beta: 0.6 });
    expect(pen.weightNames).toEqual(["hidden1/kernel", "hidden1/bias", "head/kernel", "head/bias"]);
    expect(pen.size).toBe(6 * 5 + 5 + 5 * 3 + 3);
    const sq = (xs: number[]) => xs.reduce((s, v) => s + v * v, 0);
    // At the source weights only the head's plain L2 remains (the head is not anchored).
    expect(value(pen.loss)).toBeCloseTo((0.6 / 2) * sq(headW()), 5);
    perturb(m, 0.4, 12);
    expect(value(pen.loss)).toBeCloseTo((0.4 / 2) * sqDist(body(), b0) + (0.6 / 2) * sq(headW()), 5);
    checkGradients(m, pen.loss);
    // beta 0 is the α term alone.
    const plain = l2spPenalty(m, { alpha: 0.4, exclude: [HEAD_LAYER], beta: 0 });
    expect(plain.weightNames).toEqual(["hidden1/kernel", "hidden1/bias"]);
    expect(value(plain.loss)).toBe(0);
    [pen, plain].forEach((x) => x.dispose());
    expect(() => l2spPenalty(m, { alpha: 1, beta: 0.1 })).toThrow(
      /l2spPenalty: beta must be 0 unless `exclude` names a weighted layer .*, got 0.1 \(exclude: \[\]\)/,
    );
    expect(() => l2spPenalty(m, { alpha: 1, exclude: ["pixels"], beta: 0.1 })).toThrow(/l2spPenalty: beta must be 0/);
    expect(() => l2spPenalty(m, { alpha: 1, exclude: [HEAD_LAYER], beta: -1 })).toThrow(
      /l2spPenalty: beta must be a finite number >= 0, got -1/,
    );
    m.dispose();
  });

  it("has gradients equal to central finite differences", () => {
    const m = tiny(2);
    const pen = l2spPenalty(m, { alpha: 0.7 });
    perturb(m, 0.5, 2);
    checkGradients(m, pen.loss);
    pen.dispose();
    m.dispose();
  });

  it("inside fit, ends closer to the anchor than fitting without it (same seed)", async () => {
    const task = blobs(60, 6, 3, 3, 1);
    const free = tiny(4);
    const held = tiny(4);
    const w0 = flat(held);
    const pen = l2spPenalty(held, { alpha: 1 });
    const args = { epochs: 5, batchSize: 20, seed: 5, learningRate: 0.02, progress: false } as const;
    await fit(free, task, args);
    await fit(held, task, { ...args, penalty: pen.loss });
    expect(sqDist(flat(held), w0)).toBeLessThan(0.5 * sqDist(flat(free), w0));
    pen.dispose();
    free.dispose();
    held.dispose();
  });

  it("throws a named error once disposed and on bad arguments", () => {
    const m = tiny();
    const pen = l2spPenalty(m, { alpha: 1 });
    pen.dispose();
    pen.dispose(); // twice is fine
    expect(() => pen.loss()).toThrow(/l2spPenalty: this penalty was disposed/);
    expect(() => l2spPenalty(m, { alpha: -1 })).toThrow(/l2spPenalty: alpha must be a finite number >= 0, got -1/);
    expect(() => l2spPenalty(m, { alpha: NaN })).toThrow(/l2spPenalty: alpha must be/);
    expect(() => l2spPenalty(m, { alpha: 1, exclude: ["nope"] })).toThrow(
      /l2spPenalty: exclude must be layer names of the model \(pixels, hidden1, head\), got "nope"/,
    );
    expect(() => l2spPenalty(m, { alpha: 1, exclude: ["hidden1", "head"] })).toThrow(
      /l2spPenalty: exclude must be a list that leaves at least one weighted layer/,
    );
    m.dispose();
  });
});

describe("diagonalFisher", () => {
  it("equals the closed form on softmax regression: F = mean over samples of (x ⊗ (p − e_y))²", () => {
    const m = tiny(5, []); // input → head (softmax) only
    const data = blobs(12, 6, 3, 6);
    const fisher = diagonalFisher(m, data, { samples: 12, seed: 0 });
    expect(Object.keys(fisher.tensors)).toEqual(["head/kernel", "head/bias"]);
    expect(fisher.samples).toBe(12);
    expect(fisher.labels).toBe("empirical");
    const p = tf.tidy(() => (m.predict(tf.tensor2d(data.x, [12, 6])) as tf.Tensor).dataSync());
    const fk = new Float64Array(6 * 3);
    const fb = new Float64Array(3);
    for (let s = 0; s < 12; s++)
      for (let k = 0; k < 3; k++) {
        const e = p[s * 3 + k] - (data.y[s] === k ? 1 : 0);
        fb[k] += (e * e) / 12;
        for (let j = 0; j < 6; j++) fk[j * 3 + k] += (data.x[s * 6 + j] * e) ** 2 / 12;
      }
    Array.from(fisher.tensors["head/kernel"].dataSync()).forEach((v, i) => expect(v).toBeCloseTo(fk[i], 5));
    Array.from(fisher.tensors["head/bias"].dataSync()).forEach((v, i) => expect(v).toBeCloseTo(fb[i], 5));
    fisher.dispose();
    m.dispose();
  });

  it('"model" draws y from p(·|x): on copies of one x the bias Fisher is E_y~p[(p_k − e_{y,k})²] = p_k(1 − p_k)', () => {
    // One x, softmax regression: ∂(−log p_y)/∂b_k = p_k − e_{y,k}, ∂/∂W_jk = x_j (p_k − e_{y,k}).
    // Over y ~ p the square is (1 − p_k)² when y = k (probability p_k) and p_k² otherwise (1 − p_k):
    // E = p_k (1 − p_k)² + (1 − p_k) p_k² = p_k (1 − p_k) [(1 − p_k) + p_k] = p_k (1 − p_k).
    // Per draw, Var = p_k(1 − p_k)⁴ + (1 − p_k)p_k⁴ − p_k²(1 − p_k)²; the mean of S draws is checked
    // to 4 standard errors, which at S = 6000 and p = (0.4, 0.3, 0.3) is under 5 % of p_k(1 − p_k).
    // (p_k = 0.5 would be useless here: every draw gives 0.25.)
    const m = tiny(11, []);
    const head = m.getLayer(HEAD_LAYER);
    const [kernel] = head.getWeights();
    const S = 6000;
    const x0 = [0.5, -0.2, 0.8, 0.1, -0.6, 0.3];
    const q = [0.4, 0.3, 0.3];
    // Bias so that p(·|x0) = q: b_k = log q_k − (x0 · W)_k.
    const z = tf.tidy(() => Array.from(tf.tensor2d(x0, [1, 6]).matMul(kernel).dataSync()));
    head.setWeights([kernel, tf.tensor1d(q.map((qk, k) => Math.log(qk) - z[k]))]);
    const x = new Float32Array(S * 6).map((_, i) => x0[i % 6]);
    const data: Dataset = { x, y: new Int32Array(S), n: S, dim: 6, numClasses: 3, name: "one-x" }; // all labelled 0
    const p = tf.tidy(() => Array.from((m.predict(tf.tensor2d(x0, [1, 6])) as tf.Tensor).dataSync()));
    p.forEach((pk, k) => expect(pk).toBeCloseTo(q[k], 5));
    const model = diagonalFisher(m, data, { samples: S, seed: 4, labels: "model" });
    const empirical = diagonalFisher(m, data, { samples: S, seed: 4 });
    const fb = Array.from(model.tensors["head/bias"].dataSync());
    const eb = Array.from(empirical.tensors["head/bias"].dataSync());
    for (let k = 0; k < 3; k++) {
      const want = p[k] * (1 - p[k]);
      const variance = p[k] * (1 - p[k]) ** 4 + (1 - p[k]) * p[k] ** 4 - want ** 2;
      const se = Math.sqrt(variance / S);
      expect(se / want).toBeLessThan(0.012);
      expect(Math.abs(fb[k] - want)).toBeLessThan(4 * se);
      // The data's labels (all 0) give the empirical Fisher instead: (p_k − e_{0,k})², far from it.
      expect(eb[k]).toBeCloseTo((p[k] - (k === 0 ? 1 : 0)) ** 2, 4); // float32 sum of S terms
      expect(Math.abs(eb[k] - want)).toBeGreaterThan(20 * se);
    }
    // Kernel = x_j² · bias, draw by draw (same labels), for both.
    for (const f of [model, empirical]) {
      const fk = f.tensors["head/kernel"].dataSync();
      const b = f.tensors["head/bias"].dataSync();
      for (let j = 0; j < 6; j++) for (let k = 0; k < 3; k++) expect(fk[j * 3 + k]).toBeCloseTo(x0[j] ** 2 * b[k], 4);
    }
    [model, empirical].forEach((f) => f.dispose());
    m.dispose();
  });

  it("is seeded, non-negative, shaped like the weights, and covers frozen layers (trainability restored)", () => {
    const m = tiny(6);
    const data = blobs(40, 6, 3, 7);
    m.getLayer("hidden1").trainable = false;
    const a = diagonalFisher(m, data, { samples: 10, seed: 1 });
    const b = diagonalFisher(m, data, { samples: 10, seed: 1 });
    const c = diagonalFisher(m, data, { samples: 10, seed: 2 });
    const s = diagonalFisher(m, data, { samples: 10, seed: 1, labels: "model" });
    const s2 = diagonalFisher(m, data, { samples: 10, seed: 1, labels: "model" });
    expect(m.getLayer("hidden1").trainable).toBe(false);
    expect(m.getLayer("hidden1").weights.every((w) => !(w.read() as tf.Variable).trainable)).toBe(true);
    expect(Object.keys(a.tensors)).toEqual(["hidden1/kernel", "hidden1/bias", "head/kernel", "head/bias"]);
    for (const [name, t] of Object.entries(a.tensors)) {
      expect(t.shape).toEqual(m.weights.find((w) => w.originalName === name)!.shape);
      expect(Array.from(t.dataSync()).every((v) => v >= 0)).toBe(true);
      expect(Array.from(t.dataSync())).toEqual(Array.from(b.tensors[name].dataSync()));
      expect(Array.from(s.tensors[name].dataSync())).toEqual(Array.from(s2.tensors[name].dataSync()));
    }
    expect(Array.from(a.tensors["hidden1/kernel"].dataSync()).some((v) => v > 0)).toBe(true);
    expect(Array.from(c.tensors["head/kernel"].dataSync())).not.toEqual(
      Array.from(a.tensors["head/kernel"].dataSync()),
    );
    expect(s.labels).toBe("model");
    [a, b, c, s, s2].forEach((f) => f.dispose());
    m.dispose();
  });

  it("rejects bad arguments with named errors", () => {
    const m = tiny();
    const data = blobs(8, 6, 3, 8);
    expect(() => diagonalFisher(m, data, { samples: 0 })).toThrow(
      /diagonalFisher: samples must be an integer in \[1, 8\], got 0/,
    );
    expect(() => diagonalFisher(m, data, { samples: 9 })).toThrow(
      /diagonalFisher: samples must be an integer in \[1, 8\], got 9/,
    );
    expect(() => diagonalFisher(m, data, { samples: 2, labels: "true" as never })).toThrow(
      /diagonalFisher: labels must be one of empirical, model, got "true"/,
    );
    expect(() => diagonalFisher(m, data, { samples: 2, exclude: ["x"] })).toThrow(
      /diagonalFisher: exclude must be layer names/,
    );
    expect(() => diagonalFisher(m, { ...data, dim: 5 }, { samples: 2 })).toThrow(/diagonalFisher: data.dim must be 6/);
    const unlabeled: Dataset = { ...data, y: new Int32Array(8).fill(-1) };
    expect(() => diagonalFisher(m, unlabeled, { samples: 2 })).toThrow(
      /diagonalFisher: data.y must be labels in 0..2, got -1/,
    );
    m.dispose();
  });
});

describe("ewcPenalty", () => {
  it("is zero at the anchor, lambda/2 · Σ F (w − w*)² away, and its gradients match finite differences", () => {
    const m = tiny(7);
    const data = blobs(30, 6, 3, 9);
    const fisher = diagonalFisher(m, data, { samples: 30, seed: 3 });
    const F = m.weights.flatMap((w) => Array.from(fisher.tensors[w.originalName].dataSync()));
    const w0 = flat(m);
    const pen = ewcPenalty(m, fisher, { lambda: 50 });
    fisher.dispose(); // the penalty keeps its own copy
    expect(pen.kind).toBe("ewc");
    expect(pen.strength).toBe(50);
    expect(value(pen.loss)).toBe(0);
    perturb(m, 0.3, 3);
    const w = flat(m);
    expect(value(pen.loss)).toBeCloseTo(25 * w.reduce((s, v, i) => s + F[i] * (v - w0[i]) ** 2, 0), 4);
    checkGradients(m, pen.loss);
    pen.dispose();
    m.dispose();
  });

  it("with a zero Fisher, fit trains exactly as without a penalty", async () => {
    const task = blobs(40, 6, 3, 10, 2);
    const plain = tiny(8);
    const ewc = tiny(8);
    const zeros: Record<string, tf.Tensor> = {};
    for (const w of ewc.weights) zeros[w.originalName] = tf.zerosLike(w.read());
    const fisher: Fisher = {
      tensors: zeros,
      samples: 1,
      labels: "empirical",
      dispose: () => Object.values(zeros).forEach((t) => t.dispose()),
    };
    const pen = ewcPenalty(ewc, fisher, { lambda: 1e6 });
    const args = { epochs: 2, batchSize: 16, seed: 1, progress: false } as const;
    const hp = await fit(plain, task, args);
    const he = await fit(ewc, task, { ...args, penalty: pen.loss });
    expect(flat(ewc)).toEqual(flat(plain));
    expect(he.loss).toEqual(hp.loss);
    pen.dispose();
    fisher.dispose();
    plain.dispose();
    ewc.dispose();
  });

  it("rejects a Fisher of another model and bad lambdas with named errors", () => {
    const m = tiny(9);
    const other = tiny(9, [5, 4]);
    const wider = tiny(9, [7]);
    const data = blobs(8, 6, 3, 11);
    const fOther = diagonalFisher(other, data, { samples: 2 });
    const fWider = diagonalFisher(wider, data, { samples: 2 });
    const fm = diagonalFisher(m, data, { samples: 2 });
    expect(() => ewcPenalty(m, fOther, { lambda: 1 })).toThrow(
      /ewcPenalty: fisher must be a Fisher of this model's weights .*, got a weight named "hidden2\/kernel"/,
    );
    expect(() => ewcPenalty(m, fWider, { lambda: 1 })).toThrow(
      /ewcPenalty: fisher\["hidden1\/kernel"\] must be shape \[6, 5\] \(the weight's\), got shape \[6, 7\]/,
    );
    expect(() => ewcPenalty(m, fm, { lambda: -2 })).toThrow(/ewcPenalty: lambda must be a finite number >= 0, got -2/);
    expect(() => ewcPenalty(m, null as never, { lambda: 1 })).toThrow(
      /ewcPenalty: fisher must be a Fisher from diagonalFisher/,
    );
    fm.dispose();
    expect(() => ewcPenalty(m, fm, { lambda: 1 })).toThrow(/ewcPenalty: fisher must be a Fisher not yet disposed/);
    [fOther, fWider].forEach((f) => f.dispose());
    [m, other, wider].forEach((x) => x.dispose());
  });
});

describe("replayBuffer", () => {
  it("takes round(fraction · n) rows, stratified by class, seeded, as rows of the data", () => {
    // Unbalanced: 60 of class 0, 30 of class 1, 10 of class 2.
    const n = 100;
    const x = new Float32Array(n * 2).map((_, i) => i);
    const y = new Int32Array(n).map((_, i) => (i < 60 ? 0 : i < 90 ? 1 : 2));
    const data: Dataset = { x, y, n, dim: 2, numClasses: 3, name: "unbalanced" };
    const buf = replayBuffer(data, { fraction: 0.1, seed: 1 });
    expect(buf.n).toBe(10);
    const counts = [0, 0, 0];
    buf.y.forEach((c) => counts[c]++);
    expect(counts).toEqual([6, 3, 1]);
    buf.baseIndices.forEach((r, i) => {
      expect(buf.y[i]).toBe(y[r]);
      expect(Array.from(buf.x.subarray(2 * i, 2 * i + 2))).toEqual([2 * r, 2 * r + 1]);
    });
    expect(Array.from(replayBuffer(data, { fraction: 0.1, seed: 1 }).baseIndices)).toEqual(Array.from(buf.baseIndices));
    expect(Array.from(replayBuffer(data, { fraction: 0.1, seed: 2 }).baseIndices)).not.toEqual(
      Array.from(buf.baseIndices),
    );
    expect(replayBuffer(data, { fraction: 1 }).n).toBe(100);
    expect(replayBuffer(data, { fraction: 0.001 }).n).toBe(1);
    // Largest remainders: 0.15 · [60, 30, 10] = [9, 4.5, 1.5] → 15 rows as [9, 5, 1] or [9, 4, 2].
    const b15 = replayBuffer(data, { fraction: 0.15 });
    expect(b15.n).toBe(15);
    expect(b15.y.filter((c) => c === 0).length).toBe(9);
  });

  it("rejects bad arguments with named errors", () => {
    const data = blobs(10, 6, 3, 12);
    expect(() => replayBuffer(data, { fraction: 0 })).toThrow(
      /replayBuffer: fraction must be a number in \(0, 1\], got 0/,
    );
    expect(() => replayBuffer(data, { fraction: 1.5 })).toThrow(
      /replayBuffer: fraction must be a number in \(0, 1\], got 1.5/,
    );
    expect(() => replayBuffer(data, { fraction: 0.5, seed: NaN })).toThrow(
      /replayBuffer: seed must be a finite number/,
    );
    expect(() => replayBuffer(null as never, { fraction: 0.5 })).toThrow(/replayBuffer: data must be a Dataset/);
  });
});

describe("no leaked tensors", () => {
  it("after penalties, diagonalFisher and fit with a penalty and replay, once disposed", async () => {
    const m = tiny(10);
    const task = blobs(30, 6, 3, 13);
    const before = tf.memory().numTensors;
    const fisher = diagonalFisher(m, task, { samples: 5 });
    const fisherS = diagonalFisher(m, task, { samples: 5, labels: "model" });
    const ewc = ewcPenalty(m, fisher, { lambda: 1 });
    const l2 = l2spPenalty(m, { alpha: 1 });
    value(ewc.loss);
    value(l2.loss);
    await fit(m, task, {
      epochs: 1,
      batchSize: 10,
      progress: false,
      penalty: () => ewc.loss().add(l2.loss()),
      replay: { data: replayBuffer(task, { fraction: 0.2 }), perBatch: 3 },
    });
    [fisher, fisherS, ewc, l2].forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
