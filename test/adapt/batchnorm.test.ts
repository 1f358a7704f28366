import { describe, it, expect, beforeAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { probeFrozenBatchNorm, withoutKerasBatchNormRule } from "../../src/adapt/batchnorm";
import { batchNormLayers, followsKerasBatchNormRule, KerasBatchNormalization } from "../../src/models/batchnorm";
import { applyLora, mergeLora } from "../../src/adapt/lora/inject";
import { loadModel, saveModel } from "../../src/store/cache";
import { assertFrozenUnchanged, compareWeights, freezeTo, snapshotWeights } from "../../src/adapt/freezing";
import { buildSourceModel } from "../../src/models/mlp";
import { cloneModel } from "../../src/models/surgery";
import { fit } from "../../src/train/fit";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";

function data(n: number, dim: number, seed: number): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * dim).map(() => 0.5 + r()); // mean far from BN's initial moving mean 0
  const y = new Int32Array(n).map((_, i) => i % 3);
  return { x, y, n, dim, numClasses: 3, name: "shifted" };
}

const bnModel = (seed = 0) =>
  buildSourceModel({ seed, hiddenUnits: [8, 6], inputDim: 10, numClasses: 3, batchNorm: true });

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("frozen BatchNormalization", () => {
  it("plain tfjs 4.22 ignores `trainable`: batch statistics and moving-stat updates", () => {
    const b = probeFrozenBatchNorm({ kerasRule: false });
    expect(b.updatesMovingStats).toBe(true);
    expect(b.usesBatchStats).toBe(true);
    expect(b.usesMovingStats).toBe(false);
    expect(b.movingMeanChange).toBeGreaterThan(0.5);
  });

  it("with the library's rule (Keras): inference mode — moving statistics, no updates", () => {
    const b = probeFrozenBatchNorm({ kerasRule: true });
    expect(b.updatesMovingStats).toBe(false);
    expect(b.usesMovingStats).toBe(true);
    expect(b.usesBatchStats).toBe(false);
    expect(b.movingMeanChange).toBe(0);
  });

  it("fit() on a library model leaves a frozen BN layer's moving stats bit-identical", async () => {
    const m = bnModel(1);
    freezeTo(m, -1);
    const snap = snapshotWeights(m);
    await fit(m, data(48, 10, 0), { epochs: 2, batchSize: 16, learningRate: 0.01, progress: false });
    const changes = assertFrozenUnchanged(m, snap); // includes bn*/moving_mean, moving_variance
    expect(changes.filter((c) => c.weight.includes("moving_mean")).every((c) => c.frozen && !c.changed)).toBe(true);
    expect(changes.some((c) => c.layer === "head" && c.changed)).toBe(true);
  });

  it("a plain tfjs model with layer.trainable = false drifts its moving stats in the same loop", async () => {
    const input = tf.input({ shape: [10] });
    const bn = tf.layers.batchNormalization({ name: "bn" });
    const h = bn.apply(tf.layers.dense({ units: 6, name: "d" }).apply(input)) as tf.SymbolicTensor;
    const m = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 3, activation: "softmax", name: "head" }).apply(h) as tf.SymbolicTensor,
    });
    m.getLayer("d").trainable = false;
    bn.trainable = false;
    const snap = snapshotWeights(m);
    await fit(m, data(48, 10, 0), { epochs: 1, batchSize: 16, progress: false });
    const drift = compareWeights(m, snap).find((c) => c.weight.endsWith("moving_mean"))!;
    expect(drift.frozen).toBe(true);
    expect(drift.changed).toBe(true);
  });

  it("a trainable BN layer still uses batch stats and updates in training", async () => {
    const m = bnModel(2);
    const snap = snapshotWeights(m);
    await fit(m, data(32, 10, 1), { epochs: 1, batchSize: 16, progress: false });
    expect(compareWeights(m, snap).find((c) => c.weight === "bn1/moving_mean")!.changed).toBe(true);
  });

  it("the rule is a registered layer class: it reads `trainable` at call time and survives cloneModel", () => {
    const m = bnModel(3);
    expect(batchNormLayers(m).map((l) => l.name)).toEqual(["bn1", "bn2"]);
    expect(batchNormLayers(m).every(followsKerasBatchNormRule)).toBe(true);
    const c = cloneModel(m);
    expect(batchNormLayers(c).every((l) => l instanceof KerasBatchNormalization && followsKerasBatchNormRule(l))).toBe(
      true,
    );
    // Frozen: training and inference outputs agree (inference mode); unfrozen: they differ.
    const x = tf.tensor2d(data(16, 10, 2).x, [16, 10]);
    freezeTo(c, -1);
    const diff = () =>
      tf.tidy(
        () =>
          (c.apply(x, { training: true }) as tf.Tensor)
            .sub(c.predict(x) as tf.Tensor)
            .abs()
            .max()
            .dataSync()[0],
      );
    expect(diff()).toBe(0);
    freezeTo(c, 0);
    expect(diff()).toBeGreaterThan(1e-3);
    // Switching the rule off brings plain tfjs back: frozen BN then uses batch statistics again,
    // and the switch is part of the config (a clone keeps it).
    c.getLayer("bn1").trainable = false;
    c.getLayer("bn2").trainable = false;
    expect(withoutKerasBatchNormRule(c)).toBe(2);
    expect(batchNormLayers(c).some(followsKerasBatchNormRule)).toBe(false);
    expect(diff()).toBeGreaterThan(1e-3);
    const c2 = cloneModel(c);
    expect(batchNormLayers(c2).some(followsKerasBatchNormRule)).toBe(false);
    x.dispose();
    [m, c, c2].forEach((mm) => mm.dispose());
  });

  it("a BN base with LoRA trained on a shifted task keeps its moving statistics bit for bit, through merge, save and load", async () => {
    const m = bnModel(4);
    const stats = (model: tf.LayersModel) =>
      batchNormLayers(model).flatMap((l) =>
        l
          .getWeights()
          .slice(2)
          .map((w) => Array.from(w.dataSync())),
      );
    const before = stats(m);
    const lora = applyLora(m, { r: 2, targets: ["hidden1", "hidden2"], trainHead: true });
    expect(batchNormLayers(lora).every(followsKerasBatchNormRule)).toBe(true);
    await fit(lora, data(48, 10, 5), { epochs: 2, batchSize: 16, learningRate: 0.05, progress: false });
    expect(stats(lora)).toEqual(before);
    const merged = mergeLora(lora);
    expect(batchNormLayers(merged).every(followsKerasBatchNormRule)).toBe(true);
    expect(stats(merged)).toEqual(before);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bn-rule-"));
    try {
      await saveModel("bn-lora-merged", merged, { dir });
      const loaded = await loadModel("bn-lora-merged", { dir });
      expect(
        batchNormLayers(loaded).every((l) => l instanceof KerasBatchNormalization && followsKerasBatchNormRule(l)),
      ).toBe(true);
      loaded.getLayer("bn1").trainable = false;
      await fit(loaded, data(32, 10, 6), { epochs: 1, batchSize: 16, learningRate: 0.05, progress: false });
      expect(stats(loaded).slice(0, 2)).toEqual(before.slice(0, 2));
      loaded.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    [m, lora, merged].forEach((mm) => mm.dispose());
  });

  it("the probe repeats exactly for a seed (seed 0 included)", () => {
    expect(probeFrozenBatchNorm({ kerasRule: false, seed: 0 }).movingMeanChange).toBe(
      probeFrozenBatchNorm({ kerasRule: false, seed: 0 }).movingMeanChange,
    );
  });

  it("probing leaks no tensors", () => {
    const before = tf.memory().numTensors;
    probeFrozenBatchNorm({ kerasRule: true });
    probeFrozenBatchNorm({ kerasRule: false });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("adaptBatchNorm (AdaBN)", () => {
  it("sets every BN layer's moving statistics to the target's and changes nothing else; no leaked tensors", async () => {
    const { adaptBatchNorm } = await import("../../src/adapt/batchnorm");
    const { buildSourceModel } = await import("../../src/models/mlp");
    const { snapshotWeights, compareWeights } = await import("../../src/adapt/freezing");
    const model = buildSourceModel({ seed: 0, inputDim: 6, hiddenUnits: [5, 4], batchNorm: true });
    const n = 50;
    const x = Float32Array.from({ length: n * 6 }, (_, i) => 3 + Math.sin(i)); // far from the initial mean 0
    const target = { x, y: new Int32Array(n), n, dim: 6, numClasses: 10, name: "target" };
    const snap = snapshotWeights(model);
    const before = tf.memory().numTensors;
    const changes = adaptBatchNorm(model, target);
    expect(tf.memory().numTensors).toBe(before);
    expect(changes.map((c) => c.layer)).toEqual(["bn1", "bn2"]);
    const moved = compareWeights(model, snap).filter((c) => c.changed);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((c) => c.weight.includes("moving_"))).toBe(true);
    // bn1's moving mean is now the mean of hidden1's outputs on the target images.
    const mean = tf.tidy(() => {
      const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer("hidden1").output as tf.SymbolicTensor });
      return (sub.predict(tf.tensor2d(x, [n, 6])) as tf.Tensor)
        .mean(0)
        .sub(model.getLayer("bn1").getWeights()[2])
        .abs()
        .max()
        .dataSync()[0];
    });
    expect(mean).toBeLessThan(1e-4);
    expect(() => adaptBatchNorm(buildSourceModel({ seed: 0, inputDim: 6, hiddenUnits: [3] }), target)).toThrow(
      /adaptBatchNorm: model must be a model with BatchNormalization layers/,
    );
    model.dispose();
  });
});
