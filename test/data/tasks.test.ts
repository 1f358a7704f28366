import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { loadEmbeddedMnist } from "../../src/data/mnist";
import {
  baseIndicesOf,
  classCounts,
  hideLabels,
  holdOutPerClass,
  selectClasses,
  subset,
  takeLabelsPerClass,
  UNLABELED,
} from "../../src/data/subset";
import { makeClassSplitTasks, makeTransferTasks, TransferTasks } from "../../src/data/tasks";
import type { Dataset } from "../../src/data/types";

/** Byte equality of two typed arrays (fast; vitest's deep equal is slow on 10^5 elements). */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const SMALL = { sourceSize: 1500, targetPoolSize: 600, testSize: 300 };

function allSets(t: TransferTasks): Record<string, Dataset> {
  return {
    sourceTrain: t.source.train,
    sourceVal: t.source.val,
    sourceTest: t.source.test,
    targetPool: t.target.pool,
    targetVal: t.target.val,
    targetTest: t.target.test,
  };
}

function expectDisjoint(t: TransferTasks): void {
  const seen = new Map<number, string>();
  for (const [name, ds] of Object.entries(allSets(t))) {
    for (const i of baseIndicesOf(ds)) {
      expect(seen.get(i), `base row ${i} in ${name} and ${seen.get(i)}`).toBeUndefined();
      seen.set(i, name);
    }
  }
}

/** Every row's pixels/labels equal the base rows named by its baseIndices (for clean sets). */
function expectBookkeeping(ds: Dataset, base: Dataset, labelMap = (y: number) => y): void {
  const idx = baseIndicesOf(ds);
  for (let j = 0; j < ds.n; j += 37) {
    expect(sameBytes(ds.x.subarray(j * 784, (j + 1) * 784), base.x.subarray(idx[j] * 784, (idx[j] + 1) * 784))).toBe(
      true,
    );
    expect(ds.y[j]).toBe(labelMap(base.y[idx[j]]));
  }
}

