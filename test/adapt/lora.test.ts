// LoraDense, applyLora, mergeLora and adapter files: the properties PEFT tests (starts equal to
// the base, only adapters train, merge is exact and reversible), error messages, serialization.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { roundTrip } from "../helpers/fixtures";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LoraDense } from "../../src/adapt/lora/layer";
import { applyLora, loraLayers, mergeLora, resolveLoraTargets } from "../../src/adapt/lora/inject";
import {
  adapterArtifacts,
  adapterBytes,
  applyAdapter,
  loadAdapter,
  saveAdapter,
  savedModelBytes,
} from "../../src/adapt/lora/adapter";
import { compareWeights, countParams, snapshotWeights, unfreeze } from "../../src/adapt/freezing";
import { fit, countTrainable } from "../../src/train/fit";
import { rng } from "../../src/core/random";
import type { Dataset } from "../../src/data/types";
import { maxOutputDiff } from "../../src/evaluate/compare";

const DIM = 12;

/** A small functional MLP shaped like the source model: hidden1, hidden2 (ReLU), head (softmax). */
function mlp(seed = 1, dim = DIM): tf.LayersModel {
  const input = tf.input({ shape: [dim], name: "pixels" });
  const h1 = tf.layers
    .dense({
      units: 8,
      activation: "relu",
      name: "hidden1",
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  const ln = tf.layers.layerNormalization({ name: "ln" }).apply(h1) as tf.SymbolicTensor;
  const h2 = tf.layers
    .dense({
      units: 6,
      activation: "relu",
      name: "hidden2",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(ln) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: 3,
      activation: "softmax",
      name: "head",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
    })
    .apply(h2) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function data(n: number, seed: number): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < DIM; j++) x[i * DIM + j] = (j % 3 === y[i] ? 0.8 : 0.2) + 0.2 * (r() - 0.5);
  }
  return { x, y, n, dim: DIM, numClasses: 3, name: "toy" };
}

/** Gives every adapter a non-zero B so that the update is visible. */
function randomizeB(model: tf.LayersModel, seed = 7): void {
  loraLayers(model).forEach((l, i) => {
    const b = tf.randomNormal(l.loraB!.shape as number[], 0, 0.5, "float32", seed + i);
    l.loraB!.write(b);
    b.dispose();
  });
}

let x: tf.Tensor2D;
beforeAll(async () => {
  await tf.setBackend("cpu");
  x = tf.randomUniform([5, DIM], 0, 1, "float32", 3) as tf.Tensor2D;
});

