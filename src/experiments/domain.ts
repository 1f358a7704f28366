// Lesson 08's experiments, over seeds: the proxy A-distance per task and layer, every task measured
// the way the decision guide measures a user's images (task A's model, task A's held-out test images
// against the target's unlabeled images); transfer's gain over scratch per task (each arm's rate and
// the best transfer arm chosen on validation, zero-shot and the source head included where the labels
// are shared); whether the distance ranks zero-shot error and gain across tasks (Spearman's ρ on seed
// means, exact permutation p over tasks); AdaBN on the BN source model and DANN with 0 and k target
// labels, distances after adaptation on images the adaptation never saw; and the distance calibration
// the decision guide of lesson 10 reads (which layer, which thresholds, chosen how and on which data).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import type { TransferTasks } from "../data/tasks";
import type { ShiftName } from "../data/transforms";
import { getScale, type Scale } from "../core/scale";
import { argError, checkOneOf, checkSeeds, show } from "../core/validate";
import { meanCI, type SeedValue } from "../core/stats";
import { saveJson, loadJson } from "../store/cache";
import { newDisplay } from "../show/display";
import { HEAD_LAYER } from "../models/mlp";
import { cloneModel } from "../models/surgery";
import { evaluateAccuracy } from "../models/predict";
import { adaptBatchNorm } from "../adapt/batchnorm";
import { buildDannModel } from "../adapt/dann";
import { trainDann } from "../train/dann";
import { INPUT_FEATURES } from "../evaluate/features";
import { domainDistance, type DomainDistance } from "../evaluate/domain-distance";
import { chooseOnValidation } from "../evaluate/select";
import { getSourceModel, sourceTasks, type SourceModel } from "./source";
import { runTransferExperiment, type TransferExperimentRun, type TransferVariant } from "./transfer-sweep";
import { chooseArms, type ValidatedArm } from "./validated";

/** The target tasks of lesson 08: four shifts of the same classes and the class split (new classes). */
export type DomainTask = ShiftName | "class-split";
export const DOMAIN_TASKS: readonly DomainTask[] = ["none", "mild", "heavy", "inverted", "class-split"];

/** The tasks and the source model of one task and seed: the class split has its own (digits 0-4). */
export function domainTask(task: DomainTask, scale: Scale, seed: number): TransferTasks {
  checkOneOf("domainTask", "task", task, DOMAIN_TASKS);
  return task === "class-split"
    ? sourceTasks({ scale, seed, scenario: "class-split" })
    : sourceTasks({ scale, seed, shift: task });
}

/** Layers a distance is measured at: the pixels, then each hidden layer's output (with BatchNorm:
 * after normalisation and ReLU), bottom to top. */
export function representationLayers(model: tf.LayersModel): string[] {
  const names = model.layers.map((l) => l.name);
  const hidden = names.filter((n) => /^hidden\d+$/.test(n));
  return [INPUT_FEATURES, ...hidden.map((h) => (names.includes(`relu${h.slice(6)}`) ? `relu${h.slice(6)}` : h))];
}

/** The layer the head reads. */
export function featureLayerOf(model: tf.LayersModel): string {
  const names = model.layers.map((l) => l.name);
  const at = names.indexOf(HEAD_LAYER);
  if (at < 1) throw argError("featureLayerOf", "model", `a classifier with a "${HEAD_LAYER}" layer`, names.join(", "));
  return names[at - 1];
}

// ---- 1. Distances per task, layer and seed ------------------------------------------------------

export interface DistanceRun extends DomainDistance {
  task: DomainTask;
  seed: number;
}

export interface DistanceExperimentArgs {
  tasks: DomainTask[];
  seeds: number[];
  scale?: Scale;
  /** Images drawn from each domain (task A's test images; the target's unlabeled pool). */
  imagesPerDomain?: number;
  progress?: boolean;
}

/** The reference every distance of lesson 08 and of the guide is measured against: task A's model of
 * the seed and task A's **test** images (10 classes, never trained on — training images would sit
 * apart from any new images through the model's fit to them). */
export function referenceImages(scale: Scale, seed: number): { tasks: TransferTasks; images: Dataset } {
  const tasks = sourceTasks({ scale, seed });
  return { tasks, images: tasks.source.test };
}

