// Lesson 05's experiment at smoke scale, in a private artifact cache: one pretrained ViT per seed,
// runs named with their rates, the invariants every run checks (frozen weights unchanged, LoRA merged =
// unmerged, head-only forgets nothing), recording and reading back, choices on validation, bad input.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  getPretrainedViT,
  MERGE_TOLERANCE,
  runViTExperiment,
  runViTSweep,
  runViTTransfer,
  vitMethodLabel,
  vitSweepVariants,
  vitVariantName,
  type ViTExperiment,
  type ViTVariant,
} from "../../src/experiments/vit";
import { sourceTasks } from "../../src/experiments/source";
import { VIT_RECIPES, DEFAULT_FINE_TUNE_LR, DEFAULT_LORA_LR } from "../../src/core/settings";
import { parseMethod } from "../../src/core/methods";
import { describeReuse, readResults } from "../../src/store/results";
import { chooseOnValidation } from "../../src/evaluate/select";

let cache: string;
const saved = process.env.TRANSFER_LAB_CACHE;

beforeAll(async () => {
  await tf.setBackend("cpu");
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "tl-exp-vit-"));
  process.env.TRANSFER_LAB_CACHE = cache;
});

afterAll(() => {
  if (saved === undefined) delete process.env.TRANSFER_LAB_CACHE;
  else process.env.TRANSFER_LAB_CACHE = saved;
  fs.rmSync(cache, { recursive: true, force: true });
});

const { width, depth } = VIT_RECIPES.smoke.model;
const headParams = width * 10 + 10;

describe("ViT run names", () => {
  it("carry a rate only when it is not the method's default, and parse back", () => {
    expect(vitMethodLabel("full-ft")).toBe("full-ft");
    expect(vitMethodLabel("full-ft", undefined, undefined, DEFAULT_FINE_TUNE_LR)).toBe("full-ft");
    expect(vitMethodLabel("full-ft", undefined, undefined, 1e-3)).toBe("full-ft@lr=1e-3");
    expect(vitMethodLabel("freeze-blocks", 2, undefined, 3e-4)).toBe("freeze-blocks-2@lr=3e-4");
    expect(vitMethodLabel("lora-qv", undefined, 4, DEFAULT_LORA_LR)).toBe("lora-qv-r4");
    expect(vitMethodLabel("lora-qv", undefined, 2, 1e-2)).toBe("lora-qv-r2@lr=1e-2");
    expect(vitMethodLabel("head-only", undefined, undefined, 5, 1e-3)).toBe("head-only@headLr=1e-3");
    const variants: ViTVariant[] = [
      { method: "head-only" },
      { method: "full-ft", learningRate: 3e-4 },
      { method: "freeze-blocks", frozenBlocks: 1 },
      { method: "lora-qv", r: 8, learningRate: 3e-3 },
    ];
    const names = variants.map(vitVariantName);
    expect(names).toEqual(["head-only", "full-ft@lr=3e-4", "freeze-blocks-1", "lora-qv-r8@lr=3e-3"]);
    expect(names.map((n) => parseMethod(n)?.kind)).toEqual(["head-only", "full-ft", "freeze-blocks", "lora"]);
    expect(parseMethod(names[3])).toEqual({ kind: "lora", on: "qv", r: 8, lr: 3e-3 });
  });

  it("the default sweep: head-only, freeze-k for every k, full-ft, lora-qv", () => {
    expect(vitSweepVariants({ depth: 2, r: 2 }).map(vitVariantName)).toEqual([
      "head-only",
      "freeze-blocks-0",
      "freeze-blocks-1",
      "freeze-blocks-2",
      "full-ft",
      "lora-qv-r2",
    ]);
    expect(vitSweepVariants({ depth: 2, frozenBlocks: [1], learningRate: 1e-3 }).map(vitVariantName)).toEqual([
      "head-only",
      "freeze-blocks-1@lr=1e-3",
      "full-ft@lr=1e-3",
      "lora-qv-r4",
    ]);
  });
});

