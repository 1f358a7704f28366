// runValidatedArm and chooseArms: an arm's setting is chosen on validation accuracy, never on test —
// shared (one candidate for all seeds, by mean validation accuracy) or per seed (each seed on its own
// validation split); test accuracy only rides along with what was chosen; chooseArms picks arms out of
// one experiment's runs; real runs at smoke scale reuse recorded runs and release every tensor.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { armValues, chooseArms, runValidatedArm } from "../../src/experiments/validated";
import type { TransferExperimentRun, TransferVariant } from "../../src/experiments/transfer-sweep";
import { transferLabel, type TransferResult } from "../../src/experiments/transfer";
import type { ResultRecord } from "../../src/store/results";

/** A run of `variant` on `task` and seed with the given validation and test accuracy (nothing trained). */
function fakeRun(
  variant: TransferVariant,
  seed: number,
  valAccuracy: number,
  accuracy: number,
  task = "mild",
): TransferExperimentRun {
  const result: TransferResult = {
    method: variant.method,
    label: transferLabel(variant),
    task,
    labelsPerClass: 5,
    seed,
    head: "fresh",
    freezeRatio: variant.method === "freeze-ratio" ? (variant.freezeRatio ?? null) : null,
    frozenLayers: [],
    learningRate: variant.learningRate ?? 1e-4,
    headLearningRate: 1e-2,
    accuracy,
    valAccuracy,
    retention: 0.9,
    forgetting: 0.01,
    trainableParams: 1,
    totalParams: 1,
    secondsPerEpoch: 0,
    seconds: 0,
    epochs: 1,
    steps: 1,
    loss: [],
  };
  const record: ResultRecord = {
    lesson: "test",
    method: result.label,
    task,
    labelsPerClass: 5,
    accuracy,
    backend: "cpu",
    scale: "smoke",
    seed,
  };
  return { ...result, reused: false, record };
}

const low: TransferVariant = { method: "full-ft", learningRate: 1e-4 };
const mid: TransferVariant = { method: "full-ft", learningRate: 3e-4 };
const high: TransferVariant = { method: "full-ft", learningRate: 1e-3 };

/** Seeds 0-3. `low` is best on validation on average, `high` is best on test on every seed (a test
 * choice would pick it); per seed, validation prefers low on seeds 0, 1, 3 and mid on seed 2. */
const VAL: Record<string, number[]> = {
  low: [0.8, 0.8, 0.6, 0.8],
  mid: [0.7, 0.7, 0.9, 0.6],
  high: [0.5, 0.5, 0.5, 0.5],
};
const TEST: Record<string, number[]> = {
  low: [0.6, 0.6, 0.6, 0.6],
  mid: [0.65, 0.65, 0.65, 0.65],
  high: [0.9, 0.9, 0.9, 0.9],
};
const runs = (task = "mild") =>
  (
    [
      ["low", low],
      ["mid", mid],
      ["high", high],
    ] as const
  ).flatMap(([name, v]) => [0, 1, 2, 3].map((s) => fakeRun(v, s, VAL[name][s], TEST[name][s], task)));

