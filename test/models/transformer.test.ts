// The tiny ViT and its layers: patches cut where they should be, attention and LayerNorm against
// plain-array reference implementations (also on WASM, where they run as fused kernels), rows
// that sum to 1, serialization, block freezing, LoRA on q/v, training above chance at smoke scale,
// no tensor leaks.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { roundTrip } from "../helpers/fixtures";
import { attentionProbs, DotProductAttention, splitHeads, mergeHeads } from "../../src/models/attention";
import {
  attentionMaps,
  buildViT,
  gelu,
  LayerNorm,
  Patchify,
  PositionEmbedding,
  vitDepth,
  vitLayersBelow,
} from "../../src/models/transformer";
import { freezeBlocks } from "../../src/adapt/freezing";
import { applyLora, loraLayers } from "../../src/adapt/lora/inject";
import { countParams } from "../../src/adapt/freezing";
import { fit } from "../../src/train/fit";
import { evaluateAccuracy } from "../../src/models/predict";
import { sourceTasks } from "../../src/experiments/source";
import { VIT_LORA_TARGETS } from "../../src/experiments/vit";
import { VIT_RECIPES } from "../../src/core/settings";
import { maxAbsDiff, maxOutputDiff } from "../../src/evaluate/compare";
import { setupBackend } from "../../src/backend/backend";
import { hasKernel, TL_ATTENTION, TL_GELU, TL_LAYER_NORM } from "../../src/backend/wasm-kernels";

const SMALL = { width: 8, depth: 2, numHeads: 2, mlpRatio: 2 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => maxAbsDiff(a.dataSync(), b.dataSync());

/** Largest difference between two models' outputs on `x` (x is disposed). */
function outputDiff(m1: tf.LayersModel, m2: tf.LayersModel, x: tf.Tensor): number {
  const d = maxOutputDiff(m1, m2, x);
  x.dispose();
  return d;
}

/** softmax(q_h k_hᵀ / sqrt(dh)) v_h per head, concatenated, with plain arrays: [T][d]. */
function referenceAttention(
  q: number[][],
  k: number[][],
  v: number[][],
  h: number,
): { out: number[][]; probs: number[][][] } {
  const T = q.length;
  const d = q[0].length;
  const dh = d / h;
  const out = q.map(() => new Array(d).fill(0));
  const probs: number[][][] = [];
  for (let head = 0; head < h; head++) {
    const p: number[][] = [];
    for (let i = 0; i < T; i++) {
      const s = k.map((kj) => {
        let dot = 0;
        for (let c = head * dh; c < (head + 1) * dh; c++) dot += q[i][c] * kj[c];
        return dot / Math.sqrt(dh);
      });
      const m = Math.max(...s);
      const e = s.map((z) => Math.exp(z - m));
      const sum = e.reduce((a, b) => a + b, 0);
      p.push(e.map((z) => z / sum));
      for (let c = head * dh; c < (head + 1) * dh; c++) out[i][c] = p[i].reduce((acc, pj, j) => acc + pj * v[j][c], 0);
    }
    probs.push(p);
  }
  return { out, probs };
}

/** The reference attention check of one [2, 5, 6] / 3-head case on the active backend. */
function checkAttentionAgainstReference(): void {
  const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([2, 5, 6], 0, 1, "float32", s));
  const out = new DotProductAttention({ numHeads: 3 }).apply([q, k, v]) as tf.Tensor;
  const [qa, ka, va, oa] = [q, k, v, out].map((t) => t.arraySync() as number[][][]);
  for (let b = 0; b < 2; b++) {
    const ref = referenceAttention(qa[b], ka[b], va[b], 3);
    ref.out.forEach((row, i) => row.forEach((val, c) => expect(oa[b][i][c]).toBeCloseTo(val, 5)));
  }
  [q, k, v, out].forEach((t) => t.dispose());
}

