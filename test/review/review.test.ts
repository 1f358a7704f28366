// Lesson 10's library on fake records with seeds, validation accuracy, forgetting and protocol:
// facts (latest per seed, current protocol only, the configuration chosen on validation), every
// verdict path of compare (holds / not significant / contradicted / not measured), the table and
// plots, the decision guide (each strategy, each "not measured" case, no thresholds of its own),
// the crossover, the interview checkpoint (winner on validation, forgetting not retention), the
// question bank's topics and verdicts, and fillMissingResults with fakes and for real (04, 10).
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, recordResult, readResults, type ResultRecord } from "../../src/store/results";
import {
  accuracyBarPlot,
  accuracyVsParamsPlot,
  comparisonRows,
  comparisonTableRows,
  coverageRows,
  describeOlderProtocol,
  forgettingPlot,
  dropChosenCopies,
  latestRuns,
  makeFacts,
  NOT_MEASURED,
  transferCurvePlot,
  type Facts,
} from "../../src/review/review";
import {
  COMPUTES,
  measuredBudgets,
  recommendStrategy,
  SIMILARITIES,
  transferCrossover,
  type Compute,
  type Similarity,
  type Strategy,
} from "../../src/review/strategy";
import { chooseWinner, forgettingVerdicts, inputShiftVerdicts, interviewCheckpoint } from "../../src/review/checkpoint";
import {
  QUESTION_BANK,
  questionVerdicts,
  renderQuestions,
  REVIEW_TOPICS,
  secondsPerStep,
  type ReviewTopic,
} from "../../src/review/questions";
import {
  describeFills,
  describeGuideRows,
  fillMissingResults,
  guideVariants,
  LESSON_FILLERS,
  type LessonFiller,
} from "../../src/review/fill";
import { parseMethod } from "../../src/core/methods";
import { queryAt } from "../../src/review/queries";