describe("chooseArms (shared mode)", () => {
  it("chooses the candidate with the best mean validation accuracy, whatever the test accuracies say", () => {
    const [arm] = chooseArms(runs(), [low, mid, high]);
    expect(arm.mode).toBe("shared");
    expect(arm.by).toBe("valAccuracy");
    expect(arm.choice!.index).toBe(0); // low: mean validation 0.75, mid 0.725, high 0.5
    expect(arm.choice!.chosen).toBe(low);
    expect(arm.runs.map((r) => [r.seed, r.label])).toEqual([0, 1, 2, 3].map((s) => [s, transferLabel(low)]));
    expect(arm.counts.map((c) => c.times)).toEqual([4, 0, 0]);
    expect(arm.choice!.candidates.map((c) => c.valMean)).toEqual([0.75, 0.725, 0.5]);
    // The arm's test numbers are the chosen candidate's, read after the choice.
    expect(armValues(arm)).toEqual([0, 1, 2, 3].map((s) => ({ seed: s, value: 0.6 })));
    expect(armValues(arm, "valAccuracy").map((v) => v.value)).toEqual(VAL.low);
  });

  it("does not look at test: changing every test accuracy leaves the choice as it was", () => {
    const shuffled = runs().map((r, i) => ({ ...r, accuracy: (i * 0.37) % 1 }));
    expect(chooseArms(shuffled, [low, mid, high])[0].choice!.index).toBe(0);
  });

  it("chooses on test only when asked (to show how much that flatters)", () => {
    const [arm] = chooseArms(runs(), [low, mid, high], { by: "accuracy" });
    expect(arm.choice!.chosen).toBe(high);
    expect(armValues(arm).map((v) => v.value)).toEqual(TEST.high);
  });

  it("ties go to the earlier candidate", () => {
    const tied = [0, 1].flatMap((s) => [fakeRun(mid, s, 0.7, 0.1), fakeRun(low, s, 0.7, 0.9)]);
    expect(chooseArms(tied, [mid, low])[0].choice!.chosen).toBe(mid);
    expect(chooseArms(tied, [low, mid])[0].choice!.chosen).toBe(low);
  });
});

describe("chooseArms (per-seed mode)", () => {
  it("lets every seed choose on its own validation split", () => {
    const [arm] = chooseArms(runs(), [low, mid, high], { mode: "per-seed" });
    expect(arm.mode).toBe("per-seed");
    expect(arm.choice).toBeNull();
    expect(arm.runs.map((r) => r.label)).toEqual([low, low, mid, low].map((v) => transferLabel(v)));
    expect(arm.counts.map((c) => [c.label, c.times])).toEqual([
      [transferLabel(low), 3],
      [transferLabel(mid), 1],
      [transferLabel(high), 0],
    ]);
    expect(armValues(arm).map((v) => v.value)).toEqual([0.6, 0.6, 0.65, 0.6]);
  });

  it("on test, each seed takes its best test score (the number a test choice reports)", () => {
    const [arm] = chooseArms(runs(), [low, mid, high], { mode: "per-seed", by: "accuracy" });
    expect(arm.runs.every((r) => r.label === transferLabel(high))).toBe(true);
  });
});

describe("chooseArms picks arms out of one experiment", () => {
  it("keeps tasks apart, leaves other variants' runs out and skips a task a candidate did not run", () => {
    const other: TransferVariant = { method: "scratch" };
    const all = [...runs("mild"), ...runs("inverted"), ...[0, 1, 2, 3].map((s) => fakeRun(other, s, 0.99, 0.99))];
    const arms = chooseArms(all, [low, mid, high]);
    expect(arms.map((a) => a.task)).toEqual(["mild", "inverted"]);
    expect(arms.every((a) => a.choice!.chosen === low)).toBe(true);
    expect(chooseArms(all, [other]).map((a) => a.task)).toEqual(["mild"]);
  });

  it("tells a freeze ratio of 0 from full fine-tuning and 1 from feature extraction (same table names)", () => {
    const r0: TransferVariant = { method: "freeze-ratio", freezeRatio: 0 };
    const ft: TransferVariant = { method: "full-ft" };
    const r1: TransferVariant = { method: "freeze-ratio", freezeRatio: 1 };
    const fe: TransferVariant = { method: "feature-extraction" };
    expect(transferLabel(r0)).toBe(transferLabel(ft));
    expect(transferLabel(r1)).toBe(transferLabel(fe));
    const all = [0, 1].flatMap((s) => [
      fakeRun(r0, s, 0.5, 0.5),
      fakeRun(ft, s, 0.9, 0.9),
      fakeRun(r1, s, 0.4, 0.4),
      fakeRun(fe, s, 0.8, 0.8),
    ]);
    expect(armValues(chooseArms(all, [r0])[0]).map((v) => v.value)).toEqual([0.5, 0.5]);
    expect(armValues(chooseArms(all, [ft])[0]).map((v) => v.value)).toEqual([0.9, 0.9]);
    expect(armValues(chooseArms(all, [r1])[0]).map((v) => v.value)).toEqual([0.4, 0.4]);
    expect(chooseArms(all, [r0, r1])[0].choice!.chosen).toBe(r0);
  });

  it("refuses bad input, naming the parameter", () => {
    expect(() => chooseArms(runs(), [])).toThrow(
      /chooseArms: candidates must be a non-empty list of transfer variants/,
    );
    // @ts-expect-error: a mode that does not exist
    expect(() => chooseArms(runs(), [low], { mode: "each" })).toThrow(
      /chooseArms: mode must be one of shared, per-seed/,
    );
    // @ts-expect-error: a field that does not exist
    expect(() => chooseArms(runs(), [low], { by: "loss" })).toThrow(
      /chooseArms: by must be one of valAccuracy, accuracy/,
    );
    const twice = [...runs(), fakeRun(low, 0, 0.1, 0.1)];
    expect(() => chooseArms(twice, [low])).toThrow(
      /chooseArms: runs must be one run per candidate, task, budget and seed/,
    );
  });
});

