// Lesson 09's experiment at smoke scale, in a private artifact cache: run names (and their parse), the invariants
// every run checks (frozen weights unchanged, merged = unmerged, LoRA's swap restores task A exactly), the defences
// wired into fit, recording and reading back, the both-tasks choice, the plots and the cost table, bad input.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  chooseOnBothTasks,
  checkPeftVariant,
  frontierPlot,
  latencyOverlaps,
  measurePeftCost,
  paretoPlot,
  peftRunsOf,
  peftVariantLabel,
  peftVariantName,
  runPeftExperiment,
  runPeftTransfer,
  withoutAdapter,
  type PeftVariant,
} from "../../src/experiments/peft";
import { getPretrainedViT, type PretrainedViT } from "../../src/experiments/vit";
import { sourceTasks } from "../../src/experiments/source";
import { applyPeft, peftParamCount } from "../../src/adapt/peft/peft";
import { maxOutputDiff } from "../../src/evaluate/compare";
import { parseMethod } from "../../src/core/methods";
import { meanCI } from "../../src/core/stats";
import type { TransferTasks } from "../../src/data/tasks";

let cache: string;
const saved = process.env.TRANSFER_LAB_CACHE;
let tasks: TransferTasks;
let vit: PretrainedViT;

beforeAll(async () => {
  await tf.setBackend("cpu");
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "tl-exp-peft-"));
  process.env.TRANSFER_LAB_CACHE = cache;
  tasks = sourceTasks({ scale: "smoke", seed: 0, shift: "mild" });
  vit = await getPretrainedViT({ scale: "smoke", seed: 0, tasks, log: false, progress: false });
}, 120_000);

afterAll(() => {
  vit?.model.dispose();
  if (saved === undefined) delete process.env.TRANSFER_LAB_CACHE;
  else process.env.TRANSFER_LAB_CACHE = saved;
  fs.rmSync(cache, { recursive: true, force: true });
});

describe("lesson 09 run names", () => {
  it("name every PEFT method and defence with its size, rate and strength, and parse back", () => {
    const cases: [PeftVariant, string, string][] = [
      [{ peft: { method: "lora", r: 5 }, learningRate: 3e-3 }, "lora-qv-r5@lr=3e-3", "LoRA r=5"],
      [
        { peft: { method: "houlsby", bottleneck: 4 }, learningRate: 1e-2 },
        "adapter:houlsby-b4@lr=1e-2",
        "Houlsby adapters b=4",
      ],
      [
        { peft: { method: "pfeiffer", bottleneck: 9 }, learningRate: 1e-2 },
        "adapter:pfeiffer-b9@lr=1e-2",
        "Pfeiffer adapters b=9",
      ],
      [{ peft: { method: "bitfit" }, learningRate: 3e-3 }, "bitfit@lr=3e-3", "BitFit"],
      [{ peft: { method: "ia3" }, learningRate: 3e-3, headLearningRate: 1e-3 }, "ia3@lr=3e-3@headLr=1e-3", "(IA)³"],
      [{ peft: { method: "prompt", tokens: 16 }, learningRate: 1e-2 }, "prompt-t16@lr=1e-2", "prompt tuning tokens=16"],
      [{ defence: { kind: "l2-sp", alpha: 0.1 }, learningRate: 1e-3 }, "l2-sp@lr=1e-3@strength=1e-1", "L2-SP α=0.1"],
      [
        { defence: { kind: "ewc", lambda: 1000, samples: 10 }, learningRate: 1e-3 },
        "ewc@lr=1e-3@strength=1e3",
        "EWC λ=1000",
      ],
      [
        { defence: { kind: "rehearsal", fraction: 0.01, perBatch: 8 }, learningRate: 1e-3 },
        "rehearsal@lr=1e-3",
        "rehearsal 1 % of task A",
      ],
      [
        { defence: { kind: "multi-task", perBatch: 16 }, learningRate: 1e-3 },
        "multi-task@lr=1e-3",
        "multi-task (all of task A)",
      ],
      [{ learningRate: 1e-3 }, "full-ft@lr=1e-3", "full FT"],
    ];
    for (const [v, name, label] of cases) {
      expect(peftVariantName(v)).toBe(name);
      expect(peftVariantLabel(v)).toBe(label);
      expect(parseMethod(name)).not.toBeNull();
    }
    expect(parseMethod("adapter:houlsby-b4@lr=1e-2")).toEqual({
      kind: "adapter",
      placement: "houlsby",
      bottleneck: 4,
      lr: 1e-2,
    });
    expect(parseMethod("ewc@lr=1e-3@strength=1e3")).toEqual({ kind: "ewc", lr: 1e-3, strength: 1000 });
  });

  it("reject bad variants with named errors", () => {
    const bad: [unknown, RegExp][] = [
      [{ peft: { method: "lora", r: 2 }, defence: { kind: "l2-sp", alpha: 1 }, learningRate: 1e-3 }, /not both/],
      [{ defence: { kind: "dropout" }, learningRate: 1e-3 }, /variant\.defence\.kind/],
      [{ defence: { kind: "l2-sp", alpha: -1 }, learningRate: 1e-3 }, /alpha.*>= 0/],
      [{ defence: { kind: "rehearsal", fraction: 2, perBatch: 4 }, learningRate: 1e-3 }, /fraction/],
      [{ peft: { method: "adapters" }, learningRate: 1e-3 }, /peft\.method/],
      [{ peft: { method: "ia3" } }, /learningRate/],
    ];
    for (const [v, re] of bad) expect(() => checkPeftVariant("t", v)).toThrow(re);
  });
});

