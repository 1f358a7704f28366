// The closed-form linear probe: separable features are classified perfectly, the penalty is chosen on
// validation (never test), and bad input is named.
import { describe, expect, it } from "vitest";
import { ridgeProbe } from "../../src/evaluate/ridge-probe";
import type { Dataset } from "../../src/data/types";
import { blobs } from "../helpers/fixtures";

describe("ridgeProbe", () => {
  it("separates well-separated blobs and reports the chosen penalty", () => {
    const r = ridgeProbe({ train: blobs(30, 12, 1, 0.1), val: blobs(30, 12, 2, 0.1), test: blobs(60, 12, 3, 0.1) });
    expect(r.accuracy).toBe(1);
    expect(r.valAccuracy).toBe(1);
    expect(r.candidates.map((c) => c.alpha)).toEqual([1e-3, 1e-2, 1e-1, 1]);
    expect(r.alpha).toBe(1e-3); // ties go to the first candidate
  });

  it("chooses on validation: a validation set that only one penalty gets right decides", () => {
    // Class depends on feature 0 in train and val; test is labelled the other way round. The probe
    // must keep the validation choice and report its (poor) test accuracy, not pick on test.
    const make = (n: number, flip: boolean, noise: number): Dataset => {
      const x = new Float32Array(n * 2);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = i % 2;
        x[2 * i] = (y[i] === 1) !== flip ? 1 : -1;
        x[2 * i + 1] = noise * Math.sin(i);
      }
      return { x, y, n, dim: 2, numClasses: 2, name: "toy" };
    };
    const r = ridgeProbe({ train: make(20, false, 0.1), val: make(20, false, 0.1), test: make(20, true, 0.1) });
    expect(r.valAccuracy).toBe(1);
    expect(r.accuracy).toBe(0);
  });

  it("the dual (kernel) solver finds the primal's minimiser: the same choices and accuracies, with n < dim and n > dim", () => {
    for (const [n, dim] of [
      [12, 40],
      [60, 8],
    ]) {
      const args = { train: blobs(n, dim, 1, 1.5), val: blobs(45, dim, 2, 1.5), test: blobs(90, dim, 3, 1.5) };
      const primal = ridgeProbe({ ...args, solver: "primal" });
      const dual = ridgeProbe({ ...args, solver: "dual" });
      expect(dual.candidates).toEqual(primal.candidates);
      expect(dual.accuracy).toBe(primal.accuracy);
      expect(ridgeProbe(args).accuracy).toBe(primal.accuracy); // auto picks one of them
    }
  });

  it("rejects mismatched features and bad penalties", () => {
    const a = blobs(9, 4, 1);
    expect(() => ridgeProbe({ train: a, val: blobs(9, 5, 1), test: a })).toThrow(
      /ridgeProbe: val must be features like train's \(4 features, 3 classes\), got 5 features/,
    );
    expect(() => ridgeProbe({ train: a, val: a, test: a, alphas: [0] })).toThrow(
      /alphas must be a non-empty list of finite numbers > 0, got \[0\]/,
    );
  });
});