describe("runValidatedArm on real runs (smoke scale)", () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend("cpu");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "exp-validated-"));
    process.env.TRANSFER_LAB_CACHE = dir;
  });
  afterAll(() => {
    delete process.env.TRANSFER_LAB_CACHE;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const budget = { epochs: 1, minSteps: 2 };
  const candidates: TransferVariant[] = [
    { method: "full-ft", learningRate: 1e-4, budget },
    { method: "full-ft", learningRate: 1e-2, budget },
  ];
  const args = {
    lesson: "test-validated",
    candidates,
    shifts: ["mild" as const],
    labelsPerClass: [1],
    seeds: [0, 1],
    scale: "smoke" as const,
    progress: false,
  };

  it("runs every candidate on every seed, chooses on validation, then reuses the recorded runs; leaks no tensor", async () => {
    await runValidatedArm({ ...args, candidates: [candidates[0]], seeds: [9] }); // first source model and backend warm-up
    const before = tf.memory().numTensors;
    const shared = await runValidatedArm(args);
    expect(tf.memory().numTensors).toBe(before);
    expect(shared.all).toHaveLength(4);
    expect(shared.all.every((r) => !r.reused)).toBe(true);
    const [arm] = shared.arms;
    expect([arm.task, arm.labelsPerClass, arm.mode]).toEqual(["mild", 1, "shared"]);
    const meanVal = candidates.map((v) => {
      const xs = shared.all.filter((r) => r.label === transferLabel(v)).map((r) => r.valAccuracy);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    });
    const best = meanVal[1] > meanVal[0] ? 1 : 0;
    expect(arm.choice!.index).toBe(best);
    expect(arm.runs.map((r) => r.seed)).toEqual([0, 1]);
    expect(arm.runs.every((r) => r.label === transferLabel(candidates[best]))).toBe(true);
    expect(arm.runs.every((r) => Number.isFinite(r.valAccuracy) && Number.isFinite(r.accuracy))).toBe(true);

    const again = await runValidatedArm({ ...args, mode: "per-seed" });
    expect(tf.memory().numTensors).toBe(before);
    expect(again.all.every((r) => r.reused)).toBe(true);
    const perSeed = again.arms[0];
    for (const r of perSeed.runs) {
      const mine = again.all.filter((x) => x.seed === r.seed);
      const bestVal = Math.max(...mine.map((x) => x.valAccuracy));
      expect(r.valAccuracy).toBe(bestVal);
      expect(r.label).toBe(mine.find((x) => x.valAccuracy === bestVal)!.label); // ties: the earlier candidate
    }
    expect(perSeed.counts.reduce((a, c) => a + c.times, 0)).toBe(2);
  }, 120_000);

  it("refuses bad input before training anything", async () => {
    await expect(runValidatedArm({ ...args, candidates: [] })).rejects.toThrow(
      /runValidatedArm: candidates must be a non-empty list/,
    );
    // @ts-expect-error: a mode that does not exist
    await expect(runValidatedArm({ ...args, mode: "each" })).rejects.toThrow(
      /runValidatedArm: mode must be one of shared, per-seed/,
    );
  });
});
