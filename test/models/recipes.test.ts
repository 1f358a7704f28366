import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { getRecipe, makeInitializer, RECIPES, withIngredient } from "../../src/models/recipes";

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

describe("withIngredient", () => {
  it("takes one ingredient from the other recipe and keeps everything else", () => {
    const h = getRecipe("historical", { batchSize: 16 });
    const m = RECIPES.modern;
    const relu = withIngredient(h, m, "activation");
    expect(relu).toEqual({ ...h, activation: "relu" });
    expect(withIngredient(h, m, "kernelInit")).toEqual({ ...h, kernelInit: { kind: "glorotUniform" } });
    expect(withIngredient(h, m, "optimizer")).toEqual({ ...h, optimizer: "adam", learningRate: 1e-3 });
    expect(h.activation).toBe("sigmoid"); // the base is not modified
  });

  it("rejects an unknown ingredient with the value and the choices", () => {
    expect(() => withIngredient(RECIPES.historical, RECIPES.modern, "dropout" as never)).toThrow(
      /ingredient must be one of .*activation.*got "dropout"/,
    );
  });
});