describe("one lesson-09 run", () => {
  it("LoRA: trains only its own weights and the head, merges, and swapping it out restores task A exactly", async () => {
    const before = tf.memory().numTensors;
    const r = await runPeftTransfer({
      peft: { method: "lora", r: 2 },
      learningRate: 1e-2,
      source: vit.model,
      tasks,
      labelsPerClass: 2,
      scale: "smoke",
      sourceTaskAAccuracy: vit.testAccuracy,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.methodParams).toBe(peftParamCount(vit.model, { method: "lora", r: 2 }));
    expect(r.trainableParams).toBe(r.methodParams + vit.model.getLayer("head").countParams());
    expect(r.frozenWeights).toBeGreaterThan(0);
    expect(r.mergeMaxDiff).not.toBeNull();
    expect(r.swapRetention).toBe(vit.testAccuracy);
    expect(r.forgetting).toBeCloseTo(vit.testAccuracy - r.retention!, 12);
    expect(r.retentionVal).toBeNull(); // scored for full fine-tuning and the defences only
    expect(r.drift).toBeNull(); // the base does not move
    expect(r.taskATunedHead).toBeNull();
  }, 60_000);

  it("adapters and prompts do not merge; BitFit merges to a clone; a defence trains every weight", async () => {
    const common = { source: vit.model, tasks, labelsPerClass: 2, scale: "smoke" as const };
    const houlsby = await runPeftTransfer({
      ...common,
      peft: { method: "houlsby", bottleneck: 2 },
      learningRate: 1e-2,
    });
    expect(houlsby.mergeMaxDiff).toBeNull();
    expect(houlsby.swapRetention).toBeNull();
    const bitfit = await runPeftTransfer({ ...common, peft: { method: "bitfit" }, learningRate: 1e-2 });
    expect(bitfit.mergeMaxDiff).toBe(0);
    const before = tf.memory().numTensors;
    const ewc = await runPeftTransfer({
      ...common,
      defence: { kind: "ewc", lambda: 100, samples: 8 },
      learningRate: 1e-3,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(ewc.trainableParams).toBe(vit.model.countParams());
    expect(ewc.frozenWeights).toBe(0);
    expect(ewc.retentionVal).toBeGreaterThanOrEqual(0);
    expect(ewc.drift).toBeGreaterThan(0);
    expect(ewc.taskATunedHead).toBeNull();
    const rehearsal = await runPeftTransfer({
      ...common,
      defence: { kind: "rehearsal", fraction: 0.05, perBatch: 4 },
      learningRate: 1e-3,
    });
    expect(rehearsal.defence).toEqual({ kind: "rehearsal", fraction: 0.05, perBatch: 4 });
    expect(rehearsal.taskATunedHead).toBeGreaterThanOrEqual(0);
    expect(rehearsal.taskATunedHead).toBeLessThanOrEqual(1);
    // Plain full fine-tuning: scored on task A's validation split too (strength 0 of the defences' tables).
    const plain = await runPeftTransfer({ ...common, learningRate: 1e-3 });
    expect(plain.retentionVal).toBeGreaterThanOrEqual(0);
    expect(plain.drift).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  }, 90_000);

  it("withoutAdapter copies the base weights by name and keeps the source head", () => {
    const lora = applyPeft(vit.model, { method: "lora", r: 2 }, { seed: 1 });
    try {
      // Move every LoRA B and the head: the adapter-free copy must still be the source.
      for (const l of lora.layers)
        if (l.weights.length)
          tf.tidy(() =>
            l.setWeights(
              l
                .getWeights()
                .map((w, i) => (/lora_B$/.test(l.weights[i].originalName) || l.name === "head" ? tf.onesLike(w) : w)),
            ),
          );
      const back = withoutAdapter(lora, vit.model);
      try {
        expect(maxOutputDiff(back, vit.model, tasks.source.test)).toBe(0);
      } finally {
        back.dispose();
      }
    } finally {
      lora.dispose();
    }
    const prompt = applyPeft(vit.model, { method: "prompt", tokens: 2 }, { seed: 1 });
    try {
      expect(() => withoutAdapter(vit.model, prompt)).toThrow(/withoutAdapter/);
    } finally {
      prompt.dispose();
    }
  });

  it("rejects bad arguments before building anything", async () => {
    const before = tf.memory().numTensors;
    await expect(
      runPeftTransfer({ source: vit.model, tasks, labelsPerClass: 0, learningRate: 1e-3, scale: "smoke" }),
    ).rejects.toThrow(/labelsPerClass/);
    await expect(
      runPeftTransfer({ source: vit.model, tasks, labelsPerClass: 2, learningRate: 0, scale: "smoke" }),
    ).rejects.toThrow(/learningRate/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("the lesson-09 experiment", () => {
  it("records every run and reads them back on a re-run", async () => {
    const variants: PeftVariant[] = [
      { peft: { method: "ia3" }, learningRate: 1e-2 },
      { defence: { kind: "l2-sp", alpha: 0.1 }, learningRate: 1e-3 },
    ];
    const args = {
      lesson: "09-test",
      scale: "smoke" as const,
      seeds: [0],
      labelsPerClass: 2,
      variants,
      progress: false,
    };
    const first = await runPeftExperiment(args);
    expect(first.runs.map((r) => r.reused)).toEqual([false, false]);
    expect(first.sources[0].testAccuracy).toBe(vit.testAccuracy);
    const again = await runPeftExperiment(args);
    expect(again.runs.map((r) => r.reused)).toEqual([true, true]);
    for (const v of variants) {
      const [a] = peftRunsOf(first.runs, v);
      const [b] = peftRunsOf(again.runs, v);
      expect(b.accuracy).toBe(a.accuracy);
      expect(b.retentionVal).toBe(a.retentionVal);
      expect(b.drift).toBe(a.drift);
      expect(b.methodParams).toBe(a.methodParams);
    }
    await expect(runPeftExperiment({ ...args, variants: [] })).rejects.toThrow(/variants/);
  }, 90_000);
});

describe("choosing a defence's strength and the pictures", () => {
  it("chooses on the mean of task-B validation and task-A validation retention; ties go to the earlier", () => {
    const runs = (val: number, ret: number) => [
      { seed: 0, accuracy: 0, valAccuracy: val, retentionVal: ret },
      { seed: 1, accuracy: 0, valAccuracy: val, retentionVal: ret },
    ];
    const c = chooseOnBothTasks([
      { key: "weak", runs: runs(0.8, 0.5) },
      { key: "mid", runs: runs(0.75, 0.7) },
      { key: "strong", runs: runs(0.5, 0.9) },
    ]);
    expect(c.chosen).toBe("mid");
    expect(c.scores[1].score).toBeCloseTo(0.725, 12);
    expect(
      chooseOnBothTasks([
        { key: "a", runs: runs(0.6, 0.6) },
        { key: "b", runs: runs(0.7, 0.5) },
      ]).chosen,
    ).toBe("a");
    expect(() => chooseOnBothTasks([])).toThrow(/candidates/);
  });

  it("draw the frontier on a log axis and the Pareto points with bars both ways", () => {
    const ci = meanCI([0.5, 0.6, 0.7]);
    const f = frontierPlot([
      {
        name: "LoRA",
        points: [
          { params: 5000, accuracy: ci },
          { params: 1000, accuracy: ci },
        ],
      },
      { name: "full FT", points: [{ params: 160000, accuracy: ci }] },
    ]);
    expect(f.data[0].x).toEqual([1000, 5000]);
    expect((f.layout.xaxis as { type: string }).type).toBe("log");
    const p = paretoPlot([{ name: "EWC", accuracy: ci, retention: ci }]);
    expect(p.data[0].error_x).toBeDefined();
    expect(p.data[0].error_y).toBeDefined();
    expect(() => frontierPlot([])).toThrow(/lines/);
    expect(() => paretoPlot([])).toThrow(/points/);
  });

  it("measures a step per configuration: PEFT keeps far less training state than full fine-tuning", async () => {
    const before = tf.memory().numTensors;
    const cost = await measurePeftCost({
      source: vit.model,
      data: tasks.source.train,
      specs: [
        { method: "lora", r: 2 },
        { method: "pfeiffer", bottleneck: 2 },
      ],
      batchSize: 8,
      steps: 1,
      latencyRepeats: 3,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(cost.rows.map((r) => r.config)).toEqual(["full FT", "head-only", "LoRA r=2", "Pfeiffer adapters b=2"]);
    expect(cost.rows[0].timeRatio).toBe(1);
    for (const r of cost.rows.slice(1)) expect(r.trainStateRatio).toBeGreaterThan(1);
    // Whole step memory is measured, not bounded: adapters' own activations can outweigh the state they save.
    for (const r of cost.rows) expect(r.stepMemoryRatio).toBeGreaterThan(0);
    expect(cost.rows[0].stepMemoryRatio).toBe(1);
    expect(cost.rows[2].merged).not.toBeNull();
    expect(cost.rows[3].merged).toBeNull();
    for (const l of [cost.base, ...cost.rows.map((r) => r.unmerged)]) {
      expect(l.q1).toBeLessThanOrEqual(l.median);
      expect(l.median).toBeLessThanOrEqual(l.q3);
    }
    expect(latencyOverlaps({ median: 2, q1: 1, q3: 3 }, { median: 3.5, q1: 2.9, q3: 4 })).toBe(true);
    expect(latencyOverlaps({ median: 2, q1: 1, q3: 3 }, { median: 4, q1: 3.1, q3: 5 })).toBe(false);
    await expect(
      measurePeftCost({ source: vit.model, data: tasks.source.train, specs: [], latencyRepeats: 0 }),
    ).rejects.toThrow(/latencyRepeats/);
  }, 60_000);
});