describe("makeTransferTasks", () => {
  it("builds disjoint splits of the asked sizes, shifting only the target", () => {
    const t = makeTransferTasks({ shift: "mild", ...SMALL, seed: 1 });
    // The target's 600 images = 10 validation labels per class + a 500-image pool; the source's
    // 500 validation images come on top of its 1500 training images.
    expect([t.source.train.n, t.source.val.n, t.source.test.n]).toEqual([1500, 500, 300]);
    expect([t.target.val.n, t.target.pool.n, t.target.test.n]).toEqual([100, 500, 300]);
    expect(classCounts(t.target.val)).toEqual(new Array(10).fill(10));
    expect(classCounts(t.source.val)).toEqual(new Array(10).fill(50));
    expect(t.target.val.name).toBe("target(mild)/val");
    expectDisjoint(t);
    expectBookkeeping(t.source.train, t.data);
    expectBookkeeping(t.source.test, t.data);
    // Target images are the base images under the shift: labels kept, pixels changed.
    const pool = t.target.pool;
    const idx = baseIndicesOf(pool);
    expect(pool.y[5]).toBe(t.data.y[idx[5]]);
    expect(sameBytes(pool.x.subarray(5 * 784, 6 * 784), t.data.x.subarray(idx[5] * 784, (idx[5] + 1) * 784))).toBe(
      false,
    );
    expect(t.transformName).toBe("rotate(20°) ∘ noise(σ=0.1)");
    expect(t.target.pool.name).toBe("target(mild)/pool");
    expect(t.unlabeled.n).toBe(1500);
    expect(Array.from(new Set(t.unlabeled.y))).toEqual([UNLABELED]);
    expect(baseIndicesOf(t.unlabeled)).toEqual(baseIndicesOf(t.source.train));
  });

  it("defaults to 1000 test images per task, 2000 target images (100 for validation) and the rest as source", () => {
    const tensorsBefore = tf.memory().numTensors;
    const t = makeTransferTasks();
    expect(tf.memory().numTensors).toBe(tensorsBefore); // loading and shifting are pure JS
    expect([t.source.train.n, t.source.val.n, t.source.test.n]).toEqual([5500, 500, 1000]);
    expect([t.target.pool.n, t.target.val.n, t.target.test.n]).toEqual([1900, 100, 1000]);
    expect(t.shift).toBe("mild");
    expectDisjoint(t);
  });

  it("is reproducible: same seed -> same indices and pixels; other seed -> other indices", () => {
    const a = makeTransferTasks({ shift: "inverted", ...SMALL, seed: 3 });
    const b = makeTransferTasks({ shift: "inverted", ...SMALL, seed: 3 });
    const c = makeTransferTasks({ shift: "inverted", ...SMALL, seed: 4 });
    for (const k of Object.keys(allSets(a))) {
      expect(baseIndicesOf(allSets(a)[k])).toEqual(baseIndicesOf(allSets(b)[k]));
      expect(baseIndicesOf(allSets(a)[k])).not.toEqual(baseIndicesOf(allSets(c)[k]));
    }
    expect(sameBytes(a.target.pool.x, b.target.pool.x)).toBe(true);
    expect(sameBytes(a.target.pool.x, c.target.pool.x)).toBe(false);
    // Test splits depend only on (seed, testSize): changing the source size leaves them alone.
    const d = makeTransferTasks({ shift: "inverted", ...SMALL, sourceSize: 900, seed: 3 });
    expect(baseIndicesOf(d.target.test)).toEqual(baseIndicesOf(a.target.test));
    expect(sameBytes(d.target.test.x, a.target.test.x)).toBe(true);
  });

  it("explains sizes that do not fit", () => {
    expect(() => makeTransferTasks({ sourceSize: 9000 })).toThrow(
      "makeTransferTasks: 2 × testSize 1000 + targetPoolSize 2000 + sourceSize 9000 + sourceValPerClass 50 × 10 classes = 13500 images, more than the 10000 available in mnist-embedded (lower the sizes, or load full MNIST with loadIdxDataset and pass it as data)",
    );
    expect(() => makeTransferTasks({ testSize: 0 })).toThrow(
      "makeTransferTasks: testSize must be a positive integer, got 0",
    );
    expect(() => makeTransferTasks({ shift: "wild" as never })).toThrow(/shift must be one of/);
  });
});

describe("label budgets", () => {
  const t = makeTransferTasks({ ...SMALL, seed: 2 });

  it("take exactly k per class, nested in k, reproducible per seed", () => {
    const k1 = t.targetLabels(1);
    const k5 = t.targetLabels(5);
    expect(classCounts(k5)).toEqual(new Array(10).fill(5));
    expect(classCounts(k1)).toEqual(new Array(10).fill(1));
    const in5 = new Set(baseIndicesOf(k5));
    expect(Array.from(baseIndicesOf(k1)).every((i) => in5.has(i))).toBe(true);
    expect(baseIndicesOf(takeLabelsPerClass(t.target.pool, 5, 2))).toEqual(baseIndicesOf(k5));
    expect(baseIndicesOf(takeLabelsPerClass(t.target.pool, 5, 9))).not.toEqual(baseIndicesOf(k5));
    // Budget rows are target rows (shifted pixels), so they stay disjoint from the source.
    const src = new Set(baseIndicesOf(t.source.train));
    expect(Array.from(baseIndicesOf(k5)).some((i) => src.has(i))).toBe(false);
    expect(k5.name).toBe("target(mild)/pool/k=5");
  });

  it("name the class that is short", () => {
    const few = selectClasses(loadEmbeddedMnist(), [0, 1, 2], { remap: false });
    const cut = subset(
      few,
      Array.from({ length: 40 }, (_, i) => i),
    );
    expect(() => takeLabelsPerClass(cut, 1, 0)).toThrow(
      /k must be at most 0 \(class 3 has only 0 examples in .*\), got 1 \(lower the budget or use a larger pool\)/,
    );
    expect(() => takeLabelsPerClass(cut, 0, 0)).toThrow("takeLabelsPerClass: k must be a positive integer, got 0");
  });
});

