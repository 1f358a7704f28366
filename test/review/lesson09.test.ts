// Lesson 09's runs in lesson 10's review: records under the names lesson 09 writes (peftVariantName) are found by
// the queries at the configuration lesson 09 chose on validation (the rate run on every seed; L2-SP's and EWC's
// strength on both tasks' validation), paired by seed with lesson 05's full fine-tuning and head-only (lesson 09's
// baselines), and the question bank cites lesson 09's verdicts on adapters, forgetting and combining; without lesson
// 09's records the answers say it was not measured (no numbers invented).
import fs from "fs";
import path from "path";
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, type ResultRecord } from "../../src/store/results";
import { makeFacts, NOT_MEASURED, type Facts } from "../../src/review/review";
import { PEFT_MATCH_MARGIN, QUESTION_BANK, questionVerdicts, renderQuestions } from "../../src/review/questions";
import { queryAt } from "../../src/review/queries";
import { peftVariantName, type PeftVariant } from "../../src/experiments/peft";
import { vitVariantName, type ViTVariant } from "../../src/experiments/vit";

/** Per-seed deviations: one pattern shared by two arms gives a constant difference; two patterns scatter it. */
const P1 = [0, 0.01, -0.01, 0.02, -0.02];
const P2 = [0.02, -0.02, 0, -0.01, 0.01];
/** The source ViT's task-A accuracy on every seed. */
const SOURCE_A = 0.95;

interface Arm {
  lesson?: string;
  seeds?: number[];
  pattern?: number[];
  /** Mean validation accuracy (default the test mean). */
  val?: number;
  forgetting?: number;
  params?: number;
  extra?: ResultRecord["extra"];
}

function runs(method: string, mean: number, o: Arm = {}): ResultRecord[] {
  const pattern = o.pattern ?? P1;
  return (o.seeds ?? [0, 1, 2, 3, 4]).map((seed, i) => {
    const d = pattern[i % pattern.length];
    const forgetting = (o.forgetting ?? 0.1) + d / 2;
    return {
      lesson: o.lesson ?? "09",
      method,
      task: "mild",
      labelsPerClass: 5,
      accuracy: mean + d,
      valAccuracy: (o.val ?? mean) + d,
      retention: SOURCE_A - forgetting,
      forgetting,
      trainableParams: o.params ?? 5000,
      totalParams: 100000,
      seconds: 1,
      backend: "cpu",
      scale: "smoke",
      seed,
      protocol: PROTOCOL_VERSION,
      extra: { steps: 40, ...o.extra },
    };
  });
}

const peft = (v: PeftVariant) => peftVariantName(v);
const vit = (v: ViTVariant) => vitVariantName(v);
const FULL_FT_LR = 1e-3;
const L2SP = (alpha: number): PeftVariant => ({ defence: { kind: "l2-sp", alpha }, learningRate: FULL_FT_LR });
const EWC = (lambda: number): PeftVariant => ({
  defence: { kind: "ewc", lambda, samples: 16 },
  learningRate: FULL_FT_LR,
});