/** The interview themes the bank must cover, each with words its answers must use. */
const REQUIRED_TOPICS: Record<ReviewTopic, RegExp[]> = {
  "greedy-pretraining": [/one layer at a time/, /2006/, /2007/],
  "vanishing-gradients": [/sigmoid's derivative/, /gradient/],
  "greedy-vs-freezing": [/frozen only while the next layer/, /transfer/],
  "greedy-today": [/still helps/, /unlabeled/],
  "which-layers": [/similarity/i, /labels/, /Compute/, /first layers/],
  "over-freezing": [/underfits/],
  unfreezing: [/gradual unfreezing/, /head first/],
  "discriminative-lr": [/α\^\(L−l\)/, /validation/],
  batchnorm: [/moving mean and variance/, /inference mode/],
  forgetting: [/task-A accuracy/, /retention/, /forgetting/],
  "freezing-savings": [/no weight gradients/, /optimizer state/],
  lora: [/rank/, /α\/r/, /query and value/, /[Mm]erging/],
  adapters: [/adapters/i, /LoRA/],
  combining: [/LoRA/, /discriminative/],
  "self-supervised": [/[Ss]elf-supervised/, /masked/],
};

/** Per-seed deviations (mean 0). Two arms with the same pattern differ by a constant (an interval
 * of width 0); with different patterns their paired differences scatter by about ±3 points. */
const P1 = [0, 0.01, -0.01, 0.02, -0.02];
const P2 = [0.02, -0.02, 0, -0.01, 0.01];
const TOTAL = 259274;

interface ArmSpec {
  lesson?: string;
  task?: string;
  k?: number | null;
  /** Mean validation accuracy (default the test mean); null: none recorded. */
  val?: number | null;
  forgetting?: number | null;
  params?: number;
  pattern?: number[];
  seeds?: number[];
  extra?: ResultRecord["extra"];
  seconds?: number;
}

/** One method's runs over seeds: test accuracy = mean + pattern[i], validation likewise. */
function runs(method: string, mean: number, o: ArmSpec = {}): ResultRecord[] {
  const pattern = o.pattern ?? P1;
  const seeds = o.seeds ?? [0, 1, 2, 3, 4];
  return seeds.map((seed, i) => {
    const d = pattern[i % pattern.length];
    const val = o.val === undefined ? mean : o.val;
    return {
      lesson: o.lesson ?? "02",
      method,
      task: o.task ?? "mild",
      labelsPerClass: o.k === undefined ? 5 : o.k,
      accuracy: mean + d,
      valAccuracy: val === null ? undefined : val + d,
      forgetting: o.forgetting === undefined || o.forgetting === null ? null : o.forgetting + d / 2,
      retention: o.forgetting === undefined || o.forgetting === null ? null : 0.95 - o.forgetting - d / 2,
      trainableParams: o.params ?? (method.startsWith("head-only") ? 650 : TOTAL),
      totalParams: TOTAL,
      seconds: o.seconds ?? 1,
      backend: "cpu",
      scale: "smoke",
      seed,
      protocol: PROTOCOL_VERSION,
      extra: o.extra ?? { steps: 100 },
    };
  });
}

/** A complete, seeded result set across lessons, shaped so that each verdict path is reachable. */
function fullResults(): ResultRecord[] {
  const rows: ResultRecord[] = [];
  // Lesson 02, mild: transfer wins clearly at 1 and 5, ties scratch at 50 (not significant).
  for (const [k, scratch, head, full] of [
    [1, 0.4, 0.7, 0.72],
    [5, 0.6, 0.75, 0.8],
    [50, 0.9, 0.8, 0.905],
  ] as const) {
    // At 50, scratch is ahead on validation although it ties transfer on test.
    rows.push(...runs("scratch", scratch, { k, pattern: P2, val: k === 50 ? 0.91 : scratch }));
    rows.push(...runs("head-only", head, { k, forgetting: 0 }));
    rows.push(...runs("full-ft", full, { k, forgetting: 0.05 }));
    // A higher rate: worse on validation (so the review keeps the default), forgets more.
    rows.push(...runs("full-ft@lr=1e-3", full + 0.03, { k, val: full - 0.1, forgetting: 0.2 }));
  }
  rows.push(...runs("zero-shot", 0.728, { k: null, forgetting: 0, params: 0 }));
  rows.push(
    ...runs("feature-cache", 0.6, {
      k: null,
      val: null,
      extra: { epochSecondsFull: 0.2, epochSecondsFrozen: 0.1, epochSecondsCached: 0.01, flopRatio: 0.34 },
    }),
  );
  // Lesson 02, class split at 20: negative transfer (head-only loses to scratch).
  rows.push(...runs("scratch", 0.867, { task: "class-split", k: 20, pattern: P2 }));
  rows.push(...runs("head-only", 0.64, { task: "class-split", k: 20, forgetting: 0 }));
  rows.push(...runs("full-ft", 0.863, { task: "class-split", k: 20, forgetting: 0.1 }));
  // Lesson 03, mild at 5: the sweep, discriminative rates, schedules, the BN demo.
  rows.push(...runs("full-ft@lr=1e-3", 0.7, { lesson: "03", forgetting: 0.15 }));
  rows.push(...runs("freeze-0.50@lr=1e-3", 0.66, { lesson: "03", params: 25418, forgetting: 0.08 }));
  rows.push(...runs("head-only", 0.62, { lesson: "03", forgetting: 0 }));
  rows.push(...runs("full-ft@decay=0.385", 0.71, { lesson: "03", pattern: P2, forgetting: 0.1 }));
  for (const [method, acc, forg] of [
    ["schedule:plain", 0.66, 0.12],
    ["schedule:discriminative", 0.68, 0.1],
    ["schedule:two-phase", 0.67, 0.09],
    ["schedule:progressive", 0.69, 0.07],
  ] as const)
    rows.push(...runs(method, acc, { lesson: "03", forgetting: forg, pattern: method === "schedule:plain" ? P2 : P1 }));
  rows.push(...runs("bn-frozen:plain", 0.4, { lesson: "03", forgetting: 0.24 }));
  rows.push(...runs("bn-frozen:keras", 0.45, { lesson: "03", forgetting: 0 }));
  // Lesson 03, inverted at 5: freezing loses, the first layer is where the shift is.
  rows.push(...runs("full-ft@lr=1e-3", 0.6, { lesson: "03", task: "inverted", forgetting: 0.3 }));
  rows.push(...runs("head-only", 0.3, { lesson: "03", task: "inverted", forgetting: 0 }));
  rows.push(...runs("tune-hidden1@lr=1e-3", 0.72, { lesson: "03", task: "inverted", params: 201610 }));
  rows.push(...runs("tune-hidden4@lr=1e-3", 0.55, { lesson: "03", task: "inverted", params: 8906 }));
  rows.push(...runs("scratch", 0.65, { lesson: "03", task: "inverted", pattern: P2 }));
  // Lesson 04, mild at 5: LoRA ranks vs head-only and full fine-tuning (source head).
  for (const [method, acc, params, forg] of [
    ["head-only+source-head", 0.6, 650, 0],
    ["lora-r1+source-head", 0.72, 2522, 0.02],
    ["lora-r4+source-head", 0.78, 8138, 0.03],
    ["lora-r16+source-head", 0.79, 30602, 0.04],
    ["full-ft+source-head", 0.79, TOTAL, 0.09],
  ] as const)
    rows.push(
      ...runs(method, acc, {
        lesson: "04",
        params,
        forgetting: forg,
        seconds: method.startsWith("head") ? 1 : 2,
        pattern: method.startsWith("full") ? P2 : P1,
      }),
    );
  rows.push(...runs("lora-r4-merged+source-head", 0.78, { lesson: "04", params: 8138 }));
  rows.push(...runs("lora-r4+source-head@lr=1e-3", 0.77, { lesson: "04", params: 8138 }));
  rows.push(...runs("lora-r4+source-head@lr=1e-4", 0.61, { lesson: "04", params: 8138, pattern: P2 }));
  // Lesson 01 (clean digits, no validation accuracy recorded).
  for (const k of [10, null]) {
    rows.push(
      ...runs("scratch-historical", 0.1, { lesson: "01", task: "clean", k, val: null, extra: { gradientRatio: 1e6 } }),
    );
    rows.push(
      ...runs("greedy-pretrained", 0.765, { lesson: "01", task: "clean", k, val: null, extra: { gradientRatio: 20 } }),
    );
    rows.push(...runs("scratch-modern", 0.77, { lesson: "01", task: "clean", k, val: null, pattern: P2 }));
  }
  // Lesson 05, the ViT.
  for (const [method, acc] of [
    ["head-only", 0.5],
    ["freeze-blocks-1", 0.55],
    ["freeze-blocks-2", 0.58],
    ["full-ft", 0.6],
    ["lora-qv-r4", 0.59],
  ] as const)
    rows.push(...runs(method, acc, { lesson: "05", params: 1000 }));
  // Lesson 10's guide rows: inverted digits at 50, where full fine-tuning needs the higher rate.
  rows.push(...runs("scratch", 0.8, { lesson: "10", task: "inverted", k: 50, pattern: P2 }));
  rows.push(...runs("head-only", 0.2, { lesson: "10", task: "inverted", k: 50, forgetting: 0 }));
  rows.push(...runs("full-ft", 0.27, { lesson: "10", task: "inverted", k: 50, forgetting: 0.1 }));
  rows.push(...runs("full-ft@lr=1e-3", 0.85, { lesson: "10", task: "inverted", k: 50, forgetting: 0.4 }));
  return rows;
}

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tl-review-"));
  tmpDirs.push(d);
  return d;
}
afterEach(() => {
  delete process.env.TRANSFER_LAB_CACHE;
  delete process.env.LESSON_SCALE;
});
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const VERDICT =
  /(holds|not significant|contradicted) \(Δ [+−]\d+\.\d+ points, 95 % CI \[[+−]\d+\.\d+, [+−]\d+\.\d+\], n = \d+/;

describe("facts over recorded results", () => {
  it("keeps the latest run per seed, so re-running a lesson replaces its numbers", () => {
    const rows = [
      ...runs("scratch", 0.1, { seeds: [0] }),
      ...runs("scratch", 0.3, { seeds: [1] }),
      ...runs("scratch", 0.2, { seeds: [0] }),
    ];
    expect(latestRuns(rows).map((r) => r.accuracy)).toEqual([0.3, 0.2]);
    const s = makeFacts(rows).find({ method: "scratch" });
    expect(s?.runs).toBe(2);
    expect(s?.accuracyMean).toBeCloseTo(0.25, 10);
  });

  it("reads current-protocol rows only and says how many older ones it ignored", () => {
    const dir = tmp();
    for (const r of runs("scratch", 0.5)) recordResult(r, dir);
    recordResult({ ...runs("scratch", 0.9)[0], protocol: 1 }, dir);
    const { protocol: _p, ...old } = runs("scratch", 0.9)[1];
    recordResult({ ...old, protocol: undefined }, dir); // recordResult stamps the current version
    const f = makeFacts(readResults({ dir, scale: "smoke" }));
    expect(f.olderProtocol).toBe(1);
    expect(f.find({ method: "scratch" })?.runs).toBe(5);
    expect(describeOlderProtocol(f.olderProtocol)).toMatch(/^Ignored 1 recorded row of an older measurement protocol/);
    expect(describeOlderProtocol(0)).toMatch(/No rows of an older measurement protocol/);
    expect(makeFacts([]).olderProtocol).toBe(0);
  });

  it("resolves few/many budgets, cites mean ± 95 % half-width, and says 'not measured' instead of a number", () => {
    const f = makeFacts([
      ...runs("scratch", 0.6, { k: 10 }),
      ...runs("scratch", 0.4, { k: 1 }),
      ...runs("scratch", 0.9, { k: null }),
    ]);
    expect(f.find({ method: "scratch", k: "few" })?.labelsPerClass).toBe(1);
    expect(f.find({ method: "scratch", k: "many" })?.labelsPerClass).toBeNull();
    // P1 has sd 0.0158 over 5 seeds: half-width t(0.975, 4) · sd / √5 = 2.776 · 0.00707 = 0.0196.
    expect(f.citeAccuracy({ method: "scratch", k: 10 })).toBe("60.0 ± 2.0 % [02 scratch, mild, k=10, 5 seeds]");
    expect(f.citeAccuracy({ method: "lora-r4" })).toBe(NOT_MEASURED);
    expect(f.citeRetention({ method: "scratch" })).toBe(NOT_MEASURED);
    expect(f.citeParams({ method: "scratch", k: 10 })).toBe("259,274 [02 scratch, mild, k=10, 5 seeds]");
  });

  it("stands for a query with the configuration chosen on validation, not on test", () => {
    const f = makeFacts(fullResults());
    // full-ft@lr=1e-3 is 3 points better on test but 10 points worse on validation.
    const arm = f.arm({ lesson: "02", method: { kind: "full-ft", layerDecay: null }, task: "mild", k: 5 });
    expect(arm?.row.method).toBe("full-ft");
    expect(arm?.chosenBy).toBe("validation");
    expect(arm?.candidates.map((c) => c.method)).toEqual(["full-ft", "full-ft@lr=1e-3"]);
    expect(f.citeAccuracy({ lesson: "02", method: { kind: "full-ft", layerDecay: null }, task: "mild", k: 5 })).toMatch(
      /^80\.0 ± 2\.0 % \[02 full-ft, mild, k=5, 5 seeds; best of 2 on validation\]$/,
    );
    // Without validation accuracy the first recorded stands, and the citation says so.
    const noVal = makeFacts([...runs("full-ft", 0.5, { val: null }), ...runs("full-ft@lr=1e-3", 0.9, { val: null })]);
    expect(noVal.arm({ method: { kind: "full-ft" } })).toMatchObject({ chosenBy: "first recorded" });
    expect(noVal.citeAccuracy({ method: { kind: "full-ft" } })).toMatch(/first of 2 \(no validation accuracy\)/);
    // Lessons in the query's order: the first lesson that measured it.
    expect(f.arm({ lesson: ["03", "02"], method: { kind: "head-only" }, task: "mild", k: 5 })?.lesson).toBe("03");
  });
});

describe("verdicts: every comparison paired by seed within one lesson, task and budget", () => {
  const f = makeFacts(fullResults());

  it("holds, with Δ, its 95 % interval and n", () => {
    const v = f.compare(
      "transfer beats scratch",
      { lesson: "02", method: "full-ft", task: "mild", k: 1 },
      { method: "scratch" },
    );
    expect(v.measured).toBe(true);
    expect(v.comparison.verdict).toBe("holds");
    expect(v.comparison.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(v.b?.labelsPerClass).toBe(1); // b at a's budget
    expect(v.text).toMatch(
      /^transfer beats scratch: holds \(Δ \+32\.0 points, 95 % CI \[\+\d+\.\d, \+\d+\.\d\], n = 5\); 72\.0 ± 2\.0 % \[02 full-ft, mild, k=1/,
    );
  });

  it("is not significant when the interval straddles the claim", () => {
    const v = f.compare(
      "full fine-tuning beats scratch at 50",
      { lesson: "02", method: "full-ft", task: "mild", k: 50 },
      { method: "scratch" },
    );
    expect(v.comparison.verdict).toBe("not significant");
    expect(v.text).toMatch(VERDICT);
  });

  it("is contradicted when the interval shows the opposite", () => {
    const v = f.compare(
      "a frozen base beats full fine-tuning",
      { lesson: "02", method: "head-only", task: "mild", k: 5 },
      { method: { kind: "full-ft", layerDecay: null } },
    );
    expect(v.comparison.verdict).toBe("contradicted");
    expect(v.comparison.diff?.mean).toBeCloseTo(-0.05, 10);
  });

  it("judges 'less', 'within' and non-inferiority claims, and any per-run field", () => {
    const forg = f.compare(
      "LoRA forgets less",
      { lesson: "04", method: "lora-r4+source-head" },
      { method: "full-ft+source-head" },
      { direction: "less", field: "forgetting" },
    );
    expect(forg.comparison.verdict).toBe("holds");
    expect(forg.text).toContain("points [04 lora-r4+source-head");
    const within = f.compare(
      "r16 within 2 points of r4",
      { lesson: "04", method: "lora-r16+source-head" },
      { method: "lora-r4+source-head" },
      { direction: "within", margin: 0.02 },
    );
    expect(within.comparison.verdict).toBe("holds"); // same pattern: Δ exactly +1.0
    const steps = f.compare(
      "a head-only step is faster",
      { lesson: "04", method: "head-only+source-head", field: (r) => (r.seconds as number) / 100 },
      { method: "full-ft+source-head", field: (r) => (r.seconds as number) / 100 },
      { direction: "less", unit: "ms", scale: 1000, digits: 2 },
    );
    expect(steps.comparison.text).toMatch(/^holds \(Δ −10\.00 ms/);
  });

  it("pairs only seeds both sides measured", () => {
    const g = makeFacts([...runs("full-ft", 0.8), ...runs("scratch", 0.5, { seeds: [3, 4, 5, 6] })]);
    const v = g.compare("transfer beats scratch", { method: "full-ft" }, { method: "scratch" });
    expect(v.comparison.seeds).toEqual([3, 4]);
    expect(v.comparison.unpaired).toEqual([0, 1, 2, 5, 6]);
  });

  it("says 'not measured' — never a number — when a side is missing or they share no lesson, task and budget", () => {
    const missingA = f.compare("x", { method: "lora-r64" }, { method: "scratch" });
    expect(missingA).toMatchObject({ measured: false, text: `x: ${NOT_MEASURED} (the first side was not measured)` });
    expect(missingA.comparison).toMatchObject({ verdict: "not significant", seeds: [] });
    expect(f.compare("x", { method: "scratch" }, { method: "lora-r64" }).text).toContain(
      "the second side was not measured",
    );
    // LoRA (lesson 04) and scratch (lessons 02, 03) are never in one lesson: no pairing across lessons.
    const apart = f.compare("x", { lesson: "04", method: "lora-r4+source-head" }, { method: "scratch" });
    expect(apart.text).toContain("not measured in one lesson, task and budget together");
    // Nor across tasks.
    expect(
      f.compare("x", { lesson: "03", method: "head-only", task: "mild" }, { method: "scratch", task: "inverted" })
        .measured,
    ).toBe(false);
  });
});

describe("the table and plots", () => {
  it("builds one row per lesson/method/task with few and many budgets, as mean ± 95 % half-width", () => {
    const rows = comparisonRows(makeFacts(fullResults()));
    const ft = rows.find((r) => r.lesson === "02" && r.method === "full-ft" && r.task === "mild");
    expect(ft).toMatchObject({ fewK: 1, manyK: 50, trainableParams: TOTAL });
    expect(ft?.fewAccuracy).toBeCloseTo(0.72, 10);
    expect(ft?.forgetting).toBeCloseTo(0.05, 10);
    const table = comparisonTableRows(rows);
    const cell = table.find((r) => r.method === "full-ft" && r.lesson === "02" && r.task === "mild");
    expect(cell).toMatchObject({
      "test few %": "72.0 ± 2.0",
      "test many %": "90.5 ± 2.0",
      "forgetting (points)": "5.0 ± 1.0",
    });
    expect(table.find((r) => r.method === "zero-shot")?.["few k"]).toBe("0");
    expect(coverageRows(fullResults()).map((r) => r.lesson)).toEqual(["01", "02", "03", "04", "05", "10"]);
  });

  it("plots accuracy by method with 95 % error bars, accuracy vs parameters on a log axis, forgetting, and the transfer curve", () => {
    const facts = makeFacts(fullResults());
    const rows = comparisonRows(facts);
    const bar = accuracyBarPlot(rows, "mild");
    expect(bar.data.reduce((n, t) => n + (t.y?.length ?? 0), 0)).toBe(rows.filter((r) => r.task === "mild").length);
    expect((bar.data[0].error_x as { array: number[] }).array[0]).toBeCloseTo(1.96, 1);
    expect(() => accuracyBarPlot(rows, "heavy")).toThrow(/no results on task "heavy"/);
    expect((accuracyVsParamsPlot(rows).layout.xaxis as { type: string }).type).toBe("log");
    expect(forgettingPlot(rows).data.length).toBeGreaterThan(1);
    expect(() => forgettingPlot(comparisonRows(makeFacts(runs("scratch", 0.5))))).toThrow(
      /no results record forgetting/,
    );
    const curve = transferCurvePlot(facts);
    expect(curve?.data.map((t) => t.name)).toEqual(["scratch", "frozen base + head", "full fine-tuning"]);
    // Each budget's full fine-tuning is the rate chosen on validation (the default here), not the best on test.
    (curve?.data[2].y as number[]).forEach((y, i) => expect(y).toBeCloseTo([72, 80, 90.5][i], 10));
    expect(transferCurvePlot(makeFacts([]))).toBeNull();
  });
});

describe("recommendStrategy: the method best on validation among those measured for the situation", () => {
  const facts = makeFacts(fullResults());
  const pick = (labels: number, similarity: Similarity, compute: Compute, keepSource = false, f: Facts = facts) =>
    recommendStrategy({ labels, similarity, compute, keepSource, facts: f });

  it("reaches each measured strategy through the rows, and 'not measured' where nothing stands for the case", () => {
    const cases: [Strategy, string | null, ReturnType<typeof pick>][] = [
      ["head-only", "head-only", pick(5, "similar", "low")],
      ["lora", "lora-r4+source-head", pick(5, "similar", "medium")],
      ["fine-tune", "full-ft", pick(5, "similar", "high")],
      ["lora", "lora-r16+source-head", pick(5, "similar", "high", true)],
      ["scratch", "scratch", pick(50, "similar", "high")],
      ["fine-tune-early-layers", "tune-hidden1@lr=1e-3", pick(5, "input-shift", "high")],
      ["tune-layers", "tune-hidden4@lr=1e-3", pick(5, "input-shift", "medium")],
      ["fine-tune", "full-ft@lr=1e-3", pick(60, "input-shift", "high")],
      ["scratch", "scratch", pick(20, "new-classes", "high")],
      ["head-only", "head-only", pick(20, "new-classes", "low")],
      ["not measured", null, pick(5, "unrelated", "high")],
      ["not measured", null, pick(1, "input-shift", "high")],
      ["not measured", null, pick(5, "new-classes", "high")],
    ];
    for (const [strategy, method, got] of cases) {
      expect(got.strategy, got.markdown).toBe(strategy);
      expect(got.method, got.markdown).toBe(method);
    }
  });

  it("judges at the largest measured budget not above the labels given, and says so", () => {
    const r = pick(30, "similar", "high");
    expect(r.measuredAt).toEqual({ lesson: "02", task: "mild", labelsPerClass: 5 });
    expect(r.evidence[0]).toMatch(
      /^Judged at 5 labels\/class on mild \(the largest measured budget not above your 30\)/,
    );
    expect(measuredBudgets(facts, "mild")).toEqual([1, 5, 50]);
    expect(measuredBudgets(facts, "inverted")).toEqual([5, 50]);
    expect(pick(1, "input-shift", "high").evidence[0]).toMatch(/smallest measured budget is 5 labels\/class/);
  });

  it("backs the choice with paired verdicts: against scratch, the runner-up, the unconstrained best, and forgetting", () => {
    const r = pick(5, "similar", "medium");
    const claims = r.verdicts.map((v) => v.claim);
    expect(claims).toContain("lora-r4+source-head beats the runner-up on validation, lora-r4+source-head@lr=1e-3");
    expect(claims.some((c) => c.includes("the best on validation without your constraints"))).toBe(true);
    // Lesson 04 measured no scratch: that verdict says so instead of pairing across lessons.
    const vsScratch = r.verdicts.find((v) => v.claim.includes("training from scratch"));
    expect(vsScratch?.measured).toBe(false);
    expect(vsScratch?.text).toContain("the second side was not measured in lesson 04");
    // ... and asks a lesson that measured scratch there what transfer gains, within your compute.
    const elsewhere = r.verdicts.find((v) => v.claim.startsWith("In lesson 02, "));
    expect(elsewhere?.claim).toBe(
      "In lesson 02, head-only (its best on validation within your memory budget) beats training from scratch",
    );
    expect(elsewhere?.comparison.verdict).toBe("holds");
    const forg = r.verdicts.find((v) => v.claim.includes("forgets less"));
    expect(forg?.comparison.verdict).toBe("holds");
    const high = pick(5, "similar", "high");
    expect(high.verdicts[0].claim).toBe("full-ft beats training from scratch");
    expect(high.verdicts[0].comparison.verdict).toBe("holds");
    const scratch = pick(50, "similar", "high");
    expect(scratch.verdicts[0].claim).toMatch(/^Scratch beats the best transfer method on validation \(full-ft\)/);
    expect(scratch.verdicts[0].comparison.verdict).toBe("not significant");
  });

  it("keeps the source by choosing only among methods that leave the source weights intact", () => {
    const r = pick(5, "similar", "high", true);
    expect(r.markdown).toContain("the source task must keep working");
    expect(pick(20, "new-classes", "high", true).method).toBe("head-only");
    expect(pick(50, "input-shift", "low", true).strategy).toBe("head-only");
  });

  it("every reason is a verdict, a citation or 'not measured'; the markdown has no holes", () => {
    for (const sim of SIMILARITIES)
      for (const labels of [1, 5, 20, 50, 100])
        for (const compute of COMPUTES) {
          const r = pick(labels, sim, compute);
          expect(r.evidence.length).toBeGreaterThanOrEqual(1);
          for (const e of r.evidence)
            expect(e, `${sim}/${labels}/${compute}`).toMatch(
              new RegExp(`${VERDICT.source}|\\[\\d\\d |${NOT_MEASURED}`),
            );
          expect(r.markdown).toContain(`**Recommendation: ${r.strategy}**`);
          expect(r.markdown).not.toMatch(/undefined|NaN/);
        }
    const empty = pick(5, "similar", "medium", false, makeFacts([]));
    expect(empty.strategy).toBe("not measured");
    expect(empty.evidence.join(" ")).toContain(NOT_MEASURED);
  });

  it("reads the recorded results of the current scale by default", () => {
    const dir = tmp();
    process.env.TRANSFER_LAB_CACHE = dir;
    process.env.LESSON_SCALE = "smoke";
    for (const r of fullResults()) recordResult(r, dir);
    recordResult({ ...runs("lora-r8+source-head", 0.99, { lesson: "04", params: 16000 })[0], scale: "default" }, dir);
    expect(recommendStrategy({ labels: 5, similarity: "similar", compute: "medium" }).method).toBe(
      "lora-r4+source-head",
    );
  });

  it("rejects bad arguments naming the value and the choices", () => {
    expect(() => pick(0, "similar", "low")).toThrow(/labels must be a positive number of labels per class, got 0/);
    expect(() => pick(5, "close" as never, "low")).toThrow(
      /similarity must be one of similar, input-shift, new-classes, unrelated, got "close"/,
    );
    expect(() => pick(5, "similar", "huge" as never)).toThrow(/compute must be one of low, medium, high, got "huge"/);
  });
});

describe("transferCrossover: where transfer stops beating scratch, as paired verdicts per budget", () => {
  it("is the budget after the last one where transfer holds, when it holds at no larger one", () => {
    const c = transferCrossover(makeFacts(fullResults()));
    expect(c.labels).toBe(50);
    expect(c.verdicts.map((v) => v.comparison.verdict)).toEqual(["holds", "holds", "not significant"]);
    expect(c.source).toMatch(
      /^measured: from 50 labels\/class on, transfer is no longer shown to pay over scratch \(not significant there and at every larger budget: no difference shown either way/,
    );
    // The transfer side is the configuration best on validation at each budget.
    expect(c.verdicts[0].claim).toBe("At 1 label/class, transfer (full-ft, best on validation) beats scratch");
  });

  it("reports no crossover when transfer holds everywhere, and 'not measured' without a sweep", () => {
    const f = makeFacts(fullResults().filter((r) => r.labelsPerClass !== 50));
    expect(transferCrossover(f)).toMatchObject({ labels: null });
    expect(transferCrossover(f).source).toMatch(
      /^no crossover measured: transfer beats scratch significantly at the largest measured budget \(2 of 2 budgets hold; 1-5 labels\/class, lesson 02\)/,
    );
    // A budget where transfer does not hold below one where it does is noise, not a crossover.
    const noisy = fullResults().map((r) =>
      r.lesson === "02" && r.task === "mild" && r.labelsPerClass === 1 && r.method !== "scratch"
        ? { ...r, accuracy: 0.41 }
        : r,
    );
    expect(transferCrossover(makeFacts(noisy)).verdicts.map((v) => v.comparison.verdict)[0]).not.toBe("holds");
    expect(transferCrossover(makeFacts(noisy)).labels).toBe(50);
    const none = makeFacts(fullResults().filter((r) => r.labelsPerClass === 50));
    expect(transferCrossover(none)).toMatchObject({ labels: null });
    expect(transferCrossover(none).source).toMatch(/at none of the measured budgets \(50-50 labels\/class/);
    expect(transferCrossover(makeFacts([]))).toMatchObject({ labels: null, verdicts: [] });
    expect(transferCrossover(makeFacts([])).source).toContain(NOT_MEASURED);
  });
});

describe("interview checkpoint", () => {
  it("chooses the winner on validation, reports its test accuracy, and judges it against the runner-up", () => {
    const rows = [
      ...runs("full-ft", 0.8, { val: 0.84 }),
      ...runs("lora-r4+source-head", 0.82, { val: 0.83, params: 8138, pattern: P2 }), // best on test, not on validation
      ...runs("head-only", 0.7, { val: 0.825, forgetting: 0 }),
      ...runs("scratch", 0.5, { val: 0.5, pattern: P2 }),
    ];
    const w = chooseWinner(makeFacts(rows));
    expect(w.k).toBe(5);
    expect(w.winner?.method).toBe("full-ft");
    expect(w.ranking.map((r) => r.method)).toEqual(["full-ft", "lora-r4+source-head", "head-only", "scratch"]);
    expect(w.runnerUp?.method).toBe("lora-r4+source-head");
    const [vsRunnerUp, vsScratch] = w.verdicts;
    expect(vsRunnerUp.claim).toBe("Q1: the winner full-ft beats the runner-up on validation, lora-r4+source-head");
    expect(vsRunnerUp.comparison.verdict).toBe("not significant");
    expect(vsScratch.comparison.verdict).toBe("holds");
    // Q2: within 2 points on validation with the fewest weights: head-only (650), non-inferiority judged on test.
    expect(w.cheapest?.method).toBe("head-only");
    const q2 = w.verdicts.find((v) => v.claim.startsWith("Q2"));
    expect(q2?.claim).toBe("Q2: head-only is at most 2 points below the winner");
    expect(q2?.comparison.verdict).toBe("contradicted");
    expect(chooseWinner(makeFacts([])).winner).toBeNull();
  });

  it("compares forgetting (not retention) in pairs stated beforehand, and the input shift", () => {
    const f = makeFacts(fullResults());
    const forg = forgettingVerdicts(f);
    expect(forg.map((v) => v.comparison.verdict)).toEqual(["holds", "holds", "holds"]);
    expect(forg[0].claim).toMatch(/higher base rate forgets more/);
    expect(forg[0].a?.row.method).toBe("full-ft@lr=1e-3");
    expect(forg[0].b?.row.method).toBe("full-ft");
    expect(forgettingVerdicts(makeFacts([]))[0].text).toContain("no lesson recorded full fine-tuning at two rates");
    const shift = inputShiftVerdicts(f);
    expect(shift.map((v) => v.comparison.verdict)).toEqual(["holds", "holds", "holds"]);
    expect(shift[2].a?.row.method).toBe("full-ft@lr=1e-3"); // the rate chosen on validation
    expect(shift[2].a?.lesson).toBe("10");
  });

  it("gathers a small table and every verdict for the notebook's one code cell", () => {
    const c = interviewCheckpoint(makeFacts(fullResults()));
    expect(c.table.map((r) => r.role)).toEqual([
      "Q1 winner on validation (5 labels/class)",
      "Q1 runner-up in its lesson",
      "Q1 full fine-tuning",
      "Q1 scratch",
      "Q2 fewest weights within 2 points on validation",
      "Q4 most forgetting (mean)",
      "Q4 least forgetting (mean)",
    ]);
    expect(c.table[0]["test % (95 % CI)"]).toMatch(/^\d+\.\d ± \d+\.\d$/);
    for (const q of ["Q1", "Q3", "Q4", "Q5"])
      expect(
        c.verdicts.some((v) => v.claim.startsWith(q)),
        q,
      ).toBe(true);
    for (const v of c.verdicts) expect(v.comparison.text).toMatch(/^(holds|not significant|contradicted) \(/);
    const empty = interviewCheckpoint(makeFacts([]));
    expect(empty.table).toEqual([]);
    for (const v of empty.verdicts) expect(v.measured).toBe(false);
  });
});

describe("question bank", () => {
  it("covers every required topic, and nothing else", () => {
    expect(Object.keys(REVIEW_TOPICS).sort()).toEqual(Object.keys(REQUIRED_TOPICS).sort());
    for (const topic of Object.keys(REQUIRED_TOPICS) as ReviewTopic[])
      expect(QUESTION_BANK.filter((q) => q.topic === topic).length, `topic ${topic} has no question`).toBeGreaterThan(
        0,
      );
    expect(new Set(QUESTION_BANK.map((q) => q.id)).size).toBe(QUESTION_BANK.length);
  });

  it("answers each topic with its key ideas", () => {
    const facts = makeFacts(fullResults());
    for (const [topic, patterns] of Object.entries(REQUIRED_TOPICS)) {
      const text = QUESTION_BANK.filter((q) => q.topic === topic)
        .map((q) => [q.answer(facts), ...q.followUps.map((f) => f.answer(facts))].join("\n"))
        .join("\n");
      for (const p of patterns) expect(text, `topic ${topic}`).toMatch(p);
    }
  });

  it("states comparisons as paired verdicts and numbers as mean ± 95 % half-width", () => {
    const facts = makeFacts(fullResults());
    const md = renderQuestions(facts);
    expect(md).toMatch(
      /mild shift: a frozen base \+ head beats full fine-tuning, fewest labels — contradicted \(Δ −2\.0 points/,
    );
    expect(md).toMatch(/lesson 04: LoRA r=4 forgets less than full fine-tuning — holds \(Δ −6\.0 points/);
    expect(md).toMatch(/class split: a frozen base \+ fresh head loses to scratch \(negative transfer\) — holds/);
    expect(md).toMatch(
      /lesson 01: pretraining shrinks the gradient ratio head \/ layer 1 \(log10\) — holds \(Δ \+4\.7 orders of magnitude/,
    );
    expect(md).toMatch(
      /lesson 03, mild: plain tfjs loses task-A accuracy against Keras' rule with no base weight trained — holds/,
    );
    expect(md).toMatch(
      /an epoch with the base frozen takes less time than one training everything — holds \(Δ −0\.100 s/,
    );
    expect(md).toContain("1.0e+6 [01 scratch-historical, geometric mean of 5 runs]");
    expect(md).toContain("77.0 ± 2.0 % [01 scratch-modern, clean, all labels, 5 seeds]");
    expect(md).toMatch(/2,074,192 bytes of Adam state for 259,274 trainable weights/);
    expect(md).not.toMatch(/undefined|NaN|\[object Object\]/);
    expect(secondsPerStep(facts, { lesson: "04", method: "head-only+source-head" })).toBeCloseTo(0.01, 10);
  });

  it("collects every verdict the bank states, one row per claim, for a verdict table", () => {
    const facts = makeFacts(fullResults());
    const verdicts = questionVerdicts(facts);
    expect(verdicts.length).toBeGreaterThan(20);
    expect(new Set(verdicts.map((v) => v.claim)).size).toBe(verdicts.length);
    expect(verdicts.filter((v) => v.measured).every((v) => v.comparison.diff !== null)).toBe(true);
    expect(questionVerdicts(facts, { topics: ["batchnorm"] }).map((v) => v.claim)).toEqual([
      "lesson 03, mild: plain tfjs loses task-A accuracy against Keras' rule with no base weight trained",
    ]);
  });

  it("says 'not measured' instead of inventing numbers when nothing was recorded", () => {
    const md = renderQuestions(makeFacts([]));
    expect(md).toContain(NOT_MEASURED);
    expect(md).not.toMatch(/\d+\.\d %/);
    expect(md).not.toMatch(/undefined|NaN/);
  });

  it("renders chosen topics only, and rejects unknown ones", () => {
    const md = renderQuestions(makeFacts([]), { topics: ["batchnorm"] });
    expect(md).toContain(REVIEW_TOPICS.batchnorm);
    expect(md).not.toContain(REVIEW_TOPICS.lora);
    expect(() => renderQuestions(makeFacts([]), { topics: ["rlhf" as ReviewTopic] })).toThrow(/unknown topic "rlhf"/);
  });
});

describe("fillMissingResults", () => {
  const fake = (lesson: string, fail = false): LessonFiller => ({
    lesson,
    description: `fake experiment ${lesson}`,
    async run(ctx) {
      if (fail) throw new Error("boom");
      return [recordResult({ ...runs("scratch", 0.5)[0], lesson, scale: ctx.scale, backend: ctx.backend }, ctx.dir)];
    },
  });

  it("runs only the lessons with no results at the scale, and reports failures without stopping", async () => {
    const dir = tmp();
    recordResult({ ...runs("scratch", 0.5)[0], lesson: "01" }, dir);
    recordResult({ ...runs("scratch", 0.5)[0], lesson: "02", scale: "default" }, dir);
    const reports = await fillMissingResults({
      scale: "smoke",
      backend: "cpu",
      dir,
      fillers: { "01": fake("01"), "02": fake("02"), "03": fake("03", true) },
    });
    expect(reports.map((r) => [r.lesson, r.status, r.results])).toEqual([
      ["01", "recorded", 1],
      ["02", "filled", 1],
      ["03", "failed", 0],
    ]);
    expect(reports[2].note).toBe("boom");
    expect(readResults({ dir, scale: "smoke", lesson: "02" })).toHaveLength(1);
    const md = describeFills(reports, "smoke");
    expect(md).toMatch(/Not run at scale smoke, so run now by this notebook/);
    expect(md).toMatch(/lesson 02: fake experiment 02 — 1 results/);
    expect(md).toMatch(/lesson 03: \*\*its experiment failed\*\* \(boom\)/);
    expect(describeFills([], "smoke")).toMatch(/switched off/);
  });

  it("fills a real lesson (04, smoke) into an empty cache without leaking tensors", async () => {
    const dir = tmp();
    process.env.TRANSFER_LAB_CACHE = dir;
    await tf.setBackend("cpu");
    const before = tf.memory().numTensors;
    const [report] = await fillMissingResults({ scale: "smoke", backend: "cpu", lessons: ["04"] });
    expect(report).toMatchObject({ lesson: "04", status: "filled" });
    expect(tf.memory().numTensors).toBe(before);
    const rows = readResults({ dir, lesson: "04", scale: "smoke" });
    expect(rows.length).toBe(report.results);
    expect(rows.every((r) => typeof r.valAccuracy === "number" && r.protocol === PROTOCOL_VERSION)).toBe(true);
    // Every method at each of the lesson's candidate rates: the review picks the rate on validation.
    expect(new Set(rows.map((r) => parseMethod(r.method)?.kind))).toEqual(new Set(["head-only", "lora", "full-ft"]));
    const facts = makeFacts(rows);
    for (const q of [queryAt("loraR4", "few"), queryAt("loraFullFt", "few"), queryAt("loraHeadOnly", "few")])
      expect(facts.arm(q)?.chosenBy, JSON.stringify(q.method)).toBe("validation");
  }, 300_000);

  it("records the guide's own rows (lesson 10: inverted digits at lesson 02's largest budget) for real", async () => {
    const dir = tmp();
    process.env.TRANSFER_LAB_CACHE = dir;
    await tf.setBackend("cpu");
    const before = tf.memory().numTensors;
    const [report] = await fillMissingResults({ scale: "smoke", backend: "cpu", lessons: ["10"] });
    expect(report).toMatchObject({ lesson: "10", status: "filled" });
    expect(tf.memory().numTensors).toBe(before);
    const rows = readResults({ dir, lesson: "10", scale: "smoke" });
    expect(new Set(rows.map((r) => r.method)).size).toBe(guideVariants("smoke").length);
    expect(new Set(rows.map((r) => parseMethod(r.method)?.kind))).toEqual(new Set(["scratch", "head-only", "full-ft"]));
    expect(new Set(rows.map((r) => `${r.task} ${r.labelsPerClass}`))).toEqual(new Set(["inverted 5"]));
    expect(rows.every((r) => typeof r.valAccuracy === "number")).toBe(true);
    expect(makeFacts(rows).arm({ lesson: "10", method: { kind: "full-ft", layerDecay: null } })?.chosenBy).toBe(
      "validation",
    );
  }, 300_000);

  it("has an experiment for every lesson 01-05 and the guide's rows (10), and rejects an unknown lesson", async () => {
    expect(Object.keys(LESSON_FILLERS).sort()).toEqual(["01", "02", "03", "04", "05", "10"]);
    await expect(fillMissingResults({ backend: "cpu", lessons: ["09"], dir: tmp() })).rejects.toThrow(
      /no experiment for lesson "09"/,
    );
  });
});

describe("each run once, comparable rows only, and answers that follow the verdicts", () => {
  const TEN = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  /** What lesson 04's recordLoraArms appends: the chosen rate's runs again, under the plain name. */
  const chosenCopies = (rows: ResultRecord[], plain: string): ResultRecord[] =>
    rows.map((r) => ({
      ...r,
      method: plain,
      extra: { ...r.extra, chosenOn: "validation", candidateRates: "1e-4,1e-3" },
    }));

  it("drops lesson 04's copies of its chosen runs, so no configuration shows twice or meets itself", () => {
    const chosen = runs("lora-r8+source-head@lr=1e-3", 0.8, {
      lesson: "04",
      params: 16000,
      val: 0.85,
      forgetting: 0.02,
    });
    const rows = [
      ...runs("head-only+source-head", 0.6, { lesson: "04", params: 650, forgetting: 0 }),
      ...chosen,
      ...runs("lora-r8+source-head@lr=1e-4", 0.7, { lesson: "04", params: 16000, pattern: P2, forgetting: 0.01 }),
      ...runs("full-ft+source-head@lr=1e-4", 0.78, { lesson: "04", val: 0.8, pattern: P2, forgetting: 0.1 }),
      ...chosenCopies(chosen, "lora-r8+source-head"),
    ];
    expect(dropChosenCopies(rows)).toHaveLength(rows.length - chosen.length);
    // A copy whose candidate is not there stays; so does a "copy" whose numbers differ.
    expect(dropChosenCopies(chosenCopies(chosen, "lora-r8+source-head"))).toHaveLength(chosen.length);
    const odd = chosenCopies(chosen, "lora-r8+source-head").map((r) => ({ ...r, accuracy: r.accuracy + 0.01 }));
    expect(dropChosenCopies([...chosen, ...odd])).toHaveLength(2 * chosen.length);
    const f = makeFacts(rows);
    expect(f.summary.map((s) => s.method)).not.toContain("lora-r8+source-head");
    expect(comparisonRows(f).filter((r) => r.method.startsWith("lora-r8"))).toHaveLength(2);
    expect(coverageRows(rows, ["04"])[0].results).toBe(4 * 5);
    const w = chooseWinner(f);
    expect(w.winner?.method).toBe("lora-r8+source-head@lr=1e-3");
    expect(w.runnerUp?.method).toBe("full-ft+source-head@lr=1e-4");
    for (const v of w.verdicts) {
      expect(v.measured, v.claim).toBe(true);
      expect(v.comparison.text).not.toMatch(/CI \[\+0\.0, \+0\.0\]/);
    }
    const rec = recommendStrategy({ labels: 5, similarity: "similar", compute: "high", facts: f });
    expect(rec.method).toBe("lora-r8+source-head@lr=1e-3");
    expect(rec.verdicts.map((v) => v.claim)).toContain(
      "lora-r8+source-head@lr=1e-3 beats the runner-up on validation, full-ft+source-head@lr=1e-4",
    );
    for (const v of rec.verdicts) expect(v.text).not.toMatch(/CI \[\+0\.0, \+0\.0\]/);
  });

  it("never compares two names for the same runs as if they were different configurations", () => {
    const f = makeFacts(fullResults());
    // Merged adapters score the same model as unmerged ones: the same numbers on every seed.
    const v = f.compare(
      "merged beats unmerged",
      { lesson: "04", method: "lora-r4-merged+source-head" },
      { method: "lora-r4+source-head" },
    );
    expect(v).toMatchObject({ measured: false, said: expect.stringMatching(/^not compared/) });
    expect(v.text).toBe(
      "merged beats unmerged: not compared (lora-r4-merged+source-head and lora-r4+source-head are the same runs, recorded under two names)",
    );
    expect(v.comparison.text).toMatch(/^not significant \(not compared: .*; n = 0\)$/);
    // Two fields of one row (epoch times) are still compared.
    expect(
      f.compare(
        "frozen epochs are faster",
        { lesson: "02", method: "feature-cache", k: null, field: (r) => r.extra?.epochSecondsFrozen },
        { method: "feature-cache", field: (r) => r.extra?.epochSecondsFull },
        { direction: "less", unit: "s", digits: 3 },
      ).measured,
    ).toBe(true);
  });

  it("ranks only rows on their lesson's full seed set, on one seed set; one seed is a measurement, not a verdict", () => {
    const rows = [
      ...runs("full-ft", 0.8, { lesson: "03", seeds: TEN, forgetting: 0.1 }),
      ...runs("head-only", 0.7, { lesson: "03", seeds: TEN, forgetting: 0 }),
      ...runs("scratch", 0.5, { lesson: "03", seeds: TEN, pattern: P2 }),
      // Lesson 03's one-seed demos: the best and the worst means, by noise.
      ...runs("schedule:progressive", 0.95, { lesson: "03", seeds: [0], forgetting: 0.01 }),
      ...runs("schedule:plain", 0.6, { lesson: "03", seeds: [0], forgetting: 0.3 }),
      // Lesson 05's ViT: its full seed set, but 5 seeds beside the MLP's 10.
      ...runs("full-ft", 0.9, { lesson: "05", params: 1000 }),
    ];
    const f = makeFacts(rows);
    const w = chooseWinner(f);
    expect(w.winner).toMatchObject({ lesson: "03", method: "full-ft" });
    expect(w.seeds).toEqual(TEN);
    expect(w.ranking.map((s) => s.method)).toEqual(["full-ft", "head-only", "scratch"]);
    expect(w.setAside.map((s) => `${s.lesson} ${s.method}`).sort()).toEqual([
      "03 schedule:plain",
      "03 schedule:progressive",
      "05 full-ft",
    ]);
    expect(recommendStrategy({ labels: 5, similarity: "similar", compute: "high", facts: f }).method).toBe("full-ft");
    // Q4's extremes of mean forgetting: a one-seed demo does not win them either.
    const table = interviewCheckpoint(f).table;
    expect(table.find((r) => r.role === "Q4 most forgetting (mean)")?.method).toBe("full-ft");
    // A comparison on one seed says so, in the answer and in the verdict table.
    const v = f.compare(
      "progressive beats plain",
      { lesson: "03", method: "schedule:progressive" },
      { method: "schedule:plain" },
    );
    expect(v.comparison.text).toBe(
      "not significant (one seed: a measurement, not a verdict: Δ +35.0 points on seed 0, n = 1)",
    );
    expect(v.said).toBe("one seed: a measurement, not a verdict (Δ +35.0 points on seed 0)");
    expect(renderQuestions(f, { topics: ["unfreezing"] })).toContain(
      "lesson 03 schedules: progressive unfreezing beats one rate — one seed: a measurement, not a verdict (Δ +35.0 points on seed 0)",
    );
    // A query that matches a full-seed row and a demo stands for the full-seed row.
    const both = makeFacts([
      ...runs("full-ft", 0.8, { lesson: "03", seeds: TEN }),
      ...runs("full-ft@lr=1e-3", 0.9, { lesson: "03", seeds: [0] }),
    ]);
    expect(both.find({ method: { kind: "full-ft" } })?.method).toBe("full-ft");
  });

  it("says transfer is no longer shown to pay, and that scratch is better only where it is", () => {
    const worse = fullResults().map((r) =>
      r.lesson === "02" && r.task === "mild" && r.labelsPerClass === 50 && r.method === "scratch"
        ? { ...r, accuracy: r.accuracy + 0.05 }
        : r,
    );
    const c = transferCrossover(makeFacts(worse));
    expect(c.labels).toBe(50);
    expect(c.verdicts[2].comparison.verdict).toBe("contradicted");
    expect(c.source).toMatch(
      /transfer is no longer shown to pay over scratch \(contradicted there and at every larger budget: scratch is significantly better/,
    );
  });

  it("writes the guide's steps from what the recorded runs did, memory (not time) for compute, and a copy of the head", () => {
    const facts = makeFacts(fullResults());
    const full = recommendStrategy({ labels: 5, similarity: "similar", compute: "high", facts });
    expect(full.steps.join(" ")).toContain("no head-first phase");
    expect(full.steps.join(" ")).not.toMatch(/stop early|Train the head first/);
    expect(full.steps[0]).toContain("(100 steps)");
    expect(full.markdown).toContain("memory budget (`compute`) *high*");
    const kept = recommendStrategy({ labels: 5, similarity: "similar", compute: "high", keepSource: true, facts });
    expect(kept.method).toBe("lora-r16+source-head");
    expect(kept.steps.join(" ")).toContain("Keep a copy of the original head");
    // The first-layer strategy names the input shift only on the input shift.
    const first = makeFacts([
      ...fullResults(),
      ...runs("tune-hidden1@lr=1e-3", 0.95, { lesson: "03", params: 201610 }),
    ]);
    const similar = recommendStrategy({ labels: 5, similarity: "similar", compute: "high", facts: first });
    expect(similar.strategy).toBe("fine-tune-early-layers");
    expect(similar.summary).not.toContain("The shift is at the input");
    const shifted = recommendStrategy({ labels: 5, similarity: "input-shift", compute: "high", facts: first });
    expect(shifted.summary).toMatch(/^The shift is at the input/);
    expect(describeGuideRows("smoke")).toMatch(
      new RegExp(`full fine-tuning at ${guideVariants("smoke").filter((v) => v.method === "full-ft").length} rates`),
    );
  });

  it("opens the input-shift answer from its verdict, and states each lesson's own margin", () => {
    const answer = (f: Facts) => {
      const q = QUESTION_BANK.find((x) => x.id === "which-layers");
      return q?.followUps[0].answer(f) ?? "";
    };
    expect(answer(makeFacts(fullResults()))).toMatch(/^No, not here:/);
    const flipped = fullResults().map((r) =>
      r.method === "tune-hidden1@lr=1e-3" ? { ...r, accuracy: r.accuracy - 0.3 } : r,
    );
    expect(answer(makeFacts(flipped))).toMatch(/^These runs do not support moving the first layers/);
    expect(answer(makeFacts([]))).toMatch(/^These runs do not settle it/);
    const md = renderQuestions(makeFacts(fullResults()));
    expect(md).toContain("lesson 05 ViT: LoRA on q, v loses at most 3 points to full fine-tuning (lesson 05's margin)");
    expect(md).toContain("lesson 04: LoRA r=4 lands within 2 points of full fine-tuning (lesson 04's margin)");
    expect(md).not.toMatch(/the shift lives in the first layers/);
  });
});