/** The proxy A-distance at every representation layer of each seed's task-A source model, for every
 * task: task A's test images against the target pool's images (labels never read). The class split's
 * target is digits 5-9, measured against task A (all ten digits) through task A's model — exactly what
 * the guide does with a user's images, so its thresholds can be reached the way they were set. */
export async function runDistanceExperiment(args: DistanceExperimentArgs): Promise<DistanceRun[]> {
  const where = "runDistanceExperiment";
  checkSeeds(where, args.seeds);
  if (!Array.isArray(args.tasks) || args.tasks.length === 0)
    throw argError(where, "tasks", `a non-empty list of ${DOMAIN_TASKS.join(", ")}`, show(args.tasks));
  args.tasks.forEach((t, i) => checkOneOf(where, `tasks[${i}]`, t, DOMAIN_TASKS));
  const scale = args.scale ?? getScale();
  const line = args.progress === false ? null : newDisplay();
  const out: DistanceRun[] = [];
  const t0 = performance.now();
  for (const seed of args.seeds) {
    const ref = referenceImages(scale, seed);
    const src = await getSourceModel({ scale, seed, tasks: ref.tasks, log: false });
    try {
      for (const task of args.tasks) {
        const target = domainTask(task, scale, seed).target.pool;
        for (const layer of representationLayers(src.model)) {
          const d = await domainDistance(src.model, ref.images, target, {
            layer,
            seed,
            imagesPerDomain: args.imagesPerDomain,
          });
          out.push({ ...d, task, seed });
          line?.text(
            `distances: ${out.length} measured, last: ${task} ${layer} seed ${seed} → ${d.distance.toFixed(2)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
          );
        }
      }
    } finally {
      src.model.dispose();
    }
  }
  return out;
}

/** One seed value per run of `task` at `layer`: the distance, or the domain classifier's held-out
 * AUC or log-loss (continuous where d_A saturates). */
export function distanceValues(
  runs: readonly DistanceRun[],
  task: DomainTask,
  layer: string,
  field: "distance" | "auc" | "logLoss" = "distance",
): SeedValue[] {
  return runs.filter((r) => r.task === task && r.layer === layer).map((r) => ({ seed: r.seed, value: r[field] }));
}

export interface DistanceSummaryRow {
  task: DomainTask;
  layer: string;
  n: number;
  mean: number;
  halfWidth: number;
}

/** Mean distance and 95 % half-width per (task, layer), in the order measured. */
export function summarizeDistances(runs: readonly DistanceRun[]): DistanceSummaryRow[] {
  const keys = [...new Set(runs.map((r) => JSON.stringify([r.task, r.layer])))];
  return keys.map((k) => {
    const [task, layer] = JSON.parse(k) as [DomainTask, string];
    const ci = meanCI(distanceValues(runs, task, layer).map((v) => v.value));
    return { task, layer, n: ci.n, mean: ci.mean, halfWidth: ci.halfWidth };
  });
}

// ---- 2. Transfer's gain over scratch per task ------------------------------------------------------

export interface GainExperimentArgs {
  tasks: DomainTask[];
  seeds: number[];
  labelsPerClass: number;
  /** Candidate rates: scratch (every layer), head-only's head, full fine-tuning's base. */
  scratchRates: number[];
  headRates: number[];
  fineTuneRates: number[];
  /** The fresh head's rate under full fine-tuning. */
  headLearningRate: number;
  scale?: Scale;
  /** Tasks whose runs are recorded (and read back) under another lesson, e.g. { mild: "03" }: the
   * same candidates, so lesson 03's recorded runs count here and this lesson's count there. */
  lessonOf?: Partial<Record<DomainTask, string>>;
}

/** The candidates of the three arms, as lesson 03 builds them. */
export function gainCandidates(
  args: Pick<GainExperimentArgs, "scratchRates" | "headRates" | "fineTuneRates" | "headLearningRate">,
): {
  scratch: TransferVariant[];
  headOnly: TransferVariant[];
  fullFt: TransferVariant[];
  /** Shared labels only (not the class split): full fine-tuning that keeps the source head (one rate
   * for base and head, the full-FT grid). Zero-shot runs beside it. */
  fullFtSourceHead: TransferVariant[];
} {
  const asc = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return {
    fullFtSourceHead: asc(args.fineTuneRates).map((lr): TransferVariant => ({
      method: "freeze-ratio",
      freezeRatio: 0,
      head: "source",
      learningRate: lr,
      headLearningRate: lr,
    })),
    scratch: asc(args.scratchRates).map((lr): TransferVariant => ({ method: "scratch", learningRate: lr })),
    headOnly: asc(args.headRates).map((h): TransferVariant => ({
      method: "freeze-ratio",
      freezeRatio: 1,
      headLearningRate: h,
    })),
    fullFt: asc(args.fineTuneRates).map((lr): TransferVariant => ({
      method: "freeze-ratio",
      freezeRatio: 0,
      learningRate: lr,
      headLearningRate: args.headLearningRate,
    })),
  };
}

/** Runs (or reads back) scratch, head-only and full fine-tuning at every candidate rate on every task;
 * on the shifts (shared labels) also zero-shot and full fine-tuning with the source head, recorded under
 * lesson 08 whatever `lessonOf` says (lesson 03 does not run them). */
export async function runGainExperiment(args: GainExperimentArgs): Promise<TransferExperimentRun[]> {
  const where = "runGainExperiment";
  checkSeeds(where, args.seeds);
  args.tasks.forEach((t, i) => checkOneOf(where, `tasks[${i}]`, t, DOMAIN_TASKS));
  const c = gainCandidates(args);
  const variants = [...c.scratch, ...c.headOnly, ...c.fullFt];
  const groups = new Map<string, ShiftName[]>();
  const out: TransferExperimentRun[] = [];
  for (const task of args.tasks) {
    const lesson = args.lessonOf?.[task] ?? "08";
    if (task === "class-split") {
      out.push(
        ...(await runTransferExperiment({
          lesson,
          variants,
          scenario: "class-split",
          labelsPerClass: [args.labelsPerClass],
          seeds: args.seeds,
          scale: args.scale,
        })),
      );
    } else groups.set(lesson, [...(groups.get(lesson) ?? []), task]);
  }
  for (const [lesson, shifts] of groups)
    out.push(
      ...(await runTransferExperiment({
        lesson,
        variants,
        shifts,
        labelsPerClass: [args.labelsPerClass],
        seeds: args.seeds,
        scale: args.scale,
      })),
    );
  const shifts = args.tasks.filter((t): t is ShiftName => t !== "class-split");
  if (shifts.length)
    out.push(
      ...(await runTransferExperiment({
        lesson: "08",
        variants: c.fullFtSourceHead,
        shifts,
        labelsPerClass: [args.labelsPerClass],
        seeds: args.seeds,
        scale: args.scale,
        zeroShot: true,
      })),
    );
  return out;
}

export type TransferArmName = "zero-shot" | "head-only" | "full-ft" | "full-ft+source-head";

export interface TaskGain {
  task: string;
  scratch: ValidatedArm;
  headOnly: ValidatedArm;
  fullFt: ValidatedArm;
  /** Shared labels only (null on the class split): the source model as it is, and full fine-tuning
   * with the source head at its rate chosen on validation. */
  zeroShot: ValidatedArm | null;
  fullFtSourceHead: ValidatedArm | null;
  /** The transfer arm with the best mean validation accuracy (ties: the cheaper, in the order
   * zero-shot, head-only, full-ft, full-ft+source-head). */
  best: TransferArmName;
  bestArm: ValidatedArm;
  /** Per seed: best transfer arm − scratch, on test (reported) and on validation (for choices). */
  gain: SeedValue[];
  valGain: SeedValue[];
}

/** Per task: each arm at its rate chosen on validation, the best transfer arm chosen on validation,
 * and its gain over scratch per seed. */
export function transferGains(
  runs: readonly TransferExperimentRun[],
  candidates: ReturnType<typeof gainCandidates>,
): TaskGain[] {
  const arms = (c: TransferVariant[]) => chooseArms(runs, c);
  const scratch = arms(candidates.scratch);
  const head = arms(candidates.headOnly);
  const ft = arms(candidates.fullFt);
  const ftSrc = arms(candidates.fullFtSourceHead);
  return scratch.flatMap((s) => {
    const h = head.find((a) => a.task === s.task && a.labelsPerClass === s.labelsPerClass);
    const f = ft.find((a) => a.task === s.task && a.labelsPerClass === s.labelsPerClass);
    if (!h || !f) return [];
    const fs = ftSrc.find((a) => a.task === s.task && a.labelsPerClass === s.labelsPerClass) ?? null;
    const zRuns = runs
      .filter((r) => r.method === "zero-shot" && r.task === s.task && s.runs.some((x) => x.seed === r.seed))
      .sort((a, b) => a.seed - b.seed);
    const z: ValidatedArm | null =
      zRuns.length === s.runs.length && zRuns.length > 0
        ? { task: s.task, labelsPerClass: 0, mode: "shared", by: "valAccuracy", runs: zRuns, choice: null, counts: [] }
        : null;
    const options: { key: TransferArmName; arm: ValidatedArm }[] = [
      ...(z ? [{ key: "zero-shot" as const, arm: z }] : []),
      { key: "head-only", arm: h },
      { key: "full-ft", arm: f },
      ...(fs ? [{ key: "full-ft+source-head" as const, arm: fs }] : []),
    ];
    const pick = chooseOnValidation(options.map((o) => ({ key: o.key, runs: o.arm.runs })));
    const bestArm = options[pick.index].arm;
    const diff = (field: "accuracy" | "valAccuracy") =>
      bestArm.runs.flatMap((r) => {
        const base = s.runs.find((x) => x.seed === r.seed);
        return base ? [{ seed: r.seed, value: r[field] - base[field] }] : [];
      });
    return [
      {
        task: s.task,
        scratch: s,
        headOnly: h,
        fullFt: f,
        zeroShot: z,
        fullFtSourceHead: fs,
        best: pick.chosen,
        bestArm,
        gain: diff("accuracy"),
        valGain: diff("valAccuracy"),
      },
    ];
  });
}

// ---- 3. Does the distance rank the gains? ----------------------------------------------------------

/** Ranks (1 = smallest), ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation (Pearson's r of the ranks, ties at mean ranks); NaN when a side is
 * constant or fewer than 2 pairs. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length)
    throw argError("spearman", "ys", `as many values as xs (${xs.length})`, `${ys.length} values`);
  if (xs.length < 2) return NaN;
  const a = ranks(xs);
  const b = ranks(ys);
  const m = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = m(a);
  const mb = m(b);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : NaN;
}

/** Per seed, Spearman's ρ between the distance at `layer` and the gain across the tasks that seed
 * measured both for (seeds where ρ is undefined — a constant side — are left out). */
export function rankCorrelationPerSeed(
  distances: readonly DistanceRun[],
  gains: readonly TaskGain[],
  layer: string,
  field: "gain" | "valGain" = "gain",
): SeedValue[] {
  const seeds = [...new Set(distances.map((d) => d.seed))].sort((a, b) => a - b);
  return seeds.flatMap((seed) => {
    const pairs = gains.flatMap((g) => {
      const d = distances.find((x) => x.seed === seed && x.layer === layer && x.task === g.task);
      const v = g[field].find((x) => x.seed === seed);
      return d && v ? [[d.distance, v.value] as const] : [];
    });
    const rho = spearman(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    );
    return Number.isFinite(rho) ? [{ seed, value: rho }] : [];
  });
}

/** Every ordering of 0..n-1 (Heap's algorithm). */
function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  const c = new Array<number>(n).fill(0);
  yield a.slice();
  for (let i = 0; i < n;) {
    if (c[i] < i) {
      const j = i % 2 === 0 ? 0 : c[i];
      [a[j], a[i]] = [a[i], a[j]];
      yield a.slice();
      c[i]++;
      i = 0;
    } else c[i++] = 0;
  }
}

/** Most pairs an exact permutation test enumerates (8! = 40 320 orderings). */
export const MAX_PERMUTATION_PAIRS = 8;

export interface RankTest {
  /** Spearman's ρ of the pairs; NaN when a side is constant. */
  rho: number;
  /** Exact one-sided p: the share of all n! pairings whose ρ is at least as extreme in `direction`
   * (the observed one included, so p ≥ 1/n!). NaN when ρ is. */
  p: number;
  n: number;
  permutations: number;
  direction: "less" | "greater";
}

/** Spearman's ρ between xs and ys with an exact permutation p-value over the n pairs (the units are
 * the pairs — here tasks — not seeds). */
export function spearmanPermutationTest(
  xs: readonly number[],
  ys: readonly number[],
  direction: "less" | "greater",
): RankTest {
  checkOneOf("spearmanPermutationTest", "direction", direction, ["less", "greater"] as const);
  if (xs.length > MAX_PERMUTATION_PAIRS)
    throw argError("spearmanPermutationTest", "xs", `at most ${MAX_PERMUTATION_PAIRS} pairs`, `${xs.length} pairs`);
  const rho = spearman(xs, ys);
  if (!Number.isFinite(rho)) return { rho, p: NaN, n: xs.length, permutations: 0, direction };
  let hits = 0;
  let total = 0;
  for (const perm of permutations(xs.length)) {
    const r = spearman(
      xs,
      perm.map((i) => ys[i]),
    );
    total++;
    if (direction === "less" ? r <= rho + 1e-12 : r >= rho - 1e-12) hits++;
  }
  return { rho, p: hits / total, n: xs.length, permutations: total, direction };
}

/** What a distance is correlated with across tasks: the best transfer arm's gain over scratch (on
 * test, or on validation for choices), or the source model's zero-shot target error (test / val). */
export type RankTarget = "gain" | "valGain" | "zeroShotError" | "valZeroShotError";

export interface TaskRankCorrelation extends RankTest {
  layer: string;
  target: RankTarget;
  /** The tasks (units of the test) and their seed-mean distance and target value. */
  tasks: string[];
  distance: number[];
  value: number[];
}

/** Seed-mean value of `target` per task (NaN when not measured, e.g. zero-shot on the class split). */
function taskTargetMean(g: TaskGain, target: RankTarget): number {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  if (target === "gain") return mean(g.gain.map((v) => v.value));
  if (target === "valGain") return mean(g.valGain.map((v) => v.value));
  if (!g.zeroShot) return NaN;
  return 1 - mean(g.zeroShot.runs.map((r) => (target === "zeroShotError" ? r.accuracy : r.valAccuracy)));
}

/** Across tasks (not seeds): Spearman's ρ between the seed-mean distance at `layer` and the seed-mean
 * `target`, with the exact permutation p. Expected direction: distance up → gain down ("less"),
 * zero-shot error up ("greater"). Tasks without the target (zero-shot on the class split) or outside
 * `tasks` are left out. */
export function distanceRankTest(
  distances: readonly DistanceRun[],
  gains: readonly TaskGain[],
  layer: string,
  target: RankTarget,
  tasks?: readonly string[],
): TaskRankCorrelation {
  const rows = gains.flatMap((g) => {
    if (tasks && !tasks.includes(g.task)) return [];
    const d = distances.filter((x) => x.layer === layer && x.task === g.task).map((x) => x.distance);
    const v = taskTargetMean(g, target);
    return d.length && Number.isFinite(v) ? [{ task: g.task, d: d.reduce((a, b) => a + b, 0) / d.length, v }] : [];
  });
  const direction = target === "gain" || target === "valGain" ? "less" : "greater";
  const t = spearmanPermutationTest(
    rows.map((r) => r.d),
    rows.map((r) => r.v),
    direction,
  );
  return {
    ...t,
    layer,
    target,
    tasks: rows.map((r) => r.task),
    distance: rows.map((r) => r.d),
    value: rows.map((r) => r.v),
  };
}

// ---- 4. AdaBN ---------------------------------------------------------------------------------------

export interface AdaBNRun {
  task: ShiftName;
  seed: number;
  /** Target test / validation accuracy of the BN source model as it is (source head, 0 labels), and
   * the distance (and the domain classifier's AUC) on held-out images: task A's test images against
   * the target's test images, which AdaBN never saw. */
  before: { accuracy: number; valAccuracy: number; distance: number; auc: number };
  /** The same after AdaBN (statistics re-estimated on the unlabeled target pool). */
  after: { accuracy: number; valAccuracy: number; distance: number; auc: number };
  /** The layer the distances were measured at (the one the head reads). */
  layer: string;
}

/** AdaBN on each seed's BN source model (lesson 03's), for every shift: target accuracy with the
 * source head (0 target labels) and the distance at the head's input, before and after. The statistics
 * come from the target pool; the distances are measured on held-out images (task A's test images,
 * the target's test images, labels unread). The target features after AdaBN come from the adapted
 * copy, the source features from the original. */
export async function runAdaBNExperiment(args: {
  shifts: ShiftName[];
  seeds: number[];
  scale?: Scale;
  imagesPerDomain?: number;
}): Promise<AdaBNRun[]> {
  const where = "runAdaBNExperiment";
  checkSeeds(where, args.seeds);
  const scale = args.scale ?? getScale();
  const out: AdaBNRun[] = [];
  for (const seed of args.seeds) {
    let bn: SourceModel | null = null;
    try {
      for (const task of args.shifts) {
        checkOneOf(
          where,
          "shifts[]",
          task,
          DOMAIN_TASKS.filter((t): t is ShiftName => t !== "class-split"),
        );
        const tasks = sourceTasks({ scale, seed, shift: task });
        bn ??= await getSourceModel({ scale, seed, tasks, batchNorm: true, log: false });
        const layer = featureLayerOf(bn.model);
        const adapted = cloneModel(bn.model);
        try {
          adaptBatchNorm(adapted, tasks.target.pool);
          const dist = async (m: tf.LayersModel) => {
            const d = await domainDistance(bn!.model, tasks.source.test, tasks.target.test, {
              layer,
              seed,
              imagesPerDomain: args.imagesPerDomain,
              targetModel: m,
            });
            return { distance: d.distance, auc: d.auc };
          };
          out.push({
            task,
            seed,
            layer,
            before: {
              accuracy: evaluateAccuracy(bn.model, tasks.target.test),
              valAccuracy: evaluateAccuracy(bn.model, tasks.target.val),
              ...(await dist(bn.model)),
            },
            after: {
              accuracy: evaluateAccuracy(adapted, tasks.target.test),
              valAccuracy: evaluateAccuracy(adapted, tasks.target.val),
              ...(await dist(adapted)),
            },
          });
        } finally {
          adapted.dispose();
        }
      }
    } finally {
      bn?.model.dispose();
    }
  }
  return out;
}

// ---- 5. DANN -------------------------------------------------------------------------------------------

export interface DannRun {
  task: ShiftName;
  seed: number;
  /** Target labels per class trained on beside the source labels (0: unlabeled target only). */
  labelsPerClass: number;
  /** Largest weight of the reversed gradient; 0 = the same training without the adversary. */
  lambda: number;
  accuracy: number;
  valAccuracy: number;
  /** Distance at the head's input after training (source and target through the trained features),
   * on held-out images: task A's test images and the target's test images, neither trained on. */
  distance: number;
  auc: number;
  seconds: number;
}

export interface DannExperimentArgs {
  shift: ShiftName;
  seeds: number[];
  /** λ candidates (each > 0); λ = 0 always runs as the baseline. */
  lambdas: number[];
  labelsPerClass: number[];
  steps: number;
  learningRate: number;
  scale?: Scale;
  imagesPerDomain?: number;
  progress?: boolean;
}

/** Per seed: the source model as it is (the unadapted model) and DANN at λ = 0 and every candidate λ,
 * with each label budget. Returns the unadapted model's numbers per seed too. */
export async function runDannExperiment(args: DannExperimentArgs): Promise<{
  runs: DannRun[];
  unadapted: { seed: number; accuracy: number; valAccuracy: number; distance: number; auc: number }[];
}> {
  const where = "runDannExperiment";
  checkSeeds(where, args.seeds);
  checkOneOf(
    where,
    "shift",
    args.shift,
    DOMAIN_TASKS.filter((t): t is ShiftName => t !== "class-split"),
  );
  if (!Array.isArray(args.lambdas) || args.lambdas.some((l) => !(l > 0) || !Number.isFinite(l)))
    throw argError(
      where,
      "lambdas",
      "a list of finite numbers > 0 (λ = 0 runs anyway, as the baseline)",
      show(args.lambdas),
    );
  const scale = args.scale ?? getScale();
  const line = args.progress === false ? null : newDisplay();
  const runs: DannRun[] = [];
  const unadapted: { seed: number; accuracy: number; valAccuracy: number; distance: number; auc: number }[] = [];
  const t0 = performance.now();
  for (const seed of args.seeds) {
    const tasks = sourceTasks({ scale, seed, shift: args.shift });
    const src = await getSourceModel({ scale, seed, tasks, log: false });
    try {
      const layer = featureLayerOf(src.model);
      // Held out from DANN's training (source.train + target.pool): task A's and the target's test images.
      const dist = async (m: tf.LayersModel) => {
        const d = await domainDistance(m, tasks.source.test, tasks.target.test, {
          layer,
          seed,
          imagesPerDomain: args.imagesPerDomain,
        });
        return { distance: d.distance, auc: d.auc };
      };
      unadapted.push({
        seed,
        accuracy: evaluateAccuracy(src.model, tasks.target.test),
        valAccuracy: evaluateAccuracy(src.model, tasks.target.val),
        ...(await dist(src.model)),
      });
      for (const k of args.labelsPerClass) {
        const labeled: Dataset | undefined = k > 0 ? tasks.targetLabels(k, seed) : undefined;
        for (const lambda of [0, ...args.lambdas]) {
          const dann = buildDannModel(src.model, { seed });
          try {
            const h = await trainDann(dann, {
              source: tasks.source.train,
              target: tasks.target.pool,
              targetLabeled: labeled,
              steps: args.steps,
              lambda,
              learningRate: args.learningRate,
              seed,
            });
            runs.push({
              task: args.shift,
              seed,
              labelsPerClass: k,
              lambda,
              accuracy: evaluateAccuracy(dann.classifier, tasks.target.test),
              valAccuracy: evaluateAccuracy(dann.classifier, tasks.target.val),
              ...(await dist(dann.classifier)),
              seconds: h.seconds,
            });
            line?.text(
              `DANN: ${runs.length} runs, last: ${args.shift} k=${k} λ=${lambda} seed ${seed} → ${(100 * runs[runs.length - 1].accuracy).toFixed(1)} %, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
            );
          } finally {
            dann.dispose();
          }
        }
      }
    } finally {
      src.model.dispose();
    }
  }
  return { runs, unadapted };
}

