import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { batches, numBatches, toTensors } from "../../src/data/batches";
import { loadEmbeddedMnist } from "../../src/data/mnist";
import { subset } from "../../src/data/subset";

const ds = subset(loadEmbeddedMnist(), Array.from({ length: 103 }, (_, i) => i * 3));

describe("batches", () => {
  it("covers every row once per epoch in seeded order, gathering only batch rows", () => {
    const all: number[] = [];
    const sizes: number[] = [];
    for (const b of batches(ds, 25, "e0")) {
      sizes.push(b.size);
      expect(b.x.length).toBe(b.size * 784);
      for (let j = 0; j < b.size; j++) {
        expect(b.y[j]).toBe(ds.y[b.indices[j]]);
        expect(b.x.subarray(j * 784, (j + 1) * 784)).toEqual(ds.x.subarray(b.indices[j] * 784, (b.indices[j] + 1) * 784));
      }
      all.push(...b.indices);
    }
    expect(sizes).toEqual([25, 25, 25, 25, 3]);
    expect(all.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    const again = [...batches(ds, 25, "e0")].flatMap((b) => Array.from(b.indices));
    const other = [...batches(ds, 25, "e1")].flatMap((b) => Array.from(b.indices));
    expect(again).toEqual(all);
    expect(other).not.toEqual(all);
  });

  it("drops the short batch on request, keeps order without shuffle, validates batchSize", () => {
    expect([...batches(ds, 25, 0, { dropLast: true })].map((b) => b.size)).toEqual([25, 25, 25, 25]);
    expect(Array.from([...batches(ds, 50, 0, { shuffle: false })][1].indices.subarray(0, 3))).toEqual([50, 51, 52]);
    expect(numBatches(103, 25)).toBe(5);
    expect(numBatches(103, 25, true)).toBe(4);
    expect(() => [...batches(ds, 0, 0)]).toThrow("batches: batchSize must be a positive integer, got 0");
  });

  it("toTensors gives [n, 784] float32 and [n] int32 the caller disposes", () => {
    const before = tf.memory().numTensors;
    const { xs, ys } = toTensors(ds);
    expect(xs.shape).toEqual([103, 784]);
    expect(ys.dtype).toBe("int32");
    expect(Array.from(ys.dataSync())).toEqual(Array.from(ds.y));
    xs.dispose();
    ys.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
