import { describe, expect, it } from "vitest";
import { loadEmbeddedMnist, MNIST_DIM } from "../../src/data/mnist";
import { classCounts } from "../../src/data/subset";
import { dataSummary, summaryMarkdown } from "../../src/data/summary";

describe("loadEmbeddedMnist", () => {
  it("gives the 10,000 digits of the mnist package in [0, 1], quickly, then from memory", () => {
    const t0 = performance.now();
    const ds = loadEmbeddedMnist();
    const first = performance.now() - t0;
    expect(ds.n).toBe(10000);
    expect(ds.dim).toBe(MNIST_DIM);
    expect(ds.numClasses).toBe(10);
    expect(ds.x.length).toBe(10000 * 784);
    expect(ds.y.length).toBe(10000);
    const counts = classCounts(ds);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(Math.min(...counts)).toBeGreaterThan(800);
    const s = dataSummary(ds);
    expect(s.pixelMin).toBe(0);
    expect(s.pixelMax).toBe(1);
    expect(s.pixelMean).toBeGreaterThan(0.05);
    expect(first).toBeLessThan(10_000);
    expect(loadEmbeddedMnist()).toBe(ds); // the second call is served from memory
  });

  it("mixes the classes into one fixed order (any prefix has every digit)", () => {
    const ds = loadEmbeddedMnist();
    const prefix = new Set(Array.from(ds.y.subarray(0, 100)));
    expect(prefix.size).toBe(10);
    // The order is fixed: the same first labels on every machine and run.
    expect(Array.from(ds.y.subarray(0, 10))).toEqual(Array.from(loadEmbeddedMnist().y.subarray(0, 10)));
  });

  it("summarises as a markdown table", () => {
    const md = summaryMarkdown([loadEmbeddedMnist()]);
    expect(md).toMatch(/\| mnist-embedded \| 10000 \| 10 \| \d+–\d+ \| all \| 0.00 \/ 0.\d{3} \/ 1.00 \|/);
  });
});