// ---- 6. The calibration the decision guide reads ---------------------------------------------------------

/** Which similarity of the decision guide each calibration task stands for. */
export const TASK_SIMILARITY = {
  none: "similar",
  mild: "similar",
  inverted: "input-shift",
  "class-split": "new-classes",
} as const;
export type CalibrationTask = keyof typeof TASK_SIMILARITY;
export const CALIBRATION_TASKS = Object.keys(TASK_SIMILARITY) as CalibrationTask[];

/** What lesson 08 measured for the guide: at one layer, each calibration task's mean distance. */
export interface DistanceCalibration {
  scale: Scale;
  seeds: number[];
  /** The layer (chosen: see `how`), and the images per domain its distances used. */
  layer: string;
  imagesPerDomain: number;
  /** Mean distance of each calibration task at `layer` over `seeds`, and its 95 % half-width. */
  tasks: { task: CalibrationTask; similarity: string; mean: number; halfWidth: number }[];
  /** Boundaries between neighbouring tasks (ascending by mean): the midpoints of their means. */
  thresholds: { below: CalibrationTask; above: CalibrationTask; at: number }[];
  /** Each seed's task read back through thresholds made from the other seeds: how often right. */
  leaveOneSeedOut: { correct: number; total: number };
  how: string;
  measuredAt: string;
}

