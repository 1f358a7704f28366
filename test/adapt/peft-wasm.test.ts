// The PEFT methods on the WASM backend, where the ViT's GELU, LayerNorm and attention (and the
// adapters' GELU) run as fused kernels: each method starts equal to its base (prompt tuning aside),
// trains, and merges exactly; prompt tokens change the attention's token count, which the fused
// kernel must take.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../src/backend/backend";
import { hasKernel, TL_ATTENTION, TL_GELU } from "../../src/backend/wasm-kernels";
import { buildViT } from "../../src/models/transformer";
import { applyPeft, mergePeft, type PeftSpec } from "../../src/adapt/peft/peft";
import { assertFrozenUnchanged, snapshotWeights } from "../../src/adapt/freezing";
import { fit } from "../../src/train/fit";
import { rng } from "../../src/core/random";
import type { Dataset } from "../../src/data/types";
import { maxOutputDiff } from "../../src/evaluate/compare";

const DIM = 784;

function data(n: number, seed: number): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * DIM);
  for (let i = 0; i < x.length; i++) x[i] = r();
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % 10;
  return { x, y, n, dim: DIM, numClasses: 10, name: "random" };
}

const SPECS: PeftSpec[] = [
  { method: "lora", r: 2 },
  { method: "houlsby", bottleneck: 3 },
  { method: "pfeiffer", bottleneck: 3 },
  { method: "bitfit" },
  { method: "ia3" },
  { method: "prompt", tokens: 3 },
];

describe("PEFT on WASM (fused kernels)", () => {
  let base: tf.LayersModel;
  let xs: tf.Tensor2D;
  const train = data(16, 1);

  beforeAll(async () => {
    await setupBackend({ backend: "wasm" });
    base = buildViT({ width: 16, depth: 2, numHeads: 2, stemChannels: 4, seed: 5 });
    const d = data(8, 2);
    xs = tf.tensor2d(d.x, [d.n, DIM]);
  });

  for (const spec of SPECS) {
    it(`${spec.method}: starts ${spec.method === "prompt" ? "different (prompts join attention)" : "equal"}, trains only its own weights${["lora", "ia3", "bitfit"].includes(spec.method) ? ", merges exactly" : ""}`, async () => {
      expect(hasKernel(TL_ATTENTION) && hasKernel(TL_GELU)).toBe(true);
      const before = tf.memory().numTensors;
      const m = applyPeft(base, spec, { seed: 1 });
      try {
        const d0 = maxOutputDiff(base, m, xs);
        if (spec.method === "prompt") expect(d0).toBeGreaterThan(0);
        else expect(d0).toBeLessThan(1e-6);
        const snap = snapshotWeights(m);
        await fit(m, train, { epochs: 2, batchSize: 8, learningRate: 1e-2, seed: 0 });
        assertFrozenUnchanged(m, snap);
        const merged = mergePeft(m);
        if (merged) {
          expect(maxOutputDiff(m, merged, xs)).toBeLessThan(1e-4);
          merged.dispose();
        } else {
          expect(["houlsby", "pfeiffer", "prompt"]).toContain(spec.method);
        }
      } finally {
        m.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
