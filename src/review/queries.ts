// The measured results lesson 10 cites, by name: which lesson, method and task answer "scratch on
// the mild shift", "LoRA r=4", "frozen base on the class split"... Methods are matched by their
// fields (core/methods.ts), never by their text. A field left out (most often the learning rate)
// may take any recorded value: where a lesson recorded several, the one with the best validation
// accuracy stands for the query, so "full fine-tuning" is full fine-tuning at its validated rate.
// One place, so the decision guide, the checkpoint and the question bank cite the same numbers.
import type { ResultQuery } from "./review";

/** Lessons on the source MLP that transfer to the shifted and class-split digits; lesson 10 itself
 * records the rows its decision guide needs that no lesson runs (fill.ts). */
const TRANSFER = ["02", "03", "10"];
/** One rate for everything (no discriminative decay): the plain form of a method. */
const PLAIN = { layerDecay: null } as const;

export const REVIEW_QUERIES = {
  // Lesson 01: a deep sigmoid net, historical recipe from scratch vs greedy pretraining; modern recipe.
  historicalScratch: { lesson: "01", method: { kind: "scratch", recipe: "historical" }, task: "clean" },
  greedyPretrained: { lesson: "01", method: { kind: "greedy-pretrained" }, task: "clean" },
  modernScratch: { lesson: "01", method: { kind: "scratch", recipe: "modern" }, task: "clean" },
  // Lessons 02/03 on the `mild` shift (same classes, new "scanner").
  zeroShot: { lesson: TRANSFER, method: { kind: "zero-shot" }, task: "mild" },
  scratchMild: { lesson: TRANSFER, method: { kind: "scratch", recipe: null }, task: "mild" },
  headOnlyMild: { lesson: TRANSFER, method: { kind: "head-only" }, task: "mild" },
  fullFtMild: { lesson: TRANSFER, method: { kind: "full-ft", ...PLAIN }, task: "mild" },
  /** Full fine-tuning at the default base rate only (the low end of the rate comparison). */
  fullFtDefaultLrMild: { lesson: TRANSFER, method: { kind: "full-ft", ...PLAIN, lr: null }, task: "mild" },
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
  // Lesson 03's freeze-ratio sweep: none frozen (full fine-tuning) vs half vs all frozen (head-only),
  // on `mild` and on `inverted`; each at its rate chosen on validation.
  freezeNoneMild: { lesson: "03", method: { kind: "full-ft", ...PLAIN }, task: "mild" },
  freezeHalfMild: { lesson: "03", method: { kind: "freeze", ratio: 0.5 }, task: "mild" },
  freezeAllMild: { lesson: "03", method: { kind: "head-only" }, task: "mild" },
  freezeNoneInverted: { lesson: "03", method: { kind: "full-ft", ...PLAIN }, task: "inverted" },
  freezeAllInverted: { lesson: "03", method: { kind: "head-only" }, task: "inverted" },
  // Part of the base frozen (any ratio strictly between 0 and 1): the ratio best on validation.
  freezeSomeMild: { lesson: "03", method: { kind: "freeze" }, task: "mild" },
  freezeSomeInverted: { lesson: "03", method: { kind: "freeze" }, task: "inverted" },
  scratchInverted: { lesson: TRANSFER, method: { kind: "scratch", recipe: null }, task: "inverted" },
  headOnlyInverted: { lesson: TRANSFER, method: { kind: "head-only" }, task: "inverted" },
  fullFtInverted: { lesson: TRANSFER, method: { kind: "full-ft", ...PLAIN }, task: "inverted" },
  // The source MLP has four hidden layers: hidden1 is the first, hidden4 the last.
  tuneFirstInverted: { lesson: TRANSFER, method: { kind: "tune", layers: ["hidden1"] }, task: "inverted" },
  tuneLastInverted: { lesson: TRANSFER, method: { kind: "tune", layers: ["hidden4"] }, task: "inverted" },
  // Lesson 03's frozen BatchNorm base trained on task B: plain tfjs vs Keras' rule (retention = task A).
  bnPlain: { lesson: "03", method: { kind: "bn-frozen", rule: "plain" } },
  bnKeras: { lesson: "03", method: { kind: "bn-frozen", rule: "keras" } },
  // Lesson 02's class split 0-4 -> 5-9.
  scratchSplit: { lesson: TRANSFER, method: { kind: "scratch", recipe: null }, task: "class-split" },
  headOnlySplit: { lesson: TRANSFER, method: { kind: "head-only" }, task: "class-split" },
  fullFtSplit: { lesson: TRANSFER, method: { kind: "full-ft", ...PLAIN }, task: "class-split" },
  // Lesson 04: LoRA on the MLP's hidden layers vs head-only and full fine-tuning (source head),
  // each at its rate chosen on validation; merged adapters score the same model, so they are left out.
  loraHeadOnly: { lesson: "04", method: { kind: "head-only" } },
  loraR1: { lesson: "04", method: { kind: "lora", r: 1, on: null, merged: null, ...PLAIN } },
  loraR4: { lesson: "04", method: { kind: "lora", r: 4, on: null, merged: null, ...PLAIN } },
  loraR16: { lesson: "04", method: { kind: "lora", r: 16, on: null, merged: null, ...PLAIN } },
  loraFullFt: { lesson: "04", method: { kind: "full-ft", ...PLAIN } },
  // Lesson 04's learning-rate comparison.
  loraLowLr: { lesson: "04", method: { kind: "lora", r: 4, on: null, merged: null, lr: 1e-4 } },
  loraHighLr: { lesson: "04", method: { kind: "lora", r: 4, on: null, merged: null, lr: 1e-3 } },
  // Lesson 05: the tiny ViT.
  vitHeadOnly: { lesson: "05", method: { kind: "head-only" } },
  // Embeddings and the first k blocks frozen, k > 0: the best k on validation.
  vitFreezeSome: {
    lesson: "05",
    method: { kind: "freeze-blocks", where: (m) => m.kind === "freeze-blocks" && m.blocks > 0 },
  },
  vitLora: { lesson: "05", method: { kind: "lora", on: "qv", merged: null } },
  vitFullFt: { lesson: "05", method: { kind: "full-ft", ...PLAIN } },
  // Lesson 07: the source MLP's encoder pretrained on the target's unlabeled images (greedy stacked denoising
  // autoencoders, step-matched end-to-end denoising), scratch, the supervised source model and the source model after
  // continued self-supervised pretraining on the target's images (DAPT, any objective), each fine-tuned at its
  // candidate (head, rate, or zero-shot for the source arms) chosen on validation; on "mild" and "inverted" (the
  // answers name the task).
  greedyAe: { lesson: "07", method: { kind: "ssl-pretrained", objective: "greedy" } },
  denoisingAe: { lesson: "07", method: { kind: "ssl-pretrained", objective: "denoising" } },
  scratchSsl: { lesson: "07", method: { kind: "scratch", recipe: null } },
  sourceFt: { lesson: "07", method: { kind: "source-pretrained", dapt: null } },
  sourceDapt: {
    lesson: "07",
    method: { kind: "source-pretrained", where: (m) => m.kind === "source-pretrained" && m.dapt !== undefined },
  },
  // Lesson 09: the PEFT family on lesson 05's tiny ViT (each seed's own pretrained ViT, lesson 05's labels and step
  // budget), and full fine-tuning with a defence against forgetting. Every run is recorded with its rate (@lr=). A
  // method's rate grid ran on the rate seeds at one budget, its chosen rate on every seed: where the rate seeds are
  // fewer, the chosen rate is the one configuration on the most seeds (review.ts takes it); where they are all the
  // seeds, it is the best on validation, as the lesson chose it. A size left out (bottleneck, rank, tokens) is the
  // size best on validation, as the lesson's verdicts take each method. Lesson 09's full fine-tuning and head-only
  // are lesson 05's runs on the same ViTs (vitFullFt, vitHeadOnly): questions.ts pairs them with lesson 09's.
  peftHoulsby: { lesson: "09", method: { kind: "adapter", placement: "houlsby" } },
  peftPfeiffer: { lesson: "09", method: { kind: "adapter", placement: "pfeiffer" } },
  peftLora: { lesson: "09", method: { kind: "lora", on: "qv", merged: null } },
  peftBitfit: { lesson: "09", method: { kind: "bitfit" } },
  peftIa3: { lesson: "09", method: { kind: "ia3" } },
  peftPrompt: { lesson: "09", method: { kind: "prompt" } },
  // The defences run at lesson 09's validated full-fine-tuning rate; L2-SP's and EWC's strengths are chosen on both
  // tasks' validation (task-B accuracy and task-A retention, extra.retentionVal): questions.ts picks that strength.
  l2sp: { lesson: "09", method: { kind: "l2-sp" } },
  ewc: { lesson: "09", method: { kind: "ewc" } },
  rehearsal: { lesson: "09", method: { kind: "rehearsal" } },
  multiTask: { lesson: "09", method: { kind: "multi-task" } },
} satisfies Record<string, ResultQuery>;

export type QueryName = keyof typeof REVIEW_QUERIES;

/** The named query with a label budget ("few", "many", a number, or null for all labels). */
export function queryAt(name: QueryName, k: ResultQuery["k"]): ResultQuery {
  return { ...REVIEW_QUERIES[name], k };
}