describe("holdOutPerClass", () => {
  const base = loadEmbeddedMnist();
  const pool = subset(
    base,
    Array.from({ length: 400 }, (_, i) => 3 * i + 1),
    "pool",
  );
  const names = { held: "val", rest: "train" };

  it("holds out exactly k of every class, disjoint from the rest, and the two make up the whole", () => {
    const { held, rest } = holdOutPerClass(pool, 7, 5, names);
    expect(classCounts(held)).toEqual(new Array(10).fill(7));
    expect(classCounts(rest)).toEqual(classCounts(pool).map((c) => c - 7));
    const h = Array.from(baseIndicesOf(held));
    const r = Array.from(baseIndicesOf(rest));
    expect(h.filter((i) => r.includes(i))).toEqual([]);
    expect([...h, ...r].sort((x, y) => x - y)).toEqual(Array.from(baseIndicesOf(pool)).sort((x, y) => x - y));
    expect([held.name, rest.name]).toEqual(["val", "train"]);
    // The rest keeps the pool's order: a held-out split does not reshuffle the training data.
    const kept = new Set(h);
    expect(r).toEqual(Array.from(baseIndicesOf(pool)).filter((i) => !kept.has(i)));
  });

  it("is reproducible by seed, and another seed holds out other images", () => {
    const a = holdOutPerClass(pool, 7, 5, names).held;
    expect(baseIndicesOf(holdOutPerClass(pool, 7, 5, names).held)).toEqual(baseIndicesOf(a));
    expect(baseIndicesOf(holdOutPerClass(pool, 7, "5", names).held)).toEqual(baseIndicesOf(a));
    expect(baseIndicesOf(holdOutPerClass(pool, 7, 6, names).held)).not.toEqual(baseIndicesOf(a));
  });

  it("takes only the classes present (a class split that keeps digit labels) and names a k too large", () => {
    const some = selectClasses(pool, [2, 5, 7], { remap: false });
    const { held } = holdOutPerClass(some, 3, 0, names);
    expect(classCounts(held)).toEqual([0, 0, 3, 0, 0, 3, 0, 3, 0, 0]);
    const fewest = Math.min(...classCounts(some).filter((c) => c > 0));
    expect(() => holdOutPerClass(some, fewest + 1, 0, names)).toThrow(
      `holdOutPerClass: k must be at most ${fewest} (the smallest class of "pool{2,5,7}"), got ${fewest + 1}`,
    );
    expect(() => holdOutPerClass(some, 0, 0, names)).toThrow("holdOutPerClass: k must be a positive integer, got 0");
  });
});

describe("validation splits of the tasks", () => {
  it("are disjoint from train, pool and test, and from every label budget of every seed", () => {
    for (const t of [makeTransferTasks({ ...SMALL, seed: 5 }), makeClassSplitTasks({ testSize: 300, seed: 5 })]) {
      expectDisjoint(t);
      const val = new Set(baseIndicesOf(t.target.val));
      const poolRows = new Set(baseIndicesOf(t.target.pool));
      for (const k of [1, 5, 20, 35])
        for (const seed of [0, 1, 7]) {
          const budget = Array.from(baseIndicesOf(t.targetLabels(k, seed)));
          expect(
            budget.filter((i) => val.has(i)),
            `k=${k} seed=${seed}`,
          ).toEqual([]);
          expect(budget.every((i) => poolRows.has(i))).toBe(true);
        }
    }
  });

  it("are the same for every budget k, and each seed draws its own", () => {
    const a = makeTransferTasks({ ...SMALL, seed: 5 });
    const b = makeTransferTasks({ ...SMALL, seed: 6 });
    expect(baseIndicesOf(makeTransferTasks({ ...SMALL, seed: 5 }).target.val)).toEqual(baseIndicesOf(a.target.val));
    expect(baseIndicesOf(b.target.val)).not.toEqual(baseIndicesOf(a.target.val));
    expect(baseIndicesOf(b.source.val)).not.toEqual(baseIndicesOf(a.source.val));
  });

  it("take the asked sizes, and a size too large names the option", () => {
    const t = makeTransferTasks({ ...SMALL, seed: 1, sourceValPerClass: 3, targetValPerClass: 4 });
    expect(classCounts(t.source.val)).toEqual(new Array(10).fill(3));
    expect(classCounts(t.target.val)).toEqual(new Array(10).fill(4));
    expect([t.source.train.n, t.target.pool.n]).toEqual([1500, 560]);
    expect(() => makeTransferTasks({ ...SMALL, seed: 1, targetValPerClass: 100 })).toThrow(
      /^makeTransferTasks: targetValPerClass must be at most \d+ \(the smallest class of the 600 images it is taken from\), got 100 \(lower targetValPerClass or raise targetPoolSize\)$/,
    );
    expect(() => makeTransferTasks({ ...SMALL, sourceValPerClass: -1 })).toThrow(
      "makeTransferTasks: sourceValPerClass must be a positive integer, got -1",
    );
    // A class split that keeps digit labels reserves validation images for its 5 classes only.
    const kept = makeClassSplitTasks({ testSize: 300, sourceSize: 1000, seed: 1, remap: false });
    expect([kept.source.train.n, kept.source.val.n]).toEqual([1000, 250]);
  });
});

