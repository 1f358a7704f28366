// Lesson 09: the PEFT family at matched budgets on the tiny ViT, and fine-tuning without forgetting. One run
// transfers a seed's pretrained ViT (lesson 05's, cached) to task B with a parameter-efficient method
// (adapt/peft: LoRA on q and v, Houlsby or Pfeiffer adapters, BitFit, (IA)³, prompt tuning — the head trains with
// each) or with full fine-tuning plus a defence against forgetting task A (adapt/forgetting: L2-SP, EWC, rehearsal
// of a small task-A buffer, multi-task training on all of task A). Every run checks its invariants and throws when
// one fails: the frozen weights bit-for-bit unchanged; merged = unmerged where the method merges (LoRA, (IA)³,
// BitFit); for LoRA, removing the adapter (and keeping the source head) gives back the source model's task-A
// outputs and accuracy exactly. Runs are scored on task-B validation and test and on task-A retention (test, and
// validation for choosing a defence's strength), recorded in the results log as they finish and read back on a
// re-run. Plus the cost of one training step per method and the inference latency merged vs unmerged.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import type { Dataset } from "../data/types";
import type { ShiftName } from "../data/transforms";
import { assertFrozenUnchanged, freeze, snapshotWeights, unfreeze } from "../adapt/freezing";
import { applyPeft, mergePeft, peftParamCount, PEFT_METHODS, type PeftSpec } from "../adapt/peft/peft";
import { diagonalFisher, ewcPenalty, l2spPenalty, replayBuffer, type Penalty } from "../adapt/forgetting";
import { scaleArg, type Scale } from "../core/scale";
import { DEFAULT_HEAD_LR, TRANSFER_BUDGETS, type TransferBudget } from "../core/settings";
import { methodName, type MethodModifiers } from "../core/methods";
import { meanCI, type MeanCI } from "../core/stats";
import {
  argError,
  checkFinite,
  checkIntInRange,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  checkRatio,
  show,
} from "../core/validate";
import { checkLabelBudget } from "../data/subset";
import { HEAD_LAYER } from "../models/mlp";
import { predictLabels } from "../models/predict";
import { cloneModel } from "../models/surgery";
import { evaluateModel, taskARetention } from "../evaluate/evaluate";
import { maxOutputDiff } from "../evaluate/compare";
import { measureTrainingStep, type StepCost } from "../evaluate/cost";
import type { CandidateRuns, ScoredRun } from "../evaluate/select";
import { fit, type FitArgs } from "../train/fit";
import { linePlot, PALETTE, type PlotSpec, type PlotTrace, type Series } from "../show/plot";
import { stableHash } from "../store/cache";
import { PROTOCOL_VERSION, readResults, recordResult, type ResultRecord } from "../store/results";
import { checkCacheWritable } from "../store/writable";
import { sourceTasks } from "./source";
import { getPretrainedViT, MERGE_TOLERANCE, runCollector } from "./vit";
import { checkSweepCommon } from "./lora";
import { scoredRunRecord, scoreFromRecord, scoreTunedModel, transferEpochs, type TunedScore } from "./transfer";

// ---- What a run changes ------------------------------------------------------------------------------

/** Defences against forgetting task A while fully fine-tuning on task B. */
export type DefenceKind = "l2-sp" | "ewc" | "rehearsal" | "multi-task";
export const DEFENCE_KINDS: readonly DefenceKind[] = ["l2-sp", "ewc", "rehearsal", "multi-task"];

export type Defence =
  /** alpha/2 · Σ ||w − w_source||² added to the loss (every weight, the shared head included). */
  | { kind: "l2-sp"; alpha: number }
  /** lambda/2 · Σ F_i (w_i − w*_i)², F the diagonal Fisher of task A from `samples` training images. */
  | { kind: "ewc"; lambda: number; samples: number }
  /** Every step appends `perBatch` rows of a stratified buffer of `fraction` of task A's training images. */
  | { kind: "rehearsal"; fraction: number; perBatch: number }
  /** Every step appends `perBatch` rows of all of task A's training images (joint training on both tasks). */
  | { kind: "multi-task"; perBatch: number };

/** One transfer configuration of lesson 09: a PEFT method (its own weights and the head train), or full
 * fine-tuning (every weight trains) with a defence against forgetting, or neither (plain full fine-tuning). */
export interface PeftVariant {
  peft?: PeftSpec;
  defence?: Defence;
  /** Adam rate of what trains below the head (the method's own weights; full fine-tuning: the base). */
  learningRate: number;
  /** Rate of the head (default DEFAULT_HEAD_LR, as in lesson 05). */
  headLearningRate?: number;
}

/** The knob of a PEFT spec (LoRA rank, adapter bottleneck, prompt tokens; null for BitFit and (IA)³). */
export function peftSize(spec: PeftSpec): number | null {
  switch (spec.method) {
    case "lora":
      return spec.r;
    case "houlsby":
    case "pfeiffer":
      return spec.bottleneck;
    case "prompt":
      return spec.tokens;
    default:
      return null;
  }
}

