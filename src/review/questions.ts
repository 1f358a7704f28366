// Lesson 10's interview question bank, as data: each question has a topic, an answer written for
// this project and follow-ups; answers are functions of the measured results (Facts): every number
// they state is a mean ± 95 % half-width measured by lessons 01-09 on this machine, every comparison
// a paired verdict (holds / not significant / contradicted, with Δ, CI and n), or said to be missing.
import { DEFAULT_LAYER_DECAY } from "../adapt/schedules";
import type { ResultRecord } from "../store/results";
import {
  bestOnValidation,
  loggingFacts,
  makeFacts,
  NOT_MEASURED,
  rowQuery,
  runsOfRow,
  type ComparedQuery,
  type CompareSpec,
  type Facts,
  type ResultQuery,
  type Verdict,
} from "./review";
import { formatCount, prose } from "../core/format";
import { parseMethod, type Method, type MethodKind } from "../core/methods";
import { chooseOnBothTasks } from "../experiments/peft";
import { defaultViTRate } from "../experiments/vit";
import { queryAt, type QueryName } from "./queries";
import { rateExtremes } from "./checkpoint";

export type ReviewTopic =
  | "greedy-pretraining"
  | "vanishing-gradients"
  | "greedy-vs-freezing"
  | "greedy-today"
  | "which-layers"
  | "over-freezing"
  | "unfreezing"
  | "discriminative-lr"
  | "batchnorm"
  | "forgetting"
  | "freezing-savings"
  | "lora"
  | "adapters"
  | "combining"
  | "self-supervised";

/** Every topic the bank must cover, with the interview theme it stands for. */
export const REVIEW_TOPICS: Readonly<Record<ReviewTopic, string>> = {
  "greedy-pretraining": "What greedy layer-wise pretraining is and why it mattered (2006-2007)",
  "vanishing-gradients": "Why deep nets did not train before: vanishing gradients",
  "greedy-vs-freezing": "Greedy pretraining compared with freezing pretrained layers",
  "greedy-today": "When greedy pretraining is still useful",
  "which-layers": "Which layers to freeze and how to decide (similarity, data size, compute)",
  "over-freezing": "Downsides of freezing too much",
  unfreezing: "Unfreezing during training (gradual / progressive)",
  "discriminative-lr": "Discriminative learning rates",
  batchnorm: "BatchNorm when frozen",
  forgetting: "Catastrophic forgetting",
  "freezing-savings": "Computational savings of freezing (gradients, optimizer memory)",
  lora: "LoRA: rank, alpha, where to apply, merge",
  adapters: "Adapters and parameter-efficient fine-tuning",
  combining: "Combining the approaches",
  "self-supervised": "Self-supervised pretraining as the modern successor",
};

export interface FollowUp {
  question: string;
  answer: (f: Facts) => string;
}

export interface ReviewQuestion {
  id: string;
  topic: ReviewTopic;
  question: string;
  answer: (f: Facts) => string;
  followUps: FollowUp[];
}

/** The margins of the claims the bank shares with a lesson, as that lesson states them: lesson 04
 * judges each rank "within 2 points" of full fine-tuning (equivalence); lesson 05 judges LoRA on
 * q, v as losing "at most 3 points" to it (non-inferiority). One margin per claim. */
export const LORA_MLP_MARGIN = 0.02;
export const VIT_LORA_MARGIN = 0.03;
/** Lesson 07 judges greedy "obsolete" by equivalence: end-to-end denoising within ± this of greedy (its
 * obsoleteMargin, fixed before the run). */
export const GREEDY_OBSOLETE_MARGIN = 0.03;
/** Lesson 09's margin: "loses at most this to full fine-tuning" (one-sided) and one PEFT method "matching" another
 * (equivalence within ± this); its notebook's `margin` parameter
 * (a parameter of the notebook, not a library constant, so it cannot be imported; test/review/lesson09.test.ts
 * checks the two are equal). */
export const PEFT_MATCH_MARGIN = 0.03;
/** The shifts lesson 07 measures. */
const LESSON07_TASKS = ["mild", "inverted"] as const;

/** Adam keeps two float32 moments per trainable weight, next to the weight and its gradient. */
export const ADAM_BYTES_PER_PARAM = 8;

/** A verdict inside an answer: "<claim> — holds (Δ +1.2 points, 95 % CI [+0.4, +2.0], n = 10)"; on
 * one seed, "<claim> — one seed: a measurement, not a verdict (Δ +1.2 points on seed 0)". */
function said(v: Verdict): string {
  return `${v.claim} — ${v.said}`;
}

/** The opening of an answer that depends on a verdict: `holds`, `contradicted` or `otherwise` (not
 * significant, or not measured) — never an answer written before the runs. */
function byVerdict(v: Verdict, text: { holds: string; contradicted: string; otherwise: string }): string {
  if (!v.measured || v.comparison.seeds.length < 2) return text.otherwise;
  return v.comparison.verdict === "holds"
    ? text.holds
    : v.comparison.verdict === "contradicted"
      ? text.contradicted
      : text.otherwise;
}

/** Seconds per optimizer step of one run (from extra.steps), or null. */
export function stepSeconds(r: ResultRecord): number | null {
  return typeof r.seconds === "number" && typeof r.extra?.steps === "number" && r.extra.steps > 0
    ? r.seconds / r.extra.steps
    : null;
}

