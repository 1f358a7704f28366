import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { makeInitializer } from "../../src/models/recipes";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("makeInitializer", () => {
  it("repeats for every seed, including 0 (which tf.randomNormal alone would ignore)", () => {
    for (const seed of [0, 1, 42]) {
      const a = makeInitializer({ kind: "normal", stddev: 0.01 }, seed).apply([20, 5]);
      const b = makeInitializer({ kind: "normal", stddev: 0.01 }, seed).apply([20, 5]);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
    }
  });
});