/** The results-log name of a variant (core/methods.ts): lora-qv-r<r>, adapter:<houlsby|pfeiffer>-b<n>, bitfit,
 * ia3, prompt-t<n>, l2-sp / ewc (with @strength=), rehearsal, multi-task or full-ft; always with @lr=. */
export function peftVariantName(v: PeftVariant): string {
  checkPeftVariant("peftVariantName", v);
  const mods: MethodModifiers = { lr: v.learningRate };
  if (v.headLearningRate !== undefined && v.headLearningRate !== DEFAULT_HEAD_LR) mods.headLr = v.headLearningRate;
  if (v.peft) {
    const s = v.peft;
    switch (s.method) {
      case "lora":
        return methodName({ kind: "lora", on: "qv", r: s.r, ...mods });
      case "houlsby":
      case "pfeiffer":
        return methodName({ kind: "adapter", placement: s.method, bottleneck: s.bottleneck, ...mods });
      case "prompt":
        return methodName({ kind: "prompt", tokens: s.tokens, ...mods });
      default:
        return methodName({ kind: s.method, ...mods });
    }
  }
  const d = v.defence;
  if (!d) return methodName({ kind: "full-ft", ...mods });
  if (d.kind === "l2-sp") return methodName({ kind: "l2-sp", ...mods, strength: d.alpha });
  if (d.kind === "ewc") return methodName({ kind: "ewc", ...mods, strength: d.lambda });
  return methodName({ kind: d.kind, ...mods });
}

/** A short label for tables and plots: "LoRA r=5", "Houlsby b=4", "BitFit", "L2-SP α=0.01", "full FT". */
export function peftVariantLabel(v: PeftVariant): string {
  if (v.peft) {
    const s = v.peft;
    const names: Record<PeftSpec["method"], string> = {
      lora: "LoRA",
      houlsby: "Houlsby adapters",
      pfeiffer: "Pfeiffer adapters",
      bitfit: "BitFit",
      ia3: "(IA)³",
      prompt: "prompt tuning",
    };
    const knob = s.method === "lora" ? "r" : s.method === "prompt" ? "tokens" : "b";
    const size = peftSize(s);
    return size === null ? names[s.method] : `${names[s.method]} ${knob}=${size}`;
  }
  const d = v.defence;
  if (!d) return "full FT";
  switch (d.kind) {
    case "l2-sp":
      return `L2-SP α=${d.alpha}`;
    case "ewc":
      return `EWC λ=${d.lambda}`;
    case "rehearsal":
      return `rehearsal ${+(100 * d.fraction).toPrecision(3)} % of task A`;
    case "multi-task":
      return "multi-task (all of task A)";
  }
}