describe("the lesson's experiment", () => {
  const variants: ViTVariant[] = [
    { method: "head-only" },
    { method: "full-ft" },
    { method: "full-ft", learningRate: 1e-3 },
    { method: "lora-qv", r: 2, learningRate: 3e-3 },
    { method: "freeze-blocks", frozenBlocks: 1 },
  ];
  // A short budget keeps the pure-JS backend quick; it is part of every run's key like the rest.
  const budget = { epochs: 1, minSteps: 2 };
  const args = {
    lesson: "05t",
    scale: "smoke" as const,
    seeds: [0, 1],
    labelsPerClass: 2,
    variants,
    budget,
    progress: false,
  };
  let exp: ViTExperiment;

  it("pretrains one ViT per seed on its own split and runs every variant, leaking nothing", async () => {
    const n0 = tf.memory().numTensors;
    exp = await runViTExperiment(args);
    expect(tf.memory().numTensors).toBe(n0);
    expect(exp.pretrained.map((p) => p.seed)).toEqual([0, 1]);
    expect(new Set(exp.pretrained.map((p) => p.key)).size).toBe(2);
    // The ViT of seed 1 is the one getPretrainedViT trains on seed 1's split (read back from the cache).
    const vit1 = await getPretrainedViT({ scale: "smoke", seed: 1, progress: false, log: false });
    expect(vit1.fromCache).toBe(true);
    expect(vit1.key).toBe(exp.pretrained[1].key);
    expect(vit1.testAccuracy).toBe(exp.pretrained[1].testAccuracy);
    vit1.model.dispose();
    const perSeed = ["head-only", "full-ft", "full-ft@lr=1e-3", "lora-qv-r2@lr=3e-3", "freeze-blocks-1"];
    expect(exp.runs.map((r) => r.method)).toEqual([...perSeed, ...perSeed]);
    expect(exp.runs.map((r) => r.seed)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(exp.runs.map((r) => r.learningRate).slice(0, 5)).toEqual([1e-2, 1e-4, 1e-3, 3e-3, 1e-4]);
    expect(exp.runs.every((r) => !r.reused && r.valAccuracy >= 0 && r.valAccuracy <= 1)).toBe(true);
    expect(describeReuse(exp.runs)).toBe("trained 10 runs now");
  });

  it("checks the invariants on every run: frozen weights, LoRA's merge, head-only's task A", () => {
    const by = (m: string) => exp.runs.filter((r) => r.method === m);
    for (const r of by("head-only")) {
      expect(r.forgetting).toBe(0);
      expect(r.trainableParams).toBe(headParams);
    }
    for (const r of [...by("full-ft"), ...by("full-ft@lr=1e-3")]) expect(r.frozenWeights).toBe(0);
    for (const m of ["head-only", "lora-qv-r2@lr=3e-3", "freeze-blocks-1"])
      for (const r of by(m)) expect(r.frozenWeights).toBeGreaterThan(0);
    for (const r of by("lora-qv-r2@lr=3e-3")) {
      expect(r.mergeMaxDiff).not.toBeNull();
      expect(r.mergeMaxDiff!).toBeLessThanOrEqual(MERGE_TOLERANCE);
      expect(r.trainableParams).toBe(depth * 2 * 2 * (width + width) + headParams);
    }
    expect(exp.runs.filter((r) => r.mergeMaxDiff !== null)).toHaveLength(2);
  });

  it("records every run, and each seed's ViT and zero-shot score once", () => {
    const back = readResults({ lesson: "05t", scale: "smoke" });
    const methods = back.map((r) => r.method);
    expect(methods.filter((m) => m === "source-model")).toHaveLength(2);
    expect(methods.filter((m) => m === "zero-shot")).toHaveLength(2);
    const runRecords = back.filter((r) => r.method !== "source-model" && r.method !== "zero-shot");
    expect(runRecords.map((r) => r.method)).toEqual(exp.runs.map((r) => r.method));
    expect(runRecords.every((r) => typeof r.extra?.runKey === "string" && r.extra?.model === "tiny-vit")).toBe(true);
    const zs = back.filter((r) => r.method === "zero-shot").map((r) => r.accuracy);
    expect(zs).toEqual(exp.pretrained.map((p) => p.zeroShot));
  });

  it("reads the recorded runs back on a re-run, and trains only what is new", async () => {
    const n = readResults({ lesson: "05t", scale: "smoke" }).length;
    const again = await runViTExperiment(args);
    expect(again.runs.every((r) => r.reused)).toBe(true);
    const fields = (e: ViTExperiment) =>
      e.runs.map((r) => [r.method, r.seed, r.accuracy, r.valAccuracy, r.forgetting, r.frozenWeights, r.mergeMaxDiff]);
    expect(fields(again)).toEqual(fields(exp));
    // Each seed's ViT row is read back from its records (not scored again) and equals the first.
    const rows = (e: ViTExperiment) =>
      e.pretrained.map((p) => [p.seed, p.key, p.testAccuracy, p.valAccuracy, p.zeroShot, p.zeroShotVal]);
    expect(rows(again)).toEqual(rows(exp));
    expect(readResults({ lesson: "05t", scale: "smoke" }).length).toBe(n);
    expect(describeReuse(again.runs)).toMatch(/^trained 0 runs now; read back 10 recorded .* \(protocol \d+\)$/);
    const more = await runViTExperiment({
      ...args,
      variants: [...variants, { method: "freeze-blocks", frozenBlocks: 0 }],
    });
    expect(more.runs.filter((r) => !r.reused).map((r) => [r.method, r.seed])).toEqual([
      ["freeze-blocks-0", 0],
      ["freeze-blocks-0", 1],
    ]);
  });

  it("chooses a rate on validation from the runs, by method name", () => {
    const full = variants.slice(1, 3);
    const choice = chooseOnValidation(
      full.map((v) => ({ key: v, runs: exp.runs.filter((r) => r.method === vitVariantName(v)) })),
    );
    expect(choice.candidates.map((c) => c.n)).toEqual([2, 2]);
    const best = choice.candidates[choice.index].valMean;
    expect(choice.candidates.every((c) => c.valMean <= best)).toBe(true);
  });

  it("runViTSweep uses the same per-seed ViTs (its seed-1 runs equal the experiment's, forgetting included: the experiment passes the source's task-A accuracy, the sweep scores it)", async () => {
    const two = variants.slice(3);
    const sweep = await runViTSweep({ scale: "smoke", seeds: [1], labelsPerClass: 2, variants: two, budget });
    const names = new Set(two.map(vitVariantName));
    const ours = exp.runs.filter((r) => r.seed === 1 && names.has(r.method));
    expect(sweep.map((r) => [r.method, r.accuracy, r.valAccuracy, r.forgetting])).toEqual(
      ours.map((r) => [r.method, r.accuracy, r.valAccuracy, r.forgetting]),
    );
  });
});

describe("the ViT from scratch", () => {
  it("starts from the weights the pretrained ViT started from, trains everything at one rate, and leaks nothing", async () => {
    const tasks = sourceTasks({ scale: "smoke" });
    const recipe = { ...VIT_RECIPES.smoke, epochs: 0 }; // an untrained "pretrained" ViT: its weights are the initial ones
    const init = await getPretrainedViT({ scale: "smoke", seed: 0, tasks, recipe, progress: false, log: false });
    const n0 = tf.memory().numTensors;
    let same = NaN;
    const run = await runViTTransfer({
      method: "scratch",
      learningRate: 3e-3,
      source: init.model,
      tasks,
      labelsPerClass: 1,
      scale: "smoke",
      budget: { epochs: 0, minSteps: 0 },
      inspect: (m) => {
        // no steps: the fresh model equals the untrained source, weight for weight
        same = Math.max(
          ...m.getWeights().map((w, i) => tf.tidy(() => w.sub(init.model.getWeights()[i]).abs().max().dataSync()[0])),
        );
      },
    });
    expect(same).toBe(0);
    expect(run.method).toBe("scratch@lr=3e-3");
    expect(run.trainableParams).toBe(init.model.countParams());
    expect(run.headLearningRate).toBe(3e-3);
    expect(tf.memory().numTensors).toBe(n0);
    expect(() => vitVariantName({ method: "scratch", headLearningRate: 1e-2 })).toThrow(
      /headLearningRate must be absent for scratch/,
    );
    init.model.dispose();
  });
});

describe("bad input", () => {
  const where = (re: RegExp) => expect.objectContaining({ message: expect.stringMatching(re) });

  it("names the parameter, the value and what is allowed, and trains nothing", async () => {
    const base = { scale: "smoke" as const, seeds: [0], labelsPerClass: 1, progress: false };
    const n0 = tf.memory().numTensors;
    await expect(runViTExperiment({ ...base, variants: [] })).rejects.toThrow(
      /runViTExperiment: variants must be a non-empty list .*got \[\]/,
    );
    await expect(
      runViTExperiment({ ...base, variants: [{ method: "freeze-blocks", frozenBlocks: depth + 1 }] }),
    ).rejects.toThrow(
      new RegExp(`variants\\[0\\]\\.frozenBlocks must be an integer in \\[0, ${depth}\\], got ${depth + 1}`),
    );
    await expect(runViTExperiment({ ...base, variants: [{ method: "full-ft", learningRate: -1 }] })).rejects.toThrow(
      /variants\[0\]\.learningRate must be a finite number > 0, got -1/,
    );
    await expect(runViTExperiment({ ...base, labelsPerClass: 0, variants: [{ method: "full-ft" }] })).rejects.toThrow(
      /labelsPerClass must be a positive integer, got 0/,
    );
    await expect(runViTExperiment({ ...base, variants: [{ method: "prompt" as never }] })).rejects.toThrow(
      /variants\[0\]\.method must be one of/,
    );
    await expect(
      runViTSweep({ scale: "smoke", seeds: [0, 1], tasks: sourceTasks({ scale: "smoke" }) }),
    ).rejects.toThrow(where(/runViTSweep: seeds must be one seed when source or tasks is given, got \[0, 1\]/));
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("runViTTransfer refuses a freeze depth the ViT does not have, and a source accuracy outside [0, 1]", async () => {
    const tasks = sourceTasks({ scale: "smoke" });
    const vit = await getPretrainedViT({ scale: "smoke", seed: 0, tasks, progress: false, log: false });
    const n0 = tf.memory().numTensors;
    await expect(
      runViTTransfer({ method: "freeze-blocks", source: vit.model, tasks, labelsPerClass: 1, scale: "smoke" }),
    ).rejects.toThrow(new RegExp(`frozenBlocks must be an integer in \\[0, ${depth}\\], got undefined`));
    await expect(
      runViTTransfer({
        method: "head-only",
        source: vit.model,
        tasks,
        labelsPerClass: 1,
        scale: "smoke",
        sourceTaskAAccuracy: 1.5,
      }),
    ).rejects.toThrow(/runViTTransfer: sourceTaskAAccuracy must be a number in \[0, 1\], got 1\.5/);
    expect(tf.memory().numTensors).toBe(n0);
    vit.model.dispose();
  });
});
