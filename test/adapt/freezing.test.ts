import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  assertFrozenUnchanged,
  baseLayers,
  compareWeights,
  countParams,
  formatLayerTable,
  formatTrainableParams,
  freeze,
  freezeRatio,
  freezeTo,
  frozenCountForRatio,
  layerTable,
  snapshotWeights,
  unfreeze,
  weightedLayers,
} from "../../src/adapt/freezing";
import { blobs, tinySource } from "../helpers/fixtures";
import { buildSourceModel } from "../../src/models/mlp";
import { fit } from "../../src/train/fit";

const tiny = tinySource;
const blobsTight = (n: number, dim: number, seed: number) => blobs(n, dim, seed, 0.2);
const frozenNames = (m: tf.LayersModel) =>
  weightedLayers(m)
    .filter((l) => !l.trainable)
    .map((l) => l.name);

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("freezeRatio", () => {
  it("freezes round(r·L) base layers, halves up, as documented", () => {
    const m = tiny();
    const expected: [number, string[]][] = [
      [0, []],
      [0.25, ["hidden1"]], // 0.75 -> 1
      [0.5, ["hidden1", "hidden2"]], // 1.5 -> 2 (half rounds up)
      [0.75, ["hidden1", "hidden2"]], // 2.25 -> 2
      [1, ["hidden1", "hidden2", "hidden3"]],
    ];
    for (const [r, names] of expected) {
      const rep = freezeRatio(m, r);
      expect(rep.frozen).toEqual(names);
      expect(frozenNames(m)).toEqual(names);
      expect(m.getLayer("head").trainable).toBe(true); // the head always trains
    }
    expect(frozenCountForRatio(0.35, 10)).toBe(4); // 3.4999… rounds as written
    expect(frozenCountForRatio(0.49, 3)).toBe(1); // 1.47
    expect(frozenCountForRatio(0.5, 4)).toBe(2);
  });

  it("rejects ratios outside [0, 1] and NaN, naming the value", () => {
    const m = tiny();
    expect(() => freezeRatio(m, 1.5)).toThrow("freezeRatio: r must be a number in [0, 1], got 1.5");
    expect(() => freezeRatio(m, -0.1)).toThrow(/freezeRatio: r must be a number in \[0, 1\], got -0\.1/);
    expect(() => freezeRatio(m, NaN)).toThrow(/got NaN/);
    expect(() => freezeRatio(m, 0.5, { headLayers: 9 })).toThrow(/headLayers must be an integer in \[0, 4\], got 9/);
  });

  it("counts the base without the head layers", () => {
    expect(baseLayers(tiny()).map((l) => l.name)).toEqual(["hidden1", "hidden2", "hidden3"]);
    expect(baseLayers(tiny(), 2).map((l) => l.name)).toEqual(["hidden1", "hidden2"]);
  });
});

describe("freezeTo", () => {
  it("follows fast.ai: [0, n) frozen; negative n counts from the end", () => {
    const m = tiny();
    expect(freezeTo(m, -1).trainable).toEqual(["head"]);
    expect(freezeTo(m, -2).trainable).toEqual(["hidden3", "head"]);
    expect(freezeTo(m, 2).frozen).toEqual(["hidden1", "hidden2"]);
    expect(freezeTo(m, 0).frozen).toEqual([]);
    expect(freezeTo(m, 4).trainable).toEqual([]);
    expect(freezeTo(m, -4).frozen).toEqual([]);
    expect(() => freezeTo(m, 5)).toThrow(/freezeTo: n must be an integer in \[-4, 4\].*got 5/);
    expect(() => freezeTo(m, 1.5)).toThrow(/got 1.5/);
  });

  it("freeze/unfreeze by name, and unfreeze all", () => {
    const m = tiny();
    freeze(m, ["hidden2"]);
    expect(frozenNames(m)).toEqual(["hidden2"]);
    freeze(m);
    expect(frozenNames(m)).toEqual(["hidden1", "hidden2", "hidden3", "head"]);
    unfreeze(m, ["head"]);
    expect(frozenNames(m)).toEqual(["hidden1", "hidden2", "hidden3"]);
    unfreeze(m);
    expect(frozenNames(m)).toEqual([]);
    expect(() => freeze(m, ["nope"])).toThrow(
      /freeze: names must be layers of the model \(layers: .*hidden1.*\), got "nope"/,
    );
  });
});