/** Lesson 05's baselines and lesson 09's rate grids (seeds 0-1) and final runs (seeds 0-4). */
function lesson09Results(): ResultRecord[] {
  const rows: ResultRecord[] = [];
  // Lesson 05: full fine-tuning at lesson 09's rate (forgets 20 points) and at another rate that is better on
  // validation (so only the rate pinned by the defences' names finds the right baseline), and head-only.
  rows.push(...runs(vit({ method: "full-ft", learningRate: FULL_FT_LR }), 0.6, { lesson: "05", forgetting: 0.2 }));
  rows.push(...runs(vit({ method: "full-ft", learningRate: 3e-4 }), 0.4, { lesson: "05", val: 0.9, forgetting: 0.3 }));
  rows.push(...runs(vit({ method: "head-only" }), 0.5, { lesson: "05", forgetting: 0, pattern: P2, params: 330 }));
  // Houlsby: the grid's other rate ran on the rate seeds only and is better on validation there.
  const houlsby = (lr: number): PeftVariant => ({ peft: { method: "houlsby", bottleneck: 4 }, learningRate: lr });
  rows.push(...runs(peft(houlsby(1e-2)), 0.7, { seeds: [0, 1], val: 0.9, params: 5200 }));
  rows.push(...runs(peft(houlsby(3e-2)), 0.58, { params: 5200 }));
  // LoRA at two budgets: r=2 nearest Houlsby's count (0.5 points above it on every seed), r=8 best on validation.
  const swap = { swapRetention: SOURCE_A };
  rows.push(
    ...runs(peft({ peft: { method: "lora", r: 2 }, learningRate: 3e-2 }), 0.585, { params: 4800, extra: swap }),
  );
  rows.push(
    ...runs(peft({ peft: { method: "lora", r: 8 }, learningRate: 3e-2 }), 0.595, {
      params: 19500,
      extra: swap,
      forgetting: 0.04,
    }),
  );
  rows.push(...runs(peft({ peft: { method: "pfeiffer", bottleneck: 8 }, learningRate: 3e-2 }), 0.56, { pattern: P2 }));
  rows.push(...runs(peft({ peft: { method: "bitfit" }, learningRate: 1e-2 }), 0.55, { params: 1500 }));
  rows.push(...runs(peft({ peft: { method: "ia3" }, learningRate: 1e-2 }), 0.54, { params: 1200 }));
  rows.push(...runs(peft({ peft: { method: "prompt", tokens: 8 }, learningRate: 1e-2 }), 0.52, { params: 900 }));
  // Defences: L2-SP's two strengths on every seed (the rate seeds are all the seeds): α=0.1 is better on task-B
  // validation alone, α=1 on both tasks (its task-A validation retention is much higher), as lesson 09 chooses.
  rows.push(...runs(peft(L2SP(0.1)), 0.6, { val: 0.62, forgetting: 0.19, pattern: P2, extra: { retentionVal: 0.7 } }));
  rows.push(...runs(peft(L2SP(1)), 0.59, { val: 0.6, forgetting: 0.1, pattern: P2, extra: { retentionVal: 0.85 } }));
  // EWC: the grid on the rate seeds, the chosen strength on every seed; it forgets more than full fine-tuning.
  rows.push(...runs(peft(EWC(1e3)), 0.6, { seeds: [0, 1], forgetting: 0.1, extra: { retentionVal: 0.9 } }));
  rows.push(...runs(peft(EWC(1e4)), 0.6, { forgetting: 0.25, pattern: P2, extra: { retentionVal: 0.8 } }));
  rows.push(
    ...runs(peft({ defence: { kind: "rehearsal", fraction: 0.01, perBatch: 8 }, learningRate: FULL_FT_LR }), 0.6, {
      forgetting: 0.05,
      pattern: P2,
      extra: { retentionVal: 0.9 },
    }),
  );
  rows.push(
    ...runs(peft({ defence: { kind: "multi-task", perBatch: 8 }, learningRate: FULL_FT_LR }), 0.59, {
      forgetting: 0.02,
      pattern: P2,
      extra: { retentionVal: 0.93 },
    }),
  );
  return rows;
}

const answer = (id: string, facts: Facts) => {
  const q = QUESTION_BANK.find((x) => x.id === id)!;
  return [q.answer(facts), ...q.followUps.map((f) => f.answer(facts))].join("\n");
};