function checkDefence(where: string, d: unknown, p: string): asserts d is Defence {
  if (d === null || typeof d !== "object") throw argError(where, p, "a { kind, ... } object", show(d));
  const x = d as Record<string, unknown>;
  checkOneOf(where, `${p}.kind`, x.kind, DEFENCE_KINDS);
  const nonNeg = (name: string) => {
    const v = x[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw argError(where, `${p}.${name}`, "a finite number >= 0", show(v));
  };
  switch (x.kind) {
    case "l2-sp":
      nonNeg("alpha");
      break;
    case "ewc":
      nonNeg("lambda");
      checkPositiveInt(where, `${p}.samples`, x.samples, "task-A images whose gradients make the Fisher");
      break;
    case "rehearsal":
      if (typeof x.fraction !== "number" || !(x.fraction > 0 && x.fraction <= 1))
        throw argError(where, `${p}.fraction`, "a number in (0, 1]", show(x.fraction));
      checkPositiveInt(where, `${p}.perBatch`, x.perBatch);
      break;
    case "multi-task":
      checkPositiveInt(where, `${p}.perBatch`, x.perBatch);
      break;
  }
}

/** Checks a variant (the PEFT spec itself is checked by applyPeft, before anything is built). */
export function checkPeftVariant(where: string, v: unknown, param = "variant"): asserts v is PeftVariant {
  if (v === null || typeof v !== "object")
    throw argError(where, param, "a { peft?, defence?, learningRate } object", show(v));
  const x = v as PeftVariant;
  if (x.peft !== undefined && x.defence !== undefined)
    throw argError(
      where,
      param,
      "a PEFT method or a defence, not both",
      show(v),
      "the defences are for full fine-tuning; a PEFT method's own answer to forgetting is to leave the base alone",
    );
  if (x.peft !== undefined) {
    if (x.peft === null || typeof x.peft !== "object")
      throw argError(where, `${param}.peft`, "a PeftSpec", show(x.peft));
    checkOneOf(where, `${param}.peft.method`, x.peft.method, PEFT_METHODS);
  }
  if (x.defence !== undefined) checkDefence(where, x.defence, `${param}.defence`);
  checkPositiveFinite(where, `${param}.learningRate`, x.learningRate);
  if (x.headLearningRate !== undefined) checkPositiveFinite(where, `${param}.headLearningRate`, x.headLearningRate);
}

// ---- One run ----------------------------------------------------------------------------------------------

export interface PeftRunArgs extends PeftVariant {
  /** The pretrained ViT (never modified). */
  source: tf.LayersModel;
  tasks: TransferTasks;
  labelsPerClass: number;
  seed?: number;
  scale?: Scale;
  budget?: Partial<TransferBudget>;
  /** The source's accuracy on tasks.source.test when the caller has it (else scored now). */
  sourceTaskAAccuracy?: number;
}

export interface PeftRun extends TunedScore {
  method: string;
  labelsPerClass: number;
  seed: number;
  learningRate: number;
  headLearningRate: number;
  peft: PeftSpec | null;
  defence: Defence | null;
  /** The method's own trainable parameters (PEFT: peftParamCount; full fine-tuning: every weight but the head). */
  methodParams: number;
  /** Task-A retention on task A's validation split (what a defence's strength is chosen on, with task-B
   * validation); full fine-tuning and the defences only (null for PEFT runs: nothing is chosen on it there, and
   * scoring 500 more images costs time). */
  retentionVal: number | null;
  /** Full fine-tuning and the defences: ||w − w_source|| over every weight below the head after training (how far
   * the base drifted); null for PEFT runs (their base does not move). */
  drift: number | null;
  /** Rehearsal and multi-task: task-A test accuracy through the TUNED head (the head both tasks trained), beside
   * `retention` (through the source head); null otherwise. */
  taskATunedHead: number | null;
  /** Frozen weight tensors checked bit-for-bit unchanged after training (the run throws otherwise). */
  frozenWeights: number;
  /** Largest |merged − unmerged| output on task-B validation where the method merges (null otherwise). */
  mergeMaxDiff: number | null;
  /** LoRA: task-A accuracy with the adapter removed and the source head back (checked equal to the source's). */
  swapRetention: number | null;
}

function prepare(v: PeftVariant, source: tf.LayersModel, seed: number): tf.LayersModel {
  if (v.peft) return applyPeft(source, v.peft, { trainHead: true, seed });
  const m = cloneModel(source);
  unfreeze(m);
  return m;
}

/** A copy of the source model whose weights below the head are read from `trained`'s layers of the same names,
 * weight by weight by name (LoRA's wrapped layers keep their base `kernel` and `bias` beside lora_A and lora_B):
 * the trained model with its adapter removed and the source head kept, i.e. what serving task A after swapping
 * the adapter out runs. */
export function withoutAdapter(trained: tf.LayersModel, source: tf.LayersModel): tf.LayersModel {
  const m = cloneModel(source);
  const leaf = (w: tf.LayerVariable) => w.originalName.split("/").pop()!;
  try {
    for (const layer of m.layers) {
      if (layer.name === HEAD_LAYER || layer.weights.length === 0) continue;
      const twin = trained.layers.find((l) => l.name === layer.name);
      if (!twin)
        throw new Error(
          `withoutAdapter: the trained model has no layer ${layer.name} (pass the model trained from this source, then the source)`,
        );
      const from = twin.weights;
      const values = layer.weights.map((w) => {
        const match = from.find((f) => leaf(f) === leaf(w));
        if (!match || match.shape.join(",") !== w.shape.join(","))
          throw new Error(
            `withoutAdapter: layer ${layer.name} of the trained model has no weight ${leaf(w)} of shape [${w.shape}] (it has ${from.map((f) => `${leaf(f)} [${f.shape}]`).join(", ")})`,
          );
        return match.read();
      });
      layer.setWeights(values);
    }
    return m;
  } catch (e) {
    m.dispose();
    throw e;
  }
}

/** One transfer run of the pretrained ViT on k labels per class of task B (see the file comment). Throws if a
 * frozen weight moved, a merged model disagrees with its unmerged form, or LoRA's swap does not restore task A. */
export async function runPeftTransfer(args: PeftRunArgs): Promise<PeftRun> {
  const where = "runPeftTransfer";
  const seed = args.seed ?? 0;
  checkFinite(where, "seed", seed);
  const scale = scaleArg(where, args.scale);
  checkPeftVariant(where, args, "args");
  checkLabelBudget(where, "labelsPerClass", args.labelsPerClass, args.tasks.target.pool);
  if (args.sourceTaskAAccuracy !== undefined) checkRatio(where, "sourceTaskAAccuracy", args.sourceTaskAAccuracy);
  const headLearningRate = args.headLearningRate ?? DEFAULT_HEAD_LR;
  const methodParams = args.peft
    ? peftParamCount(args.source, args.peft)
    : args.source.layers.filter((l) => l.name !== HEAD_LAYER).reduce((s, l) => s + l.countParams(), 0);
  const train = args.tasks.targetLabels(args.labelsPerClass, seed);
  const model = prepare(args, args.source, seed);
  let penalty: Penalty | null = null;
  let plain: tf.LayersModel | null = null;
  try {
    const { epochs, batchSize } = transferEpochs(train.n, { ...TRANSFER_BUDGETS[scale], ...args.budget });
    const fitArgs: FitArgs = {
      epochs,
      batchSize,
      learningRate: args.learningRate,
      seed,
      progress: false,
      layerLearningRates: { [HEAD_LAYER]: headLearningRate / args.learningRate },
    };
    const d = args.defence;
    const taskA = args.tasks.source.train;
    if (d?.kind === "l2-sp") penalty = l2spPenalty(model, { alpha: d.alpha });
    if (d?.kind === "ewc") {
      checkIntInRange(where, "defence.samples", d.samples, 1, taskA.n, `task A has ${taskA.n} training images`);
      const fisher = diagonalFisher(model, taskA, { samples: d.samples, seed });
      try {
        penalty = ewcPenalty(model, fisher, { lambda: d.lambda });
      } finally {
        fisher.dispose();
      }
    }
    if (penalty) {
      const p = penalty;
      fitArgs.penalty = () => p.loss();
    }
    if (d?.kind === "rehearsal")
      fitArgs.replay = { data: replayBuffer(taskA, { fraction: d.fraction, seed }), perBatch: d.perBatch };
    if (d?.kind === "multi-task") fitArgs.replay = { data: taskA, perBatch: d.perBatch };
    const before = snapshotWeights(model);
    const history = await fit(model, train, fitArgs);
    assertFrozenUnchanged(model, before); // throws, naming the weight, if one moved
    const mergeMaxDiff = args.peft ? checkMerge(model, args.tasks.target.val) : null;
    const scored = scoreTunedModel(model, args, history, { retention: false });
    const sourceTaskA = args.sourceTaskAAccuracy ?? evaluateModel(args.source, args.tasks.source.test).accuracy;
    // Retention swaps the source head in on a copy; a BitFit model (per-weight trainability) is copied through its
    // merged form, a plain clone with the very same weights.
    plain = args.peft?.method === "bitfit" ? mergePeft(model) : null;
    const tuned = plain ?? model;
    const retention = taskARetention({ tuned, source: args.source, taskATest: args.tasks.source.test });
    const retentionVal = !args.peft
      ? taskARetention({
          tuned,
          source: args.source,
          taskATest: args.tasks.source.val,
          taskATrainRows: (taskA as Dataset & { baseIndices?: Int32Array }).baseIndices,
        })
      : null;
    const swapRetention = args.peft?.method === "lora" ? checkSwap(model, args.source, args.tasks, sourceTaskA) : null;
    const drift = args.peft ? null : baseDrift(model, args.source);
    const taskATunedHead =
      d?.kind === "rehearsal" || d?.kind === "multi-task"
        ? evaluateModel(model, args.tasks.source.test).accuracy
        : null;
    return {
      ...scored,
      method: peftVariantName(args),
      labelsPerClass: args.labelsPerClass,
      seed,
      learningRate: args.learningRate,
      headLearningRate,
      peft: args.peft ? { ...args.peft } : null,
      defence: d ? { ...d } : null,
      methodParams,
      retention,
      forgetting: sourceTaskA - retention,
      retentionVal,
      drift,
      taskATunedHead,
      frozenWeights: before.entries.filter((e) => e.frozen).length,
      mergeMaxDiff,
      swapRetention,
    };
  } finally {
    penalty?.dispose();
    plain?.dispose();
    model.dispose();
  }
}

/** ||w − w_source|| over every weight below the head, layer and weight matched by name. */
function baseDrift(model: tf.LayersModel, source: tf.LayersModel): number {
  let sum = 0;
  for (const layer of source.layers) {
    if (layer.name === HEAD_LAYER || layer.weights.length === 0) continue;
    const twin = model.getLayer(layer.name);
    const leaf = (w: tf.LayerVariable) => w.originalName.split("/").pop()!;
    for (const w of layer.weights) {
      const t = twin.weights.find((f) => leaf(f) === leaf(w));
      if (!t) throw new Error(`baseDrift: the tuned model's layer ${layer.name} has no weight ${leaf(w)}`);
      sum += tf.tidy(() => tf.sum(tf.square(tf.sub(t.read(), w.read()))).dataSync()[0]);
    }
  }
  return Math.sqrt(sum);
}

/** Merged vs unmerged on `data` (null when the method does not merge); throws past MERGE_TOLERANCE. */
function checkMerge(model: tf.LayersModel, data: Dataset): number | null {
  const merged = mergePeft(model);
  if (merged === null) return null;
  try {
    const diff = maxOutputDiff(model, merged, data);
    const a = predictLabels(model, data);
    const b = predictLabels(merged, data);
    const agree = a.every((label, i) => label === b[i]);
    if (!(diff <= MERGE_TOLERANCE) || !agree)
      throw new Error(
        `runPeftTransfer: the merged model differs from the unmerged one by ${diff} (labels ${agree ? "agree" : "differ"}); expected at most ${MERGE_TOLERANCE}`,
      );
    return diff;
  } finally {
    merged.dispose();
  }
}

/** LoRA swapped out: the base's outputs on task A's test images equal the source's exactly, and so does its accuracy. */
function checkSwap(model: tf.LayersModel, source: tf.LayersModel, tasks: TransferTasks, sourceTaskA: number): number {
  const swapped = withoutAdapter(model, source);
  try {
    const diff = maxOutputDiff(swapped, source, tasks.source.test);
    const acc = evaluateModel(swapped, tasks.source.test).accuracy;
    if (diff !== 0 || acc !== sourceTaskA)
      throw new Error(
        `runPeftTransfer: with the LoRA adapter removed, task A should be the source model's exactly; outputs differ by ${diff}, accuracy ${acc} vs ${sourceTaskA}`,
      );
    return acc;
  } finally {
    swapped.dispose();
  }
}

// ---- The experiment: every seed's ViT, recorded, read back on a re-run --------------------------------------

export type PeftExperimentRun = PeftRun & { reused: boolean; record: ResultRecord };

export interface PeftExperimentArgs {
  /** Lesson id the runs are recorded under (default "09"). */
  lesson?: string;
  scale?: Scale;
  /** Each seed: its own split, its own pretrained ViT (getPretrainedViT), its label draw. */
  seeds: number[];
  labelsPerClass: number;
  shift?: ShiftName;
  variants: PeftVariant[];
  budget?: Partial<TransferBudget>;
  /** Read back runs recorded with the same configuration instead of training them (default true). */
  reuse?: boolean;
  /** One line that updates in place with the run in progress (default true). */
  progress?: boolean;
  onRun?: (run: PeftExperimentRun) => void;
}

export interface PeftExperiment {
  runs: PeftExperimentRun[];
  /** Per seed: the pretrained ViT's artifact key and task-A test accuracy. */
  sources: { seed: number; key: string; testAccuracy: number }[];
}

/** Everything that changes a run's numbers; equal keys mean a recorded run can be read back. */
function peftRunKey(
  v: PeftVariant,
  ctx: {
    task: string;
    k: number;
    seed: number;
    scale: Scale;
    backend: string;
    sourceKey: string;
    budget: TransferBudget;
  },
): string {
  const variant = {
    peft: v.peft ?? null,
    defence: v.defence ?? null,
    learningRate: v.learningRate,
    headLearningRate: v.headLearningRate ?? DEFAULT_HEAD_LR,
  };
  return stableHash({ v: PROTOCOL_VERSION, model: "tiny-vit", lesson09: 2, variant, ...ctx }).slice(0, 16);
}

function peftRecord(r: PeftRun, meta: { lesson: string; backend: string; scale: Scale }, runKey: string): ResultRecord {
  return scoredRunRecord(r, meta, {
    runKey,
    model: "tiny-vit",
    peft: r.peft ? JSON.stringify(r.peft) : null,
    defence: r.defence ? JSON.stringify(r.defence) : null,
    learningRate: r.learningRate,
    headLearningRate: r.headLearningRate,
    methodParams: r.methodParams,
    retentionVal: r.retentionVal,
    drift: r.drift,
    taskATunedHead: r.taskATunedHead,
    steps: r.steps,
    frozenWeights: r.frozenWeights,
    mergeMaxDiff: r.mergeMaxDiff,
    swapRetention: r.swapRetention,
  });
}

function peftRunFromRecord(rec: ResultRecord, v: PeftVariant): PeftRun {
  const e = rec.extra ?? {};
  const num = (x: unknown): number | null => (typeof x === "number" ? x : null);
  return {
    task: rec.task,
    ...scoreFromRecord(rec),
    steps: Number(e.steps ?? 0),
    loss: [],
    method: rec.method,
    labelsPerClass: rec.labelsPerClass ?? 0,
    seed: rec.seed,
    learningRate: v.learningRate,
    headLearningRate: v.headLearningRate ?? DEFAULT_HEAD_LR,
    peft: v.peft ? { ...v.peft } : null,
    defence: v.defence ? { ...v.defence } : null,
    methodParams: Number(e.methodParams ?? 0),
    retentionVal: num(e.retentionVal),
    drift: num(e.drift),
    taskATunedHead: num(e.taskATunedHead),
    frozenWeights: Number(e.frozenWeights ?? 0),
    mergeMaxDiff: num(e.mergeMaxDiff),
    swapRetention: num(e.swapRetention),
  };
}

/** Every variant on every seed's own pretrained ViT (cached; trained on first use), each run recorded in the
 * results log as it finishes, or read back when a run of the same configuration (protocol, backend, pretrained
 * ViT, variant, budget, labels, seed) is already recorded under `lesson`. */
export async function runPeftExperiment(args: PeftExperimentArgs): Promise<PeftExperiment> {
  const where = "runPeftExperiment";
  checkCacheWritable(undefined, where);
  const scale = checkSweepCommon(where, args);
  if (!Array.isArray(args.seeds) || args.seeds.length === 0)
    throw argError(where, "seeds", "a non-empty list of finite numbers", show(args.seeds));
  checkPositiveInt(where, "labelsPerClass", args.labelsPerClass);
  const lesson = args.lesson ?? "09";
  if (typeof lesson !== "string" || lesson === "")
    throw argError(where, "lesson", 'a lesson id such as "09"', show(args.lesson));
  if (!Array.isArray(args.variants) || args.variants.length === 0)
    throw argError(where, "variants", "a non-empty list of { peft?, defence?, learningRate }", show(args.variants));
  args.variants.forEach((v, i) => checkPeftVariant(where, v, `variants[${i}]`));
  const shift = args.shift ?? "mild";
  const backend = tf.getBackend();
  const known = new Map<string, ResultRecord>();
  if (args.reuse ?? true)
    for (const rec of readResults({ lesson, scale }))
      if (rec.backend === backend && typeof rec.extra?.runKey === "string") known.set(rec.extra.runKey, rec);
  const sources: PeftExperiment["sources"] = [];
  const { runs, emit } = runCollector<PeftExperimentRun>(lesson, args.seeds.length * args.variants.length, args);
  for (const seed of args.seeds) {
    const tasks = sourceTasks({ scale, seed, shift });
    const vit = await getPretrainedViT({ scale, seed, tasks, log: false });
    try {
      sources.push({ seed, key: vit.key, testAccuracy: vit.testAccuracy });
      const budget = { ...TRANSFER_BUDGETS[scale], ...args.budget };
      const ctx = { task: tasks.shift, k: args.labelsPerClass, seed, scale, backend, sourceKey: vit.key, budget };
      for (const v of args.variants) {
        const key = peftRunKey(v, ctx);
        const old = known.get(key);
        if (old) {
          emit({ ...peftRunFromRecord(old, v), reused: true, record: old });
          continue;
        }
        const run = await runPeftTransfer({
          ...v,
          source: vit.model,
          tasks,
          labelsPerClass: args.labelsPerClass,
          seed,
          scale,
          budget: args.budget,
          sourceTaskAAccuracy: vit.testAccuracy,
        });
        const record = recordResult(peftRecord(run, { lesson, backend, scale }, key));
        known.set(key, record);
        emit({ ...run, reused: false, record });
      }
    } finally {
      vit.model.dispose();
    }
  }
  return { runs, sources };
}

/** The runs of one variant (matched by name: the name holds the method, its size, rate and strength). */
export function peftRunsOf<R extends { method: string }>(runs: readonly R[], v: PeftVariant): R[] {
  const name = peftVariantName(v);
  return runs.filter((r) => r.method === name);
}

// ---- Choosing and summarising ------------------------------------------------------------------------------

/** A defence's strength is chosen on validation only, by the mean over the rate seeds of (task-B validation
 * accuracy + task-A validation retention) / 2: both tasks weigh the same (a penalty that keeps task A perfectly
 * but learns nothing of B, or the reverse, scores half). Ties: the earlier candidate. */
export function chooseOnBothTasks<K, R extends ScoredRun & { retentionVal: number | null }>(
  candidates: CandidateRuns<K, R>[],
): { chosen: K; index: number; scores: { key: K; score: number; valAccuracy: number; retentionVal: number }[] } {
  if (!Array.isArray(candidates) || candidates.length === 0)
    throw argError("chooseOnBothTasks", "candidates", "a non-empty list of { key, runs }", show(candidates));
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const scores = candidates.map((c, i) => {
    if (c.runs.length === 0) throw argError("chooseOnBothTasks", `candidates[${i}].runs`, "at least one run", "[]");
    const valAccuracy = mean(c.runs.map((r) => r.valAccuracy));
    if (c.runs.some((r) => typeof r.retentionVal !== "number"))
      throw argError(
        "chooseOnBothTasks",
        `candidates[${i}].runs`,
        "runs scored on task A's validation split (retentionVal: the defence runs)",
        "a run without retentionVal",
      );
    const retentionVal = mean(c.runs.map((r) => r.retentionVal as number));
    return { key: c.key, score: (valAccuracy + retentionVal) / 2, valAccuracy, retentionVal };
  });
  let index = 0;
  scores.forEach((s, i) => {
    if (s.score > scores[index].score) index = i;
  });
  return { chosen: scores[index].key, index, scores };
}

/** One arm's runs summarised: mean ± 95 % half-width of task-B test accuracy, task-A retention and forgetting. */
export interface PeftArmSummary {
  label: string;
  runs: number;
  trainableParams: number;
  accuracy: MeanCI;
  valAccuracy: number;
  retention: MeanCI;
  forgetting: MeanCI;
  seconds: number;
}

export function summarizePeftArm(
  label: string,
  runs: readonly {
    accuracy: number;
    valAccuracy: number;
    retention: number | null;
    forgetting: number | null;
    trainableParams: number;
    seconds: number;
  }[],
): PeftArmSummary {
  if (runs.length === 0) throw argError("summarizePeftArm", "runs", "at least one run", "[]");
  const vals = (f: (r: (typeof runs)[number]) => number | null) => runs.map((r) => f(r) ?? NaN);
  return {
    label,
    runs: runs.length,
    trainableParams: runs[0].trainableParams,
    accuracy: meanCI(vals((r) => r.accuracy)),
    valAccuracy: vals((r) => r.valAccuracy).reduce((s, x) => s + x, 0) / runs.length,
    retention: meanCI(vals((r) => r.retention)),
    forgetting: meanCI(vals((r) => r.forgetting)),
    seconds: vals((r) => r.seconds).reduce((s, x) => s + x, 0) / runs.length,
  };
}

// ---- Plots ------------------------------------------------------------------------------------------------

/** The efficiency frontier: task-B test accuracy (mean, 95 % error bars) vs trainable parameters (log x), one
 * line per method (its budgets in order), single points for fixed-size methods and the baselines. */
export function frontierPlot(
  lines: { name: string; points: { params: number; accuracy: MeanCI }[] }[],
  title = "Task-B accuracy vs trainable parameters",
): PlotSpec {
  if (!Array.isArray(lines) || lines.length === 0)
    throw argError("frontierPlot", "lines", "a non-empty list of { name, points }", show(lines));
  const series: Series[] = lines.map((l) => {
    const pts = [...l.points].sort((a, b) => a.params - b.params);
    return {
      name: l.name,
      x: pts.map((p) => p.params),
      y: pts.map((p) => 100 * p.accuracy.mean),
      error: pts.map((p) => 100 * p.accuracy.halfWidth),
    };
  });
  return linePlot({
    series,
    logX: true,
    markers: true,
    title,
    xTitle: "trainable parameters (log scale; the head's included)",
    yTitle: "task-B test accuracy (%)",
  });
}

/** Task-B accuracy vs task-A retention, one point per arm with 95 % error bars both ways (up and right is better). */
export function paretoPlot(
  points: { name: string; accuracy: MeanCI; retention: MeanCI }[],
  title = "Task B learned vs task A kept",
): PlotSpec {
  if (!Array.isArray(points) || points.length === 0)
    throw argError("paretoPlot", "points", "a non-empty list of { name, accuracy, retention }", show(points));
  const data: PlotTrace[] = points.map((p, i) => {
    const color = PALETTE[i % PALETTE.length];
    return {
      type: "scatter",
      mode: "markers",
      name: p.name,
      x: [100 * p.retention.mean],
      y: [100 * p.accuracy.mean],
      marker: { color, size: 9 },
      error_x: { type: "data", array: [100 * p.retention.halfWidth], visible: true, color, thickness: 1.2, width: 4 },
      error_y: { type: "data", array: [100 * p.accuracy.halfWidth], visible: true, color, thickness: 1.2, width: 4 },
    };
  });
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: "task-A retention (%, test; the source model's head)" } },
      yaxis: { title: { text: "task-B test accuracy (%)" } },
      height: 420,
      showlegend: true,
    },
  };
}

