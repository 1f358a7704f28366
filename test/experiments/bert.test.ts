// Lesson 06's experiment at a tiny size: masked-LM pretraining cached per seed (and read back), every arm
// runs and checks its invariants, full fine-tuning's rate is each seed's validated choice and the freeze
// sweep runs at it, a re-run reads every run back, verdicts never throw, the parameters cell's bad values
// are named, and nothing leaks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  bertArm,
  bertSettings,
  bestFreezeDepth,
  bertTasks,
  checkBertParameters,
  naiveBayesBaseline,
  pretrainBert,
  ruleOfThumbVerdicts,
  runBertExperiment,
} from "../../src/experiments/bert";
import type { Lesson06Settings } from "../../src/core/settings";

const saved = process.env.TRANSFER_LAB_CACHE;
let cache = "";
let before = 0;

function tiny(): Lesson06Settings {
  const s = bertSettings("smoke");
  return {
    ...s,
    seqLength: 8,
    vocabSize: 300,
    pretrainWindows: 128,
    bert: { width: 16, depth: 2, numHeads: 2, mlpRatio: 2, maxPositions: 8 },
    mlmBatchSize: 32,
    fineTune: { epochs: 1, minSteps: 2, batchSize: 8 },
    testWindowsPerAddress: 2,
    farTestPerClass: 10,
    valPerClass: 5,
  };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "tl-exp-bert-"));
  process.env.TRANSFER_LAB_CACHE = cache;
  before = tf.memory().numTensors;
});

afterAll(() => {
  if (saved === undefined) delete process.env.TRANSFER_LAB_CACHE;
  else process.env.TRANSFER_LAB_CACHE = saved;
  fs.rmSync(cache, { recursive: true, force: true });
});

describe("lesson 06 experiment", () => {
  it("pretrains once per seed and reads the BERT back from the cache", async () => {
    const s = tiny();
    const a = await pretrainBert({ seed: 0, settings: s, scale: "smoke", log: false, progress: false });
    expect(a.fromCache).toBe(false);
    expect(a.curve.length).toBeGreaterThan(0);
    expect(Number.isFinite(a.heldOut.loss)).toBe(true);
    const b = await pretrainBert({ seed: 0, settings: s, scale: "smoke", log: false, progress: false });
    expect(b.fromCache).toBe(true);
    expect(b.key).toBe(a.key);
    expect(b.curve).toEqual(a.curve);
    a.model.dispose();
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it("runs every arm with its invariants, chooses full FT's rate per seed on validation, and reads runs back", async () => {
    const s = tiny();
    const args = { scale: "smoke" as const, settings: s, seeds: [0, 1], labelBudgets: [2], progress: false };
    const exp = await runBertExperiment(args);
    // Per seed, target and budget: scratch, head-only, 2 full-FT rates, freeze 1..2, LoRA.
    expect(exp.runs).toHaveLength(2 * 2 * (4 + s.bert.depth + 1));
    for (const cell of exp.cells) {
      for (const { seed, rate } of cell.chosenRate) {
        const ft = exp.runs.filter(
          (r) => r.seed === seed && r.target === cell.target && r.method === "freeze" && r.frozenBlocks === 0,
        );
        const best = ft.reduce((x, y) => (y.valAccuracy > x.valAccuracy ? y : x));
        expect(rate).toBe(best.learningRate);
        for (let k = 1; k <= 2; k++)
          expect(bertArm(exp, cell.target, 2, k).find((r) => r.seed === seed)?.learningRate).toBe(rate);
      }
    }
    const lora = exp.runs.filter((r) => r.method === "lora-qv");
    expect(lora.every((r) => r.mergeMaxDiff !== null && r.mergeMaxDiff <= 1e-4)).toBe(true);
    const headOnly = exp.runs.filter((r) => r.method === "head-only");
    expect(headOnly.every((r) => r.trainableParams < r.totalParams / 10)).toBe(true);
    expect(
      exp.runs.filter((r) => r.method === "freeze" && r.frozenBlocks === 2).every((r) => r.frozenWeights > 0),
    ).toBe(true);
    expect(exp.runs.every((r) => r.accuracy >= 0 && r.accuracy <= 1 && r.valAccuracy >= 0 && r.docAccuracy >= 0)).toBe(
      true,
    );
    expect([0, 1, 2]).toContain(bestFreezeDepth(exp, "near", 2).depth);
    const verdicts = ruleOfThumbVerdicts(exp);
    expect(verdicts.length).toBeGreaterThan(5);
    for (const v of verdicts) expect(["holds", "not significant", "contradicted"]).toContain(v.comparison.verdict);
    const again = await runBertExperiment(args);
    expect(again.runs.every((r) => r.reused)).toBe(true);
    expect(again.runs.map((r) => r.accuracy)).toEqual(exp.runs.map((r) => r.accuracy));
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it("scores the naive-Bayes baseline with its smoothing chosen on validation", () => {
    const s = tiny();
    const tasks = bertTasks(0, s);
    const nb = naiveBayesBaseline(tasks, "far", 4, 0);
    expect([0.03, 0.1, 0.3, 1]).toContain(nb.alpha);
    expect(nb.accuracy).toBeGreaterThanOrEqual(0);
    expect(nb.accuracy).toBeLessThanOrEqual(1);
    expect(naiveBayesBaseline(tasks, "far", 4, 0)).toEqual(nb); // deterministic
    expect(() => naiveBayesBaseline(tasks, "far", 4, 0, [0])).toThrow(/alphas must be a non-empty list/);
  });

  it("names the parameter, the value and what is allowed", () => {
    const s = tiny();
    const ok = { freezeLayers: 1, r: 2, target: "near", labelsPerClass: 2 };
    expect(checkBertParameters(ok, s, [0])).toHaveLength(2);
    expect(() => checkBertParameters({ ...ok, target: "middle" }, s, [0])).toThrow(
      /target must be one of near, far, got "middle"/,
    );
    expect(() => checkBertParameters({ ...ok, labelsPerClass: 100_000 }, s, [0])).toThrow(
      /labelsPerClass must be an integer in \[1, \d+\].*got 100000/,
    );
    expect(() => checkBertParameters({ ...ok, freezeLayers: 5 }, s, [0])).toThrow(
      /freezeLayers must be an integer in \[0, 2\]/,
    );
    expect(() => checkBertParameters(ok, { ...s, seqLength: 16 }, [0])).toThrow(
      /seqLength must be at most bert.maxPositions = 8, got 16/,
    );
  });
});