describe("subset, selectClasses, hideLabels", () => {
  it("compose base indices and remap classes", () => {
    const base = loadEmbeddedMnist();
    const s = subset(base, [10, 20, 30, 40]);
    const ss = subset(s, [3, 0]);
    expect(Array.from(baseIndicesOf(ss))).toEqual([40, 10]);
    const hi = selectClasses(base, [5, 6, 7, 8, 9]);
    expect(hi.numClasses).toBe(5);
    expect(new Set(hi.y)).toEqual(new Set([0, 1, 2, 3, 4]));
    expectBookkeeping(hi, base, (y) => y - 5);
    const kept = selectClasses(base, [7, 2], { remap: false });
    expect(kept.numClasses).toBe(10);
    expect(new Set(kept.y)).toEqual(new Set([2, 7]));
    expect(() => selectClasses(base, [1, 1])).toThrow(/class 1 is listed twice/);
    expect(() => subset(base, [10000])).toThrow(/index 10000 at position 0 is outside 0..9999/);
    const h = hideLabels(s);
    expect(Array.from(h.y)).toEqual([-1, -1, -1, -1]);
    expect(baseIndicesOf(h)).toEqual(baseIndicesOf(s));
    expect(s.y[0]).not.toBe(-1);
  });
});

describe("makeClassSplitTasks", () => {
  it("splits 0-4 -> 5-9 with labels remapped to 0..4 and numClasses 5", () => {
    const t = makeClassSplitTasks({ testSize: 300, seed: 1 });
    expect(t.scenario).toBe("class-split");
    expect(t.source.train.numClasses).toBe(5);
    expect(t.target.pool.numClasses).toBe(5);
    expectDisjoint(t);
    const base = t.data;
    for (const i of baseIndicesOf(t.source.train)) expect(base.y[i]).toBeLessThan(5);
    for (const i of baseIndicesOf(t.target.test)) expect(base.y[i]).toBeGreaterThanOrEqual(5);
    expectBookkeeping(t.target.pool, base, (y) => y - 5);
    const countA = classCounts(base)
      .slice(0, 5)
      .reduce((a, b) => a + b, 0);
    expect(t.source.train.n + t.source.val.n + t.source.test.n).toBe(countA);
    expect(classCounts(t.target.val)).toEqual([10, 10, 10, 10, 10]);
    expect(classCounts(t.targetLabels(20))).toEqual([20, 20, 20, 20, 20]);
    const same = makeClassSplitTasks({ testSize: 300, seed: 1 });
    expect(baseIndicesOf(same.target.pool)).toEqual(baseIndicesOf(t.target.pool));
    const kept = makeClassSplitTasks({ testSize: 300, seed: 1, remap: false });
    expect(kept.target.pool.numClasses).toBe(10);
    expect(classCounts(kept.target.val)).toEqual([0, 0, 0, 0, 0, 10, 10, 10, 10, 10]);
    expect(() => makeClassSplitTasks({ sourceClasses: [0, 5], targetClasses: [5, 6] })).toThrow(
      /share 5; they must be disjoint/,
    );
  });
});
