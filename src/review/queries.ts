// The measured results lesson 10 cites, by name: which lesson, method and task answer "scratch on
// the mild shift", "LoRA r=4", "frozen base on the class split"... Methods are matched by their
// fields (core/methods.ts), never by their text. One place, so the decision guide and the question
// bank cite the same numbers.
import { lessonSettings } from "../core/settings";
import type { ResultQuery } from "./review";

const TRANSFER = ["02", "03"];
/** Lesson 03's sweep runs the base at one rate at every scale (the freeze ratio 0 run is full
 * fine-tuning at that rate). */
const SWEEP_LR = lessonSettings("03", "default").learningRate;
/** Default rates, no discriminative decay: the plain form of a method. */
const PLAIN = { lr: null, headLr: null, layerDecay: null } as const;

export const REVIEW_QUERIES = {
  // Lesson 01: a deep sigmoid net, historical recipe from scratch vs greedy pretraining; modern recipe.
  historicalScratch: { lesson: "01", method: { kind: "scratch", recipe: "historical" }, task: "clean" },
  greedyPretrained: { lesson: "01", method: { kind: "greedy-pretrained" }, task: "clean" },
  modernScratch: { lesson: "01", method: { kind: "scratch", recipe: "modern" }, task: "clean" },
  // Lessons 02/03 on the `mild` shift (same classes, new "scanner").
  zeroShot: { lesson: TRANSFER, method: { kind: "zero-shot" }, task: "mild" },
  scratchMild: { lesson: TRANSFER, method: { kind: "scratch", recipe: null, lr: null }, task: "mild" },
  headOnlyMild: { lesson: TRANSFER, method: { kind: "head-only" }, task: "mild" },
  fullFtMild: { lesson: TRANSFER, method: { kind: "full-ft", ...PLAIN }, task: "mild" },
  fullFtHighLrMild: { lesson: TRANSFER, method: { kind: "full-ft", ...PLAIN, lr: SWEEP_LR }, task: "mild" },
  discriminativeMild: {
    lesson: TRANSFER,
    method: { kind: "full-ft", where: (m) => m.layerDecay !== undefined },
    task: "mild",
  },
  // Lesson 03's schedules, same model, labels and epochs: one rate, discriminative, two-phase, progressive.
  schedulePlain: { lesson: "03", method: { kind: "schedule", schedule: "plain" } },
  scheduleDiscriminative: { lesson: "03", method: { kind: "schedule", schedule: "discriminative" } },
  scheduleTwoPhase: { lesson: "03", method: { kind: "schedule", schedule: "two-phase" } },
  scheduleProgressive: { lesson: "03", method: { kind: "schedule", schedule: "progressive" } },
  // Lesson 02's frozen-feature timing (extra: epochSecondsFull/Frozen/Cached, flopRatio, speedupPerEpoch).
  featureCache: { lesson: "02", method: { kind: "feature-cache" } },
  // Lesson 03's freeze-ratio sweep: none frozen (full fine-tuning at the sweep's rate) vs all
  // frozen (head-only), on `mild` and on `inverted`.
  freezeNoneMild: { lesson: "03", method: { kind: "full-ft", ...PLAIN, lr: SWEEP_LR }, task: "mild" },
  freezeHalfMild: { lesson: "03", method: { kind: "freeze", ratio: 0.5 }, task: "mild" },
  freezeAllMild: { lesson: "03", method: { kind: "head-only" }, task: "mild" },
  freezeNoneInverted: { lesson: "03", method: { kind: "full-ft", ...PLAIN, lr: SWEEP_LR }, task: "inverted" },
  freezeAllInverted: { lesson: "03", method: { kind: "head-only" }, task: "inverted" },
  scratchInverted: { lesson: TRANSFER, method: { kind: "scratch", recipe: null, lr: null }, task: "inverted" },
  fullFtInverted: { lesson: TRANSFER, method: { kind: "full-ft", headLr: null, layerDecay: null }, task: "inverted" },
  tuneFirstInverted: { lesson: TRANSFER, method: { kind: "tune", layers: ["hidden1"] }, task: "inverted" },
  tuneLastInverted: { lesson: TRANSFER, method: { kind: "tune", layers: ["hidden4"] }, task: "inverted" },
  // Lesson 03's frozen BatchNorm base trained on task B: plain tfjs vs Keras' rule (retention = task A).
  bnPlain: { lesson: "03", method: { kind: "bn-frozen", rule: "plain" } },
  bnKeras: { lesson: "03", method: { kind: "bn-frozen", rule: "keras" } },
  // Lesson 02's class split 0-4 -> 5-9.
  scratchSplit: { lesson: TRANSFER, method: { kind: "scratch", recipe: null, lr: null }, task: "class-split" },
  headOnlySplit: { lesson: TRANSFER, method: { kind: "head-only" }, task: "class-split" },
  fullFtSplit: { lesson: TRANSFER, method: { kind: "full-ft" }, task: "class-split" },
  // Lesson 04: LoRA on the MLP's hidden layers vs head-only and full fine-tuning (source head).
  loraHeadOnly: { lesson: "04", method: { kind: "head-only", ...PLAIN } },
  loraR1: { lesson: "04", method: { kind: "lora", r: 1, merged: null, ...PLAIN } },
  loraR4: { lesson: "04", method: { kind: "lora", r: 4, merged: null, ...PLAIN } },
  loraR16: { lesson: "04", method: { kind: "lora", r: 16, merged: null, ...PLAIN } },
  loraFullFt: { lesson: "04", method: { kind: "full-ft", ...PLAIN } },
  // Lesson 04's learning-rate comparison.
  loraLowLr: { lesson: "04", method: { kind: "lora", lr: 1e-4 } },
  loraHighLr: { lesson: "04", method: { kind: "lora", lr: 1e-3 } },
  // Lesson 05: the tiny ViT.
  vitHeadOnly: { lesson: "05", method: { kind: "head-only" } },
  // Embeddings and the first k blocks frozen; runs are recorded by increasing k, so the first
  // match is the smallest k > 0.
  vitFreezeSome: {
    lesson: "05",
    method: { kind: "freeze-blocks", where: (m) => m.kind === "freeze-blocks" && m.blocks > 0 },
  },
  vitLora: { lesson: "05", method: { kind: "lora", on: "qv" } },
  vitFullFt: { lesson: "05", method: { kind: "full-ft" } },
} satisfies Record<string, ResultQuery>;

export type QueryName = keyof typeof REVIEW_QUERIES;

/** The named query with a label budget ("few", "many", a number, or null for all labels). */
export function queryAt(name: QueryName, k: ResultQuery["k"]): ResultQuery {
  return { ...REVIEW_QUERIES[name], k };
}
