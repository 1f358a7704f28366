// Lesson 10's library: facts over recorded results (latest per seed, few/many budgets, citations),
// the comparison table and plots, recommendStrategy's branches and threshold, the question bank's
// topic coverage (the list from the issue) and its citations, and fillMissingResults with fakes.
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { recordResult, readResults, type ResultRecord } from "../../src/store/results";
import {
  accuracyBarPlot,
  accuracyVsParamsPlot,
  comparisonRows,
  comparisonTableRows,
  coverageRows,
  latestRuns,
  makeFacts,
  NOT_MEASURED,
  retentionPlot,
  transferCurvePlot,
} from "../../src/review/review";
import {
  COMPUTES,
  DEFAULT_MANY_LABELS,
  recommendStrategy,
  SIMILARITIES,
  transferCrossover,
  type Strategy,
} from "../../src/review/strategy";
import {
  QUESTION_BANK,
  renderQuestions,
  REVIEW_TOPICS,
  secondsPerStep,
  type ReviewTopic,
} from "../../src/review/questions";
import { describeFills, fillMissingResults, LESSON_FILLERS, type LessonFiller } from "../../src/review/fill";

/** The interview themes issue 6 requires, each with words its answers must use. */
const REQUIRED_TOPICS: Record<ReviewTopic, RegExp[]> = {
  "greedy-pretraining": [/one layer at a time/, /2006/, /2007/],
  "vanishing-gradients": [/sigmoid's derivative/, /gradient/],
  "greedy-vs-freezing": [/frozen only while the next layer/, /transfer/],
  "greedy-today": [/still helps/, /unlabeled/],
  "which-layers": [/similarity/i, /labels/, /Compute/, /first layers/],
  "over-freezing": [/underfits/],
  unfreezing: [/gradual unfreezing/, /head first/],
  "discriminative-lr": [/α\^\(L−l\)/],
  batchnorm: [/moving mean and variance/, /inference mode/],
  forgetting: [/task-A accuracy/, /retention/],
  "freezing-savings": [/no weight gradients/, /optimizer state/],
  lora: [/rank/, /α\/r/, /query and value/, /[Mm]erging/],
  adapters: [/adapters/i, /LoRA/],
  combining: [/LoRA/, /discriminative/],
  "self-supervised": [/[Ss]elf-supervised/, /masked/],
};

function rec(over: Partial<ResultRecord>): ResultRecord {
  return {
    lesson: "02",
    method: "scratch",
    task: "mild",
    labelsPerClass: 5,
    accuracy: 0.5,
    backend: "cpu",
    scale: "smoke",
    seed: 0,
    ...over,
  };
}

/** A small, complete result set across lessons (accuracies chosen to exercise every branch). */
function fullResults(): ResultRecord[] {
  const rows: ResultRecord[] = [];
  for (const k of [1, 5, 50]) {
    const gain = k === 50 ? 0.01 : 0.2;
    rows.push(rec({ method: "scratch", labelsPerClass: k, accuracy: 0.5, trainableParams: 242762 }));
    rows.push(
      rec({
        method: "full-ft",
        labelsPerClass: k,
        accuracy: 0.5 + gain,
        retention: 0.9,
        trainableParams: 242762,
        seconds: 2,
        extra: { steps: 100 },
      }),
    );
    rows.push(
      rec({
        method: "head-only",
        labelsPerClass: k,
        accuracy: 0.5 + gain / 2,
        retention: 0.956,
        trainableParams: 650,
        seconds: 1,
        extra: { steps: 100 },
      }),
    );
  }
  rows.push(rec({ method: "zero-shot", labelsPerClass: null, accuracy: 0.728, retention: 0.956, trainableParams: 0 }));
  rows.push(
    rec({
      lesson: "03",
      method: "full-ft@lr=1e-3",
      labelsPerClass: 5,
      accuracy: 0.72,
      retention: 0.86,
      trainableParams: 242762,
    }),
  );
  for (const [task, none, all] of [
    ["mild", 0.7, 0.62],
    ["inverted", 0.6, 0.3],
  ] as const) {
    rows.push(
      rec({ lesson: "03", method: "full-ft@lr=1e-3", task, accuracy: none, retention: 0.9, trainableParams: 242762 }),
    );
    rows.push(
      rec({
        lesson: "03",
        method: "freeze-0.50",
        task,
        accuracy: (none + all) / 2,
        retention: 0.93,
        trainableParams: 8906,
      }),
    );
    rows.push(rec({ lesson: "03", method: "head-only", task, accuracy: all, retention: 0.956, trainableParams: 650 }));
  }
  rows.push(
    rec({ lesson: "03", method: "tune-hidden1", task: "inverted", accuracy: 0.72 }),
    rec({ lesson: "03", method: "tune-hidden3", task: "inverted", accuracy: 0.55 }),
  );
  rows.push(rec({ lesson: "03", method: "scratch", task: "inverted", accuracy: 0.65 }));
  for (const [method, acc, ret] of [
    ["schedule:plain", 0.66, 0.88],
    ["schedule:discriminative", 0.68, 0.9],
    ["schedule:two-phase", 0.67, 0.91],
    ["schedule:progressive", 0.69, 0.93],
  ] as const) {
    rows.push(rec({ lesson: "03", method, accuracy: acc, retention: ret }));
  }
  rows.push(
    rec({ lesson: "03", method: "bn-frozen:plain", accuracy: 0.4, retention: 0.71 }),
    rec({ lesson: "03", method: "bn-frozen:keras", accuracy: 0.45, retention: 0.95 }),
  );
  rows.push(
    rec({
      method: "feature-cache",
      labelsPerClass: null,
      accuracy: 0.6,
      extra: {
        epochSecondsFull: 0.2,
        epochSecondsFrozen: 0.1,
        epochSecondsCached: 0.01,
        flopRatio: 0.34,
        speedupPerEpoch: 10,
      },
    }),
  );
  rows.push(
    rec({ lesson: "04", method: "lora-r4+source-head@lr=1e-3", accuracy: 0.69 }),
    rec({ lesson: "04", method: "lora-r4+source-head@lr=1e-4", accuracy: 0.61 }),
  );
  for (const [method, acc, params] of [
    ["head-only+source-head", 0.6, 650],
    ["lora-r1+source-head", 0.64, 1800],
    ["lora-r4+source-head", 0.69, 7000],
    ["lora-r16+source-head", 0.7, 28000],
    ["full-ft+source-head", 0.71, 242762],
  ] as const) {
    rows.push(
      rec({
        lesson: "04",
        method,
        accuracy: acc,
        retention: method === "full-ft+source-head" ? 0.91 : 0.94,
        trainableParams: params,
        seconds: 1,
        extra: { steps: 50 },
      }),
    );
  }
  for (const [method, acc] of [
    ["scratch", 0.867],
    ["head-only", 0.64],
    ["full-ft", 0.863],
  ] as const)
    rows.push(rec({ method, task: "class-split", labelsPerClass: 20, accuracy: acc }));
  for (const seed of [0, 1]) {
    rows.push(
      rec({
        lesson: "01",
        method: "scratch-historical",
        task: "clean",
        labelsPerClass: 10,
        accuracy: 0.1,
        seed,
        extra: { gradientRatio: 1e6 },
      }),
    );
    rows.push(
      rec({
        lesson: "01",
        method: "greedy-pretrained",
        task: "clean",
        labelsPerClass: 10,
        accuracy: 0.765,
        seed,
        extra: { gradientRatio: 20 },
      }),
    );
    rows.push(
      rec({ lesson: "01", method: "scratch-modern", task: "clean", labelsPerClass: 10, accuracy: 0.765, seed }),
    );
  }
  for (const [method, acc] of [
    ["head-only", 0.5],
    ["freeze-blocks-1", 0.55],
    ["freeze-blocks-2", 0.58],
    ["full-ft", 0.6],
    ["lora-qv-r4", 0.59],
  ] as const)
    rows.push(rec({ lesson: "05", method, accuracy: acc, trainableParams: 1000 }));
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

describe("facts over recorded results", () => {
  it("keeps the latest run per seed, so re-running a lesson replaces its numbers", () => {
    const rows = [rec({ accuracy: 0.1 }), rec({ accuracy: 0.3, seed: 1 }), rec({ accuracy: 0.2 })];
    expect(latestRuns(rows).map((r) => r.accuracy)).toEqual([0.3, 0.2]);
    const s = makeFacts(rows).find({ method: "scratch" });
    expect(s?.runs).toBe(2);
    expect(s?.accuracyMean).toBeCloseTo(0.25, 10);
  });

  it("finds the fewest and most labels ('all' counts as most) and cites where a number comes from", () => {
    const f = makeFacts([
      rec({ labelsPerClass: 10, accuracy: 0.6 }),
      rec({ labelsPerClass: 1, accuracy: 0.4 }),
      rec({ labelsPerClass: null, accuracy: 0.9 }),
    ]);
    expect(f.find({ method: "scratch", k: "few" })?.labelsPerClass).toBe(1);
    expect(f.find({ method: "scratch", k: "many" })?.labelsPerClass).toBeNull();
    expect(f.find({ method: "scratch", k: 10 })?.accuracyMean).toBe(0.6);
    expect(f.citeAccuracy({ method: "scratch", k: 10 })).toBe("60.0 % [02 scratch, mild, k=10, 1 seed]");
    expect(f.citeAccuracy({ method: "lora-r4" })).toBe(NOT_MEASURED);
    expect(f.citeRetention({ method: "scratch" })).toBe(NOT_MEASURED);
  });

  it("compares two methods at the same label budget", () => {
    const f = makeFacts([
      rec({ method: "full-ft", labelsPerClass: 5, accuracy: 0.7 }),
      rec({ labelsPerClass: 1, accuracy: 0.2 }),
      rec({ labelsPerClass: 5, accuracy: 0.5 }),
    ]);
    expect(f.gain({ method: "full-ft" }, { method: "scratch" })).toBeCloseTo(0.2, 10);
    expect(f.citeGain({ method: "full-ft" }, { method: "scratch" })).toMatch(
      /^\+20\.0 points \(70\.0 % .*k=5.* vs 50\.0 % .*k=5/,
    );
    expect(f.citeGain({ method: "full-ft" }, { method: "lora-r4" })).toBe(NOT_MEASURED);
  });

  it("builds one comparison row per lesson/method/task with few and many budgets", () => {
    const rows = comparisonRows(makeFacts(fullResults()));
    const ft = rows.find((r) => r.lesson === "02" && r.method === "full-ft" && r.task === "mild");
    expect(ft).toMatchObject({ fewK: 1, manyK: 50, trainableParams: 242762, retention: 0.9 });
    expect(ft?.fewAccuracy).toBeCloseTo(0.7, 10);
    expect(ft?.manyAccuracy).toBeCloseTo(0.51, 10);
    const table = comparisonTableRows(rows);
    expect(table[0]).toHaveProperty("acc few %");
    expect(table.find((r) => r.method === "zero-shot")?.["few k"]).toBe("0");
    expect(coverageRows(fullResults()).map((r) => r.lesson)).toEqual(["01", "02", "03", "04", "05"]);
  });

  it("plots accuracy by method, accuracy vs trainable parameters on a log axis, retention, and the transfer curve", () => {
    const facts = makeFacts(fullResults());
    const rows = comparisonRows(facts);
    const bar = accuracyBarPlot(rows, "mild");
    expect(bar.data.reduce((n, t) => n + (t.y?.length ?? 0), 0)).toBe(rows.filter((r) => r.task === "mild").length);
    expect(bar.data[0]).toMatchObject({ orientation: "h" });
    expect(() => accuracyBarPlot(rows, "heavy")).toThrow(/no results on task "heavy"/);
    expect((accuracyVsParamsPlot(rows).layout.xaxis as { type: string }).type).toBe("log");
    expect(retentionPlot(rows).data.length).toBeGreaterThan(1);
    const curve = transferCurvePlot(facts);
    expect(curve?.data.map((t) => t.name)).toEqual(["scratch", "frozen base + head", "full fine-tuning"]);
    expect(transferCurvePlot(makeFacts([]))).toBeNull();
  });
});

describe("recommendStrategy", () => {
  const facts = makeFacts(fullResults());
  const pick = (
    labels: number,
    similarity: (typeof SIMILARITIES)[number],
    compute: (typeof COMPUTES)[number],
    keepSource = false,
  ) => recommendStrategy({ labels, similarity, compute, keepSource, facts });

  it("takes the few/many threshold from lesson 02's measured crossover, else the default", () => {
    expect(transferCrossover(facts)).toMatchObject({ labels: 50 });
    expect(transferCrossover(facts).source).toMatch(/^measured: at 50 labels\/class/);
    const noCrossover = makeFacts(fullResults().filter((r) => r.labelsPerClass !== 50));
    expect(transferCrossover(noCrossover)).toMatchObject({ labels: DEFAULT_MANY_LABELS });
    expect(transferCrossover(makeFacts([])).source).toMatch(/no lesson 02 sweep recorded/);
  });

  it("reaches every strategy through its branch", () => {
    const cases: [Strategy, ReturnType<typeof pick>][] = [
      ["head-only", pick(5, "similar", "low")],
      ["lora", pick(5, "similar", "medium")],
      ["lora", pick(5, "similar", "high", true)],
      ["fine-tune", pick(5, "similar", "high")],
      ["fine-tune", pick(100, "similar", "high")],
      ["head-only", pick(100, "similar", "low")],
      ["lora", pick(100, "similar", "medium", true)],
      ["fine-tune-early-layers", pick(5, "input-shift", "low")],
      ["reuse-lower-layers", pick(5, "new-classes", "medium")],
      ["scratch", pick(100, "input-shift", "high")],
      ["scratch", pick(100, "unrelated", "low")],
      ["self-supervised-then-fine-tune", pick(1, "unrelated", "high")],
    ];
    for (const [want, got] of cases) expect(got.strategy, got.markdown).toBe(want);
    const all = new Set(cases.map(([s]) => s));
    expect(all.size).toBe(7);
  });

  it("cites measured numbers in every reason when results exist, and says 'not measured' when they do not", () => {
    for (const sim of SIMILARITIES) {
      for (const labels of [1, 5, 100]) {
        for (const compute of COMPUTES) {
          const r = pick(labels, sim, compute);
          expect(r.evidence.length).toBeGreaterThanOrEqual(2);
          for (const e of r.evidence) expect(e, `${sim}/${labels}/${compute}`).toMatch(/\[0\d /);
          expect(r.markdown).toContain(`**Recommendation: ${r.strategy}**`);
        }
      }
    }
    const empty = recommendStrategy({ labels: 5, similarity: "similar", compute: "medium", facts: makeFacts([]) });
    expect(empty.strategy).toBe("lora");
    for (const e of empty.evidence) expect(e).toContain(NOT_MEASURED);
    expect(empty.markdown).not.toMatch(/undefined|NaN/);
  });

  it("cites the right numbers: LoRA vs full fine-tuning, and the inverted-shift freeze cost", () => {
    expect(pick(5, "similar", "medium").evidence.join("\n")).toContain(
      "69.0 % [04 lora-r4+source-head, mild, k=5, 1 seed]",
    );
    expect(pick(5, "input-shift", "low").evidence[0]).toMatch(
      /^Freezing the base loses on inverted digits, freeze ratio 0 vs 1: \+30\.0 points/,
    );
    const flat = makeFacts(
      fullResults().map((r) => (r.lesson === "03" && r.method === "head-only" ? { ...r, accuracy: 0.61 } : r)),
    );
    expect(
      recommendStrategy({ labels: 5, similarity: "input-shift", compute: "low", facts: flat }).evidence[0],
    ).toMatch(/^At this scale freezing the base does not lose on inverted digits/);
  });

  it("reads the recorded results of the current scale by default", () => {
    const dir = tmp();
    process.env.TRANSFER_LAB_CACHE = dir;
    process.env.LESSON_SCALE = "smoke";
    for (const r of fullResults()) recordResult(r, dir);
    recordResult(rec({ method: "lora-r4", lesson: "04", accuracy: 0.11, scale: "default" }), dir);
    const r = recommendStrategy({ labels: 5, similarity: "similar", compute: "medium" });
    expect(r.evidence.join("\n")).toContain("69.0 % [04 lora-r4");
  });

  it("rejects bad arguments naming the value and the choices", () => {
    expect(() => recommendStrategy({ labels: 0, similarity: "similar", compute: "low", facts })).toThrow(
      /labels must be a positive number of labels per class, got 0/,
    );
    expect(() => recommendStrategy({ labels: 5, similarity: "close" as never, compute: "low", facts })).toThrow(
      /similarity must be one of similar, input-shift, new-classes, unrelated, got "close"/,
    );
    expect(() => recommendStrategy({ labels: 5, similarity: "similar", compute: "huge" as never, facts })).toThrow(
      /compute must be one of low, medium, high, got "huge"/,
    );
  });
});

describe("question bank", () => {
  it("covers every required topic, and nothing else", () => {
    expect(Object.keys(REVIEW_TOPICS).sort()).toEqual(Object.keys(REQUIRED_TOPICS).sort());
    for (const topic of Object.keys(REQUIRED_TOPICS) as ReviewTopic[]) {
      const qs = QUESTION_BANK.filter((q) => q.topic === topic);
      expect(qs.length, `topic ${topic} has no question`).toBeGreaterThan(0);
    }
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

  it("fills quantitative claims from the results, citing lesson and method", () => {
    const facts = makeFacts(fullResults());
    const md = renderQuestions(facts);
    expect(md).toContain("76.5 % ± 0.0 [01 greedy-pretrained, clean, k=10, 2 seeds]");
    expect(md).toContain("1.0e+6 [01 scratch-historical, 2 runs]");
    expect(md).toContain("69.0 % [04 lora-r4+source-head, mild, k=5, 1 seed]");
    expect(md).toMatch(/1,942,096 bytes of Adam state for 242,762 trainable weights/);
    expect(md).toContain("progressive unfreezing 69.0 % [03 schedule:progressive, mild, k=5, 1 seed]");
    expect(md).toContain("71.0 % [03 bn-frozen:plain, mild, k=5, 1 seed] in plain tfjs");
    expect(md).toContain(
      "0.200 s training everything and 0.100 s with the base frozen (0.50×; the FLOP ratio is 0.34)",
    );
    expect(md).toContain(
      "lesson 04 confirms it, lr 1e-3 vs 1e-4: +8.0 points (69.0 % [04 lora-r4+source-head@lr=1e-3, mild, k=5, 1 seed] vs 61.0 % [04 lora-r4+source-head@lr=1e-4, mild, k=5, 1 seed])",
    );
    expect(md).toMatch(
      /on mild, 71.0 % \[03 bn-frozen:plain.* vs 95.0 % \[03 bn-frozen:keras.* — plain tfjs lost task-A accuracy/,
    );
    expect(md).not.toMatch(/undefined|NaN|\[object Object\]/);
    expect(secondsPerStep(facts, { lesson: "04", method: "head-only+source-head" })).toBeCloseTo(0.02, 10);
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
      return [recordResult(rec({ lesson, scale: ctx.scale, backend: ctx.backend }), ctx.dir)];
    },
  });

  it("runs only the lessons with no results at the scale, and reports failures without stopping", async () => {
    const dir = tmp();
    recordResult(rec({ lesson: "01", scale: "smoke" }), dir);
    recordResult(rec({ lesson: "02", scale: "default" }), dir);
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
    expect(rows.map((r) => r.method)).toEqual(
      expect.arrayContaining(["head-only+source-head", "lora-r4+source-head", "full-ft+source-head"]),
    );
  }, 300_000);

  it("has an experiment for every lesson 01-05, and rejects an unknown lesson", async () => {
    expect(Object.keys(LESSON_FILLERS).sort()).toEqual(["01", "02", "03", "04", "05"]);
    await expect(fillMissingResults({ backend: "cpu", lessons: ["09"], dir: tmp() })).rejects.toThrow(
      /no experiment for lesson "09"/,
    );
  });
});