describe("applyLora", () => {
  it("starts equal to the base model and leaves the base untouched", () => {
    const base = mlp();
    const before = snapshotWeights(base);
    const lora = applyLora(base, { r: 2, targets: "all-dense" });
    expect(maxOutputDiff(base, lora, x)).toBe(0);
    expect(loraLayers(lora).map((l) => l.name)).toEqual(["hidden1", "hidden2"]);
    expect(compareWeights(base, before).every((c) => !c.changed)).toBe(true);
    expect(base.layers.filter((l) => l.weights.length > 0).every((l) => l.trainable)).toBe(true);
    base.dispose();
    lora.dispose();
  });

  it("trains only the LoRA factors (and the head when asked)", async () => {
    const base = mlp();
    for (const trainHead of [false, true]) {
      const lora = applyLora(base, { r: 2, alpha: 4, targets: ["hidden1", "hidden2"], trainHead });
      const expected = DIM * 2 + 2 * 8 + (8 * 2 + 2 * 6) + (trainHead ? 6 * 3 + 3 : 0);
      expect(countParams(lora).trainable).toBe(expected);
      const snap = snapshotWeights(lora);
      await fit(lora, data(30, 1), { epochs: 3, batchSize: 10, learningRate: 0.05, progress: false });
      const changed = compareWeights(lora, snap).filter((c) => c.changed);
      expect(changed.length).toBeGreaterThan(0);
      for (const c of changed) expect(/lora_[AB]/.test(c.weight) || (trainHead && c.layer === "head")).toBe(true);
      expect(changed.some((c) => /lora_B/.test(c.weight))).toBe(true);
      expect(changed.some((c) => c.layer === "head")).toBe(trainHead);
      lora.dispose();
    }
    base.dispose();
  });

  it("keeps the base frozen when the layer is unfrozen", () => {
    const lora = applyLora(mlp(), { r: 1, targets: ["hidden1"] });
    unfreeze(lora);
    const l = loraLayers(lora)[0];
    expect(l.trainableWeights.map((w) => w.originalName.split("/").pop())).toEqual(["lora_A", "lora_B"]);
    lora.dispose();
  });

  it("rejects bad r and alpha with the value and the remedy", () => {
    const base = mlp();
    expect(() => applyLora(base, { r: 0, targets: ["hidden1"] })).toThrow(
      "applyLora: r must be a positive integer, got 0 (use r >= 1)",
    );
    expect(() => applyLora(base, { r: -1, targets: ["hidden1"] })).toThrow(
      /r must be a positive integer, got -1 \(use r >= 1\)/,
    );
    expect(() => applyLora(base, { r: 2.5, targets: ["hidden1"] })).toThrow(/r must be a positive integer, got 2\.5/);
    expect(() => applyLora(base, { r: 2, alpha: 0, targets: ["hidden1"] })).toThrow(
      /alpha must be a positive finite number, got 0/,
    );
    expect(() => applyLora(base, { r: 2, dropout: 1, targets: ["hidden1"] })).toThrow(
      /dropout must be in \[0, 1\), got 1/,
    );
    base.dispose();
  });

  it("rejects targets that do not exist or are not Dense, listing the Dense layers", () => {
    const base = mlp();
    expect(() => applyLora(base, { r: 2, targets: ["nope", "hidden1"] })).toThrow(
      /unknown target layer\(s\) "nope" \(dense layers: hidden1, hidden2, head\)/,
    );
    expect(() => applyLora(base, { r: 2, targets: ["ln"] })).toThrow(
      /target "ln" is a LayerNormalization, not a Dense layer.*\(dense layers: hidden1, hidden2, head\)/,
    );
    expect(() => applyLora(base, { r: 2, targets: /query/ })).toThrow(
      /targets \/query\/ matched no Dense layer \(dense layers: hidden1, hidden2, head\)/,
    );
    expect(() => applyLora(base, { r: 2, targets: [] })).toThrow(/non-empty list/);
    expect(() => applyLora(base, { r: 2, targets: ["head"], trainHead: true })).toThrow(
      /head "head" is also a LoRA target/,
    );
    expect(resolveLoraTargets(base, /^hidden/)).toEqual(["hidden1", "hidden2"]);
    const lora = applyLora(base, { r: 1, targets: ["hidden1"] });
    expect(() => applyLora(lora, { r: 1, targets: ["hidden1"] })).toThrow(/is a LoraDense.*already has an adapter/);
    lora.dispose();
    base.dispose();
  });
});

