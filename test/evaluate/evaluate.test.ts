import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  confusionHeatmap,
  confusionMatrix,
  evaluateModel,
  measureForgetting,
  perClassAccuracy,
  plotConfusion,
  zeroShotAccuracy,
} from "../../src/evaluate/evaluate";
import { buildSourceModel } from "../../src/models/mlp";
import { replaceHead } from "../../src/models/surgery";
import { makeTransferTasks } from "../../src/data/tasks";
import { subset } from "../../src/data/subset";
import { predictLabels } from "../../src/models/predict";
import { takeRecorded } from "../../src/show/display";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const tasks = makeTransferTasks({
  seed: 0,
  sourceSize: 100,
  testSize: 60,
  targetPoolSize: 60,
  sourceValPerClass: 2,
  targetValPerClass: 1,
});

describe("confusion matrix and per-class accuracy", () => {
  it("counts [true][predicted]", () => {
    const cm = confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 2], 3);
    expect(cm).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(perClassAccuracy(cm)).toEqual([0.5, 1, 0.5]);
    expect(
      perClassAccuracy([
        [0, 0],
        [1, 1],
      ])[0],
    ).toBeNaN();
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/equally long/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/example 1 has label 3/);
  });

  it("evaluateModel agrees with predictLabels", () => {
    const m = buildSourceModel({ seed: 1 });
    const e = evaluateModel(m, tasks.target.test);
    const pred = predictLabels(m, tasks.target.test);
    const correct = pred.filter((p, i) => p === tasks.target.test.y[i]).length;
    expect(e.accuracy).toBeCloseTo(correct / tasks.target.test.n, 12);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(tasks.target.test.n);
    expect(e.perClass).toHaveLength(10);
    expect(zeroShotAccuracy(m, tasks.target.test)).toBe(e.accuracy);
    expect(() => zeroShotAccuracy(replaceHead(m, { numClasses: 5 }), tasks.target.test)).toThrow(
      /zero-shot needs shared classes/,
    );
    m.dispose();
  });

  it("plots a heatmap, optionally row-normalized", () => {
    const spec = confusionHeatmap(
      [
        [3, 1],
        [0, 4],
      ],
      { normalize: true, title: "cm" },
    );
    expect(spec.data[0].type).toBe("heatmap");
    expect(spec.data[0].z).toEqual([
      [0.75, 0.25],
      [0, 1],
    ]);
    takeRecorded();
    plotConfusion([
      [3, 1],
      [0, 4],
    ]);
    const out = takeRecorded();
    expect(out.some((o) => o.mime === "text/html" && String(o.data).includes("heatmap"))).toBe(true);
  });
});

describe("forgetting", () => {
  it("is zero for an unchanged base, and measured through the original head", () => {
    const source = buildSourceModel({ seed: 2 });
    const tuned = replaceHead(source, { seed: 5 }); // same base, other head
    const f = measureForgetting({ tuned, source, taskATest: tasks.source.test });
    expect(f.retention).toBe(f.before);
    expect(f.forgetting).toBe(0);
    // Move the base: retention changes, while the tuned model's own head is never used.
    const k = tuned.getLayer("hidden1").getWeights();
    tuned.getLayer("hidden1").setWeights([k[0].mul(-1), k[1]]);
    const g = measureForgetting({
      tuned,
      source,
      taskATest: tasks.source.test,
      taskATrainRows: tasks.source.train.baseIndices,
    });
    expect(g.retention).not.toBe(g.before);
    expect(g.forgetting).toBeCloseTo(g.before - g.retention, 12);
    source.dispose();
    tuned.dispose();
  });

  it("refuses task-A data that is not held out", () => {
    const source = buildSourceModel({ seed: 3 });
    expect(() => measureForgetting({ tuned: source, source, taskATest: tasks.source.train })).toThrow(
      /taskATest must be held-out task-A data.*"source\/train"/,
    );
    const leaky = subset(tasks.source.train, [0, 1, 2], "my/test");
    expect(() =>
      measureForgetting({ tuned: source, source, taskATest: leaky, taskATrainRows: tasks.source.train.baseIndices }),
    ).toThrow(/shares 3 images with task A's training split/);
    source.dispose();
  });

  it("leaks no tensors", () => {
    const source = buildSourceModel({ seed: 4 });
    const tuned = replaceHead(source);
    const before = tf.memory().numTensors;
    measureForgetting({ tuned, source, taskATest: tasks.source.test });
    evaluateModel(tuned, tasks.target.test);
    expect(tf.memory().numTensors).toBe(before);
  });
});