/** Mean seconds per optimizer step of a query's runs, or null. */
export function secondsPerStep(f: Facts, q: ResultQuery): number | null {
  const xs = f.values(q, stepSeconds).map((v) => v.value);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Mean of a numeric extra field over a query's latest runs, or null. */
export function extraMean(f: Facts, q: ResultQuery, key: string): number | null {
  const xs = f.values(q, (r) => r.extra?.[key]).map((v) => v.value);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** log10 of lesson 01's gradient ratio head / layer 1 at initialisation (extra.gradientRatio). */
function log10GradientRatio(r: ResultRecord): number | null {
  const g = r.extra?.gradientRatio;
  return typeof g === "number" && g > 0 ? Math.log10(g) : null;
}

/** Optimizer-state bytes of a query's trainable parameters (arithmetic on a recorded count), or NOT_MEASURED. */
function citeAdamBytes(f: Facts, q: ResultQuery): string {
  const p = f.find(q)?.trainableParams;
  return p == null
    ? NOT_MEASURED
    : prose`${formatCount(ADAM_BYTES_PER_PARAM * p)} bytes of Adam state for ${formatCount(p)}
    trainable weights`;
}

/** Gradient ratio head / layer 1 at init of lesson 01's runs of a method: the geometric mean. */
function citeGradientRatio(f: Facts, q: ResultQuery): string {
  const xs = f.values(q, log10GradientRatio).map((v) => v.value);
  if (!xs.length) return NOT_MEASURED;
  const geo = 10 ** (xs.reduce((a, b) => a + b, 0) / xs.length);
  return `${geo.toExponential(1)} [01 ${f.find(q)?.method}, geometric mean of ${xs.length} run${xs.length === 1 ? "" : "s"}]`;
}

/** Lesson 02's epoch times: full vs frozen vs on cached features, with the FLOP ratio. */
function citeEpochTimes(f: Facts): string {
  const q = queryAt("featureCache", "few");
  const cached = extraMean(f, q, "epochSecondsCached");
  const flops = extraMean(f, q, "flopRatio");
  const v = f.compare(
    "lesson 02: an epoch with the base frozen takes less time than one training everything",
    { ...q, field: (r) => r.extra?.epochSecondsFrozen },
    { ...q, field: (r) => r.extra?.epochSecondsFull },
    { direction: "less", unit: "s", digits: 3 },
  );
  const parts = [said(v)];
  if (flops !== null) parts.push(`the FLOP ratio frozen/full is ${flops.toFixed(2)}`);
  if (cached !== null) parts.push(`an epoch on cached features takes ${cached.toFixed(4)} s`);
  const n = f.values(q, (r) => r.extra?.epochSecondsCached).length;
  return `${parts.join("; ")} [02 feature-cache, ${n} run${n === 1 ? "" : "s"}${n === 1 ? ": one seed, a measurement" : ""}]`;
}

/** Lesson 03's frozen-BN runs per task: task-A retention after training only the head, plain
 * tfjs vs Keras' rule, as a verdict. */
function citeBatchNorm(f: Facts): string {
  const tasks = [
    ...new Set(f.summary.filter((s) => s.lesson === "03" && /^bn-frozen:plain/.test(s.method)).map((s) => s.task)),
  ];
  if (!tasks.length) return `Lesson 03 trains only the head on a frozen BN base: ${NOT_MEASURED}.`;
  const parts = tasks.map((task) =>
    said(
      f.compare(
        `lesson 03, ${task}: plain tfjs loses task-A accuracy against Keras' rule with no base weight trained`,
        { ...queryAt("bnPlain", "few"), task },
        { ...queryAt("bnKeras", "few"), task },
        { direction: "less", field: "retention" },
      ),
    ),
  );
  return `Lesson 03 trains only the head on a frozen BN base and measures task A afterwards (a demo; on one seed each line is a measurement, not a verdict): ${parts.join("; ")}.`;
}

/** Lesson 07's verdicts at its fewest fine-tuning labels, per shift (greedy stacked denoising autoencoders against
 * step-matched end-to-end denoising and against scratch, every arm pretrained on the target's unlabeled images), or
 * one sentence saying what it would measure when it has not run at this scale. Lesson 10 does not run lesson 07 (too
 * expensive to fill in). */
function citeLesson07Greedy(f: Facts): string {
  const m = Math.round(100 * GREEDY_OBSOLETE_MARGIN);
  const verdicts = LESSON07_TASKS.flatMap((task) => [
    f.compare(
      `lesson 07, ${task}: end-to-end denoising is within ±${m} points of greedy stacked denoising autoencoders (same objective, same steps; fine-tuned, fewest labels)`,
      { ...queryAt("denoisingAe", "few"), task },
      { ...queryAt("greedyAe", "few"), task },
      { direction: "within", margin: GREEDY_OBSOLETE_MARGIN },
    ),
    f.compare(
      `lesson 07, ${task}: greedy stacked denoising autoencoders beat scratch (fine-tuned, fewest labels)`,
      { ...queryAt("greedyAe", "few"), task },
      { ...queryAt("scratchSsl", "few"), task },
    ),
  ]);
  const what = prose`Lesson 07 measures case (3) on the shifted digits: greedy stacked denoising autoencoders
    against end-to-end denoising with the same objective and number of steps, and against scratch, each pretrained on
    the target's unlabeled images and fine-tuned with few labels (candidate chosen on validation)`;
  if (!verdicts.some((v) => v.measured))
    return `${what}: ${NOT_MEASURED} (no lesson 07 runs recorded; run lesson 07 to fill these verdicts in).`;
  return `${what}: ${verdicts.map(said).join("; ")}.`;
}

/** Lesson 07's verdicts on combining: the source model after continued self-supervised pretraining on the target's
 * unlabeled images (DAPT) against the source model alone, per shift, at the fewest fine-tuning labels; or one sentence
 * when lesson 07 has not run at this scale. */
function citeLesson07Dapt(f: Facts): string {
  const verdicts = LESSON07_TASKS.map((task) =>
    f.compare(
      `lesson 07, ${task}: the source model + continued self-supervised pretraining on the target's images (DAPT) beats the source model (fine-tuned, fewest labels)`,
      { ...queryAt("sourceDapt", "few"), task },
      { ...queryAt("sourceFt", "few"), task },
    ),
  );
  const what = prose`Lesson 07 measures it: the supervised source model, with and without continued self-supervised
    pretraining on the target's unlabeled images, each fine-tuned (fresh head, source head or zero-shot, chosen on
    validation)`;
  if (!verdicts.some((v) => v.measured))
    return `${what}: ${NOT_MEASURED} (no lesson 07 runs recorded; run lesson 07 to fill these verdicts in).`;
  return `${what}: ${verdicts.map(said).join("; ")}.`;
}

// ---- Lesson 09: the PEFT family and the defences against forgetting on the tiny ViT --------------------------------

/** Lesson 09's PEFT kinds (LoRA: on q and v). */
const PEFT_KINDS: readonly MethodKind[] = ["adapter", "bitfit", "ia3", "prompt", "lora"];
/** Lesson 09's baselines are lesson 05's runs of these kinds. */
const LESSON05_BASELINES: readonly MethodKind[] = ["full-ft", "head-only"];

const withBaselines = new WeakMap<Facts, Facts>();
/** The facts with lesson 05's full fine-tuning and head-only runs also read as lesson 09's, on the tasks, budgets
 * and seeds lesson 09 recorded: lesson 09 runs no baseline of its own but reads lesson 05's back (the same seed's
 * pretrained ViT, labels and step budget) and pairs its runs with them by seed; the review pairs only within one
 * lesson, so the copies stand in lesson 09 (their citations say 09, the claims say they are lesson 05's runs). */
function lesson09Facts(f: Facts): Facts {
  let g = withBaselines.get(f);
  if (g) return g;
  const at = (r: ResultRecord) => JSON.stringify([r.scale, r.backend, r.task, r.labelsPerClass, r.seed]);
  const measured = new Set(f.rows.filter((r) => r.lesson === "09").map(at));
  const copies = f.rows
    .filter((r) => {
      const kind = parseMethod(r.method)?.kind;
      return r.lesson === "05" && kind !== undefined && LESSON05_BASELINES.includes(kind) && measured.has(at(r));
    })
    .map((r) => ({ ...r, lesson: "09" }));
  g = makeFacts([...f.rows, ...copies]);
  withBaselines.set(f, g);
  return g;
}

/** Where questionVerdicts collects the verdicts an answer states through compareWith05 (f.compare logs its own). */
const verdictLogs = new WeakMap<Facts, Verdict[]>();

/** f.compare on lesson 09 with lesson 05's baselines paired in (lesson09Facts); logged like f.compare. */
function compareWith05(f: Facts, claim: string, a: ComparedQuery, b: ComparedQuery, spec?: Partial<CompareSpec>) {
  const v = lesson09Facts(f).compare(claim, a, b, spec);
  const log = verdictLogs.get(f);
  if (log && !log.some((x) => x.claim === v.claim)) log.push(v);
  return v;
}

/** Lesson 09's full fine-tuning (lesson 05's runs): at the rate lesson 09 chose on validation, which its defences
 * record in their names (they run at it); without a defence recorded, lesson 05's rate best on validation. */
function fullFt09(f: Facts): ResultQuery {
  const names: QueryName[] = ["rehearsal", "multiTask", "l2sp", "ewc"];
  const defence = names.map((n) => f.arm(queryAt(n, "few"))).find((a) => a !== null);
  const lr = defence ? parseMethod(defence.row.method)?.lr : undefined;
  if (lr === undefined) return { lesson: "09", method: { kind: "full-ft", layerDecay: null }, k: "few" };
  // Lesson 05 names a run at its default rate without @lr= (vitMethodLabel).
  const atLr = (m: Method) => m.lr === lr || (m.lr === undefined && lr === defaultViTRate("full-ft"));
  return { lesson: "09", method: { kind: "full-ft", layerDecay: null, where: atLr }, k: "few" };
}

const headOnly09: ResultQuery = { lesson: "09", method: { kind: "head-only" }, k: "few" };

/** L2-SP's or EWC's strength as lesson 09 chose it: on validation, by the mean of task-B validation accuracy and
 * task-A validation retention (chooseOnBothTasks over extra.retentionVal), among the strengths run on the most
 * seeds (the grid ran on the rate seeds, the choice on every seed). Its exact name, or the plain query when lesson 09
 * did not record it or recorded no task-A validation retention. */
function chosenDefence(f: Facts, name: "l2sp" | "ewc"): ResultQuery {
  const q = queryAt(name, "few");
  const arm = f.arm(q);
  if (!arm) return q;
  const most = Math.max(...arm.candidates.map((s) => s.runs));
  const group = arm.candidates.filter((s) => s.runs === most);
  if (group.length === 1) return rowQuery(group[0]);
  const candidates = group.map((s) => ({
    key: s,
    runs: runsOfRow(f, s).map((r) => ({
      seed: r.seed,
      valAccuracy: r.valAccuracy ?? NaN,
      accuracy: r.accuracy,
      retentionVal: typeof r.extra?.retentionVal === "number" ? r.extra.retentionVal : null,
    })),
  }));
  if (candidates.some((c) => c.runs.some((r) => r.retentionVal === null || !Number.isFinite(r.valAccuracy))))
    return rowQuery(arm.row);
  return rowQuery(chooseOnBothTasks(candidates).chosen);
}

/** The LoRA configuration of lesson 09 nearest in trainable parameters to `q`'s (log scale), at its rate chosen on
 * validation; the plain LoRA query when either side is missing. */
function loraNearest(f: Facts, q: ResultQuery): ResultQuery {
  const lora = queryAt("peftLora", "few");
  const arm = f.arm(q);
  const p = arm?.row.trainableParams;
  if (!arm || !p) return lora;
  const ranks = f.summary.flatMap((s) => {
    const m = parseMethod(s.method);
    return s.lesson === arm.lesson &&
      s.task === arm.task &&
      s.labelsPerClass === arm.labelsPerClass &&
      m?.kind === "lora" &&
      m.on === "qv" &&
      !m.merged &&
      s.trainableParams
      ? [{ r: m.r, gap: Math.abs(Math.log(s.trainableParams / p)) }]
      : [];
  });
  if (!ranks.length) return lora;
  const r = ranks.reduce((best, x) => (x.gap < best.gap ? x : best)).r;
  return { ...lora, method: { kind: "lora", on: "qv", merged: null, r }, task: arm.task };
}

/** Lesson 09's PEFT method best on validation at its fewest labels (each method at its size and rate; bestOnValidation:
 * full seed sets only, cheaper first on ties), or null. */
function bestPeft(f: Facts): ResultQuery | null {
  const ks = f.summary.filter((s) => s.lesson === "09" && s.labelsPerClass !== null).map((s) => s.labelsPerClass!);
  if (!ks.length) return null;
  const k = Math.min(...ks);
  const rows = f.summary.filter((s) => {
    const m = parseMethod(s.method);
    return (
      s.lesson === "09" &&
      s.labelsPerClass === k &&
      m !== null &&
      PEFT_KINDS.includes(m.kind) &&
      !(m.kind === "lora" && (m.on !== "qv" || m.merged === true))
    );
  });
  const best = bestOnValidation(f, rows);
  return best ? rowQuery(best) : null;
}

/** The source model's task-A accuracy minus task-A accuracy with the LoRA adapter removed (extra.swapRetention), in
 * points of forgetting; null where lesson 09 did not record the swap. */
function swapForgetting(r: ResultRecord): number | null {
  const swap = r.extra?.swapRetention;
  return typeof swap === "number" && typeof r.retention === "number" && typeof r.forgetting === "number"
    ? r.retention + r.forgetting - swap
    : null;
}

const LESSON09_MISSING = `${NOT_MEASURED} (no lesson 09 runs recorded; run lesson 09 to fill these verdicts in)`;

/** Lesson 09's verdicts on adapters: Houlsby adapters against LoRA on q, v at the nearest budget, Pfeiffer against
 * Houlsby, and the PEFT method best on validation against full fine-tuning (within lesson 09's margin) and head-only. */
function citeLesson09Adapters(f: Facts): string {
  const m = Math.round(100 * PEFT_MATCH_MARGIN);
  const houlsby = queryAt("peftHoulsby", "few");
  const lora = loraNearest(f, houlsby);
  const best = bestPeft(f);
  const bestName = best ? String(best.method) : "the PEFT method best on validation";
  const verdicts = [
    f.compare(
      `lesson 09 ViT: Houlsby adapters match LoRA on q, v at the nearest trainable-parameter budget (within ±${m} points, lesson 09's margin)`,
      houlsby,
      lora,
      { direction: "within", margin: PEFT_MATCH_MARGIN },
    ),
    f.compare(
      `lesson 09 ViT: Pfeiffer adapters match Houlsby adapters (within ±${m} points)`,
      queryAt("peftPfeiffer", "few"),
      houlsby,
      { direction: "within", margin: PEFT_MATCH_MARGIN },
    ),
    compareWith05(
      f,
      `lesson 09 ViT: the PEFT method best on validation (${bestName}) loses at most ${m} points to full fine-tuning (lesson 05's runs at lesson 09's validated rate; lesson 09's margin)`,
      best ?? queryAt("peftLora", "few"),
      fullFt09(f),
      { direction: "greater", margin: -PEFT_MATCH_MARGIN },
    ),
    compareWith05(
      f,
      `lesson 09 ViT: the PEFT method best on validation (${bestName}) beats head-only (lesson 05's runs)`,
      best ?? queryAt("peftLora", "few"),
      headOnly09,
    ),
  ];
  const what = prose`Lesson 09 measures the family on lesson 05's tiny ViT at matched budgets of trainable
    parameters, each method at its size and rate chosen on validation (Houlsby adapters train
    ${f.citeParams(houlsby)} weights, LoRA on q, v ${f.citeParams(lora)})`;
  if (!verdicts.some((v) => v.measured)) return `${what}: ${LESSON09_MISSING}.`;
  return `${what}: ${verdicts.map(said).join("; ")}.`;
}

/** Lesson 09's verdicts on limiting forgetting: each defence against full fine-tuning at the same rate (lesson 05's
 * runs), and LoRA swapped out (task A back exactly, as each run checks). */
function citeLesson09Forgetting(f: Facts): string {
  const full = fullFt09(f);
  const defences: [string, ResultQuery][] = [
    ["L2-SP", chosenDefence(f, "l2sp")],
    ["EWC", chosenDefence(f, "ewc")],
    ["rehearsal of a small task-A buffer", queryAt("rehearsal", "few")],
    ["multi-task training on all of task A", queryAt("multiTask", "few")],
  ];
  const verdicts = defences.map(([name, q]) =>
    compareWith05(
      f,
      `lesson 09 ViT: full fine-tuning with ${name} forgets less of task A than full fine-tuning at the same rate (lesson 05's runs)`,
      q,
      full,
      { direction: "less", field: "forgetting" },
    ),
  );
  const lora = queryAt("peftLora", "few");
  const swaps = f.values(lora, swapForgetting);
  const exact = swaps.filter((v) => Math.abs(v.value) < 1e-9).length;
  verdicts.push(swapVerdict(f));
  const what = prose`Lesson 09 measures the defences on lesson 05's tiny ViT (L2-SP's and EWC's strengths chosen on
    validation of both tasks, every defence at full fine-tuning's validated rate)`;
  if (!verdicts.some((v) => v.measured)) return `${what}: ${LESSON09_MISSING}.`;
  const swapped = swaps.length
    ? prose`; with the LoRA adapter swapped out, task A was the source model's exactly on ${exact} of ${swaps.length}
      seed${swaps.length === 1 ? "" : "s"} (each run checks its outputs bit for bit, and fails otherwise), against
      ${f.citeForgetting(lora)} of forgetting with the adapter in place`
    : "";
  return `${what}: ${verdicts.map(said).join("; ")}${swapped}.`;
}

/** The swap verdict as an answer states it, or lesson 09 not measured. */
function citeSwap(f: Facts): string {
  const v = swapVerdict(f);
  return v.measured ? said(v) : `lesson 09: ${LESSON09_MISSING}`;
}

/** LoRA swapped out against full fine-tuning, on forgetting (lesson 09). */
function swapVerdict(f: Facts): Verdict {
  return compareWith05(
    f,
    "lesson 09 ViT: LoRA on q, v with the adapter swapped out forgets less of task A than full fine-tuning (lesson 05's runs)",
    { ...queryAt("peftLora", "few"), field: swapForgetting },
    { ...fullFt09(f), field: "forgetting" },
    { direction: "less" },
  );
}

/** Forgetting of full fine-tuning at the highest vs the lowest base rate one lesson recorded. */
function rateForgetting(f: Facts): string {
  const rates = rateExtremes(f);
  const claim = "full fine-tuning at the highest recorded base rate forgets more than at the lowest";
  return rates ? said(f.compare(claim, rates[1], rates[0], { field: "forgetting" })) : `${claim} — ${NOT_MEASURED}`;
}

export const QUESTION_BANK: readonly ReviewQuestion[] = [
  {
    id: "greedy-what",
    topic: "greedy-pretraining",
    question: "What is greedy layer-wise pretraining, and why did it matter in 2006-2007?",
    answer: (f) => prose`Train the network one layer at a time without labels: layer 1 learns to reconstruct (or
      model) the input, it is then frozen and the data is pushed through it; layer 2 learns on those codes, and
      so on. "Greedy" because each layer is optimised for its own local objective, never revisited until the
      end. Then the stack gets a softmax head and the whole net is fine-tuned with labels. Hinton, Osindero and
      Teh (2006) did it with restricted Boltzmann machines (deep belief nets); Bengio et al. (2007) showed
      autoencoders work too, and Vincent et al. (2008) made them denoising. It mattered because it was the first
      recipe that trained deep fully-connected nets — more than two or three hidden layers — well; convolutional
      nets such as LeNet-5 (LeCun et al. 1998) were already trained end to end. Lesson 01 reproduces it with a
      5-hidden-layer sigmoid net and the historical initialisation:
      ${said(f.compare("lesson 01: greedy pretraining beats scratch (historical recipe), most labels", queryAt("greedyPretrained", "many"), queryAt("historicalScratch", "many")))}.`,
    followUps: [
      {
        question: "Why does it help — better optimisation or regularisation?",
        answer: (f) => prose`From the literature, not measured here: Erhan et al. (2010, "Why does unsupervised
          pre-training help deep learning?") find evidence for both — it places the weights in a region where
          gradients carry signal, and it biases the net towards features of the input distribution, which acts
          like a prior when labels are few. Lesson 01 measures only whether it helps; at the fewest labels:
          ${said(f.compare("lesson 01: greedy pretraining beats scratch (historical recipe), fewest labels", queryAt("greedyPretrained", "few"), queryAt("historicalScratch", "few")))}.`,
      },
    ],
  },
  {
    id: "vanishing",
    topic: "vanishing-gradients",
    question: "Why could a deep sigmoid network not be trained from scratch back then?",
    answer: (f) => prose`Backpropagation multiplies the error signal by each layer's weights and by the
      sigmoid's derivative, which is at most 1/4. With small random weights the product shrinks geometrically
      with depth, so the bottom layers get almost no gradient and barely move, while the top layers see nearly
      constant inputs (saturated random features), so the net does not even fit its own training set (lesson 01
      checks that against chance). Lesson 01 measures the ratio of the head's gradient norm to layer 1's at
      initialisation: ${citeGradientRatio(f, queryAt("historicalScratch", "few"))} from scratch,
      ${citeGradientRatio(f, queryAt("greedyPretrained", "few"))} after pretraining;
      ${said(f.compare("lesson 01: pretraining shrinks the gradient ratio head / layer 1 (log10)", { ...queryAt("historicalScratch", "few"), field: log10GradientRatio }, { ...queryAt("greedyPretrained", "few"), field: log10GradientRatio }, { unit: "orders of magnitude", digits: 1 }))}.`,
    followUps: [
      {
        question: "What fixed it without pretraining?",
        answer: (f) => prose`ReLU (derivative 1 on active units), variance-preserving initialisation (Glorot
          2010, He 2015), adaptive optimisers (Adam), later BatchNorm and residual connections. The modern
          recipe in lesson 01 reaches ${f.citeAccuracy(queryAt("modernScratch", "many"))} with no pretraining;
          ${said(f.compare("lesson 01: the modern recipe beats the historical one from scratch, most labels", queryAt("modernScratch", "many"), queryAt("historicalScratch", "many")))}.`,
      },
    ],
  },
  {
    id: "greedy-vs-freeze",
    topic: "greedy-vs-freezing",
    question: "How does greedy layer-wise pretraining compare with freezing pretrained layers in transfer learning?",
    answer: (f) => prose`Both reuse layers trained on something else, but the freezing plays different roles. In
      greedy pretraining, lower layers are frozen only while the next layer is trained, the objective is
      unsupervised on the same data, and at the end everything is fine-tuned. In transfer learning the layers
      come from a supervised source task and stay frozen while the target task trains, to keep general features
      and save compute. The two answer different questions on different tasks, so their numbers do not compare:
      lesson 01's pretrained stack reaches ${f.citeAccuracy(queryAt("greedyPretrained", "few"))} on clean digits;
      lesson 02's frozen source base with a trained head ${f.citeAccuracy(queryAt("headOnlyMild", "few"))} on
      the shifted ones.`,
    followUps: [
      {
        question: "So is a pretrained encoder stack just a frozen feature extractor?",
        answer: (f) => prose`Only if you stop before the fine-tuning step. The greedy recipe ends with supervised
          fine-tuning of all layers; using the stack frozen is the linear-probe (feature-extraction) variant. On the
          transfer task of lesson 02:
          ${said(f.compare("mild shift: full fine-tuning beats a frozen base + head, fewest labels", queryAt("fullFtMild", "few"), queryAt("headOnlyMild", "few")))}.`,
      },
    ],
  },
  {
    id: "greedy-today",
    topic: "greedy-today",
    question: "When is greedy layer-wise pretraining still useful today?",
    answer: (f) => prose`As a recipe for ordinary nets, ReLU, good initialisation and Adam are expected to
      make it unnecessary; lesson 01 checks that:
      ${said(f.compare("lesson 01: the modern recipe without pretraining is at most 2 points below greedy pretraining, fewest labels", queryAt("modernScratch", "few"), queryAt("greedyPretrained", "few"), { margin: -0.02 }))};
      ${said(f.compare("lesson 01: the modern recipe without pretraining is at most 2 points below greedy pretraining, most labels", queryAt("modernScratch", "many"), queryAt("greedyPretrained", "many"), { margin: -0.02 }))}.
      Beyond that, from the literature, not measured here: it still helps when (1) the architecture cannot
      use the modern fixes (saturating units, no normalisation, very deep plain stacks); (2) memory only allows
      training one block at a time (Belilovsky, Eickenberg and Oyallon 2019 train ImageNet CNNs greedily, one
      layer at a time); (3) there is much unlabeled data and very few labels, where Erhan et al. (2010) see its
      regularising effect; (4) you teach or debug representations layer by layer. ${citeLesson07Greedy(f)} Its
      idea survives as self-supervised pretraining, done end to end rather than greedily.`,
    followUps: [],
  },
  {
    id: "which-layers",
    topic: "which-layers",
    question: "Which layers would you freeze when transferring, and how do you decide?",
    answer: (f) => prose`Three questions decide it. Task similarity: in the literature, early layers hold
      generic features (edges, strokes) and late layers task-specific ones (Yosinski et al. 2014, "How
      transferable are features in deep neural networks?"), so for a similar task one freezes more and retrains
      the top. Data size: with few labels, freezing is expected to act as a regulariser; with many, the data can
      move every layer. Measured on the mild shift, the frozen base against full fine-tuning at the fewest and
      the most labels:
      ${said(f.compare("mild shift: a frozen base + head beats full fine-tuning, fewest labels", queryAt("headOnlyMild", "few"), queryAt("fullFtMild", "few")))};
      ${said(f.compare("mild shift: full fine-tuning beats a frozen base + head, most labels", queryAt("fullFtMild", "many"), queryAt("headOnlyMild", "many")))}.
      Compute: every frozen layer saves its gradients and optimizer state. Then measure a freeze-ratio sweep and
      choose the depth on validation, as lesson 03 does:
      ${said(f.compare("mild shift: freezing part of the base (ratio chosen on validation) beats freezing nothing", queryAt("freezeSomeMild", "few"), queryAt("freezeNoneMild", "few")))};
      ${said(f.compare("mild shift: freezing the whole base loses to freezing nothing", queryAt("freezeAllMild", "few"), queryAt("freezeNoneMild", "few"), { direction: "less" }))}.`,
    followUps: [
      {
        question: "The domain shift is at the input (a new sensor). Do you still freeze the early layers?",
        answer: (f) => {
          const first = f.compare(
            "inverted digits: tuning only the first layer beats tuning only the last",
            queryAt("tuneFirstInverted", "few"),
            queryAt("tuneLastInverted", "few"),
          );
          const all = f.compare(
            "inverted digits: freezing the whole base loses to freezing nothing",
            queryAt("freezeAllInverted", "few"),
            queryAt("freezeNoneInverted", "few"),
            { direction: "less" },
          );
          const opening = byVerdict(first, {
            holds:
              "No, not here: on inverted digits the first layers are the ones to move — tuning only the first layer beat tuning only the last.",
            contradicted:
              "These runs do not support moving the first layers: on inverted digits tuning only the last layer beat tuning only the first.",
            otherwise:
              "These runs do not settle it: on inverted digits, tuning only the first layer against only the last showed no significant difference, or was not measured — so whether the first layers must move is open here.",
          });
          return prose`${opening} The usual argument (literature, not a measurement here): an input shift changes
            what the first layers see, so they are the ones to adapt — Lee et al. (2023, "Surgical fine-tuning")
            find tuning the first block best for input-level shifts such as image corruptions. Measured:
            ${said(first)}; ${said(all)}.`;
        },
      },
      {
        question: "Rule of thumb for a 12-layer transformer (BERT)?",
        answer: (f) => prose`From the literature, not measured here: Lee, Tang and Lin (2019, "What would Elsa
          do? Freezing layers during transformer fine-tuning") find that tuning only the top quarter of BERT's
          layers keeps about 90 % of full fine-tuning's quality, so freezing most of the lower layers is a cheap
          start; measure it on your task. In lesson 05's tiny ViT:
          ${said(f.compare("lesson 05 ViT: freezing the first blocks (depth chosen on validation) loses to full fine-tuning", queryAt("vitFreezeSome", "few"), queryAt("vitFullFt", "few"), { direction: "less" }))}.`,
      },
    ],
  },
  {
    id: "over-freezing",
    topic: "over-freezing",
    question: "What goes wrong if you freeze too much?",
    answer: (f) => prose`The model may not be able to adapt: the frozen features may not separate the new
      classes or may encode the old domain's statistics, and a head on top cannot undo that — it underfits the
      target. Measured on the class split (digits 0-4 → 5-9):
      ${said(f.compare("class split: a frozen base + fresh head loses to full fine-tuning", queryAt("headOnlySplit", "few"), queryAt("fullFtSplit", "few"), { direction: "less" }))};
      ${said(f.compare("class split: a frozen base + fresh head loses to scratch (negative transfer)", queryAt("headOnlySplit", "few"), queryAt("scratchSplit", "few"), { direction: "less" }))}.
      On inverted digits:
      ${said(f.compare("inverted digits: freezing the whole base loses to freezing nothing", queryAt("freezeAllInverted", "few"), queryAt("freezeNoneInverted", "few"), { direction: "less" }))}.
      Whether unfreezing part of the base helps (lesson 03's sweep, ratio chosen on validation):
      ${said(f.compare("mild shift: freezing part of the base beats freezing all of it", queryAt("freezeSomeMild", "few"), queryAt("freezeAllMild", "few")))};
      ${said(f.compare("inverted digits: freezing part of the base beats freezing all of it", queryAt("freezeSomeInverted", "few"), queryAt("freezeAllInverted", "few")))}.
      A symptom to look for (not recorded here): training accuracy that stays low.`,
    followUps: [],
  },
  {
    id: "unfreezing",
    topic: "unfreezing",
    question: "Why and how would you unfreeze layers during training?",
    answer: (f) => prose`The argument, from the literature rather than measured here: a freshly initialised
      head produces large, random gradients, and if the base trains from step one they distort the pretrained
      features (Kumar et al. 2022, "Fine-tuning can distort pretrained features", who train the head first:
      LP-FT). So train the head first with the base frozen, then unfreeze — either all at once at a lower rate
      (two-phase) or from the top down, one more group per stage (gradual unfreezing, Howard & Ruder 2018), so
      the most task-specific layers adapt first. Lesson 03 ran the schedules on the same labels and epochs
      (where it ran them on one seed, each line below is a measurement, not a verdict):
      ${said(f.compare("lesson 03 schedules: progressive unfreezing beats one rate", queryAt("scheduleProgressive", "few"), queryAt("schedulePlain", "few")))};
      ${said(f.compare("lesson 03 schedules: two-phase beats one rate", queryAt("scheduleTwoPhase", "few"), queryAt("schedulePlain", "few")))};
      ${said(f.compare("lesson 03 schedules: progressive unfreezing forgets less than one rate", queryAt("scheduleProgressive", "few"), queryAt("schedulePlain", "few"), { direction: "less", field: "forgetting" }))}.`,
    followUps: [],
  },
  {
    id: "discriminative",
    topic: "discriminative-lr",
    question: "What are discriminative learning rates?",
    answer: (f) => prose`One learning rate per layer group, smaller for the early layers: η_l = η_0 · α^(L−l),
      with the head at η_0. The reasoning (Howard & Ruder 2018, after Yosinski et al. 2014; not measured here):
      early layers hold general features that need only small corrections, the top layers and head need to move
      more. ULMFiT uses α = 1/2.6 (here DEFAULT_LAYER_DECAY = ${DEFAULT_LAYER_DECAY.toFixed(3)}).
      It sits between freezing (rate 0) and plain fine-tuning (one rate). The fair comparison is against the best
      single rate chosen on validation:
      ${said(f.compare("mild shift: discriminative rates beat full fine-tuning at its validated rate", queryAt("discriminativeMild", "few"), queryAt("fullFtMild", "few")))};
      with lesson 03's schedules on the same labels and epochs,
      ${said(f.compare("lesson 03 schedules: discriminative rates beat one rate", queryAt("scheduleDiscriminative", "few"), queryAt("schedulePlain", "few")))}.`,
    followUps: [
      {
        question: "How do you implement it in a framework whose optimiser has one rate?",
        answer: () => prose`Scale each group's gradients by its multiplier before the update, or keep one
          optimiser per group (what this project's training loop does, keyed by top-level layer name).`,
      },
    ],
  },
  {
    id: "batchnorm",
    topic: "batchnorm",
    question: "What happens to BatchNorm layers when you freeze a network?",
    answer: (f) => prose`Freezing stops γ and β from training, but BatchNorm also has moving mean and variance.
      If a frozen BN layer still runs in training mode, it normalises with the statistics of each small target
      batch and keeps overwriting its moving statistics — the "frozen" base changes under you, and with tiny
      batches the statistics are noisy. Keras (TF 2) runs a frozen BN layer in inference mode; tfjs 4.22 does
      not (it ignores trainable in BN's call), so this library patches models to follow Keras' rule. Usual
      practice: keep BN in inference mode while frozen, and unfreeze BN late, if at all. ${citeBatchNorm(f)}`,
    followUps: [],
  },
  {
    id: "forgetting",
    topic: "forgetting",
    question: "What is catastrophic forgetting, and how do you measure and limit it?",
    answer: (f) => prose`Fine-tuning on task B moves weights that task A relied on, so the model's task-A accuracy
      drops (McCloskey & Cohen 1989 called it catastrophic interference); by the usual account, the more so the
      higher the learning rate and the more of the net trains. Measure the retention — task-A
      accuracy of the tuned base with its original task-A head, on held-out task-A data — and report forgetting,
      the source model's task-A accuracy minus that retention: tasks A of different difficulty start from
      different accuracies, so retention does not compare across them and forgetting does. Measured here:
      ${rateForgetting(f)};
      ${said(f.compare("mild shift: full fine-tuning forgets more than a frozen base + head", queryAt("fullFtMild", "few"), queryAt("headOnlyMild", "few"), { field: "forgetting" }))};
      ${said(f.compare("lesson 04: LoRA r=4 forgets less than full fine-tuning", queryAt("loraR4", "few"), queryAt("loraFullFt", "few"), { direction: "less", field: "forgetting" }))}.
      Limit it with lower rates, fewer tuned layers, adapters/LoRA (the base stays intact; remove the adapter
      to get task A back exactly), rehearsal of task-A data, or penalties that keep weights near the source
      (L2-SP, EWC). ${citeLesson09Forgetting(f)}`,
    followUps: [],
  },
  {
    id: "savings",
    topic: "freezing-savings",
    question: "What does freezing save computationally?",
    answer: (f) => prose`For frozen weights nothing is stored or computed for training: no weight gradients, no
      optimizer state (Adam keeps two moments per weight, ${ADAM_BYTES_PER_PARAM} bytes in float32), and if
      every layer below a point is frozen, backpropagation stops there — no activation gradients further down.
      The forward pass still runs through the frozen layers, unless their outputs are computed once and cached
      (the feature-cache trick of lesson 02). From the recorded counts: full fine-tuning needs ${citeAdamBytes(f, queryAt("fullFtMild", "few"))};
      head-only ${citeAdamBytes(f, queryAt("headOnlyMild", "few"))}; LoRA r=4 ${citeAdamBytes(f, queryAt("loraR4", "few"))}.
      Time: ${citeEpochTimes(f)}; per step,
      ${said(f.compare("lesson 04: a step of head-only takes less time than one of full fine-tuning", { ...queryAt("loraHeadOnly", "few"), field: stepSeconds }, { ...queryAt("loraFullFt", "few"), field: stepSeconds }, { direction: "less", unit: "ms", scale: 1000, digits: 2 }))}.`,
    followUps: [
      {
        question: "Why is the speed-up smaller than the parameter ratio?",
        answer: () => prose`The forward pass through the frozen layers still costs the same, and on small models
          fixed per-step overheads (data upload, kernel launches) dominate. The memory saving, by contrast,
          scales with the frozen parameters.`,
      },
    ],
  },
  {
    id: "lora-what",
    topic: "lora",
    question: "What is LoRA, and how do you choose rank and alpha?",
    answer: (f) => prose`Low-Rank Adaptation (Hu et al. 2021) freezes W and learns an update of rank r: W' = W +
      (α/r)·B·A, A of shape r×d_in (random init), B of shape d_out×r (zeros, so training starts exactly at the
      base model). Trainable parameters per layer: r·(d_in + d_out) instead of d_in·d_out. Rank sets capacity,
      but few labels may not need much of it (each rank at its rate chosen on validation):
      ${said(f.compare("lesson 04: LoRA r=4 beats r=1", queryAt("loraR4", "few"), queryAt("loraR1", "few")))};
      ${said(f.compare("lesson 04: LoRA r=16 beats r=4", queryAt("loraR16", "few"), queryAt("loraR4", "few")))};
      LoRA r=4 trains ${f.citeParams(queryAt("loraR4", "few"))} weights;
      ${said(f.compare("lesson 04: LoRA r=4 lands within 2 points of full fine-tuning (lesson 04's margin)", queryAt("loraR4", "few"), queryAt("loraFullFt", "few"), { direction: "within", margin: LORA_MLP_MARGIN }))}.
      Alpha scales the update; with α/r as the scale you fix α once and change r without retuning the learning
      rate. LoRA starts from a zero update and is often said to want a larger learning rate than full
      fine-tuning; ${said(f.compare("lesson 04: LoRA at lr 1e-3 beats lr 1e-4", queryAt("loraHighLr", "few"), queryAt("loraLowLr", "few")))}.`,
    followUps: [
      {
        question: "Where do you apply it?",
        answer: (f) => prose`On the large linear maps: in transformers the attention projections (query and
          value in the original paper), often also the MLP; in an MLP the hidden Dense layers. Lesson 05's ViT
          with LoRA on q and v (${f.citeParams(queryAt("vitLora", "few"))} trainable), judged with lesson 05's own
          non-inferiority margin of ${Math.round(100 * VIT_LORA_MARGIN)} points:
          ${said(f.compare(`lesson 05 ViT: LoRA on q, v loses at most ${Math.round(100 * VIT_LORA_MARGIN)} points to full fine-tuning (lesson 05's margin)`, queryAt("vitLora", "few"), queryAt("vitFullFt", "few"), { direction: "greater", margin: -VIT_LORA_MARGIN }))}.`,
      },
      {
        question: "What does merging do, and when do you not merge?",
        answer: () => prose`Merging folds the update into the weight, W ← W + (α/r)·B·A, giving a plain model
          with no extra latency and identical outputs (lesson 04 checks the maximum difference). Keep adapters
          unmerged to serve many tasks from one base, swapping small adapter files, or to remove the adaptation
          later.`,
      },
    ],
  },
  {
    id: "adapters",
    topic: "adapters",
    question: "How do adapters compare with LoRA and with freezing?",
    answer: (f) => prose`All three keep the base frozen. Freezing + a new head adds capacity only at the top.
      Bottleneck adapters (Houlsby et al. 2019) insert small trainable modules inside each block: capacity
      everywhere, but extra layers at inference. LoRA adds a low-rank update in parallel to existing weights:
      capacity everywhere and, after merging, no inference cost. Measured:
      ${said(f.compare("lesson 04: LoRA r=4 beats head-only", queryAt("loraR4", "few"), queryAt("loraHeadOnly", "few")))};
      ${said(f.compare("lesson 04: full fine-tuning beats LoRA r=4", queryAt("loraFullFt", "few"), queryAt("loraR4", "few")))}.
      ${citeLesson09Adapters(f)}`,
    followUps: [],
  },
  {
    id: "combining",
    topic: "combining",
    question: "How would you combine these techniques in one project?",
    answer: (f) => prose`Pretrain broadly (self-supervised on unlabeled data, or a supervised source task);
      transfer with the head trained first on a frozen base; then adapt deeper — unfreeze progressively with
      discriminative rates when compute allows, or add LoRA to the frozen base when memory is short or the
      source task must keep working. Pick freeze depth by where the shift is, and check each step on validation:
      input shift → let early layers move
      (${said(f.compare("inverted digits: tuning only the first layer beats tuning only the last", queryAt("tuneFirstInverted", "few"), queryAt("tuneLastInverted", "few")))});
      similar task with few labels → try freezing most of the base, and keep it only if it holds up against full
      fine-tuning
      (${said(f.compare("mild shift: a frozen base + head beats full fine-tuning, fewest labels", queryAt("headOnlyMild", "few"), queryAt("fullFtMild", "few")))}).
      When the source task must keep working beside the new one, keep each task in its own adapter on one frozen
      base and swap it out
      (${citeSwap(f)}).
      Call recommendStrategy(...) with your situation for the measured version.`,
    followUps: [
      {
        question: "Can you combine self-supervised (or greedy) pretraining with transfer from a supervised source?",
        answer: (f) => prose`Yes: start from the supervised source model and continue pretraining it without labels
          on the target's images before fine-tuning — domain-adaptive pretraining. From the literature, not measured
          here: Gururangan et al. (2020, "Don't Stop Pretraining") find that continuing a language model's
          pretraining on in-domain text helps most when the target domain is far from the original corpus.
          ${citeLesson07Dapt(f)} Greedy stacked autoencoders could be the continued objective as well; lesson 07
          continues with one end-to-end objective (its DAPT objective, named in the method).`,
      },
    ],
  },
  {
    id: "self-supervised",
    topic: "self-supervised",
    question: "What replaced greedy pretraining?",
    answer: (f) => prose`Self-supervised pretraining of the whole network end to end on large unlabeled data:
      masked prediction (BERT, masked autoencoders — the denoising idea of lesson 01 at scale), next-token
      prediction (GPT), and contrastive or joint-embedding methods (SimCLR, DINO). It keeps the 2006 insight —
      learn from unlabeled data first — but trains all layers jointly and relies on ReLU/GELU, normalisation and
      residual connections for optimisation instead of layer-by-layer initialisation. In lesson 01,
      ${said(f.compare("lesson 01: greedy pretraining beats scratch (historical recipe), fewest labels", queryAt("greedyPretrained", "few"), queryAt("historicalScratch", "few")))};
      the modern recipe, with no pretraining, reaches ${f.citeAccuracy(queryAt("modernScratch", "few"))}.`,
    followUps: [],
  },
];

export interface RenderQuestionsArgs {
  /** Only these topics (default all). */
  topics?: ReviewTopic[];
  /** Include follow-ups (default true). */
  followUps?: boolean;
}

/** The bank (or some topics) as markdown, answers filled in from `facts`. */
export function renderQuestions(facts: Facts, args: RenderQuestionsArgs = {}): string {
  const topics = args.topics ?? (Object.keys(REVIEW_TOPICS) as ReviewTopic[]);
  for (const t of topics) {
    if (!(t in REVIEW_TOPICS))
      throw new Error(prose`renderQuestions: unknown topic ${JSON.stringify(t)}
      (topics: ${Object.keys(REVIEW_TOPICS).join(", ")})`);
  }
  const parts: string[] = [];
  let n = 0;
  for (const t of topics) {
    const qs = QUESTION_BANK.filter((q) => q.topic === t);
    if (!qs.length) continue;
    parts.push(`#### ${REVIEW_TOPICS[t]}`);
    for (const q of qs) {
      parts.push(`**Q${++n}. ${q.question}**\n\n${q.answer(facts)}`);
      if (args.followUps ?? true)
        for (const fu of q.followUps) parts.push(`> *Follow-up: ${fu.question}*\n>\n> ${fu.answer(facts)}`);
    }
  }
  return parts.join("\n\n");
}

/** Every verdict the rendered bank states, one per claim, in order: for tl.verdictTable. */
export function questionVerdicts(facts: Facts, args: RenderQuestionsArgs = {}): Verdict[] {
  const { facts: logged, log } = loggingFacts(facts);
  verdictLogs.set(logged, log);
  renderQuestions(logged, args);
  return log;
}
