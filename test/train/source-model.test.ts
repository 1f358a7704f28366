import { describe, it, expect, beforeAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { buildSourceModel, HEAD_LAYER } from "../../src/models/mlp";
import { getSourceModel, sourceTasks } from "../../src/experiments/source";
import { cloneModel, replaceHead, withHeadOf } from "../../src/models/surgery";
import { freezeTo } from "../../src/adapt/freezing";
import { fit } from "../../src/train/fit";
import { makeTransferTasks } from "../../src/data/tasks";
import type { Dataset } from "../../src/data/types";

const tiny = (seed = 0, numClasses = 3) => buildSourceModel({ seed, hiddenUnits: [8, 6, 4], inputDim: 12, numClasses });
const weightsOf = (m: tf.LayersModel, layer: string) =>
  m
    .getLayer(layer)
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
const x12 = () =>
  tf.tensor2d(
    Array.from({ length: 5 * 12 }, (_, i) => (i % 7) / 7),
    [5, 12],
  );
function toy(n: number): Dataset {
  const x = new Float32Array(n * 12).map((_, i) => ((i * 37) % 11) / 11);
  const y = new Int32Array(n).map((_, i) => i % 3);
  return { x, y, n, dim: 12, numClasses: 3, name: "toy" };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("buildSourceModel", () => {
  it("is the 784-256-128-128-64-10 ReLU MLP with named layers, seeded", () => {
    const m = buildSourceModel({ seed: 7 });
    expect(m.layers.map((l) => l.name)).toEqual(["pixels", "hidden1", "hidden2", "hidden3", "hidden4", HEAD_LAYER]);
    expect(m.layers.slice(1).map((l) => (l.outputShape as number[])[1])).toEqual([256, 128, 128, 64, 10]);
    // 784·256+256 + 256·128+128 + 128·128+128 + 128·64+64 + 64·10+10
    expect(m.countParams()).toBe(200960 + 32896 + 16512 + 8256 + 650);
    const again = buildSourceModel({ seed: 7 });
    const other = buildSourceModel({ seed: 8 });
    expect(weightsOf(again, "hidden2")).toEqual(weightsOf(m, "hidden2"));
    expect(weightsOf(other, "hidden2")).not.toEqual(weightsOf(m, "hidden2"));
    [m, again, other].forEach((x) => x.dispose());
    expect(() => buildSourceModel({ hiddenUnits: [8, 0] })).toThrow(
      /hiddenUnits\[1\] must be a positive integer, got 0/,
    );
  });
});

describe("model surgery", () => {
  it("cloneModel copies weights, names and trainable flags, and is independent", async () => {
    const m = tiny(1);
    freezeTo(m, 2);
    const c = cloneModel(m);
    expect(c.layers.map((l) => [l.name, l.trainable])).toEqual(m.layers.map((l) => [l.name, l.trainable]));
    const x = x12();
    expect(Array.from((c.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((m.predict(x) as tf.Tensor).dataSync()),
    );
    await fit(c, toy(12), { epochs: 2, batchSize: 4, learningRate: 0.1, progress: false });
    expect(weightsOf(c, "head")).not.toEqual(weightsOf(m, "head"));
    expect(weightsOf(c, "hidden1")).toEqual(weightsOf(m, "hidden1"));
    tf.dispose(x);
  });

  it("replaceHead keeps the base and draws a fresh head (any class count)", () => {
    const m = tiny(2);
    const r = replaceHead(m, { numClasses: 5, seed: 3 });
    expect(r.outputs[0].shape).toEqual([null, 5]);
    expect(r.layers.map((l) => l.name)).toEqual(["pixels", "hidden1", "hidden2", "hidden3", HEAD_LAYER]);
    expect(weightsOf(r, "hidden3")).toEqual(weightsOf(m, "hidden3"));
    const same = replaceHead(m);
    expect(weightsOf(same, HEAD_LAYER)).not.toEqual(weightsOf(m, HEAD_LAYER));
    r.dispose();
    same.dispose();
  });

  it("withHeadOf puts the original head on a tuned base; shapes must match", () => {
    const tuned = replaceHead(tiny(4), { seed: 9 });
    const orig = tiny(4);
    const w = withHeadOf(tuned, orig);
    expect(weightsOf(w, HEAD_LAYER)).toEqual(weightsOf(orig, HEAD_LAYER));
    expect(weightsOf(w, "hidden1")).toEqual(weightsOf(tuned, "hidden1"));
    expect(() => withHeadOf(replaceHead(orig, { numClasses: 5 }), orig)).toThrow(/withHeadOf: head shapes differ/);
    w.dispose();
  });

  it("surgery leaks no tensors once the results are disposed", () => {
    const m = tiny(5);
    const before = tf.memory().numTensors;
    cloneModel(m).dispose();
    replaceHead(m, { numClasses: 4 }).dispose();
    withHeadOf(m, m).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("getSourceModel", () => {
  it("trains once, then loads the same model from the artifact cache", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "src-model-"));
    process.env.TRANSFER_LAB_CACHE = dir;
    try {
      const logs: string[] = [];
      const a = await getSourceModel({ scale: "smoke", seed: 0, log: (s) => logs.push(s) });
      expect(a.fromCache).toBe(false);
      expect(a.seconds).toBeGreaterThan(0);
      expect(a.testAccuracy).toBeGreaterThan(0.3); // 600 images, 2 epochs: well above chance
      const b = await getSourceModel({ scale: "smoke", seed: 0, log: (s) => logs.push(s) });
      expect(b.fromCache).toBe(true);
      expect(b.key).toBe(a.key);
      expect(b.testAccuracy).toBe(a.testAccuracy);
      expect(logs[1]).toMatch(/^cache: loaded model source-mlp-smoke-s0-/);
      const other = makeTransferTasks({
        seed: 1,
        sourceSize: 64,
        testSize: 50,
        targetPoolSize: 100,
        sourceValPerClass: 1,
        targetValPerClass: 1,
      });
      const c = await getSourceModel({ scale: "smoke", seed: 0, tasks: other, log: false });
      expect(c.key).not.toBe(a.key); // other training rows -> other key
      [a, b, c].forEach((s) => s.model.dispose());
    } finally {
      delete process.env.TRANSFER_LAB_CACHE;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sourceTasks gives every shift the same task-A split", () => {
    const mild = sourceTasks({ scale: "smoke", seed: 2, shift: "mild" });
    const inv = sourceTasks({ scale: "smoke", seed: 2, shift: "inverted" });
    expect(Array.from(inv.source.train.baseIndices)).toEqual(Array.from(mild.source.train.baseIndices));
    expect(mild.source.train.n).toBe(600);
    // smoke holds 10 per class out of each task for validation, the same images for every shift
    expect([mild.source.val.n, mild.target.val.n]).toEqual([100, 100]);
    expect(Array.from(inv.source.val.baseIndices)).toEqual(Array.from(mild.source.val.baseIndices));
    expect(inv.target.test.name).toContain("inverted");
    const split = sourceTasks({ scale: "smoke", seed: 2, scenario: "class-split" });
    expect([split.source.train.numClasses, split.target.test.numClasses]).toEqual([5, 5]);
  });
});
