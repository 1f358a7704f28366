import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  DEFAULT_LAYER_DECAY,
  discriminativeMultipliers,
  discriminativeRates,
  progressiveStages,
} from "../../src/adapt/schedules";
import { concatHistories, progressiveUnfreeze, twoPhaseFineTune } from "../../src/train/staged";
import { snapshotWeights, compareWeights } from "../../src/adapt/freezing";
import { blobs, tinySource } from "../helpers/fixtures";
import { fit } from "../../src/train/fit";
import { buildSourceModel } from "../../src/models/mlp";

const tiny = tinySource;
const PARAMS = { hidden1: 12 * 8 + 8, hidden2: 8 * 6 + 6, hidden3: 6 * 4 + 4, head: 4 * 3 + 3 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("discriminative learning rates", () => {
  it("gives weighted layer l of L the multiplier layerDecay^(L-l)", () => {
    const m = tiny();
    expect(discriminativeMultipliers(m, 0.5)).toEqual({ hidden1: 0.125, hidden2: 0.25, hidden3: 0.5, head: 1 });
    expect(discriminativeRates(m, 1e-3, 0.5).hidden2).toBeCloseTo(2.5e-4, 12);
    expect(discriminativeMultipliers(m).hidden3).toBeCloseTo(DEFAULT_LAYER_DECAY, 12);
    expect(() => discriminativeMultipliers(m, 0)).toThrow(/layerDecay must be a finite number > 0, got 0/);
    expect(() => discriminativeMultipliers(m, NaN)).toThrow(/got NaN/);
  });

  it("really scales SGD steps: per-layer update / (lr · gradient) equals layerDecay powers", async () => {
    const data = blobs(24, 12, 0);
    const m = tiny(1);
    const layerDecay = 0.3;
    const lr = 0.1;
    const x = tf.tensor2d(data.x, [data.n, data.dim]);
    const y = tf.oneHot(tf.tensor1d(data.y, "int32"), 3).toFloat();
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads, value } = tf.variableGrads(
      () => tf.metrics.categoricalCrossentropy(y, m.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar,
      vars,
    );
    const before = snapshotWeights(m);
    // One full-batch step (batch = all examples, so the gradient is the same as above).
    await fit(m, data, {
      epochs: 1,
      batchSize: data.n,
      optimizer: "sgd",
      learningRate: lr,
      layerLearningRates: discriminativeMultipliers(m, layerDecay),
      progress: false,
    });
    const after = snapshotWeights(m);
    const L = 4;
    ["hidden1", "hidden2", "hidden3", "head"].forEach((layer, i) => {
      const e = before.entries.findIndex((w) => w.weight === `${layer}/kernel`);
      const g = grads[vars.find((v) => v.name.includes(`${layer}/kernel`))!.name].dataSync();
      const d = after.entries[e].values.map((v, j) => v - before.entries[e].values[j]);
      // Least-squares ratio of the actual step to the plain SGD step -lr·g.
      let num = 0,
        den = 0;
      for (let j = 0; j < g.length; j++) {
        num += d[j] * -lr * g[j];
        den += (lr * g[j]) ** 2;
      }
      expect(num / den).toBeCloseTo(Math.pow(layerDecay, L - (i + 1)), 4);
    });
    tf.dispose([x, y, value, ...Object.values(grads)]);
  });
});

describe("progressive unfreezing", () => {
  it("unfreezes the top layer first, then one more per stage", () => {
    expect(progressiveStages(tiny())).toEqual([
      ["head"],
      ["hidden3", "head"],
      ["hidden2", "hidden3", "head"],
      ["hidden1", "hidden2", "hidden3", "head"],
    ]);
    expect(progressiveStages(tiny(), 2)).toEqual([["head"], ["hidden3", "head"]]);
    expect(() => progressiveStages(tiny(), 0)).toThrow(/stages must be an integer in \[1, 4\]/);
  });

  it("trains exactly the planned layers at each stage, in order", async () => {
    const m = tiny(2);
    const data = blobs(30, 12, 1);
    const seen: string[][] = [];
    let snap = snapshotWeights(m);
    const movedPerStage: string[][] = [];
    const res = await progressiveUnfreeze(m, data, {
      epochsPerStage: 1,
      batchSize: 10,
      learningRate: 0.01,
      progress: false,
      onStage: (s, names) => {
        if (s > 0)
          movedPerStage.push([
            ...new Set(
              compareWeights(m, snap)
                .filter((c) => c.changed)
                .map((c) => c.layer),
            ),
          ]);
        snap = snapshotWeights(m);
        seen.push(names);
      },
    });
    movedPerStage.push([
      ...new Set(
        compareWeights(m, snap)
          .filter((c) => c.changed)
          .map((c) => c.layer),
      ),
    ]);
    expect(seen).toEqual(progressiveStages(m));
    expect(movedPerStage).toEqual(seen);
    expect(res.stages.map((s) => s.history.trainableParams)).toEqual([
      PARAMS.head,
      PARAMS.head + PARAMS.hidden3,
      PARAMS.head + PARAMS.hidden3 + PARAMS.hidden2,
      PARAMS.head + PARAMS.hidden3 + PARAMS.hidden2 + PARAMS.hidden1,
    ]);
    expect(res.all.loss).toHaveLength(4);
  });
});

describe("schedules on the lessons' source MLP (4 hidden layers + head)", () => {
  it("discriminative rates give hidden1..4 the head's rate times α^4..α^1, and progressive unfreezing has 5 stages", () => {
    const m = buildSourceModel();
    const d = 0.5;
    expect(discriminativeMultipliers(m, d)).toEqual({
      hidden1: 1 / 16,
      hidden2: 1 / 8,
      hidden3: 1 / 4,
      hidden4: 1 / 2,
      head: 1,
    });
    const rates = discriminativeRates(m, 1e-2, DEFAULT_LAYER_DECAY);
    expect(rates.hidden1).toBeCloseTo(1e-2 / 2.6 ** 4, 15); // 2.19e-4: the bottom layer moves ~46× slower than the head
    expect(discriminativeMultipliers(m, 1)).toEqual({ hidden1: 1, hidden2: 1, hidden3: 1, hidden4: 1, head: 1 }); // α = 1: one rate
    const stages = progressiveStages(m);
    expect(stages).toHaveLength(5);
    expect(stages[1]).toEqual(["hidden4", "head"]);
    expect(stages[4]).toEqual(["hidden1", "hidden2", "hidden3", "hidden4", "head"]);
    expect(() => progressiveStages(m, 6)).toThrow(/stages must be an integer in \[1, 5\]/);
    m.dispose();
  });

  it("two-phase with freezeRatio 0.5 trains hidden3, hidden4 and the head in phase 2, and leaves hidden1-2 bit for bit", async () => {
    const m = buildSourceModel({ seed: 3, inputDim: 12, numClasses: 3 });
    const snap = snapshotWeights(m);
    const res = await twoPhaseFineTune(m, blobs(30, 12, 5), {
      headEpochs: 1,
      headLearningRate: 0.01,
      epochs: 1,
      learningRate: 0.001,
      freezeRatio: 0.5,
      batchSize: 10,
      progress: false,
    });
    const moved = [
      ...new Set(
        compareWeights(m, snap)
          .filter((c) => c.changed)
          .map((c) => c.layer),
      ),
    ];
    expect(moved).toEqual(["hidden3", "hidden4", "head"]);
    expect(res.head.trainableParams).toBe(64 * 3 + 3);
    expect(res.full.trainableParams).toBe(128 * 128 + 128 + 128 * 64 + 64 + 64 * 3 + 3);
    m.dispose();
  });
});

describe("two-phase fine-tuning", () => {
  it("trains the head first, then the base at the lower rate", async () => {
    const m = tiny(3);
    const res = await twoPhaseFineTune(m, blobs(30, 12, 2), {
      headEpochs: 2,
      headLearningRate: 0.05,
      epochs: 3,
      learningRate: 0.001,
      batchSize: 10,
      progress: false,
    });
    expect(res.head.trainableParams).toBe(PARAMS.head);
    expect(res.full.trainableParams).toBe(PARAMS.head + PARAMS.hidden1 + PARAMS.hidden2 + PARAMS.hidden3);
    expect(res.all.loss).toHaveLength(5);
    const res2 = await twoPhaseFineTune(tiny(3), blobs(30, 12, 2), {
      headEpochs: 1,
      headLearningRate: 0.05,
      epochs: 1,
      learningRate: 0.001,
      freezeRatio: 1 / 3,
      progress: false,
    });
    expect(res2.full.trainableParams).toBe(PARAMS.head + PARAMS.hidden2 + PARAMS.hidden3);
  });

  it("concatHistories joins curves and fills missing validation with NaN", () => {
    const h = concatHistories([
      { loss: [1, 0.5], secondsPerEpoch: [1, 1], seconds: 2, trainableParams: 10, steps: 4 },
      { loss: [0.4], valAccuracy: [0.9], secondsPerEpoch: [2], seconds: 2, trainableParams: 30, steps: 2 },
    ]);
    expect(h.loss).toEqual([1, 0.5, 0.4]);
    expect(h.valAccuracy).toEqual([NaN, NaN, 0.9]);
    expect([h.seconds, h.steps, h.trainableParams]).toEqual([4, 6, 30]);
  });

  it("schedules leak no tensors", async () => {
    const m = tiny(4);
    const data = blobs(20, 12, 3);
    const before = tf.memory().numTensors;
    await progressiveUnfreeze(m, data, { epochsPerStage: 1, batchSize: 10, progress: false, stages: 2 });
    await twoPhaseFineTune(m, data, {
      headEpochs: 1,
      headLearningRate: 0.01,
      epochs: 1,
      learningRate: 0.001,
      progress: false,
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
