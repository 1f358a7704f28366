// src/show/verdicts.ts: the verdict table splits compareOnSeeds' line into the verdict and its numbers.
import { describe, expect, it } from "vitest";
import { compareOnSeeds, type SeedValue } from "../../src/core/stats";
import { takeRecorded } from "../../src/show/display";
import { verdictRows, verdictTable } from "../../src/show/verdicts";

const seeds = [0, 1, 2, 3, 4];
const side = (values: number[]): SeedValue[] => seeds.map((seed) => ({ seed, value: values[seed] }));
const a = side([0.81, 0.83, 0.8, 0.84, 0.82]);
const b = side([0.78, 0.79, 0.79, 0.8, 0.8]);

describe("verdictRows", () => {
  it("puts the claim, the verdict and the numbers inside the verdict's parenthesis in three columns", () => {
    const gain = compareOnSeeds(a, b, { direction: "greater" });
    const same = compareOnSeeds(a, b, { direction: "within", margin: 0.05 });
    const lone = compareOnSeeds(a.slice(0, 1), b, { direction: "greater" });
    expect(gain.text).toMatch(/^holds \(Δ \+2\.8 points, 95 % CI \[\+[\d.]+, \+[\d.]+\], n = 5\)$/);
    const rows = verdictRows([
      { claim: "a beats b", comparison: gain },
      { claim: "a is within 5 points of b", comparison: same },
      { claim: "one seed", comparison: lone },
    ]);
    expect(rows).toEqual([
      { claim: "a beats b", verdict: "holds", "Δ, 95 % CI, n": gain.text.slice("holds (".length, -1) },
      {
        claim: "a is within 5 points of b",
        verdict: same.verdict,
        "Δ, 95 % CI, n": same.text.slice(same.text.indexOf("(") + 1, -1),
      },
      { claim: "one seed", verdict: "not significant", "Δ, 95 % CI, n": "n = 1: one seed gives no interval" },
    ]);
    expect(rows[1]["Δ, 95 % CI, n"]).toMatch(/^Δ \+2\.8 points, 95 % CI \[.*\], n = 5, margin ±5\.0$/);
  });
});

describe("verdictTable", () => {
  it("displays one HTML table with the caption and the three columns", () => {
    takeRecorded();
    const gain = compareOnSeeds(a, b, { direction: "greater" });
    verdictTable([{ claim: "a <beats> b", comparison: gain }]);
    const out = takeRecorded();
    expect(out).toHaveLength(1);
    expect(out[0].mime).toBe("text/html");
    const html = String(out[0].data);
    expect(html).toContain("Verdicts (paired by seed)</caption>");
    expect([...html.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1])).toEqual([
      "claim",
      "verdict",
      "Δ, 95 % CI, n",
    ]);
    expect(html).toContain("a &lt;beats&gt; b");
    expect(html).toContain(`>holds</td>`);
    expect(html).toContain(`>${gain.text.slice("holds (".length, -1)}</td>`);
    verdictTable([], "Lesson 03 claims");
    expect(String(takeRecorded()[0].data)).toContain("Lesson 03 claims</caption>");
  });

  it("adds the chance note under four or more verdicts", () => {
    takeRecorded();
    const gain = compareOnSeeds(a, b, { direction: "greater" });
    verdictTable(Array.from({ length: 3 }, (_, i) => ({ claim: `c${i}`, comparison: gain })));
    expect(takeRecorded()).toHaveLength(1);
    verdictTable(Array.from({ length: 20 }, (_, i) => ({ claim: `c${i}`, comparison: gain })));
    const out = takeRecorded();
    expect(out).toHaveLength(2);
    expect(out[1].mime).toBe("text/markdown");
    expect(String(out[1].data)).toContain("20 verdicts");
    expect(String(out[1].data)).toContain("about 1.0 of them");
  });
});
