// src/evaluate/select.ts: choices are made on validation accuracy, never on test accuracy, unless asked
// (to show how much choosing on test flatters). Cases are built so that the two disagree.
import { describe, expect, it } from "vitest";
import { meanCI } from "../../src/core/stats";
import { choosePerSeed, chooseOnValidation, type ScoredRun } from "../../src/evaluate/select";

type Run = ScoredRun & { label: string };
const run = (label: string, seed: number, valAccuracy: number, accuracy: number): Run => ({
  label,
  seed,
  valAccuracy,
  accuracy,
});

// "lucky" looks best on test, "steady" on validation: a choice on test would pick "lucky".
const lucky = {
  key: "lucky",
  runs: [run("lucky", 0, 0.7, 0.9), run("lucky", 1, 0.72, 0.91), run("lucky", 2, 0.71, 0.92)],
};
const steady = {
  key: "steady",
  runs: [run("steady", 0, 0.8, 0.8), run("steady", 1, 0.82, 0.79), run("steady", 2, 0.84, 0.81)],
};

describe("chooseOnValidation", () => {
  it("chooses by mean validation accuracy, not test accuracy", () => {
    const c = chooseOnValidation([lucky, steady]);
    expect([c.chosen, c.index, c.by]).toEqual(["steady", 1, "valAccuracy"]);
    const val = meanCI([0.8, 0.82, 0.84]);
    expect(c.candidates[1]).toEqual({
      key: "steady",
      n: 3,
      valMean: val.mean,
      valHalfWidth: val.halfWidth,
      testMean: (0.8 + 0.79 + 0.81) / 3,
    });
    expect(c.candidates[0].valMean).toBeCloseTo(0.71, 12);
    expect(c.candidates[0].testMean).toBeCloseTo(0.91, 12);
  });

  it('by: "accuracy" chooses on test (only to show the bias)', () => {
    const c = chooseOnValidation([steady, lucky], "accuracy");
    expect([c.chosen, c.index, c.by]).toEqual(["lucky", 1, "accuracy"]);
  });

  it("gives a tie to the earlier candidate", () => {
    const twin = { key: "twin", runs: steady.runs.map((r) => ({ ...r, label: "twin", accuracy: 0.99 })) };
    expect(chooseOnValidation([steady, twin]).chosen).toBe("steady");
    expect(chooseOnValidation([twin, steady]).chosen).toBe("twin");
  });

  it("rejects bad candidates, naming the parameter and the value", () => {
    expect(() => chooseOnValidation([])).toThrow(
      "chooseOnValidation: candidates must be a non-empty list of { key, runs }, got []",
    );
    expect(() => chooseOnValidation([{ key: "a", runs: [] }])).toThrow(
      "chooseOnValidation: candidates[0].runs must be a non-empty list of runs, got []",
    );
    const noVal = { key: "old", runs: [{ seed: 0, accuracy: 0.9 } as ScoredRun] };
    expect(() => chooseOnValidation([steady, noVal])).toThrow(
      "chooseOnValidation: candidates[1].runs[0].valAccuracy must be a finite number (was the run scored on validation data?), got undefined",
    );
    expect(() => chooseOnValidation([steady], "test" as never)).toThrow(
      'chooseOnValidation: by must be one of valAccuracy, accuracy, got "test"',
    );
    const twice = { key: "twice", runs: [run("t", 0, 0.5, 0.5), run("t", 0, 0.9, 0.5)] };
    expect(() => chooseOnValidation([twice])).toThrow(
      "chooseOnValidation: candidates[0].runs[1].seed must be a finite seed listed once per candidate, got 0",
    );
  });
});

describe("choosePerSeed", () => {
  // Per seed the validation winner differs: seed 0 → a, seed 1 → b, seed 2 → c, seed 3 → b.
  // Test accuracy would pick c on every seed.
  const a = {
    key: "a",
    runs: [run("a", 0, 0.9, 0.6), run("a", 1, 0.5, 0.6), run("a", 2, 0.5, 0.6), run("a", 3, 0.5, 0.6)],
  };
  const b = {
    key: "b",
    runs: [run("b", 3, 0.8, 0.7), run("b", 1, 0.8, 0.7), run("b", 0, 0.6, 0.7), run("b", 2, 0.6, 0.7)],
  };
  const c = {
    key: "c",
    runs: [run("c", 0, 0.4, 0.9), run("c", 1, 0.4, 0.9), run("c", 2, 0.7, 0.9), run("c", 3, 0.4, 0.9)],
  };

  it("lets each seed choose on its own validation score, and returns the chosen runs by seed", () => {
    const p = choosePerSeed([a, b, c]);
    expect(p.by).toBe("valAccuracy");
    expect(p.runs.map((r) => [r.seed, r.chosen, r.label, r.accuracy])).toEqual([
      [0, "a", "a", 0.6],
      [1, "b", "b", 0.7],
      [2, "c", "c", 0.9],
      [3, "b", "b", 0.7],
    ]);
    expect(p.counts).toEqual([
      { key: "a", times: 1 },
      { key: "b", times: 2 },
      { key: "c", times: 1 },
    ]);
  });

  it('by: "accuracy" chooses on test', () => {
    const p = choosePerSeed([a, b, c], "accuracy");
    expect(p.runs.map((r) => r.chosen)).toEqual(["c", "c", "c", "c"]);
    expect(p.counts.map((x) => x.times)).toEqual([0, 0, 4]);
  });

  it("takes only the seeds every candidate ran", () => {
    const bShort = { key: "b", runs: b.runs.filter((r) => r.seed !== 1) };
    const cMore = { key: "c", runs: [...c.runs, run("c", 7, 0.99, 0.99)] };
    const p = choosePerSeed([a, bShort, cMore]);
    expect(p.runs.map((r) => r.seed)).toEqual([0, 2, 3]);
    expect(p.counts.reduce((s, x) => s + x.times, 0)).toBe(3);
  });

  it("gives a tie on a seed to the earlier candidate", () => {
    const tieA = { key: "first", runs: [run("first", 0, 0.8, 0.1)] };
    const tieB = { key: "second", runs: [run("second", 0, 0.8, 0.9)] };
    expect(choosePerSeed([tieA, tieB]).runs[0].chosen).toBe("first");
    expect(choosePerSeed([tieB, tieA]).runs[0].chosen).toBe("second");
  });

  it("rejects bad candidates, naming the parameter and the value", () => {
    expect(() => choosePerSeed([])).toThrow(
      "choosePerSeed: candidates must be a non-empty list of { key, runs }, got []",
    );
    const noVal = { key: "old", runs: [{ seed: 0, valAccuracy: NaN, accuracy: 0.9 }] };
    expect(() => choosePerSeed([a, noVal])).toThrow(
      "choosePerSeed: candidates[1].runs[0].valAccuracy must be a finite number (was the run scored on validation data?), got NaN",
    );
    expect(() => choosePerSeed([a], "val" as never)).toThrow(/choosePerSeed: by must be one of valAccuracy, accuracy/);
  });
});