describe("merge", () => {
  it("merged equals unmerged within 1e-5 (mergeLora and in place)", () => {
    const base = mlp();
    const lora = applyLora(base, { r: 3, alpha: 6, targets: "all-dense", trainHead: true });
    randomizeB(lora);
    expect(maxOutputDiff(base, lora, x)).toBeGreaterThan(1e-3);
    const merged = mergeLora(lora);
    expect(merged.layers.map((l) => l.getClassName())).not.toContain("LoraDense");
    expect(merged.layers.filter((l) => l.weights.length > 0).every((l) => l.trainable)).toBe(true);
    expect(maxOutputDiff(merged, lora, x)).toBeLessThan(1e-5);
    const before = tf.tidy(() => lora.predict(x) as tf.Tensor);
    for (const l of loraLayers(lora)) l.merge();
    expect(tf.tidy(() => (lora.predict(x) as tf.Tensor).sub(before).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    before.dispose();
    [base, lora, merged].forEach((m) => m.dispose());
  });

  it("merge then unmerge restores the base weights; twice is refused", () => {
    const base = mlp();
    const lora = applyLora(base, { r: 2, targets: ["hidden1"] });
    randomizeB(lora);
    const l = loraLayers(lora)[0];
    const w0 = l.kernel!.read().dataSync().slice();
    l.merge();
    expect(l.merged).toBe(true);
    expect(() => l.merge()).toThrow("LoraDense hidden1: already merged (call unmerge() first)");
    l.unmerge();
    expect(() => l.unmerge()).toThrow(/hidden1: not merged/);
    const w1 = l.kernel!.read().dataSync();
    let max = 0;
    for (let i = 0; i < w0.length; i++) max = Math.max(max, Math.abs(w0[i] - w1[i]));
    expect(max).toBeLessThan(1e-6);
    base.dispose();
    lora.dispose();
  });

  it("refuses to merge non-finite adapters and leaves the kernel unchanged", () => {
    const lora = applyLora(mlp(), { r: 2, targets: ["hidden1"] });
    const l = loraLayers(lora)[0];
    const nan = tf.fill(l.loraB!.shape as number[], NaN);
    l.loraB!.write(nan);
    nan.dispose();
    const w0 = l.kernel!.read().dataSync().slice();
    expect(() => l.merge()).toThrow(/non-finite values \(NaN\/Inf\)/);
    expect(l.merged).toBe(false);
    expect(Array.from(l.kernel!.read().dataSync())).toEqual(Array.from(w0));
    expect(() => mergeLora(lora)).toThrow(/non-finite/);
    lora.dispose();
  });

  it("deltaWeight is (alpha/r)·A·B", () => {
    const lora = applyLora(mlp(), { r: 2, alpha: 6, targets: ["hidden2"] });
    randomizeB(lora);
    const l = loraLayers(lora)[0];
    const d = l.deltaWeight();
    const ref = tf.tidy(() => tf.matMul(l.loraA!.read(), l.loraB!.read()).mul(3));
    expect(d.shape).toEqual([8, 6]);
    expect(tf.tidy(() => d.sub(ref).abs().max().dataSync()[0])).toBeLessThan(1e-6);
    [d, ref].forEach((t) => t.dispose());
    lora.dispose();
  });
});

describe("LoraDense", () => {
  it("starts with B = 0 and A bounded by 1/sqrt(inDim), on 3-D inputs too", () => {
    const layer = new LoraDense({ units: 4, r: 2, inputDim: 9, seed: 1 });
    const x3 = tf.randomNormal([2, 5, 9]);
    const y = layer.apply(x3) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 4]);
    expect(tf.tidy(() => layer.loraB!.read().abs().max().dataSync()[0])).toBe(0);
    expect(tf.tidy(() => layer.loraA!.read().abs().max().dataSync()[0])).toBeLessThanOrEqual(1 / 3);
    const ref = tf.tidy(() =>
      x3.reshape([10, 9]).matMul(layer.kernel!.read()).add(layer.bias!.read()).reshape([2, 5, 4]),
    );
    expect(tf.tidy(() => y.sub(ref).abs().max().dataSync()[0])).toBeLessThan(1e-6);
    [x3, y, ref].forEach((t) => t.dispose());
    layer.dispose();
  });

  it("applies dropout on the LoRA path only while training", () => {
    const lora = applyLora(mlp(), { r: 2, dropout: 0.5, targets: ["hidden1"] });
    randomizeB(lora);
    const a = tf.tidy(() => lora.predict(x) as tf.Tensor);
    const b = tf.tidy(() => lora.predict(x) as tf.Tensor);
    const t = tf.tidy(() => lora.apply(x, { training: true }) as tf.Tensor);
    expect(tf.tidy(() => a.sub(b).abs().max().dataSync()[0])).toBe(0);
    expect(tf.tidy(() => a.sub(t).abs().max().dataSync()[0])).toBeGreaterThan(0);
    [a, b, t].forEach((v) => v.dispose());
    lora.dispose();
  });

  it("round-trips through tf.loadLayersModel with its config and merged state", async () => {
    const lora = applyLora(mlp(), { r: 2, alpha: 5, targets: "all-dense", trainHead: true });
    randomizeB(lora);
    loraLayers(lora)[1].merge();
    const back = await roundTrip(lora);
    expect(back.layers.map((l) => l.getClassName())).toEqual(lora.layers.map((l) => l.getClassName()));
    const [l0, l1] = loraLayers(back);
    expect([l0.r, l0.alpha, l0.scaling, l0.merged, l1.merged]).toEqual([2, 5, 2.5, false, true]);
    expect(back.layers.map((l) => l.trainable)).toEqual(lora.layers.map((l) => l.trainable));
    expect(maxOutputDiff(back, lora, x)).toBeLessThan(1e-6);
    expect(countParams(back)).toEqual(countParams(lora));
    back.dispose();
    lora.dispose();
  });
});