/** The task whose mean is nearest to `d` (given ascending boundaries, the same as the thresholds). */
export function nearestTask(d: number, tasks: readonly { task: CalibrationTask; mean: number }[]): CalibrationTask {
  if (tasks.length === 0) throw argError("nearestTask", "tasks", "a non-empty list", "[]");
  return tasks.reduce((a, b) => (Math.abs(b.mean - d) < Math.abs(a.mean - d) ? b : a)).task;
}

function taskMeans(runs: readonly DistanceRun[], layer: string, seeds: readonly number[]) {
  return CALIBRATION_TASKS.flatMap((task) => {
    const xs = runs
      .filter((r) => r.layer === layer && r.task === task && seeds.includes(r.seed))
      .map((r) => r.distance);
    if (xs.length === 0) return [];
    const ci = meanCI(xs);
    return [{ task, similarity: TASK_SIMILARITY[task], mean: ci.mean, halfWidth: ci.halfWidth }];
  });
}

/** Each seed's calibration-task distances at `layer` read through the means of the other seeds:
 * how many read back as their own situation (0 of 0 with fewer than 2 seeds). */
function leaveOneSeedOut(runs: readonly DistanceRun[], layer: string, seeds: readonly number[]) {
  let correct = 0;
  let total = 0;
  if (seeds.length > 1)
    for (const seed of seeds) {
      const others = taskMeans(
        runs,
        layer,
        seeds.filter((s) => s !== seed),
      );
      for (const r of runs.filter((x) => x.seed === seed && x.layer === layer && x.task in TASK_SIMILARITY)) {
        total++;
        const got = nearestTask(r.distance, others);
        if (TASK_SIMILARITY[got] === TASK_SIMILARITY[r.task as CalibrationTask]) correct++;
      }
    }
  return { correct, total };
}

