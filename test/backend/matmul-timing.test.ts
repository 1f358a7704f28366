import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { timeMatMul, matMulMaxError } from "../../src/backend/matmul-timing";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("timeMatMul", () => {
  it("reports a positive rate for each transpose case and leaks nothing", async () => {
    const before = tf.memory().numTensors;
    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const t = await timeMatMul({ n: 32, transposeA, transposeB, repeats: 3 });
      expect(t.n).toBe(32);
      expect(t.transposeA).toBe(transposeA);
      expect(t.gflops).toBeGreaterThan(0);
      expect(t.gflops).toBeCloseTo((2 * 32 ** 3) / (t.medianMs * 1e6), 10);
      expect(t.backend).toBe("cpu");
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects bad sizes naming the parameter", async () => {
    await expect(timeMatMul({ n: 0 })).rejects.toThrow(/n must be a positive integer, got 0/);
    await expect(timeMatMul({ n: 4, repeats: 0 })).rejects.toThrow(/repeats must be a positive integer, got 0/);
  });
});

describe("matMulMaxError", () => {
  it("agrees with a plain JS product", () => {
    const before = tf.memory().numTensors;
    expect(matMulMaxError(7, 33, 5)).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
