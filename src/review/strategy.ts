// The decision guide of lesson 10: recommendStrategy({ labels, similarity, compute }) recommends the
// method that scored best on validation among those measured for that situation — the task that
// stands for the similarity, at the largest measured label budget not above yours, among the methods
// your memory budget allows (`compute`: the share of the weights trained, which gradients and Adam
// state scale with; not a measure of time) — and backs it with paired verdicts on test. It has no
// thresholds of its own: where nothing was measured it says "not measured" and recommends nothing.
// recommendFromImages takes the user's own unlabeled target images instead of a declared similarity:
// it measures their proxy A-distance from the source task and maps it with lesson 08's calibration.
import { readResults } from "../store/results";
import type { Dataset } from "../data/types";
import { checkDataset } from "../data/check";
import { domainDistance } from "../evaluate/domain-distance";
import { getSourceModel } from "../experiments/source";
import {
  loadDistanceCalibration,
  nearestTask,
  referenceImages,
  TASK_SIMILARITY,
  type DistanceCalibration,
} from "../experiments/domain";
import { getScale } from "../core/scale";
import { labelsText, prose } from "../core/format";
import { parseMethod, type Method } from "../core/methods";
import { DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { checkOneOf } from "../core/validate";
import type { ResultRecord, SummaryRow } from "../store/results";
import {
  bestOnValidation,
  comparableRows,
  isMethodRow,
  makeFacts,
  mildBudgets,
  NOT_MEASURED,
  rowQuery,
  runsOfRow,
  sameRuns,
  type Facts,
  type Verdict,
} from "./review";
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

/** The memory you can spend on adaptation, as the share of the weights you may train (the API keeps
 * the name `compute`; what the classes bound is trainable weights, hence memory, not time). */
export type Compute = "low" | "medium" | "high";
export const COMPUTES: readonly Compute[] = ["low", "medium", "high"];

/** What each class may train, as a share of the network's weights: gradients and Adam state (the
 * training memory beyond the model) scale with the trainable weights. A definition of the classes,
 * not a measurement; it says nothing about time (a frozen base still runs forward every step). */
export const COMPUTE_TRAINABLE_SHARE: Readonly<Record<Compute, number>> = { low: 0.01, medium: 0.1, high: 1 };

/** The lessons whose rows the guide chooses among: the source MLP transferred to shifted or new
 * digits (lesson 05's ViT is another model; lesson 01 does not transfer). */
export const GUIDE_LESSONS: readonly string[] = ["02", "03", "04", "10"];

export type Strategy =
  | "zero-shot" // source-only: the source model as it is, no adaptation (named zero-shot in the tables)
  | "head-only" // frozen base, train the head (its features can be cached)
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
  /** The memory budget, as the share of the weights trained: "low": at most 1 %; "medium": at most
   * 10 %; "high": anything. */
  compute: Compute;
  /** The adapted model must still do the source task: only methods that leave the source base
   * intact (a frozen base, or removable adapters). Runs that start from the source head train it,
   * so the recommendation then says to keep a copy of the original head. Default false. */
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

/** Methods that leave the source base intact (keepSource); those with `+source-head` train the
 * source head, so task A needs a copy of the original head kept aside. */
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

/** The rows of one budget a situation may choose among: methods of the guide's lessons with a
 * validation accuracy, each on its lesson's full seed set and all on one seed set (comparableRows:
 * a one-seed demo row never competes with ten-seed means). */
function candidatesAt(facts: Facts, task: string, k: number): SummaryRow[] {
  const measured = facts.summary.filter(
    (s) =>
      GUIDE_LESSONS.includes(s.lesson) &&
      s.task === task &&
      s.labelsPerClass === k &&
      isMethodRow(s) &&
      s.valAccuracyMean !== null,
  );
  return comparableRows(facts, measured).rows;
}

/** The row chosen on validation among `rows` (at least one has validation accuracy). */
function chooseRow(facts: Facts, rows: SummaryRow[]): SummaryRow {
  return bestOnValidation(facts, rows) as SummaryRow;
}

const exact = rowQuery;

/** A rate as the method names write it: 3e-4. */
function rateText(x: number): string {
  return x.toExponential(0).replace("e+", "e");
}

/** What the recorded runs of a configuration did: rates, epochs and steps from their record
 * (`base` false: only the head trained, so the base rate a record may carry is left out). */
function recordedSettings(run: ResultRecord | undefined, base = true): string {
  const e: Record<string, unknown> = run?.extra ?? {};
  const parts: string[] = [];
  if (base && typeof e.learningRate === "number") parts.push(`lr ${rateText(e.learningRate)}`);
  if (typeof e.headLearningRate === "number") parts.push(`head lr ${rateText(e.headLearningRate)}`);
  else if (!base && typeof e.learningRate === "number") parts.push(`lr ${rateText(e.learningRate)}`);
  if (typeof e.epochs === "number") parts.push(`${e.epochs} epochs`);
  if (typeof e.steps === "number") parts.push(`${e.steps} steps`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** What to do for a strategy: what the recorded configuration did, with its own settings — only
 * steps the recorded runs took. */
function stepsFor(strategy: Strategy, m: Method, run: ResultRecord | undefined, keepSource: boolean): string[] {
  const settings = recordedSettings(run);
  const keepHead =
    keepSource && m.head === "source"
      ? [
          "Keep a copy of the original head: this configuration starts from the source head and trains it, so task A needs the original head back.",
        ]
      : [];
  switch (strategy) {
    case "zero-shot":
      return [
        "Use the source model as it is (source-only: no adaptation; the tables call it zero-shot); score it on held-out target data first.",
      ];
    case "head-only":
      return [
        m.head === "source" ? "Start from the source head (shared classes)." : "Put a fresh head on the frozen base.",
        `Train only the head on the frozen base${recordedSettings(run, false)}, as recorded here; the frozen features can be computed once and cached (lesson 02).`,
        "Choose the head's settings on held-out validation labels, then score test once.",
        ...keepHead,
      ];
    case "lora":
      return [
        prose`Wrap the hidden Dense layers in LoRA of rank ${m.kind === "lora" ? m.r : "r"} (alpha ${DEFAULT_LORA_ALPHA});
        B = 0, so training starts at the source model.`,
        `Train adapters + head with Adam${settings}: the configuration chosen on validation here.`,
        "Merge B·A into W for deployment, or keep one adapter file per task.",
        ...keepHead,
      ];
    case "fine-tune":
      return m.kind === "schedule"
        ? [`Follow the ${m.schedule} schedule as lesson 03 recorded it${settings}.`]
        : [
            m.layerDecay !== undefined
              ? `Train every layer from the source weights with discriminative rates (decay ${m.layerDecay} per layer down)${settings}.`
              : `Train every layer from the source weights, the head at its own rate${settings}.`,
            "As recorded here: everything trains from the first step (no head-first phase) for a fixed number of epochs (no early stopping); the rate was chosen on validation.",
          ];
    case "freeze-lower-layers":
      return [
        m.kind === "freeze" ? `Freeze the bottom ${100 * m.ratio} % of the base's layers.` : "Freeze the lower blocks.",
        `Train the layers above and the head${settings}; the depth was chosen on validation.`,
      ];
    case "fine-tune-early-layers":
    case "tune-layers":
      return [
        `Train only ${m.kind === "tune" ? m.layers.join(", ") : "the chosen layers"} and the head${settings}; keep the rest frozen.`,
        "Compare with scratch on validation: negative transfer is possible.",
      ];
    case "scratch":
      return [`Train from scratch${settings}, as recorded here.`, "Use every label you have."];
    default:
      return [];
  }
}

/** One sentence per strategy; the first-layer one names the input shift only where it is one. */
function summaryFor(strategy: Strategy, similarity: Similarity): string {
  if (strategy === "fine-tune-early-layers")
    return similarity === "input-shift"
      ? "The shift is at the input: train the first layer (and the head), keep the rest frozen."
      : "Train the first layer (and the head), keep the rest frozen.";
  return SUMMARIES[strategy];
}

const SUMMARIES: Record<Strategy, string> = {
  "zero-shot":
    "Use the source model as it is (source-only: no adaptation; called zero-shot in this course's tables): nothing measured here beat it on validation within your memory budget.",
  "head-only": "Freeze the source network and train only the head.",
  lora: "Keep the source weights frozen and train low-rank adapters (LoRA) plus the head.",
  "fine-tune": "Fine-tune the whole network from the source weights.",
  "freeze-lower-layers": "Keep the lower layers frozen and train the upper layers and the head.",
  "fine-tune-early-layers": "Train the first layer (and the head), keep the rest frozen.",
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
        prose`At ${labelsText(k)} on ${task}, no measured method fits memory budget "${args.compute}"
        (at most ${100 * COMPUTE_TRAINABLE_SHARE[args.compute]} % of the weights trained)${keepSource ? " and leaves the source base intact" : ""}.`,
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
      method${allowed.length === 1 ? "" : "s"} your memory budget allows${keepSource ? " that leave the source base intact" : ""}; on test it
      scores ${facts.citeAccuracy(here)}.`,
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
              `In lesson ${theirs.lesson}, ${theirs.method} (its best on validation within your memory budget) beats training from scratch`,
              exact(theirs),
              { ...scratch, lesson: theirs.lesson },
            ),
          );
      }
    }
    // Never a configuration against itself, nor against its own runs recorded under another name.
    if ((best.method !== chosen.method || best.lesson !== chosen.lesson) && !sameRuns(facts, best, chosen))
      verdicts.push(
        facts.compare(
          `${best.method}, the best on validation without your constraints, beats ${chosen.method}`,
          exact(best),
          here,
        ),
      );
    const rivals = allowed.filter(
      (s) => s.lesson === chosen.lesson && s.method !== chosen.method && !sameRuns(facts, s, chosen),
    );
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
      summary: summaryFor(strategy, args.similarity),
      evidence: [...evidence, ...verdicts.map((v) => `${v.text}.`)],
      verdicts,
      steps: stepsFor(strategy, m, runsOfRow(facts, chosen)[0], keepSource),
    };
  })();
  const markdown = [
    `**Recommendation: ${rec.strategy}**${rec.method ? ` (\`${rec.method}\`)` : ""} — ${rec.summary}`,
    ``,
    prose`Situation: ${labelsText(args.labels)}, similarity *${args.similarity}*${task ? ` (measured as task ${task})` : ""},
      memory budget (\`compute\`) *${args.compute}* (at most ${100 * COMPUTE_TRAINABLE_SHARE[args.compute]} % of the weights trained:
      gradients and Adam state scale with them; time is not what this bounds)${keepSource ? ", the source task must keep working (the source base stays intact)" : ""}.`,
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
 * transfer significantly beats scratch, when it does so at no larger budget — from there on transfer
 * is no longer shown to pay (it stops paying only where scratch is significantly better) (null: no
 * crossover within the measured budgets, or nothing was measured). */
export function transferCrossover(
  facts: Facts,
  lesson = "02",
): { labels: number | null; source: string; verdicts: Verdict[] } {
  const budgets = mildBudgets(facts, lesson);
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
  // Transfer holds up to some budget and at none above it: the crossover is the next budget. "Not
  // significant" there says transfer is no longer shown to pay, not that it stops paying; only a
  // contradicted verdict (scratch significantly better) says the latter.
  const stops = measured[lastHolds + 1];
  const after = measured.slice(lastHolds + 1);
  const worse = after.filter((v) => v.comparison.verdict === "contradicted").map(kOf);
  const tail =
    worse.length === 0
      ? "not significant there and at every larger budget: no difference shown either way"
      : worse.length === after.length
        ? "contradicted there and at every larger budget: scratch is significantly better"
        : `scratch is significantly better (contradicted) at ${worse.map((k) => labelsText(k)).join(", ")}; not significant at the other larger budgets`;
  return {
    labels: kOf(stops),
    source: prose`measured: from ${labelsText(kOf(stops))} on, transfer is no longer shown to pay over scratch
      (${tail}; ${range})`,
    verdicts,
  };
}

/** The similarity read from the user's images: their distance from the source task and the situation
 * lesson 08's calibration maps it to. */
export interface MeasuredSimilarity {
  /** Proxy A-distance between task A's test images and the given images, at `layer`, through the
   * seed's task-A model (the reference lesson 08's calibration used for every task). */
  distance: number;
  layer: string;
  /** The calibration task whose mean distance is nearest, and the situation it stands for. */
  nearestTask: string;
  similarity: Similarity;
  calibration: DistanceCalibration;
  /** One sentence: the distance, the thresholds, how they were chosen. */
  text: string;
}

export interface MeasureSimilarityArgs {
  /** Unlabeled images of the target domain, as rows of the source task's width (labels not read). */
  targetImages: Dataset;
  /** Calibration to use (default: the one lesson 08 saved at the current scale). */
  calibration?: DistanceCalibration;
  /** Seed of the source model and of the domain classifier (default: the calibration's first seed). */
  seed?: number;
}

/** The user's images' distance from the source task, mapped to a similarity with lesson 08's
 * calibration; undefined when lesson 08 has not run at this scale (no calibration). */
export async function measureSimilarity(args: MeasureSimilarityArgs): Promise<MeasuredSimilarity | undefined> {
  checkDataset("measureSimilarity", "targetImages", args?.targetImages);
  const calibration = args.calibration ?? (await loadDistanceCalibration(getScale()));
  if (!calibration) return undefined;
  const seed = args.seed ?? calibration.seeds[0] ?? 0;
  // The reference lesson 08 calibrated with: the seed's task-A model and task A's test images.
  const ref = referenceImages(calibration.scale, seed);
  const src = await getSourceModel({ scale: calibration.scale, seed, tasks: ref.tasks, log: false });
  try {
    const d = await domainDistance(src.model, ref.images, args.targetImages, {
      layer: calibration.layer,
      seed,
      imagesPerDomain: calibration.imagesPerDomain,
    });
    const near = nearestTask(d.distance, calibration.tasks);
    const similarity = TASK_SIMILARITY[near] as Similarity;
    const bounds = calibration.thresholds.map((t) => `${t.below} | ${t.above} at ${t.at.toFixed(2)}`).join("; ");
    return {
      distance: d.distance,
      layer: calibration.layer,
      nearestTask: near,
      similarity,
      calibration,
      text: prose`Your ${args.targetImages.n} images are at proxy A-distance ${d.distance.toFixed(2)} from the source task
        at ${calibration.layer} (seed ${seed}'s source model, ${d.test} held-out images per domain), nearest to
        lesson 08's ${near} (${similarity}). Thresholds (${bounds}) were measured in lesson 08 at scale
        ${calibration.scale} on seeds ${calibration.seeds.join(", ")}: ${calibration.how}; leave one seed out,
        ${calibration.leaveOneSeedOut.correct} of ${calibration.leaveOneSeedOut.total} distances read back as their own
        situation. The distance says how far, not what kind of shift.`,
    };
  } finally {
    src.model.dispose();
  }
}

export interface RecommendFromImagesArgs extends Omit<RecommendArgs, "similarity"> {
  /** Unlabeled images of your target domain (labels are not read). */
  targetImages: Dataset;
  /** Your declared similarity: used when no calibration exists; otherwise shown beside the measured one. */
  similarity?: Similarity;
  calibration?: DistanceCalibration;
}

/** recommendStrategy with the similarity measured from your images (lesson 08's calibration); the
 * declared similarity is the fallback when lesson 08 has not run at this scale. */
export async function recommendFromImages(
  args: RecommendFromImagesArgs,
): Promise<Recommendation & { measured: MeasuredSimilarity | null }> {
  if (args.similarity !== undefined) checkOneOf("recommendFromImages", "similarity", args.similarity, SIMILARITIES);
  const measured =
    (await measureSimilarity({ targetImages: args.targetImages, calibration: args.calibration })) ?? null;
  const { targetImages: _images, calibration: _calibration, ...rest } = args;
  if (measured === null) {
    const why = `No distance calibration at scale ${getScale()}: lesson 08 has not run here, so the images could not be read (${NOT_MEASURED}).`;
    if (args.similarity === undefined) {
      const rec = notMeasured(why);
      return { ...rec, markdown: `**Recommendation: not measured** — ${why}`, measured };
    }
    const rec = recommendStrategy({ ...rest, similarity: args.similarity });
    const note = `${why} Using the declared similarity *${args.similarity}*.`;
    return { ...rec, evidence: [note, ...rec.evidence], markdown: `${note}\n\n${rec.markdown}`, measured };
  }
  const rec = recommendStrategy({ ...rest, similarity: measured.similarity });
  const declared =
    args.similarity !== undefined && args.similarity !== measured.similarity
      ? ` You declared *${args.similarity}*; the guide follows the measurement.`
      : "";
  const note = `Measured similarity: *${measured.similarity}*. ${measured.text}${declared}`;
  return { ...rec, evidence: [note, ...rec.evidence], markdown: `${note}\n\n${rec.markdown}`, measured };
}
