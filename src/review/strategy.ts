// The decision guide of lesson 10: recommendStrategy({ labels, similarity, compute }) picks a
// transfer strategy and backs every reason with a number measured in lessons 01-05 (or says it
// was not measured at this scale). The label threshold itself comes from lesson 02's crossover.
import { DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { readResults } from "../store/results";
import { getScale } from "../core/scale";
import { claim, makeFacts, type Facts } from "./review";
import { formatPoints, labelsText } from "../core/format";
import { queryAt, REVIEW_QUERIES } from "./queries";
import { checkOneOf } from "../core/validate";
import { prose } from "../core/format";

/** How the target task relates to the source task. */
export type Similarity = "similar" | "input-shift" | "new-classes" | "unrelated";
export const SIMILARITIES: readonly Similarity[] = ["similar", "input-shift", "new-classes", "unrelated"];
/** Compute (and memory) you can spend on adaptation. */
export type Compute = "low" | "medium" | "high";
export const COMPUTES: readonly Compute[] = ["low", "medium", "high"];

export type Strategy =
  | "head-only" // frozen base, train the head (on cached features)
  | "lora" // low-rank adapters on the frozen base
  | "fine-tune" // everything trains at a low rate, head first
  | "fine-tune-early-layers" // the input-side layers must move
  | "reuse-lower-layers" // keep the generic bottom, retrain the specific top
  | "scratch" // transfer does not pay
  | "self-supervised-then-fine-tune"; // pretrain on your own unlabeled data first

export interface RecommendArgs {
  /** Labeled target examples per class. */
  labels: number;
  /** "similar": same classes, mild domain shift (a new scanner); "input-shift": the input
   * statistics changed (inverted contrast, a new sensor); "new-classes": same kind of input, other
   * classes; "unrelated": little in common with the source. */
  similarity: Similarity;
  /** "low": a laptop CPU, minutes; "medium": can fine-tune a few adapters; "high": full fine-tuning. */
  compute: Compute;
  /** The adapted model must still do the source task (default false). */
  keepSource?: boolean;
  /** Measured results to cite (default: the recorded results at the current scale). */
  facts?: Facts;
}

export interface Recommendation {
  strategy: Strategy;
  /** One sentence. */
  summary: string;
  /** Reasons, each citing a measured number or saying it was not measured. */
  evidence: string[];
  /** What to do, in order. */
  steps: string[];
  /** Labels per class from which transfer stops paying on the similar task, and where it came from. */
  threshold: { labels: number; source: string };
  /** All of it as markdown, for display(). */
  markdown: string;
}

/** Labels per class from which fine-tuning stops beating scratch, when lesson 02 did not measure
 * a crossover (earlier default-scale runs measured a gain of about 2 points at 50). */
export const DEFAULT_MANY_LABELS = 50;
/** A transfer gain below this (accuracy, fraction) counts as "no longer pays". */
export const CROSSOVER_GAIN = 0.02;

/** The smallest measured label budget at which the best transfer method on the similar task beats
 * scratch by less than CROSSOVER_GAIN; DEFAULT_MANY_LABELS when none was measured. */
export function transferCrossover(facts: Facts): { labels: number; source: string } {
  const budgets = [
    ...new Set(
      facts.summary
        .filter(
          (s) => REVIEW_QUERIES.scratchMild.lesson.includes(s.lesson) && s.task === "mild" && s.method === "scratch",
        )
        .map((s) => s.labelsPerClass),
    ),
  ]
    .filter((k): k is number => k !== null)
    .sort((a, b) => a - b);
  for (const k of budgets) {
    const gains = [
      facts.gain(queryAt("fullFtMild", k), queryAt("scratchMild", k)),
      facts.gain(queryAt("headOnlyMild", k), queryAt("scratchMild", k)),
    ].filter((g): g is number => g !== null);
    if (gains.length && Math.max(...gains) < CROSSOVER_GAIN) {
      return {
        labels: k,
        source: prose`measured: at ${labelsText(k)} the best transfer method beats scratch by ${formatPoints(Math.max(...gains), 0)}
        (lesson 02)`,
      };
    }
  }
  const seen = budgets.length
    ? `transfer stays ahead at every measured budget (${budgets.join(", ")})`
    : "no lesson 02 sweep recorded at this scale";
  return {
    labels: DEFAULT_MANY_LABELS,
    source: `no crossover measured: ${seen}; the guide uses ${DEFAULT_MANY_LABELS}`,
  };
}

function validate(args: RecommendArgs): void {
  if (!(typeof args.labels === "number" && Number.isFinite(args.labels) && args.labels > 0)) {
    throw new Error(
      prose`recommendStrategy: labels must be a positive number of labels per class, got ${JSON.stringify(args.labels)}`,
    );
  }
  checkOneOf("recommendStrategy", "similarity", args.similarity, SIMILARITIES);
  checkOneOf("recommendStrategy", "compute", args.compute, COMPUTES);
}

type Plan = Pick<Recommendation, "strategy" | "summary" | "evidence" | "steps">;

function fewSimilar(f: Facts, compute: Compute, keepSource: boolean): Plan {
  const transferGain = prose`${claim(f, queryAt("fullFtMild", "few"), queryAt("scratchMild", "few"), { yes: "Transfer beats scratch with few labels, full fine-tuning vs scratch", no: "Here transfer does not beat scratch even with few labels, full fine-tuning vs scratch" })}.`;
  const zeroShot = prose`The untouched source model already scores ${f.citeAccuracy(queryAt("zeroShot", "few"))}
    on the target: keep its head, the classes are shared.`;
  if (compute === "low") {
    return {
      strategy: "head-only",
      summary: "Freeze the source network and train only the head, on features computed once.",
      evidence: [
        transferGain,
        prose`A frozen base with a trained head reaches ${f.citeAccuracy(queryAt("headOnlyMild", "few"))},
          training ${f.citeParams(queryAt("headOnlyMild", "few"))} parameters instead of ${f.citeParams(queryAt("fullFtMild", "few"))}.`,
        zeroShot,
        `Nothing of the source task is lost: task-A retention ${f.citeRetention(queryAt("headOnlyMild", "few"))}.`,
      ],
      steps: [
        "Start from the source head (shared classes) or a fresh head.",
        "Compute the frozen features once and cache them.",
        "Train the head on the cached features; validate on held-out target data.",
      ],
    };
  }
  if (compute === "medium" || keepSource) {
    return {
      strategy: "lora",
      summary: "Keep the source weights frozen and train low-rank adapters (LoRA, r≈4) plus the head.",
      evidence: [
        transferGain,
        prose`LoRA r=4 reaches ${f.citeAccuracy(queryAt("loraR4", "few"))} against full fine-tuning's ${f.citeAccuracy(queryAt("loraFullFt", "few"))},
          with ${f.citeParams(queryAt("loraR4", "few"))} trainable parameters instead of ${f.citeParams(queryAt("loraFullFt", "few"))}.`,
        prose`Task-A retention ${f.citeRetention(queryAt("loraR4", "few"))} (LoRA r=4) vs ${f.citeRetention(queryAt("loraFullFt", "few"))}
          (full fine-tuning); with the base frozen, removing the adapter restores the source model exactly.`,
        prose`${claim(f, queryAt("loraR4", "few"), queryAt("loraR1", "few"), { yes: "Rank matters at the low end, r=4 vs r=1", no: "Rank hardly matters here, r=4 vs r=1" }, 0.01)}.`,
      ],
      steps: [
        prose`Wrap the hidden Dense layers in LoRA (r=4, alpha=${DEFAULT_LORA_ALPHA}, so scaling alpha/r = ${DEFAULT_LORA_ALPHA / 4});
        B = 0, so training starts at the source model.`,
        "Train adapters + head with Adam at lr 1e-3 (larger than full fine-tuning's 1e-4).",
        "Merge B·A into W for deployment, or keep the adapter file per task.",
      ],
    };
  }
  return {
    strategy: "fine-tune",
    summary: "Fine-tune the whole network at a low learning rate, starting from the source head.",
    evidence: [
      transferGain,
      zeroShot,
      prose`Full fine-tuning reaches ${f.citeAccuracy(queryAt("fullFtMild", "few"))}; the frozen base alone ${f.citeAccuracy(queryAt("headOnlyMild", "few"))}.`,
      prose`Task-A retention after fine-tuning: ${f.citeRetention(queryAt("fullFtMild", "few"))} at base lr 1e-4
        vs ${f.citeRetention(queryAt("fullFtHighLrMild", "few"))} at 1e-3 — the rate is the main forgetting
        knob.`,
    ],
    steps: [
      "Train the head first with the base frozen (a random head sends large gradients into the base).",
      "Unfreeze everything; base lr 1e-4 (or discriminative rates, lower for early layers).",
      "Watch held-out target accuracy and task-A retention each epoch; stop early.",
    ],
  };
}

function plan(args: Required<Omit<RecommendArgs, "facts">>, f: Facts, many: boolean): Plan {
  const { similarity, compute, keepSource } = args;
  if (similarity === "unrelated") {
    return {
      strategy: many ? "scratch" : "self-supervised-then-fine-tune",
      summary: many
        ? "Train from scratch with the modern recipe; the source features do not fit."
        : "Pretrain on your own unlabeled data (self-supervised), then fine-tune with the few labels.",
      evidence: [
        prose`${claim(f, queryAt("scratchSplit", "few"), queryAt("headOnlySplit", "few"), { yes: "Features of a different source task transfer badly, scratch vs a frozen base on the class split", no: "Even on the class split the frozen base holds up here, scratch vs frozen base" })}.`,
        prose`${claim(f, queryAt("greedyPretrained", "few"), queryAt("historicalScratch", "few"), { yes: "Unsupervised pretraining on the task's own images rescued lesson 01's deep net, pretrained vs scratch (historical recipe)", no: "Lesson 01's unsupervised pretraining did not help at this scale, pretrained vs scratch" })}.`,
        prose`With the modern recipe scratch training is strong by itself: ${f.citeAccuracy(queryAt("modernScratch", "many"))}
          with the most labels.`,
      ],
      steps: many
        ? ["ReLU, Glorot init, Adam; no pretraining needed.", "Use the labels you have; augment."]
        : [
            "Pretrain an encoder on all unlabeled target data (masked/denoising autoencoder or contrastive).",
            "Add a head; fine-tune with the labels at a low rate.",
          ],
    };
  }
  if (many) {
    const scratchWins = similarity !== "similar";
    const strategy: Strategy = scratchWins
      ? "scratch"
      : compute === "low"
        ? "head-only"
        : keepSource
          ? "lora"
          : "fine-tune";
    const summaries: Partial<Record<Strategy, string>> = {
      scratch:
        "With this many labels and a different input or task, train from scratch (or fine-tune everything); frozen features would hold you back.",
      "head-only":
        "With this many labels transfer no longer buys much accuracy; on a small compute budget train a head on the frozen base (cheapest), else train from scratch.",
      lora: "With this many labels transfer no longer buys much accuracy; to keep the source task working, train LoRA adapters on the frozen base.",
      "fine-tune":
        "With this many labels transfer no longer buys accuracy; fine-tune (fast to converge) or train from scratch.",
    };
    return {
      strategy,
      summary: summaries[strategy] as string,
      evidence: [
        prose`Transfer's gain over scratch with the most labels: full fine-tuning ${f.citeGain(queryAt("fullFtMild", "many"), queryAt("scratchMild", "many"))};
          with the fewest: ${f.citeGain(queryAt("fullFtMild", "few"), queryAt("scratchMild", "few"))}.`,
        scratchWins
          ? prose`On inverted digits (an input shift), full fine-tuning vs scratch: ${f.citeGain(queryAt("fullFtInverted", "many"), queryAt("scratchInverted", "many"))}.`
          : prose`A frozen base is the cheap option: ${f.citeAccuracy(queryAt("headOnlyMild", "many"))} training ${f.citeParams(queryAt("headOnlyMild", "many"))}
            parameters.`,
        prose`${claim(f, queryAt("fullFtSplit", "few"), queryAt("headOnlySplit", "few"), { yes: "On new classes the source's top layers are too specific, full fine-tuning vs a frozen base on the class split", no: "On the class split a frozen base holds up here, full fine-tuning vs frozen base" })}.`,
      ],
      steps: scratchWins
        ? [
            "Train from scratch with the modern recipe, or fine-tune every layer from the source weights.",
            "Compare both on held-out data; keep the cheaper if they tie.",
          ]
        : [
            "Fine-tune from the source weights (converges in fewer steps) or train from scratch.",
            "Head-only or LoRA when compute or task-A retention matters.",
          ],
    };
  }
  if (similarity === "similar") return fewSimilar(f, compute, keepSource);
  if (similarity === "input-shift") {
    return {
      strategy: "fine-tune-early-layers",
      summary:
        "The shift is at the input: let the first layers move (tune them, or everything); do not freeze the bottom.",
      evidence: [
        prose`${claim(f, queryAt("freezeNoneInverted", "few"), queryAt("freezeAllInverted", "few"), { yes: "Freezing the base loses on inverted digits, freeze ratio 0 vs 1", no: "At this scale freezing the base does not lose on inverted digits, freeze ratio 0 vs 1" })}.`,
        prose`${claim(f, queryAt("tuneFirstInverted", "few"), queryAt("tuneLastInverted", "few"), { yes: "The first layer is where the shift is, tuning only it vs only the last", no: "At this scale tuning the first layer does not beat tuning the last" })}.`,
        prose`Check scratch too: on inverted digits scratch ${f.citeAccuracy(queryAt("scratchInverted", "few"))}
          vs full fine-tuning ${f.citeAccuracy(queryAt("fullFtInverted", "few"))}.`,
      ],
      steps: [
        compute === "low"
          ? "Train the first layer (and the head) only: few parameters, and it is where the shift is."
          : "Fine-tune all layers, the first ones included, at a low rate.",
        "Compare with scratch on held-out data; negative transfer is possible here.",
      ],
    };
  }
  return {
    strategy: "reuse-lower-layers",
    summary:
      "New classes: keep the generic lower layers, retrain the top layers and a fresh head (or fine-tune everything).",
    evidence: [
      prose`${claim(f, queryAt("fullFtSplit", "few"), queryAt("headOnlySplit", "few"), { yes: "The last hidden layer of a 5-class model is too specific, full fine-tuning vs frozen base + fresh head", no: "At this scale the frozen base + fresh head keeps up with full fine-tuning" })}.`,
      `Scratch is a real competitor here: ${f.citeAccuracy(queryAt("scratchSplit", "few"))}.`,
      prose`Half frozen keeps the cost down: freeze ratio 0.5 trains ${f.citeParams(queryAt("freezeHalfMild", "few"))}
        parameters (mild task) vs ${f.citeParams(queryAt("freezeNoneMild", "few"))} with none frozen.`,
    ],
    steps: [
      "Freeze the bottom half of the base, re-initialise the head, train the top layers.",
      compute === "low" ? "Stop there." : "Then unfreeze the rest at a lower rate if held-out accuracy still climbs.",
    ],
  };
}

/** Picks a strategy for a situation and explains it with measured numbers. */
export function recommendStrategy(args: RecommendArgs): Recommendation {
  validate(args);
  const facts = args.facts ?? makeFacts(readResults({ scale: getScale() }));
  const threshold = transferCrossover(facts);
  const many = args.labels >= threshold.labels;
  const p = plan(
    { labels: args.labels, similarity: args.similarity, compute: args.compute, keepSource: args.keepSource ?? false },
    facts,
    many,
  );
  const markdown = [
    `**Recommendation: ${p.strategy}** — ${p.summary}`,
    ``,
    prose`Situation: ${labelsText(args.labels)} (${many ? "many" : "few"}: threshold ${threshold.labels}, ${threshold.source}),
      similarity *${args.similarity}*, compute *${args.compute}*${args.keepSource ? ", the source task must keep working" : ""}.`,
    ``,
    `Measured here:`,
    ...p.evidence.map((e) => `- ${e}`),
    ``,
    `How:`,
    ...p.steps.map((s, i) => `${i + 1}. ${s}`),
  ].join("\n");
  return { ...p, threshold, markdown };
}