// ---- Cost of a step, and inference merged vs unmerged --------------------------------------------------------

export interface PeftCostRow {
  /** "full FT", "head-only" or the spec's label. */
  config: string;
  spec: PeftSpec | null;
  measured: StepCost;
  /** Full fine-tuning's measured step time / this one's. */
  timeRatio: number;
  /** Full fine-tuning's gradient + optimizer bytes / this one's. */
  trainStateRatio: number;
  /** Full fine-tuning's whole step memory (gradients + Adam state + activations kept for the backward pass) /
   * this one's. */
  stepMemoryRatio: number;
  /** Inference ms per batch of the model as trained (PEFT layers in place): median and interquartile range over
   * the repeats, interleaved with every other configuration's. */
  unmerged: Latency;
  /** The same after mergePeft (null: the method does not merge). */
  merged: Latency | null;
}

/** Median and interquartile range (ms) of repeated timings. */
export interface Latency {
  median: number;
  q1: number;
  q3: number;
}

/** Whether two latencies are within noise: their interquartile ranges overlap. */
export function latencyOverlaps(a: Latency, b: Latency): boolean {
  return a.q1 <= b.q3 && b.q1 <= a.q3;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface PeftCost {
  rows: PeftCostRow[];
  /** Inference ms per batch of the plain pretrained ViT (interleaved with the others). */
  base: Latency;
  batchSize: number;
  /** Timed inference repeats per model. */
  latencyRepeats: number;
}

/** One Adam training step per configuration (full fine-tuning, head-only, each spec) timed and its tensor memory
 * accounted (evaluate/cost.ts measureTrainingStep, on copies: the source never trains), and each model's inference
 * latency as trained and merged: `latencyRepeats` rounds, each timing every model once in turn (interleaved, so
 * a slow spell of a shared machine hits every configuration alike), after one warm-up round. */
export async function measurePeftCost(args: {
  source: tf.LayersModel;
  data: Dataset;
  specs: PeftSpec[];
  batchSize?: number;
  steps?: number;
  latencyRepeats?: number;
}): Promise<PeftCost> {
  const where = "measurePeftCost";
  const batchSize = args.batchSize ?? 32;
  checkPositiveInt(where, "batchSize", batchSize);
  const steps = args.steps ?? 3;
  checkPositiveInt(where, "steps", steps);
  const latencyRepeats = args.latencyRepeats ?? 20;
  checkPositiveInt(where, "latencyRepeats", latencyRepeats);
  if (!args.data || batchSize > args.data.n)
    throw argError(where, "batchSize", `at most data's ${args.data?.n} rows`, show(batchSize));
  if (!Array.isArray(args.specs)) throw argError(where, "specs", "a list of PeftSpec", show(args.specs));
  const x = tf.tensor2d(args.data.x.subarray(0, batchSize * args.data.dim), [batchSize, args.data.dim]);
  const labels = Int32Array.from(args.data.y.subarray(0, batchSize));
  const step = { x, labels, numClasses: args.data.numClasses, steps, warmup: 1 };
  try {
    const configs: { config: string; spec: PeftSpec | null; make: () => tf.LayersModel }[] = [
      {
        config: "full FT",
        spec: null,
        make: () => {
          const m = cloneModel(args.source);
          unfreeze(m);
          return m;
        },
      },
      {
        config: "head-only",
        spec: null,
        make: () => {
          const m = cloneModel(args.source);
          freeze(m);
          unfreeze(m, [HEAD_LAYER]);
          return m;
        },
      },
      ...args.specs.map((spec) => ({
        config: peftVariantLabel({ peft: spec, learningRate: 1 }),
        spec,
        make: () => applyPeft(args.source, spec, { trainHead: true, seed: 0 }),
      })),
    ];
    const measured: { config: string; spec: PeftSpec | null; measured: StepCost }[] = [];
    // Inference models kept for the interleaved timing: [source, then per config: as trained, merged or null].
    const kept: tf.LayersModel[] = [];
    const timed: { model: tf.LayersModel; times: number[] }[] = [{ model: args.source, times: [] }];
    const slots: { unmerged: number; merged: number | null }[] = [];
    try {
      for (const c of configs) {
        const m = c.make();
        kept.push(m);
        measured.push({ config: c.config, spec: c.spec, measured: await measureTrainingStep(m, step) });
        const merged = c.spec ? mergePeft(m) : null;
        if (merged) kept.push(merged);
        timed.push({ model: m, times: [] });
        if (merged) timed.push({ model: merged, times: [] });
        slots.push({ unmerged: timed.length - (merged ? 2 : 1), merged: merged ? timed.length - 1 : null });
      }
      for (let round = 0; round <= latencyRepeats; round++)
        for (const t of timed) {
          const t0 = performance.now();
          tf.tidy(() => (t.model.predict(x) as tf.Tensor).dataSync());
          if (round > 0) t.times.push(performance.now() - t0); // round 0 warms up
        }
    } finally {
      kept.forEach((m) => m.dispose());
    }
    const latency = (i: number): Latency => {
      const sorted = [...timed[i].times].sort((a, b) => a - b);
      return { median: quantile(sorted, 0.5), q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75) };
    };
    const full = measured[0].measured;
    const state = (s: StepCost) => s.gradientBytes + s.optimizerBytes;
    const total = (s: StepCost) => state(s) + s.activationBytes;
    return {
      rows: measured.map((r, i) => ({
        ...r,
        timeRatio: full.stepMs / r.measured.stepMs,
        trainStateRatio: state(full) / state(r.measured),
        stepMemoryRatio: total(full) / total(r.measured),
        unmerged: latency(slots[i].unmerged),
        merged: slots[i].merged === null ? null : latency(slots[i].merged!),
      })),
      base: latency(0),
      batchSize,
      latencyRepeats,
    };
  } finally {
    x.dispose();
  }
}
