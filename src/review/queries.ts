// The measured results lesson 10 cites, by name: which lesson, method (as each lesson records it)
// and task answer "scratch on the mild shift", "LoRA r=4", "frozen base on the class split"...
// One place, so the decision guide and the question bank cite the same numbers.
import type { ResultQuery } from "./review";

const TRANSFER = ["02", "03"];

export const REVIEW_QUERIES = {
  // Lesson 01: a deep sigmoid net, historical recipe from scratch vs greedy pretraining; modern recipe.
  historicalScratch: { lesson: "01", method: "scratch-historical", task: "clean" },
  greedyPretrained: { lesson: "01", method: "greedy-pretrained", task: "clean" },
  modernScratch: { lesson: "01", method: "scratch-modern", task: "clean" },
  // Lessons 02/03 on the `mild` shift (same classes, new "scanner").
  zeroShot: { lesson: TRANSFER, method: "zero-shot", task: "mild" },
  scratchMild: { lesson: TRANSFER, method: "scratch", task: "mild" },
  headOnlyMild: { lesson: TRANSFER, method: /^feature-extraction/, task: "mild" },
  fullFtMild: { lesson: TRANSFER, method: /^full-ft(\+source-head)?$/, task: "mild" },
  fullFtHighLrMild: { lesson: TRANSFER, method: /^full-ft(\+source-head)?@lr=1e-3$/, task: "mild" },
  discriminativeMild: { lesson: TRANSFER, method: /@decay=/, task: "mild" },
  // Lesson 03's schedules, same model, labels and epochs: one rate, discriminative, two-phase, progressive.
  schedulePlain: { lesson: "03", method: /^schedule:plain/ },
  scheduleDiscriminative: { lesson: "03", method: /^schedule:discriminative/ },
  scheduleTwoPhase: { lesson: "03", method: /^schedule:two-phase/ },
  scheduleProgressive: { lesson: "03", method: /^schedule:progressive/ },
  // Lesson 02's frozen-feature timing (extra: epochSecondsFull/Frozen/Cached, flopRatio, speedupPerEpoch).
  featureCache: { lesson: "02", method: "feature-cache" },
  // Lesson 03's freeze-ratio sweep: none frozen vs all frozen, on `mild` and on `inverted`.
  freezeNoneMild: { lesson: "03", method: /^freeze-0\.00/, task: "mild" },
  freezeHalfMild: { lesson: "03", method: /^freeze-0\.50/, task: "mild" },
  freezeAllMild: { lesson: "03", method: /^freeze-1\.00/, task: "mild" },
  freezeNoneInverted: { lesson: "03", method: /^freeze-0\.00/, task: "inverted" },
  freezeAllInverted: { lesson: "03", method: /^freeze-1\.00/, task: "inverted" },
  scratchInverted: { lesson: TRANSFER, method: "scratch", task: "inverted" },
  // Freeze ratio 0 is full fine-tuning with a fresh head.
  fullFtInverted: { lesson: TRANSFER, method: /^(full-ft(\+source-head)?|freeze-0\.00(@.*)?)$/, task: "inverted" },
  tuneFirstInverted: { lesson: TRANSFER, method: /^tune-hidden1(\+source-head)?(@.*)?$/, task: "inverted" },
  tuneLastInverted: { lesson: TRANSFER, method: /^tune-hidden3(\+source-head)?(@.*)?$/, task: "inverted" },
  // Lesson 03's frozen BatchNorm base trained on task B: plain tfjs vs Keras' rule (retention = task A).
  bnPlain: { lesson: "03", method: /^bn-frozen:plain/ },
  bnKeras: { lesson: "03", method: /^bn-frozen:keras/ },
  // Lesson 02's class split 0-4 -> 5-9.
  scratchSplit: { lesson: TRANSFER, method: "scratch", task: "class-split" },
  headOnlySplit: { lesson: TRANSFER, method: /^feature-extraction/, task: "class-split" },
  fullFtSplit: { lesson: TRANSFER, method: /^full-ft/, task: "class-split" },
  // Lesson 04: LoRA on the MLP's hidden layers vs head-only and full fine-tuning (source head).
  loraHeadOnly: { lesson: "04", method: "head-only" },
  loraR1: { lesson: "04", method: "lora-r1" },
  loraR4: { lesson: "04", method: "lora-r4" },
  loraR16: { lesson: "04", method: "lora-r16" },
  loraFullFt: { lesson: "04", method: "full-ft" },
  // Lesson 04's learning-rate comparison (method@lr=...).
  loraLowLr: { lesson: "04", method: /^lora-r\d+@lr=1e-4$/ },
  loraHighLr: { lesson: "04", method: /^lora-r\d+@lr=1e-3$/ },
  // Lesson 05: the tiny ViT.
  vitHeadOnly: { lesson: "05", method: "head-only" },
  // freeze-<k>: embeddings and the first k blocks frozen; the pattern takes the smallest k > 0.
  vitFreezeSome: { lesson: "05", method: /^freeze-[1-9]\d*$/ },
  vitLora: { lesson: "05", method: /^lora-qv/ },
  vitFullFt: { lesson: "05", method: "full-ft" },
} satisfies Record<string, ResultQuery>;

export type QueryName = keyof typeof REVIEW_QUERIES;

/** The named query with a label budget ("few", "many", a number, or null for all labels). */
export function queryAt(name: QueryName, k: ResultQuery["k"]): ResultQuery {
  return { ...REVIEW_QUERIES[name], k };
}