describe("parameter counts", () => {
  it("match hand-computed counts of the 784-256-128-128-64-10 source MLP", () => {
    const m = buildSourceModel();
    const layers = [784 * 256 + 256, 256 * 128 + 128, 128 * 128 + 128, 128 * 64 + 64, 64 * 10 + 10]; // 200960, 32896, 16512, 8256, 650
    const all = layers.reduce((a, b) => a + b, 0);
    expect(all).toBe(259274);
    expect(countParams(m)).toEqual({ trainable: all, all, trainablePercent: 100 });
    freezeTo(m, -1);
    expect(countParams(m).trainable).toBe(650);
    // 650 / 259274 = 0.2507 %
    expect(formatTrainableParams(m)).toBe("trainable params: 650 || all params: 259,274 || trainable%: 0.25");
    freezeRatio(m, 0.5); // round(0.5 · 4) = 2 of the 4 hidden layers
    expect(countParams(m).trainable).toBe(16512 + 8256 + 650);
    const table = layerTable(m);
    expect(table.map((r) => [r.layer, r.params, r.trainableParams, r.frozen])).toEqual([
      ["hidden1", 200960, 0, true],
      ["hidden2", 32896, 0, true],
      ["hidden3", 16512, 16512, false],
      ["hidden4", 8256, 8256, false],
      ["head", 650, 650, false],
    ]);
    const text = formatLayerTable(m);
    expect(text).toMatch(/hidden1\s+Dense\s+256\s+200,960\s+0\s+yes/);
    // 25418 / 259274 = 9.8035 %
    expect(text.split("\n").pop()).toBe("trainable params: 25,418 || all params: 259,274 || trainable%: 9.80");
    m.dispose();
  });

  it("the lessons' freeze ratios 0, .25, .5, .75, 1 freeze 0-4 distinct layers of the source MLP", () => {
    const m = buildSourceModel();
    const frozen = [0, 0.25, 0.5, 0.75, 1].map((r) => freezeRatio(m, r).frozen);
    expect(frozen).toEqual([
      [],
      ["hidden1"],
      ["hidden1", "hidden2"],
      ["hidden1", "hidden2", "hidden3"],
      ["hidden1", "hidden2", "hidden3", "hidden4"],
    ]);
    expect(m.getLayer("head").trainable).toBe(true);
    m.dispose();
  });

  it("counts BatchNorm's gamma/beta as parameters, not its moving statistics", () => {
    const m = buildSourceModel({ hiddenUnits: [8, 6], inputDim: 12, numClasses: 3, batchNorm: true });
    // dense 12·8+8, bn 2·8, dense 8·6+6, bn 2·6, head 6·3+3
    expect(countParams(m).all).toBe(104 + 16 + 54 + 12 + 21);
    expect(weightedLayers(m).map((l) => l.name)).toEqual(["hidden1", "bn1", "hidden2", "bn2", "head"]);
    freezeTo(m, -1);
    expect(countParams(m).trainable).toBe(21);
  });
});

describe("frozen weights stay bit-identical", () => {
  it("in the library's fit loop", async () => {
    const m = tiny(1);
    freezeRatio(m, 0.5);
    const snap = snapshotWeights(m);
    await fit(m, blobsTight(60, 12, 0), { epochs: 3, batchSize: 16, learningRate: 0.05, progress: false });
    const changes = assertFrozenUnchanged(m, snap);
    const moved = changes.filter((c) => c.changed).map((c) => c.layer);
    expect(new Set(moved)).toEqual(new Set(["hidden3", "head"]));
    expect(changes.filter((c) => c.frozen).every((c) => c.maxAbsChange === 0)).toBe(true);
  });

  it("in tfjs model.fit; and unfreezing takes effect because the library recompiles", async () => {
    const data = blobsTight(60, 12, 0);
    const xs = tf.tensor2d(data.x, [data.n, data.dim]);
    const ys = tf.oneHot(tf.tensor1d(data.y, "int32"), 3);
    const moved = (m: tf.LayersModel, snap: ReturnType<typeof snapshotWeights>, layer: string) =>
      compareWeights(m, snap).some((c) => c.layer === layer && c.changed);
    // Freezing after compile(): tfjs-core's optimizer skips variables whose trainable flag is off,
    // so frozen weights hold even without a recompile (tfjs only warns).
    const m = tiny(2);
    m.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    freeze(m, ["hidden1"]);
    const snap = snapshotWeights(m);
    await m.fit(xs, ys, { epochs: 2, batchSize: 16, verbose: 0 });
    assertFrozenUnchanged(m, snap);
    expect(moved(m, snap, "hidden2")).toBe(true);
    // Unfreezing after compile(): plain tfjs keeps training only the weights collected at compile
    // time, so the unfrozen layer silently stays put ...
    const raw = tiny(2);
    raw.getLayer("hidden1").trainable = false;
    raw.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    raw.getLayer("hidden1").trainable = true;
    const rawSnap = snapshotWeights(raw);
    await raw.fit(xs, ys, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(moved(raw, rawSnap, "hidden1")).toBe(false);
    // ... while the library's unfreeze() recompiles, so it trains at once.
    unfreeze(raw, ["hidden1"]);
    const snap2 = snapshotWeights(raw);
    await raw.fit(xs, ys, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(moved(raw, snap2, "hidden1")).toBe(true);
    tf.dispose([xs, ys]);
  });

  it("assertFrozenUnchanged names a frozen weight that moved", () => {
    const m = tiny(3);
    freezeTo(m, 1);
    const snap = snapshotWeights(m);
    const k = m.getLayer("hidden1").getWeights()[0];
    m.getLayer("hidden1").setWeights([k.add(1e-3), m.getLayer("hidden1").getWeights()[1]]);
    expect(() => assertFrozenUnchanged(m, snap)).toThrow(
      /frozen weights moved: hidden1\/kernel \(max \|Δ\| 1\.00e-3\)/,
    );
    expect(compareWeights(m, snap).find((c) => c.weight === "hidden1/kernel")!.changed).toBe(true);
  });
});

describe("no tensor leaks", () => {
  it("freezing, counting, tables and snapshots leave numTensors unchanged", () => {
    const m = tiny(4);
    const before = tf.memory().numTensors;
    freezeRatio(m, 0.25);
    freezeTo(m, -1);
    unfreeze(m);
    countParams(m);
    formatLayerTable(m);
    const snap = snapshotWeights(m);
    compareWeights(m, snap);
    assertFrozenUnchanged(m, snap);
    expect(tf.memory().numTensors).toBe(before);
  });
});
