import { describe, expect, it } from "vitest";
import { medianOf, sampleMeanStd } from "../../src/core/stats";

describe("stats", () => {
  it("gives the mean and the sample (n − 1) standard deviation", () => {
    const [m, sd] = sampleMeanStd([0.8, 0.9, 1.0]);
    expect(m).toBeCloseTo(0.9, 12);
    expect(sd).toBeCloseTo(0.1, 12);
    expect(sampleMeanStd([0.7])).toEqual([0.7, 0]);
  });
  it("takes a measured value as the median", () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 3, 2])).toBe(3);
    expect(medianOf([])).toBeNaN();
  });
});
