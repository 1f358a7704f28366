// The decision guide of lesson 10: recommendStrategy({ labels, similarity, compute }) recommends the
// method that scored best on validation among those measured for that situation — the task that
// stands for the similarity, at the largest measured label budget not above yours, among the methods
// your compute allows — and backs it with paired verdicts on test. It has no thresholds of its own:
// where nothing was measured it says "not measured" and recommends nothing.
import { readResults } from "../store/results";
import { getScale } from "../core/scale";
import { labelsText, prose } from "../core/format";
import { parseMethod, type Method } from "../core/methods";
import { DEFAULT_FINE_TUNE_LR, DEFAULT_LORA_LR } from "../core/settings";
import { DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { checkOneOf } from "../core/validate";
import type { SummaryRow } from "../store/results";
import { bestOnValidation, isMethodRow, makeFacts, NOT_MEASURED, rowQuery, type Facts, type Verdict } from "./review";
import { queryAt, REVIEW_QUERIES } from "./queries";

/** How the target task relates to the source task. */
export type Similarity = "similar" | "input-shift" | "new-classes" | "unrelated";
export const SIMILARITIES: readonly Similarity[] = ["similar", "input-shift", "new-classes", "unrelated"];

/** The measured task that stands for each situation; null: no lesson measures it. */
export const SIMILARITY_TASKS: Readonly<Record<Similarity, string | null>> = {
  similar: "mild",
  "input-shift": "inverted",
  "new-classes": "class-split",
  unrelated: null,
};

/** Compute (and memory) you can spend on adaptation. */
export type Compute = "low" | "medium" | "high";
export const COMPUTES: readonly Compute[] = ["low", "medium", "high"];

/** What each compute class may train, as a share of the network's weights: gradients and Adam
 * state scale with the trainable weights. A definition of the classes, not a measurement. */
export const COMPUTE_TRAINABLE_SHARE: Readonly<Record<Compute, number>> = { low: 0.01, medium: 0.1, high: 1 };

/** The lessons whose rows the guide chooses among: the source MLP transferred to shifted or new
 * digits (lesson 05's ViT is another model; lesson 01 does not transfer). */
export const GUIDE_LESSONS: readonly string[] = ["02", "03", "04", "10"];

export type Strategy =
  | "zero-shot" // use the source model as it is
  | "head-only" // frozen base, train the head (on cached features)
  | "lora" // low-rank adapters on the frozen base
  | "fine-tune" // everything trains (one rate, discriminative rates or a schedule)
  | "freeze-lower-layers" // keep the bottom of the base frozen, train the top
  | "fine-tune-early-layers" // only the input-side layers (and the head) train
  | "tune-layers" // only some other layers (and the head) train
  | "scratch" // transfer does not pay
  | "not measured"; // nothing measured stands for this situation

export interface RecommendArgs {
  /** Labeled target examples per class. */
  labels: number;
  /** "similar": same classes, mild domain shift (a new scanner); "input-shift": the input
   * statistics changed (inverted contrast, a new sensor); "new-classes": same kind of input, other
   * classes; "unrelated": little in common with the source. */
  similarity: Similarity;
  /** "low": train at most 1 % of the weights; "medium": at most 10 %; "high": anything. */
  compute: Compute;
  /** The adapted model must still do the source task: only methods that leave the source weights
   * intact (a frozen base with its own head, or removable adapters). Default false. */
  keepSource?: boolean;
  /** Measured results to cite (default: the recorded results at the current scale). */
  facts?: Facts;
}

export interface Recommendation {
  strategy: Strategy;
  /** The recorded configuration recommended (e.g. "lora-r8+source-head@lr=1e-3"), or null. */
  method: string | null;
  /** Where it was measured: lesson, task, labels per class; null when nothing stands for the case. */
  measuredAt: { lesson: string; task: string; labelsPerClass: number } | null;
  /** One sentence. */
  summary: string;
  /** Reasons: descriptive numbers (mean ± 95 % half-width) and paired verdicts. */
  evidence: string[];
  /** The verdicts among the evidence, for tl.verdictTable. */
  verdicts: Verdict[];
  /** What to do, in order. */
  steps: string[];
  /** All of it as markdown, for display(). */
  markdown: string;
}

/** The strategy a recorded method stands for. */
export function strategyOf(m: Method): Strategy {
  switch (m.kind) {
    case "zero-shot":
    case "head-only":
    case "lora":
    case "scratch":
      return m.kind;
    case "full-ft":
    case "schedule":
      return "fine-tune";
    case "freeze":
    case "freeze-blocks":
      return "freeze-lower-layers";
    case "tune":
      return m.layers.includes("hidden1") ? "fine-tune-early-layers" : "tune-layers";
    default:
      return "not measured";
  }
}

/** Methods that leave the source weights intact (keepSource). */
function keepsSource(m: Method): boolean {
  return m.kind === "zero-shot" || m.kind === "head-only" || (m.kind === "lora" && !m.merged);
}

/** The share of the network's weights a row trains (scratch: all of them). */
function trainableShare(s: SummaryRow, rows: Facts["rows"]): number | null {
  const m = parseMethod(s.method);
  if (m?.kind === "scratch") return 1;
  const run = rows.find(
    (r) => r.lesson === s.lesson && r.method === s.method && r.task === s.task && r.labelsPerClass === s.labelsPerClass,
  );
  const total = run?.totalParams;
  return s.trainableParams !== null && typeof total === "number" && total > 0 ? s.trainableParams / total : null;
}

/** Label budgets measured on a task by the guide's lessons, ascending. */
export function measuredBudgets(facts: Facts, task: string): number[] {
  return [
    ...new Set(
      facts.summary
        .filter((s) => GUIDE_LESSONS.includes(s.lesson) && s.task === task && s.labelsPerClass !== null)
        .map((s) => s.labelsPerClass as number),
    ),
  ].sort((a, b) => a - b);
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

/** The rows of one budget a situation may choose among, and the ones its constraints rule out. */
function candidatesAt(facts: Facts, task: string, k: number) {
  return facts.summary.filter((s) => {
    return (
      GUIDE_LESSONS.includes(s.lesson) &&
      s.task === task &&
      s.labelsPerClass === k &&
      isMethodRow(s) &&
      s.valAccuracyMean !== null
    );
  });
}

/** The row chosen on validation among `rows` (at least one has validation accuracy). */
function chooseRow(facts: Facts, rows: SummaryRow[]): SummaryRow {
  return bestOnValidation(facts, rows) as SummaryRow;
}

const exact = rowQuery;

/** What to do for a strategy: the procedure, with the recorded configuration's own settings. */
function stepsFor(strategy: Strategy, m: Method): string[] {
  const rate = (fallback: number) => (m.lr ?? fallback).toExponential(0).replace("e+", "e");
  switch (strategy) {
    case "zero-shot":
      return ["Use the source model as it is; score it on held-out target data first."];
    case "head-only":
      return [
        m.head === "source" ? "Start from the source head (shared classes)." : "Put a fresh head on the frozen base.",
        "Compute the frozen features once and cache them; train the head on them.",
        "Choose the head's settings on held-out validation labels, then score test once.",
      ];
    case "lora":
      return [
        prose`Wrap the hidden Dense layers in LoRA of rank ${m.kind === "lora" ? m.r : "r"} (alpha ${DEFAULT_LORA_ALPHA});
        B = 0, so training starts at the source model.`,
        `Train adapters + head with Adam at lr ${rate(DEFAULT_LORA_LR)} (the configuration chosen on validation here).`,
        "Merge B·A into W for deployment, or keep one adapter file per task.",
      ];
    case "fine-tune":
      return [
        "Train the head first with the base frozen (a random head sends large gradients into the base).",
        m.kind === "schedule"
          ? `Then follow the ${m.schedule} schedule recorded here.`
          : m.layerDecay !== undefined
            ? `Then unfreeze everything with discriminative rates (decay ${m.layerDecay} per layer down).`
            : `Then unfreeze everything at base lr ${rate(DEFAULT_FINE_TUNE_LR)} (chosen on validation here).`,
        "Watch validation accuracy and task-A retention each epoch; stop early.",
      ];
    case "freeze-lower-layers":
      return [
        m.kind === "freeze" ? `Freeze the bottom ${100 * m.ratio} % of the base's layers.` : "Freeze the lower blocks.",
        "Train the layers above and the head; choose the depth on validation.",
      ];
    case "fine-tune-early-layers":
    case "tune-layers":
      return [
        `Train only ${m.kind === "tune" ? m.layers.join(", ") : "the chosen layers"} and the head; keep the rest frozen.`,
        "Compare with scratch on validation: negative transfer is possible.",
      ];
    case "scratch":
      return ["Train from scratch with the modern recipe (ReLU, Glorot, Adam).", "Use every label you have."];
    default:
      return [];
  }
}

const SUMMARIES: Record<Strategy, string> = {
  "zero-shot": "Use the source model as it is: nothing measured here beat it on validation within your compute.",
  "head-only": "Freeze the source network and train only the head, on features computed once.",
  lora: "Keep the source weights frozen and train low-rank adapters (LoRA) plus the head.",
  "fine-tune": "Fine-tune the whole network from the source weights.",
  "freeze-lower-layers": "Keep the lower layers frozen and train the upper layers and the head.",
  "fine-tune-early-layers": "The shift is at the input: train the first layer (and the head), keep the rest frozen.",
  "tune-layers": "Train only some layers of the base (and the head).",
  scratch: "Train from scratch: no transfer method beat it on validation here.",
  "not measured": "Not measured: no recorded rows stand for this situation, so the guide recommends nothing.",
};

function notMeasured(why: string): Omit<Recommendation, "markdown"> {
  return {
    strategy: "not measured",
    method: null,
    measuredAt: null,
    summary: SUMMARIES["not measured"],
    evidence: [why],
    verdicts: [],
    steps: ["Measure it on your own data: scratch, a frozen base + head and full fine-tuning, chosen on validation."],
  };
}

/** Picks, for a situation, the method measured best on validation and explains it with verdicts. */
export function recommendStrategy(args: RecommendArgs): Recommendation {
  validate(args);
  const facts = args.facts ?? makeFacts(readResults({ scale: getScale() }));
  const keepSource = args.keepSource ?? false;
  const task = SIMILARITY_TASKS[args.similarity];
  const rec = ((): Omit<Recommendation, "markdown"> => {
    if (task === null)
      return notMeasured(
        prose`No lesson transfers between unrelated tasks, so nothing stands for this case (${NOT_MEASURED}).
        The nearest measured case is new classes (the class split).`,
      );
    const budgets = measuredBudgets(facts, task);
    const below = budgets.filter((k) => k <= args.labels);
    if (below.length === 0)
      return notMeasured(
        budgets.length
          ? prose`On ${task} the smallest measured budget is ${labelsText(budgets[0])}; fewer labels were
            ${NOT_MEASURED}.`
          : `Nothing was measured on ${task} (${NOT_MEASURED}).`,
      );
    const k = below[below.length - 1];
    const all = candidatesAt(facts, task, k);
    const allowed = all.filter((s) => {
      const m = parseMethod(s.method) as Method;
      const share = trainableShare(s, facts.rows);
      return share !== null && share <= COMPUTE_TRAINABLE_SHARE[args.compute] && (!keepSource || keepsSource(m));
    });
    if (allowed.length === 0)
      return notMeasured(
        prose`At ${labelsText(k)} on ${task}, no measured method fits compute "${args.compute}"
        (at most ${100 * COMPUTE_TRAINABLE_SHARE[args.compute]} % of the weights trained)${keepSource ? " and keeps the source weights intact" : ""}.`,
      );
    const chosen = chooseRow(facts, allowed);
    const best = chooseRow(facts, all);
    const m = parseMethod(chosen.method) as Method;
    const strategy = strategyOf(m);
    const here = exact(chosen);
    const verdicts: Verdict[] = [];
    const evidence: string[] = [
      prose`Judged at ${labelsText(k)} on ${task}${k < args.labels ? ` (the largest measured budget not above your ${args.labels})` : ""}:
      ${chosen.method} (lesson ${chosen.lesson}) has the best validation accuracy of the ${allowed.length} measured
      method${allowed.length === 1 ? "" : "s"} your compute allows; on test it scores ${facts.citeAccuracy(here)}.`,
    ];
    const scratch = { lesson: chosen.lesson, method: REVIEW_QUERIES.scratchMild.method, task, k };
    if (m.kind === "scratch") {
      const transfer = candidatesAt(facts, task, k).filter(
        (s) => s.lesson === chosen.lesson && parseMethod(s.method)?.kind !== "scratch",
      );
      if (transfer.length) {
        const t = chooseRow(facts, transfer);
        verdicts.push(
          facts.compare(`Scratch beats the best transfer method on validation (${t.method})`, here, exact(t)),
        );
      }
    } else {
      const vsScratch = facts.compare(`${chosen.method} beats training from scratch`, here, scratch);
      verdicts.push(vsScratch);
      if (!vsScratch.measured) {
        // Pairs stay within one lesson: ask a lesson that measured scratch here what transfer gains.
        const other = GUIDE_LESSONS.filter((l) => l !== chosen.lesson).find((l) =>
          facts.find({ ...scratch, lesson: l }),
        );
        const theirs = other
          ? bestOnValidation(
              facts,
              allowed.filter((s) => s.lesson === other && parseMethod(s.method)?.kind !== "scratch"),
            )
          : null;
        if (theirs)
          verdicts.push(
            facts.compare(
              `In lesson ${theirs.lesson}, ${theirs.method} (its best on validation within your compute) beats training from scratch`,
              exact(theirs),
              { ...scratch, lesson: theirs.lesson },
            ),
          );
      }
    }
    if (best.method !== chosen.method || best.lesson !== chosen.lesson)
      verdicts.push(
        facts.compare(
          `${best.method}, the best on validation without your constraints, beats ${chosen.method}`,
          exact(best),
          here,
        ),
      );
    const rivals = allowed.filter((s) => s.lesson === chosen.lesson && s.method !== chosen.method);
    if (rivals.length) {
      const runnerUp = chooseRow(facts, rivals);
      verdicts.push(
        facts.compare(`${chosen.method} beats the runner-up on validation, ${runnerUp.method}`, here, exact(runnerUp)),
      );
    }
    if (m.kind !== "full-ft" && m.kind !== "scratch")
      verdicts.push(
        facts.compare(
          `${chosen.method} forgets less of the source task than full fine-tuning`,
          here,
          { lesson: chosen.lesson, method: REVIEW_QUERIES.fullFtMild.method, task, k },
          { direction: "less", field: "forgetting" },
        ),
      );
    return {
      strategy,
      method: chosen.method,
      measuredAt: { lesson: chosen.lesson, task, labelsPerClass: k },
      summary: SUMMARIES[strategy],
      evidence: [...evidence, ...verdicts.map((v) => `${v.text}.`)],
      verdicts,
      steps: stepsFor(strategy, m),
    };
  })();
  const markdown = [
    `**Recommendation: ${rec.strategy}**${rec.method ? ` (\`${rec.method}\`)` : ""} — ${rec.summary}`,
    ``,
    prose`Situation: ${labelsText(args.labels)}, similarity *${args.similarity}*${task ? ` (measured as task ${task})` : ""},
      compute *${args.compute}* (at most ${100 * COMPUTE_TRAINABLE_SHARE[args.compute]} % of the weights trained)${keepSource ? ", the source task must keep working" : ""}.`,
    ``,
    `Measured here:`,
    ...rec.evidence.map((e) => `- ${e}`),
    ``,
    `How:`,
    ...rec.steps.map((s, i) => `${i + 1}. ${s}`),
  ].join("\n");
  return { ...rec, markdown };
}

/** Transfer against scratch on the similar task at every budget lesson 02 measured: the best
 * transfer configuration on validation (frozen base + head or full fine-tuning, any head and rate)
 * vs scratch, paired by seed. `labels` is the crossover: the budget after the largest one where
 * transfer significantly beats scratch, when it does so at no larger budget (null: no crossover
 * within the measured budgets, or nothing was measured). */
export function transferCrossover(
  facts: Facts,
  lesson = "02",
): { labels: number | null; source: string; verdicts: Verdict[] } {
  const budgets = [
    ...new Set(
      facts.summary
        .filter((s) => s.lesson === lesson && s.task === "mild" && s.labelsPerClass !== null)
        .map((s) => s.labelsPerClass as number),
    ),
  ].sort((a, b) => a - b);
  const verdicts: Verdict[] = [];
  for (const k of budgets) {
    const transfer = facts.summary.filter((s) => {
      const kind = parseMethod(s.method)?.kind;
      return (
        s.lesson === lesson &&
        s.task === "mild" &&
        s.labelsPerClass === k &&
        (kind === "head-only" || (kind === "full-ft" && parseMethod(s.method)?.layerDecay === undefined)) &&
        s.valAccuracyMean !== null
      );
    });
    if (transfer.length === 0) continue;
    const t = chooseRow(facts, transfer);
    verdicts.push(
      facts.compare(`At ${labelsText(k)}, transfer (${t.method}, best on validation) beats scratch`, exact(t), {
        ...queryAt("scratchMild", k),
        lesson,
      }),
    );
  }
  const measured = verdicts.filter((v) => v.measured);
  if (measured.length === 0)
    return {
      labels: null,
      source: `no lesson ${lesson} sweep of transfer and scratch recorded (${NOT_MEASURED})`,
      verdicts,
    };
  const kOf = (v: Verdict) => v.a?.labelsPerClass as number;
  const range = `${kOf(measured[0])}-${kOf(measured[measured.length - 1])} labels/class, lesson ${lesson}`;
  const holding = measured.filter((v) => v.comparison.verdict === "holds");
  if (holding.length === 0)
    return {
      labels: null,
      source: `no crossover measured: transfer beats scratch significantly at none of the measured budgets (${range})`,
      verdicts,
    };
  const lastHolds = measured.indexOf(holding[holding.length - 1]);
  if (lastHolds === measured.length - 1)
    return {
      labels: null,
      source: prose`no crossover measured: transfer beats scratch significantly at the largest measured budget
        (${holding.length} of ${measured.length} budgets hold; ${range})`,
      verdicts,
    };
  // Transfer holds up to some budget and at none above it: the crossover is the next budget.
  const stops = measured[lastHolds + 1];
  return {
    labels: kOf(stops),
    source: prose`measured: from ${labelsText(kOf(stops))} on, transfer no longer beats scratch significantly
      (${stops.comparison.verdict} there and at every larger budget; ${range})`,
    verdicts,
  };
}