describe("on WASM, where attention, LayerNorm and GELU are fused kernels", () => {
  beforeAll(async () => {
    await setupBackend({ backend: "wasm" });
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("attention matches the reference implementation", () => {
    expect(hasKernel(TL_ATTENTION)).toBe(true);
    checkAttentionAgainstReference();
  });

  it("LayerNorm matches tf.layers.layerNormalization, GELU tfjs's own gelu", () => {
    expect(hasKernel(TL_LAYER_NORM) && hasKernel(TL_GELU)).toBe(true);
    const x = tf.randomNormal([3, 4, 8], 2, 3, "float32", 5);
    const mine = new LayerNorm({ epsilon: 1e-3 }).apply(x) as tf.Tensor;
    const theirs = tf.layers.layerNormalization({ epsilon: 1e-3 }).apply(x) as tf.Tensor;
    expect(maxDiff(mine, theirs)).toBeLessThan(1e-4);
    const g = tf.layers.dense({ units: 8, activation: "gelu", kernelInitializer: "ones", useBias: false });
    const y = g.apply(x) as tf.Tensor;
    const ref = tf.tidy(() => {
      const s = x.sum(-1, true).tile([1, 1, 8]);
      return s.mul(tf.erf(s.div(Math.SQRT2)).add(1).mul(0.5));
    });
    expect(maxDiff(y, ref)).toBeLessThan(1e-4);
    [x, mine, theirs, y, ref].forEach((t) => t.dispose());
  });

  it("a ViT round-trips through save/load with the same outputs", async () => {
    const m = buildViT({ ...SMALL, seed: 3 });
    const back = await roundTrip(m);
    expect(outputDiff(m, back, tf.randomUniform([3, 784], 0, 1, "float32", 1))).toBe(0);
    m.dispose();
    back.dispose();
  });
});

describe("attention", () => {
  it("matches a reference implementation and its rows sum to 1", () => {
    const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([2, 5, 6], 0, 1, "float32", s));
    const layer = new DotProductAttention({ numHeads: 3 });
    const out = layer.apply([q, k, v]) as tf.Tensor;
    const probs = attentionProbs(q, k, 3);
    expect(out.shape).toEqual([2, 5, 6]);
    expect(probs.shape).toEqual([2, 3, 5, 5]);
    const qa = q.arraySync() as number[][][],
      ka = k.arraySync() as number[][][],
      va = v.arraySync() as number[][][];
    const oa = out.arraySync() as number[][][],
      pa = probs.arraySync() as number[][][][];
    for (let b = 0; b < 2; b++) {
      const ref = referenceAttention(qa[b], ka[b], va[b], 3);
      ref.out.forEach((row, i) => row.forEach((val, c) => expect(oa[b][i][c]).toBeCloseTo(val, 5)));
      ref.probs.forEach((ph, h) =>
        ph.forEach((row, i) => row.forEach((val, j) => expect(pa[b][h][i][j]).toBeCloseTo(val, 5))),
      );
    }
    const sums = tf.tidy(() => probs.sum(-1).sub(1).abs().max().dataSync()[0]);
    expect(sums).toBeLessThan(1e-5);
    [q, k, v, out, probs].forEach((t) => t.dispose());
  });

  it("splitHeads and mergeHeads are inverse", () => {
    const x = tf.randomNormal([2, 4, 6]);
    const s = splitHeads(x, 3);
    expect(s.shape).toEqual([2, 3, 4, 2]);
    const m = mergeHeads(s);
    expect(maxDiff(m, x)).toBe(0);
    expect(() => splitHeads(x, 4)).toThrow(/width 6 must be divisible by numHeads 4/);
    [x, s, m].forEach((t) => t.dispose());
  });
});

describe("ViT layers", () => {
  it("Patchify cuts 7×7 patches row-major", () => {
    const x = tf.range(0, 2 * 784).reshape([2, 784]);
    const p = new Patchify({ imageSize: 28, patchSize: 7 }).apply(x) as tf.Tensor;
    expect(p.shape).toEqual([2, 16, 49]);
    const a = p.arraySync() as number[][][];
    // image 1, patch 5 = grid row 1, col 1: pixel (7 + r, 7 + c)
    for (let r = 0; r < 7; r++) for (let c = 0; c < 7; c++) expect(a[1][5][r * 7 + c]).toBe(784 + (7 + r) * 28 + 7 + c);
    expect(() => new Patchify({ imageSize: 28, patchSize: 5 })).toThrow(/patchSize 5 must divide imageSize 28/);
    [x, p].forEach((t) => t.dispose());
  });

  it("LayerNorm matches tf.layers.layerNormalization and normalises the last axis", () => {
    const x = tf.randomNormal([3, 4, 8], 2, 3, "float32", 5);
    const mine = new LayerNorm({ epsilon: 1e-3 }).apply(x) as tf.Tensor;
    const theirs = tf.layers.layerNormalization({ epsilon: 1e-3 }).apply(x) as tf.Tensor;
    expect(maxDiff(mine, theirs)).toBeLessThan(1e-4);
    const { mean, variance } = tf.moments(mine, -1);
    expect(tf.tidy(() => mean.abs().max().dataSync()[0])).toBeLessThan(1e-5);
    expect(tf.tidy(() => variance.sub(1).abs().max().dataSync()[0])).toBeLessThan(1e-3);
    [x, mine, theirs, mean, variance].forEach((t) => t.dispose());
  });

  it("PositionEmbedding adds one learned vector per token", () => {
    const layer = new PositionEmbedding({ seed: 1 });
    const x = tf.zeros([2, 3, 4]);
    const y = layer.apply(x) as tf.Tensor;
    expect(layer.embedding!.shape).toEqual([3, 4]);
    expect(maxDiff(y.slice([0], [1]).squeeze([0]), layer.embedding!.read())).toBe(0);
    [x, y].forEach((t) => t.dispose());
  });
});

describe("the convolutional stem", () => {
  it("PixelWindows + the stem's Dense are a 3×3 'same' convolution (tf.conv2d), and the maps are cut into patches", async () => {
    const m = buildViT({
      imageSize: 6,
      patchSize: 3,
      width: 4,
      depth: 1,
      numHeads: 1,
      mlpRatio: 1,
      stemChannels: 2,
      seed: 1,
    });
    const x = tf.randomUniform([2, 36], 0, 1, "float32", 5) as tf.Tensor2D;
    try {
      const [w, b] = m.getLayer("stem").getWeights(); // [9, 2], [2]
      const probe = tf.model({ inputs: m.inputs, outputs: m.getLayer("stem").output as tf.SymbolicTensor });
      const got = probe.predict(x) as tf.Tensor; // [2, 36, 2] after GELU
      const want = tf.tidy(() => {
        const conv = tf
          .conv2d(x.reshape([2, 6, 6, 1]) as tf.Tensor4D, w.reshape([3, 3, 1, 2]) as tf.Tensor4D, 1, "same")
          .add(b);
        return gelu(conv).reshape([2, 36, 2]);
      });
      expect(maxDiff(got, want)).toBeLessThan(1e-5);
      tf.dispose([got, want]);
      // The patches of the maps: token (0, 1) holds pixels (0..2, 3..5), channel innermost.
      const patches = tf.model({ inputs: m.inputs, outputs: m.getLayer("patchify").output as tf.SymbolicTensor });
      const p = patches.predict(x) as tf.Tensor; // [2, 4, 18]
      const maps = (probe.predict(x) as tf.Tensor).arraySync() as number[][][];
      const tok = (p.arraySync() as number[][][])[0][1];
      tf.dispose([p]);
      for (let pr = 0; pr < 3; pr++)
        for (let pc = 0; pc < 3; pc++)
          for (let ch = 0; ch < 2; ch++)
            expect(tok[(pr * 3 + pc) * 2 + ch]).toBeCloseTo(maps[0][pr * 6 + 3 + pc][ch], 6);
      expect(vitLayersBelow(m, 0)).toEqual(["stem", "patch_embed", "pos_embed"]);
      const loaded = await roundTrip(m);
      expect(outputDiff(m, loaded, x.clone())).toBeLessThan(1e-6);
      loaded.dispose();
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});

describe("buildViT", () => {
  it("names q/k/v/o projections per block and has the expected parameter count", () => {
    const m = buildViT({ width: 16, depth: 2, numHeads: 4, mlpRatio: 2 });
    expect(vitDepth(m)).toBe(2);
    for (const n of ["block0_q", "block0_k", "block0_v", "block0_o", "block1_q", "block1_mlp1", "head"])
      expect(m.getLayer(n).getClassName()).toBe("Dense");
    const d = 16;
    const block = 4 * (d * d + d) + (d * 2 * d + 2 * d) + (2 * d * d + d) + 2 * 2 * d;
    const expected = 49 * d + d + 16 * d + 2 * block + 2 * d + (d * 10 + 10);
    expect(countParams(m).all).toBe(expected);
    expect(m.layers[m.layers.length - 1].name).toBe("head");
    expect(() => buildViT({ width: 10, numHeads: 4 })).toThrow(/width 10 must be divisible by numHeads 4/);
    m.dispose();
  });

  it("round-trips through save/load with every custom layer", async () => {
    const m = buildViT({ ...SMALL, seed: 3 });
    const x = tf.randomUniform([3, 784], 0, 1, "float32", 1);
    const back = await roundTrip(m);
    const names = new Set(back.layers.map((l) => l.getClassName()));
    for (const c of ["Patchify", "PositionEmbedding", "LayerNorm", "DotProductAttention"])
      expect(names.has(c)).toBe(true);
    expect(outputDiff(m, back, x)).toBe(0);
    m.dispose();
    back.dispose();
  });

  it("reads attention maps whose rows sum to 1", () => {
    const m = buildViT({ ...SMALL, seed: 2 });
    const x = tf.randomUniform([4, 784], 0, 1, "float32", 2) as tf.Tensor2D;
    const maps = attentionMaps(m, x, 1);
    expect(maps.shape).toEqual([4, 2, 16, 16]);
    expect(tf.tidy(() => maps.sum(-1).sub(1).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    expect(() => attentionMaps(m, x, 2)).toThrow(/block must be an integer in \[0, 1\], got 2/);
    maps.dispose();
    x.dispose();
    m.dispose();
  });

  it("freezes the embeddings and the first k blocks", () => {
    const m = buildViT(SMALL);
    expect(vitLayersBelow(m, 0)).toEqual(["patch_embed", "pos_embed"]);
    const rep = freezeBlocks(m, 1);
    expect(rep.frozen).toEqual([
      "patch_embed",
      "pos_embed",
      "block0_ln1",
      "block0_q",
      "block0_k",
      "block0_v",
      "block0_o",
      "block0_ln2",
      "block0_mlp1",
      "block0_mlp2",
    ]);
    expect(rep.trainable).toContain("block1_q");
    expect(rep.trainable).toContain("head");
    freezeBlocks(m, 2);
    expect(m.getLayer("final_ln").trainable).toBe(true);
    expect(m.getLayer("block1_v").trainable).toBe(false);
    expect(() => freezeBlocks(m, 3)).toThrow(/k must be an integer in \[0, 2\] \(the model has 2 blocks\), got 3/);
    m.dispose();
  });

  it("takes LoRA on q and v only, starting equal to the base", () => {
    const m = buildViT({ ...SMALL, seed: 4 });
    const lora = applyLora(m, { r: 2, targets: VIT_LORA_TARGETS, trainHead: true });
    expect(loraLayers(lora).map((l) => l.name)).toEqual(["block0_q", "block0_v", "block1_q", "block1_v"]);
    expect(countParams(lora).trainable).toBe(4 * (8 * 2 + 2 * 8) + (8 * 10 + 10));
    const x = tf.randomUniform([2, 784], 0, 1, "float32", 4);
    expect(outputDiff(m, lora, x)).toBe(0);
    m.dispose();
    lora.dispose();
  });

  it("trains above chance at smoke scale", async () => {
    const tasks = sourceTasks({ scale: "smoke", seed: 0 });
    const r = VIT_RECIPES.smoke;
    const m = buildViT({ ...r.model, seed: 0 });
    const h = await fit(m, tasks.source.train, {
      epochs: 3,
      batchSize: r.batchSize,
      learningRate: 3e-3,
      seed: 0,
      progress: false,
    });
    expect(h.loss[2]).toBeLessThan(h.loss[0]);
    expect(evaluateAccuracy(m, tasks.source.test)).toBeGreaterThan(0.3);
    m.dispose();
  });

  it("leaves no tensors behind", () => {
    const m = buildViT(SMALL);
    const x = tf.randomUniform([2, 784]) as tf.Tensor2D;
    tf.tidy(() => {
      m.predict(x);
    });
    const n0 = tf.memory().numTensors;
    attentionMaps(m, x, 0).dispose();
    freezeBlocks(m, 1);
    tf.tidy(() => {
      m.predict(x);
    });
    const lora = applyLora(m, { r: 1, targets: VIT_LORA_TARGETS });
    lora.dispose();
    buildViT(SMALL).dispose();
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    m.dispose();
  });
});
