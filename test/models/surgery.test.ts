// Model surgery (src/models/surgery.ts): cloneModel copies weights by name, so a model whose layers
// freeze single weights (BitFit: tfjs then lists the bias before the kernel) clones exactly, with
// its trainability; pinFrozen keeps pinned weights frozen through layer/model `trainable` writes.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { buildViT } from "../../src/models/transformer";
import { cloneModel, copyWeightsByName, pinFrozen, pinnedWeights } from "../../src/models/surgery";
import { applyPeft } from "../../src/adapt/peft/peft";
import { countParams } from "../../src/adapt/freezing";
import { maxOutputDiff } from "../../src/evaluate/compare";

const SMALL = { width: 16, depth: 1, numHeads: 2, stemChannels: 4, seed: 7 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function inputs(seed: number): tf.Tensor2D {
  return tf.randomUniform([4, 784], 0, 1, "float32", seed) as tf.Tensor2D;
}

describe("cloneModel", () => {
  it("clones a BitFit model exactly (weights by name, not by position), with its trainability and pins", () => {
    const base = buildViT(SMALL);
    const bitfit = applyPeft(base, { method: "bitfit" });
    const xs = inputs(1);
    try {
      // Give every weight distinct values so a positional mix-up would show.
      for (const w of bitfit.weights) {
        const v = tf.tidy(() => w.read().add(tf.randomNormal(w.shape as number[], 0, 0.05, "float32", 11)));
        w.write(v);
        v.dispose();
      }
      // The model-level order is trainable first: a bias precedes its kernel.
      const order = bitfit.weights.map((w) => w.originalName);
      expect(order.indexOf("block0_q/bias")).toBeLessThan(order.indexOf("block0_q/kernel"));
      const copy = cloneModel(bitfit);
      try {
        expect(maxOutputDiff(bitfit, copy, xs)).toBe(0);
        expect(countParams(copy).trainable).toBe(countParams(bitfit).trainable);
        expect(pinnedWeights(copy.getLayer("block0_q"))).toEqual(["kernel"]);
        copy.getLayer("block0_q").trainable = true;
        copy.trainable = true;
        expect(copy.getLayer("block0_q").trainableWeights.map((w) => w.originalName)).toEqual(["block0_q/bias"]);
      } finally {
        copy.dispose();
      }
    } finally {
      xs.dispose();
      bitfit.dispose();
      base.dispose();
    }
  });

  it("clones a plain model with frozen layers exactly", () => {
    const base = buildViT(SMALL);
    base.getLayer("block0_q").trainable = false;
    const xs = inputs(2);
    try {
      const copy = cloneModel(base);
      expect(maxOutputDiff(base, copy, xs)).toBe(0);
      expect(copy.getLayer("block0_q").trainable).toBe(false);
      expect(countParams(copy).trainable).toBe(countParams(base).trainable);
      copy.dispose();
    } finally {
      xs.dispose();
      base.dispose();
    }
  });
});

describe("copyWeightsByName through a nested model", () => {
  it("copies the weights of a model used as a layer", () => {
    const make = (seed: number) => {
      const inner = tf.sequential({
        name: "inner",
        layers: [
          tf.layers.dense({
            units: 3,
            inputShape: [4],
            name: "d1",
            kernelInitializer: tf.initializers.glorotUniform({ seed }),
          }),
        ],
      });
      const x = tf.input({ shape: [4], name: "x" });
      const y = tf.layers
        .dense({ units: 2, name: "out", kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) })
        .apply(inner.apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;
      return tf.model({ inputs: x, outputs: y });
    };
    const a = make(1);
    const b = make(5);
    const xs = tf.ones([2, 4]);
    try {
      expect(maxOutputDiff(a, b, xs)).toBeGreaterThan(0);
      copyWeightsByName(a, b);
      expect(maxOutputDiff(a, b, xs)).toBe(0);
    } finally {
      tf.dispose([xs]);
      a.dispose();
      b.dispose();
    }
  });
});

describe("pinFrozen and copyWeightsByName", () => {
  it("named errors: an unknown weight, another architecture", () => {
    const a = buildViT(SMALL);
    const b = buildViT({ ...SMALL, depth: 2 });
    try {
      expect(() => pinFrozen(a.getLayer("block0_q"), ["gamma"])).toThrow(
        /pinFrozen: names must be weights of layer block0_q \(kernel, bias\), got "gamma"/,
      );
      expect(() => copyWeightsByName(a, b)).toThrow(/copyWeightsByName: the models have \d+ and \d+ layers/);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
