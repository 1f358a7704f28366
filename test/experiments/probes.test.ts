import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { probeValues, runProbeExperiment, summarizeProbes, type ProbeRun } from "../../src/experiments/probes";
import { linearProbe } from "../../src/evaluate/features";
import { blobs, tinySource } from "../helpers/fixtures";

let dir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "exp-probes-"));
  process.env.TRANSFER_LAB_CACHE = dir;
});

afterAll(() => {
  delete process.env.TRANSFER_LAB_CACHE;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("linearProbe with validation data", () => {
  it("keeps the best validation epoch: the same probe as one trained for exactly that many epochs", async () => {
    const model = tinySource(2);
    const train = blobs(40, 12, 1);
    const val = blobs(30, 12, 2);
    const test = blobs(50, 12, 3);
    const before = tf.memory().numTensors;
    const chosen = await linearProbe({ model, train, val, test, epochs: 12, learningRate: 0.02, seed: 4 });
    expect(tf.memory().numTensors).toBe(before); // the kept weights are freed
    for (const p of chosen) {
      expect(p.epochs).toBeGreaterThanOrEqual(1);
      expect(p.epochs).toBeLessThanOrEqual(12);
      const [again] = await linearProbe({
        model,
        train,
        test,
        layers: [p.layer],
        epochs: p.epochs,
        learningRate: 0.02,
        seed: 4,
      });
      expect(again.accuracy).toBe(p.accuracy); // same seed, init and batches up to the chosen epoch
      expect(again.valAccuracy).toBeNull();
      const [onVal] = await linearProbe({
        model,
        train,
        test: val,
        layers: [p.layer],
        epochs: p.epochs,
        learningRate: 0.02,
        seed: 4,
      });
      expect(onVal.accuracy).toBe(p.valAccuracy);
    }
    model.dispose();
  });

  it("rejects validation data of another shape", async () => {
    const model = tinySource(2);
    await expect(
      linearProbe({
        model,
        train: blobs(10, 12, 1),
        val: { ...blobs(10, 12, 2), numClasses: 5 },
        test: blobs(10, 12, 3),
      }),
    ).rejects.toThrow(
      /linearProbe: val must be a dataset like train \(3 classes, 12 features\), got 5 classes, 12 features/,
    );
    model.dispose();
  });
});

describe("runProbeExperiment", () => {
  it("probes the input and every hidden layer of each seed's source (and random) base, leaving no tensors", async () => {
    const before = tf.memory().numTensors;
    const runs = await runProbeExperiment({
      seeds: [0],
      scale: "smoke",
      labelsPerClass: 2,
      epochs: 2,
      randomBase: true,
      progress: false,
    });
    expect(tf.memory().numTensors).toBe(before);
    const layers = ["input", "hidden1", "hidden2", "hidden3", "hidden4"];
    expect(runs).toHaveLength(2 * layers.length);
    expect(runs.filter((r) => r.seed === 0 && r.base === "source").map((r) => r.layer)).toEqual(layers);
    for (const r of runs) {
      expect(r.task).toBe("mild");
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.valAccuracy).toBeGreaterThanOrEqual(0);
      expect([1, 2]).toContain(r.epochs);
      expect(r.separation).toBeGreaterThanOrEqual(0);
      expect(r.separation).toBeLessThanOrEqual(1);
    }
    // Raw pixels do not depend on the base: the same probe on both.
    const pixels = (base: "source" | "random") => probeValues(runs, { task: "mild", base, layer: "input" });
    expect(pixels("random")).toEqual(pixels("source"));
    const split = await runProbeExperiment({
      seeds: [0],
      scale: "smoke",
      scenario: "class-split",
      labelsPerClass: 2,
      epochs: 1,
      progress: false,
    });
    expect(split.map((r) => [r.task, r.base, r.layer])).toEqual(layers.map((l) => ["class-split", "source", l]));
  });

  it("rejects bad arguments before any model is built", async () => {
    const before = tf.memory().numTensors;
    await expect(runProbeExperiment({ seeds: [], labelsPerClass: 1 })).rejects.toThrow(
      /runProbeExperiment: seeds must be a non-empty list of finite numbers, got \[\]/,
    );
    await expect(
      runProbeExperiment({ seeds: [0], scale: "smoke", labelsPerClass: 1, shift: "sideways" as never }),
    ).rejects.toThrow(/runProbeExperiment: shift must be one of none, mild, heavy, inverted, got "sideways"/);
    await expect(
      runProbeExperiment({ seeds: [0], scale: "smoke", labelsPerClass: 1, scenario: "class-split", randomBase: true }),
    ).rejects.toThrow(/runProbeExperiment: randomBase must be false for the class split/);
    await expect(runProbeExperiment({ seeds: [0], scale: "smoke", labelsPerClass: 0 })).rejects.toThrow(
      /runProbeExperiment: labelsPerClass must be/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("summarizeProbes and probeValues", () => {
  const run = (seed: number, layer: string, accuracy: number, base: "source" | "random" = "source"): ProbeRun => ({
    seed,
    task: "class-split",
    base,
    layer,
    dim: 4,
    accuracy,
    valAccuracy: accuracy - 0.1,
    epochs: seed + 1,
    separation: 0.5,
  });

  it("groups by (task, base, layer) with the mean, its 95 % half-width and the median epochs", () => {
    const rows = summarizeProbes([
      run(0, "input", 0.8),
      run(1, "input", 0.9),
      run(2, "input", 0.85),
      run(0, "hidden1", 0.5),
    ]);
    expect(rows.map((r) => [r.layer, r.seeds])).toEqual([
      ["input", 3],
      ["hidden1", 1],
    ]);
    expect(rows[0].accuracyMean).toBeCloseTo(0.85, 12);
    // sd 0.05, t(0.975, 2) = 4.302653 -> half-width 4.302653 · 0.05 / √3 = 0.124207
    expect(rows[0].accuracyHalfWidth).toBeCloseTo(0.1242069, 6);
    expect(rows[0].epochsMedian).toBe(2);
    expect(rows[1].accuracyHalfWidth).toBe(Infinity);
    expect(
      probeValues([run(0, "input", 0.8), run(0, "input", 0.3, "random")], { task: "class-split", layer: "input" }),
    ).toEqual([{ seed: 0, value: 0.8 }]);
  });
});