describe("adapters", () => {
  it("save/load round-trips and is much smaller than a full save", async () => {
    const base = mlp();
    const lora = applyLora(base, { r: 2, targets: ["hidden1", "hidden2"], trainHead: true });
    await fit(lora, data(30, 2), { epochs: 2, batchSize: 10, learningRate: 0.05, progress: false });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lora-adapter-"));
    try {
      const saved = await saveAdapter(lora, dir);
      const back = loadAdapter(base, dir);
      expect(maxOutputDiff(back, lora, x)).toBe(0);
      expect(countParams(back)).toEqual(countParams(lora));
      const expectedFloats = DIM * 2 + 2 * 8 + (8 * 2 + 2 * 6) + (6 * 3 + 3);
      expect(saved.dataBytes).toBe(4 * expectedFloats);
      const full = await savedModelBytes(lora);
      expect((await adapterBytes(lora)).dataBytes).toBe(saved.dataBytes);
      expect(saved.dataBytes).toBeLessThan(full.weightsBytes);
      back.dispose();
      const dataFile = path.join(dir, JSON.parse(fs.readFileSync(path.join(dir, "adapter.json"), "utf8")).dataFile);
      expect(fs.readdirSync(dir).sort()).toEqual([path.basename(dataFile), "adapter.json"].sort());
      const bytes = fs.readFileSync(dataFile);
      bytes[5] ^= 0xff;
      fs.writeFileSync(dataFile, bytes);
      expect(() => loadAdapter(base, dir)).toThrow(
        /adapter-[0-9a-f]{16}\.bin does not match its checksum: sha256 expected [0-9a-f]{16}…/,
      );
      fs.writeFileSync(dataFile, Buffer.alloc(8));
      expect(() => loadAdapter(base, dir)).toThrow(/adapter-[0-9a-f]{16}\.bin has 8 bytes, its specs need/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const other = applyLora(base, { r: 1, targets: ["hidden1"] });
    const art = await adapterArtifacts(other);
    const narrow = mlp(1, DIM - 2);
    expect(() => applyAdapter(narrow, art)).toThrow(
      /factor shapes for hidden1 are A \[12,1\].*needs A \[10,1\].*another base/,
    );
    expect(() => loadAdapter(base, "/nonexistent-dir")).toThrow(/does not exist/);
    [base, lora, other, narrow].forEach((m) => m.dispose());
  });
});

describe("tensor hygiene", () => {
  it("leaves tf.memory().numTensors unchanged", async () => {
    const base = mlp();
    const lora = applyLora(base, { r: 2, targets: "all-dense", trainHead: true });
    randomizeB(lora);
    tf.tidy(() => {
      lora.predict(x);
    });
    const n0 = tf.memory().numTensors;
    const l = loraLayers(lora)[0];
    l.merge();
    l.unmerge();
    l.deltaWeight().dispose();
    l.foldedKernel().dispose();
    tf.tidy(() => {
      lora.predict(x);
    });
    await adapterArtifacts(lora);
    await savedModelBytes(lora);
    resolveLoraTargets(base, /hidden/);
    applyLora(base, { r: 1, targets: ["hidden1"] }).dispose();
    mergeLora(lora).dispose();
    applyAdapter(base, await adapterArtifacts(lora)).dispose();
    expect(tf.memory().numTensors).toBe(n0);
    base.dispose();
    lora.dispose();
  });
});

describe("LoraDense inside a Sequential model", () => {
  it("keeps the base frozen after the first predict and fit (Sequential's lazy build flips weight flags)", async () => {
    await tf.setBackend("cpu");
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [8], units: 16, activation: "relu", name: "h1" }));
    m.add(tf.layers.dense({ units: 16, activation: "relu", name: "h2" }));
    m.add(tf.layers.dense({ units: 2, activation: "softmax", name: "head" }));
    const l = applyLora(m, { r: 2, alpha: 4, targets: ["h1", "h2"] });
    const before = countTrainable(l);
    expect(before).toBe(8 * 2 + 2 * 16 + 16 * 2 + 2 * 16);
    (l.predict(tf.zeros([3, 8])) as tf.Tensor).dispose();
    const x = new Float32Array(16 * 8).fill(0.5);
    const baseKernel = () => (l.getLayer("h1") as LoraDense).kernel!.read().dataSync().slice();
    const kernelBefore = baseKernel();
    await fit(
      l,
      { x, y: new Int32Array(16), n: 16, dim: 8, numClasses: 2, name: "t" },
      { epochs: 2, progress: false, learningRate: 0.1 },
    );
    expect(countTrainable(l)).toBe(before);
    expect(Array.from(baseKernel())).toEqual(Array.from(kernelBefore));
  });
});