describe("lesson 09 in the review", () => {
  it("finds each method at the rate lesson 09 chose: the one run on every seed, else the best on validation", () => {
    const f = makeFacts(lesson09Results());
    expect(f.find(queryAt("peftHoulsby", "few"))?.method).toBe("adapter:houlsby-b4@lr=3e-2");
    expect(f.find(queryAt("peftLora", "few"))?.method).toBe("lora-qv-r8@lr=3e-2");
    expect(f.find(queryAt("peftPrompt", "few"))?.method).toBe("prompt-t8@lr=1e-2");
    expect(f.find(queryAt("rehearsal", "few"))?.method).toBe("rehearsal@lr=1e-3");
    // Lesson 05's LoRA on q, v is not lesson 09's, and lesson 09's queries stay in lesson 09.
    expect(f.find({ ...queryAt("peftLora", "few"), lesson: "05" })).toBeNull();
  });

  it("answers 'adapters' with Houlsby vs LoRA at the nearest budget and the best PEFT method vs full FT (lesson 09's margin)", () => {
    const f = makeFacts(lesson09Results());
    const text = answer("adapters", f);
    const m = Math.round(100 * PEFT_MATCH_MARGIN);
    expect(text).toMatch(
      new RegExp(
        `lesson 09 ViT: Houlsby adapters match LoRA on q, v at the nearest trainable-parameter budget \\(within ±${m} points, lesson 09's margin\\) — holds \\(Δ −0\\.5 points`,
      ),
    );
    // The nearest budget is r=2 (4800 trainable vs Houlsby's 5200), not r=8, the LoRA best on validation.
    expect(text).toContain("[09 lora-qv-r2@lr=3e-2, mild, k=5, 5 seeds]");
    expect(text).toMatch(
      /the PEFT method best on validation \(lora-qv-r8@lr=3e-2\) loses at most 3 points to full fine-tuning \(lesson 05's runs at lesson 09's validated rate; lesson 09's margin\) — holds/,
    );
    expect(text).toMatch(/the PEFT method best on validation \(lora-qv-r8@lr=3e-2\) beats head-only .* — holds/);
    expect(text).toMatch(/Pfeiffer adapters match Houlsby adapters \(within ±3 points\) — (holds|not significant)/);
    expect(text).not.toContain("no lesson 09 runs recorded");
  });

  it("answers 'forgetting' with each defence against full fine-tuning at the same rate, and LoRA swapped out", () => {
    const f = makeFacts(lesson09Results());
    const text = answer("forgetting", f);
    const claim = (name: string) =>
      `lesson 09 ViT: full fine-tuning with ${name} forgets less of task A than full fine-tuning at the same rate (lesson 05's runs)`;
    expect(text).toContain(`${claim("rehearsal of a small task-A buffer")} — holds (Δ −15.0 points`);
    expect(text).toContain(`${claim("multi-task training on all of task A")} — holds (Δ −18.0 points`);
    expect(text).toContain(`${claim("EWC")} — contradicted (Δ +5.0 points`);
    // L2-SP at the strength chosen on both tasks (α=1: 10 points of forgetting), not on task B alone (α=0.1).
    expect(text).toContain(`${claim("L2-SP")} — holds (Δ −10.0 points`);
    const verdict = (start: string) => questionVerdicts(f).find((v) => v.claim.startsWith(start))!;
    expect(verdict(claim("L2-SP")).a?.row.method).toBe("l2-sp@lr=1e-3@strength=1e0");
    expect(verdict(claim("EWC")).a?.row.method).toBe("ewc@lr=1e-3@strength=1e4");
    // The baseline is full fine-tuning at the rate the defences ran at, not lesson 05's rate best on validation.
    expect(verdict(claim("rehearsal of a small task-A buffer")).b?.row.method).toBe(
      vit({ method: "full-ft", learningRate: FULL_FT_LR }),
    );
    expect(text).toMatch(
      /LoRA on q, v with the adapter swapped out forgets less of task A than full fine-tuning \(lesson 05's runs\) — holds/,
    );
    expect(text).toContain("task A was the source model's exactly on 5 of 5 seeds");
    const combining = answer("combining", f);
    expect(combining).toMatch(/swap it out\s+\(lesson 09 ViT: LoRA on q, v with the adapter swapped out .* — holds/);
  });

  it("lists lesson 09's verdicts, the ones paired with lesson 05's baselines included, once each", () => {
    const verdicts = questionVerdicts(makeFacts(lesson09Results()));
    const mine = verdicts.filter((v) => v.claim.startsWith("lesson 09"));
    expect(mine.length).toBe(9);
    expect(mine.every((v) => v.measured)).toBe(true);
    expect(new Set(verdicts.map((v) => v.claim)).size).toBe(verdicts.length);
    expect(renderQuestions(makeFacts(lesson09Results()))).not.toMatch(/undefined|NaN|\[object Object\]/);
  });

  it("says lesson 09 was not measured when it has not run, with no numbers", () => {
    // Lesson 05's baselines alone do not make lesson 09's verdicts.
    const f = makeFacts(lesson09Results().filter((r) => r.lesson === "05"));
    for (const id of ["adapters", "forgetting"]) {
      const text = answer(id, f);
      expect(text).toContain(`${NOT_MEASURED} (no lesson 09 runs recorded; run lesson 09 to fill these verdicts in)`);
      expect(text).not.toMatch(/lesson 09 ViT: .* — (holds|contradicted)/);
    }
    expect(answer("combining", f)).toContain("lesson 09: not measured at this scale");
    expect(questionVerdicts(f).filter((v) => v.claim.startsWith("lesson 09") && v.measured)).toEqual([]);
  });

  it("uses lesson 09's own margin for 'matches full fine-tuning'", () => {
    const nb = JSON.parse(
      fs.readFileSync(path.join(__dirname, "../../notebooks/09-peft-and-forgetting.ipynb"), "utf8"),
    );
    const src = (nb.cells as { source: string[] }[]).map((c) => c.source.join("")).join("\n");
    const m = /let margin: number = ([\d.]+);/.exec(src);
    expect(m, "lesson 09's parameters cell sets `margin`").not.toBeNull();
    expect(Number(m![1])).toBe(PEFT_MATCH_MARGIN);
  });
});
