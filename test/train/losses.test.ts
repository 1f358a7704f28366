// sparseSoftmaxCrossEntropy: the per-row loss against tf's one-hot softmax cross-entropy on the
// backend's path (the TLXent kernel on WASM is compared in test/backend/wasm-kernels.test.ts; here
// the composed path on the CPU backend), its gradient, named errors and no leaked tensors.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { sparseSoftmaxCrossEntropy } from "../../src/train/losses";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("sparseSoftmaxCrossEntropy", () => {
  it("equals log Σ exp − the label's logit per row; its mean is tf.losses.softmaxCrossEntropy's", () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
      [100, -100, 50],
    ]);
    const labels = [2, 1, 0];
    const rows = sparseSoftmaxCrossEntropy(logits, labels).arraySync();
    const lse = (r: number[]) => {
      const m = Math.max(...r);
      return m + Math.log(r.reduce((s, x) => s + Math.exp(x - m), 0));
    };
    expect(rows[0]).toBeCloseTo(lse([1, 2, 3]) - 3, 5);
    expect(rows[1]).toBeCloseTo(Math.log(3), 5);
    expect(rows[2]).toBeCloseTo(0, 5); // a confident right answer costs nothing
    const ref = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), logits).dataSync()[0];
    expect(sparseSoftmaxCrossEntropy(logits, labels).mean().dataSync()[0]).toBeCloseTo(ref, 5);
  });

  it("has the softmax minus the one-hot as its gradient", () => {
    const logits = tf.tensor2d([
      [0.5, -1, 2, 0],
      [3, 1, 1, 1],
    ]);
    const labels = [1, 0];
    const g = tf.grad((x: tf.Tensor) => sparseSoftmaxCrossEntropy(x as tf.Tensor2D, labels).sum())(logits);
    const want = tf.sub(tf.softmax(logits), tf.oneHot(labels, 4));
    expect(tf.max(tf.abs(tf.sub(g, want))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it("names the parameter and what is allowed for bad labels, and leaks no tensor", () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => sparseSoftmaxCrossEntropy(logits, [0, 3])).toThrow(
      /labels\[1\] must be an integer in \[0, 2\].*got 3/,
    );
    expect(() => sparseSoftmaxCrossEntropy(logits, [0.5, 1])).toThrow(/labels\[0\]/);
    expect(() => sparseSoftmaxCrossEntropy(logits, [0])).toThrow(/labels must be 2 labels/);
    const flat = tf.zeros([3]) as unknown as tf.Tensor2D;
    expect(() => sparseSoftmaxCrossEntropy(flat, [0])).toThrow(/logits must be a 2-D/);
    flat.dispose();
    sparseSoftmaxCrossEntropy(logits, [0, 2]).dispose();
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
  });
});
