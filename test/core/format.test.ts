import { describe, expect, it } from "vitest";
import {
  formatCount,
  formatDuration,
  formatPct,
  formatPoints,
  formatSeconds,
  labelsText,
  pct,
  signedPoints,
} from "../../src/core/format";

describe("format", () => {
  it("writes percent, points, counts and label budgets one way", () => {
    expect(formatPct(0.8421)).toBe("84.2 %");
    expect(pct(0.81, 0.026)).toBe("81.0 ± 2.6");
    expect(pct(0.81)).toBe("81.0");
    expect(pct(null)).toBe("–");
    expect(formatPoints(0.84, 0.72)).toBe("+12.0 points");
    expect(formatPoints(0.7, 0.75)).toBe("−5.0 points");
    expect(signedPoints(0.12)).toBe("+12.0");
    expect(signedPoints(-0.05)).toBe("−5.0");
    expect(formatCount(138890)).toBe("138,890");
    expect(labelsText(1)).toBe("1 label/class");
    expect(labelsText(5)).toBe("5 labels/class");
  });

  it("writes durations in ms, s, min and h", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_345)).toBe("12.3 s");
    expect(formatDuration(125_000)).toBe("2 min 05 s");
    expect(formatDuration(3_720_000)).toBe("1 h 02 min");
    expect(formatDuration(NaN)).toBe("?");
    expect(formatSeconds(12.34)).toBe("12.3 s");
    expect(formatSeconds(null)).toBe("—");
  });
});
