import { describe, expect, it } from "vitest";
import { gatherRows } from "../../src/data/batches";
import type { Dataset } from "../../src/data/types";

describe("gatherRows", () => {
  it("copies just the requested rows", () => {
    const ds: Dataset = {
      x: Float32Array.from([0, 1, 10, 11, 20, 21]),
      y: Int32Array.from([0, 1, 2]),
      n: 3,
      dim: 2,
      numClasses: 3,
      name: "t",
    };
    const b = gatherRows(ds, [2, 0], 0, 2);
    expect(Array.from(b.x)).toEqual([20, 21, 0, 1]);
    expect(Array.from(b.y)).toEqual([2, 0]);
  });
});