/**
 * The guide's calibration from lesson 08's runs. Every distance is task A's model and test images
 * against the task's unlabeled images, as measureSimilarity measures a user's. **The layer** is the one
 * where the guide reads the situations best: each seed's calibration distances read through the
 * nearest-mean rule of the other seeds (leave one seed out; no accuracy is read); ties go to the layer
 * whose seed-mean distance ranks the tasks' seed-mean **validation** gains best (most negative Spearman
 * ρ across tasks), then to the lower layer — test accuracy is not read. **Thresholds** are the
 * midpoints between neighbouring calibration tasks' mean distances at that layer (a distance maps to
 * the nearest task's similarity).
 */
export function calibrateDistance(
  runs: readonly DistanceRun[],
  gains: readonly TaskGain[],
  args: { scale: Scale; imagesPerDomain: number },
): DistanceCalibration & {
  layerScores: { layer: string; rho: number; leaveOneSeedOut: { correct: number; total: number } }[];
} {
  const layers = [...new Set(runs.map((r) => r.layer))];
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const layerScores = layers.map((layer) => ({
    layer,
    rho: distanceRankTest(runs, gains, layer, "valGain").rho,
    leaveOneSeedOut: leaveOneSeedOut(runs, layer, seeds),
  }));
  const share = (s: (typeof layerScores)[number]) =>
    s.leaveOneSeedOut.total ? s.leaveOneSeedOut.correct / s.leaveOneSeedOut.total : 0;
  const rhoOf = (s: (typeof layerScores)[number]) => (Number.isFinite(s.rho) ? s.rho : Infinity);
  const layer = layerScores.reduce((a, b) =>
    share(b) > share(a) || (share(b) === share(a) && rhoOf(b) < rhoOf(a)) ? b : a,
  ).layer;
  const tasks = taskMeans(runs, layer, seeds).sort((a, b) => a.mean - b.mean);
  const thresholds = tasks
    .slice(1)
    .map((t, i) => ({ below: tasks[i].task, above: t.task, at: (tasks[i].mean + t.mean) / 2 }));
  const loo = layerScores.find((s) => s.layer === layer)!.leaveOneSeedOut;
  return {
    scale: args.scale,
    seeds,
    layer,
    imagesPerDomain: args.imagesPerDomain,
    tasks,
    thresholds,
    leaveOneSeedOut: loo,
    how:
      `layer ${layer}: the layer where each seed's distances, read through the other seeds' means, most often land on their ` +
      `own situation (leave one seed out, seeds ${seeds.join(", ")}; ties: the best Spearman ρ across tasks with the validation ` +
      `gains of transfer over scratch, then the lower layer); thresholds: midpoints between the mean distances of ` +
      `${tasks.map((t) => t.task).join(" < ")} at that layer (lesson 08: each seed's task-A model, task A's test images ` +
      `against each task's unlabeled target images, as the guide measures yours; ${args.imagesPerDomain} images per domain)`,
    measuredAt: new Date().toISOString(),
    layerScores,
  };
}

/** Cache key of the calibration of a scale. */
export function calibrationKey(scale: Scale): string {
  return `domain-distance-calibration-${scale}`;
}

/** Saves lesson 08's calibration for the decision guide (the JSON cache, one per scale). */
export async function saveDistanceCalibration(c: DistanceCalibration): Promise<string> {
  const { scale, seeds, layer, imagesPerDomain, tasks, thresholds, leaveOneSeedOut, how, measuredAt } = c;
  return saveJson(calibrationKey(scale), {
    scale,
    seeds,
    layer,
    imagesPerDomain,
    tasks,
    thresholds,
    leaveOneSeedOut,
    how,
    measuredAt,
  });
}

/** The calibration lesson 08 saved at `scale`, or undefined when it has not run there. */
export async function loadDistanceCalibration(scale: Scale = getScale()): Promise<DistanceCalibration | undefined> {
  return loadJson<DistanceCalibration>(calibrationKey(scale));
}
