// Transfer with the tiny ViT (lesson 05; lesson 10 calls it to fill gaps): pretrain on task A
// (cached), then transfer to task B by head-only, freezing the first k blocks, full fine-tuning
// or LoRA on the q and v projections; plus the attention pictures of a trained block.
import * as tf from "@tensorflow/tfjs";
import type { TransferTasks } from "../data/tasks";
import type { ShiftName } from "../data/transforms";
import { freeze, unfreeze } from "../adapt/freezing";
import { checkLoraHyper, DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { applyLora } from "../adapt/lora/inject";
import { heatmap, multiPanel, type PlotSpec } from "../show/plot";
import { getScale, scaleArg, type Scale } from "../core/scale";
import { lessonSettings, type ViTRecipe } from "../core/settings";
import { HEAD_LAYER } from "../models/mlp";
import { pretrainOnTaskA, sourceTasks, type SourceModel } from "./source";
import { cloneModel } from "../models/surgery";
import { fit } from "../train/fit";
import { attentionMaps, buildViT, vitDepth, type ViTArgs } from "../models/transformer";
import { freezeBlocks } from "../adapt/freezing";
import { checkSweepCommon, type LoraRun } from "./lora";
import { DEFAULT_LORA_LR } from "../core/settings";
import { transferEpochs, scoreTunedModel } from "./transfer";
import { DEFAULT_FINE_TUNE_LR, DEFAULT_HEAD_LR, TRANSFER_BUDGETS, type TransferBudget } from "../core/settings";
import {
  checkFinite,
  checkIntInRange,
  checkNonNegativeInt,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  checkShape,
} from "../core/validate";
import { checkLabelBudget } from "../data/subset";
import { progressLine } from "../show/progress";
import { methodName } from "../core/methods";
import { checkCacheWritable } from "../store/writable";

/** The full pretraining recipe at a scale: the ViT of lesson 05's settings and its epochs. */
export function vitRecipe(scale: Scale = getScale()): ViTRecipe & { epochs: number } {
  const s = lessonSettings("05", scaleArg("vitRecipe", scale));
  return { ...s.vit, epochs: s.epochs };
}

/** LoRA targets in the ViT: the query and value projections of every block (Hu et al. 2021). */
export const VIT_LORA_TARGETS = /^block\d+_(q|v)$/;

/** The tiny ViT trained on task A (see SourceModel). */
export type PretrainedViT = SourceModel;

export interface PretrainViTArgs {
  scale?: Scale;
  seed?: number;
  /** Tasks whose source.train the ViT learns (default sourceTasks({scale, seed})). */
  tasks?: TransferTasks;
  retrain?: boolean;
  /** fit's live progress label (default "tiny ViT on task A"). */
  progress?: string | false;
  log?: ((message: string) => void) | false;
}

/** The tiny ViT trained on task A: from the artifact cache, or trained (and cached) now. */
export async function getPretrainedViT(args: PretrainViTArgs = {}): Promise<PretrainedViT> {
  const scale = scaleArg("getPretrainedViT", args.scale);
  const seed = args.seed ?? 0;
  const tasks = args.tasks ?? sourceTasks({ scale, seed });
  const recipe = vitRecipe(scale);
  return pretrainOnTaskA({
    name: "tiny-vit",
    build: () => buildViT({ ...recipe.model, numClasses: tasks.source.train.numClasses, seed }),
    recipe: { epochs: recipe.epochs, batchSize: recipe.batchSize, learningRate: recipe.learningRate },
    config: { model: recipe.model },
    tasks,
    scale,
    seed,
    progress: args.progress === false ? false : progressLine(args.progress ?? `tiny ViT on task A (seed ${seed})`),
    retrain: args.retrain,
    log: args.log,
  });
}

export type ViTMethod = "head-only" | "freeze-blocks" | "full-ft" | "lora-qv";
export const VIT_METHODS: readonly ViTMethod[] = ["head-only", "freeze-blocks", "full-ft", "lora-qv"];

export interface ViTRunArgs {
  method: ViTMethod;
  /** The pretrained ViT (never modified). */
  source: tf.LayersModel;
  tasks: TransferTasks;
  labelsPerClass: number;
  /** For freeze-blocks: the embeddings and blocks 0..k-1 are frozen. */
  frozenBlocks?: number;
  /** For lora-qv. */
  r?: number;
  alpha?: number;
  /** Rate of the trained layers below the head (LoRA: of the adapters); default 1e-4, LoRA 1e-3. */
  learningRate?: number;
  /** Rate of the head (default 1e-3). */
  headLearningRate?: number;
  seed?: number;
  budget?: Partial<TransferBudget>;
  scale?: Scale;
}

/** A ViT run as a LoraRun row, plus the number of frozen blocks (null when not by blocks). */
export interface ViTRun extends LoraRun {
  frozenBlocks: number | null;
}

/** The table name of a ViT run (core/methods.ts): head-only, freeze-blocks-<k>, full-ft or lora-qv-r<r>. */
export function vitMethodLabel(method: ViTMethod, k?: number, r?: number): string {
  if (method === "freeze-blocks") return methodName({ kind: "freeze-blocks", blocks: k ?? 0 });
  if (method === "lora-qv") return methodName({ kind: "lora", on: "qv", r: r ?? 4 });
  return methodName({ kind: method });
}

/** Checks a run's options before the source is copied, so a rejected run leaves no tensors. */
function checkViTRunArgs(args: ViTRunArgs, where: string): void {
  checkOneOf(where, "method", args.method, VIT_METHODS);
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
  checkLabelBudget(where, "labelsPerClass", args.labelsPerClass, args.tasks.target.pool);
  if (args.method === "freeze-blocks") {
    const depth = vitDepth(args.source);
    checkIntInRange(where, "frozenBlocks", args.frozenBlocks, 0, depth, `the ViT has ${depth} blocks`);
  }
  if (args.method === "lora-qv") checkLoraHyper(where, args.r ?? 4, args.alpha ?? DEFAULT_LORA_ALPHA, 0);
  for (const [param, v] of [
    ["learningRate", args.learningRate],
    ["headLearningRate", args.headLearningRate],
  ] as const) {
    if (v !== undefined) checkPositiveFinite(where, param, v);
  }
}

function prepare(args: ViTRunArgs, seed: number): tf.LayersModel {
  switch (args.method) {
    case "lora-qv":
      return applyLora(args.source, {
        r: args.r ?? 4,
        alpha: args.alpha ?? DEFAULT_LORA_ALPHA,
        targets: VIT_LORA_TARGETS,
        trainHead: true,
        seed,
      });
    case "head-only": {
      const m = cloneModel(args.source);
      freeze(m);
      unfreeze(m, [HEAD_LAYER]);
      return m;
    }
    case "freeze-blocks": {
      if (args.frozenBlocks === undefined)
        throw new Error(
          `runViTTransfer: method "freeze-blocks" needs frozenBlocks in [0, ${vitDepth(args.source)}], got undefined`,
        );
      const m = cloneModel(args.source);
      freezeBlocks(m, args.frozenBlocks);
      return m;
    }
    case "full-ft": {
      const m = cloneModel(args.source);
      unfreeze(m);
      return m;
    }
    default:
      throw new Error(
        `runViTTransfer: method must be head-only, freeze-blocks, full-ft or lora-qv, got ${JSON.stringify(args.method)}`,
      );
  }
}

/** One transfer run of the pretrained ViT on k labels per class of task B. */
export async function runViTTransfer(args: ViTRunArgs): Promise<ViTRun> {
  const seed = args.seed ?? 0;
  const scale = scaleArg("runViTTransfer", args.scale);
  checkViTRunArgs(args, "runViTTransfer");
  const train = args.tasks.targetLabels(args.labelsPerClass, seed);
  const model = prepare(args, seed);
  try {
    const headLr = args.headLearningRate ?? DEFAULT_HEAD_LR;
    const lora = args.method === "lora-qv";
    const lr =
      args.method === "head-only" ? headLr : (args.learningRate ?? (lora ? DEFAULT_LORA_LR : DEFAULT_FINE_TUNE_LR));
    const { epochs, batchSize } = transferEpochs(train.n, { ...TRANSFER_BUDGETS[scale], ...args.budget });
    const history = await fit(model, train, {
      epochs,
      batchSize,
      learningRate: lr,
      seed,
      progress: false,
      layerLearningRates: { [HEAD_LAYER]: headLr / lr },
    });
    return {
      method: vitMethodLabel(args.method, args.frozenBlocks, args.r ?? 4),
      labelsPerClass: args.labelsPerClass,
      seed,
      r: lora ? (args.r ?? 4) : null,
      alpha: lora ? (args.alpha ?? DEFAULT_LORA_ALPHA) : null,
      learningRate: lr,
      ...scoreTunedModel(model, args, history),
      frozenBlocks: args.method === "freeze-blocks" ? (args.frozenBlocks ?? null) : null,
    };
  } finally {
    model.dispose();
  }
}

export interface ViTSweepArgs {
  scale?: Scale;
  /** Label draws and training seeds; the ViT is pretrained once, on one split (see `tasks`). */
  seeds?: number[];
  labelsPerClass?: number;
  shift?: ShiftName;
  /** Block counts to freeze (default 0..depth). */
  frozenBlocks?: number[];
  r?: number;
  alpha?: number;
  budget?: Partial<TransferBudget>;
  onRun?: (run: ViTRun) => void;
  /** The split (default sourceTasks({scale, seed: seeds[0], shift})); the ViT must not have seen its tests. */
  tasks?: TransferTasks;
  /** The pretrained ViT to use (default getPretrainedViT on the split's seed). */
  source?: tf.LayersModel;
}

/** Every transfer method on the same pretrained ViT: head-only, freeze-k for each k, full-ft, LoRA q,v. */
export async function runViTSweep(args: ViTSweepArgs = {}): Promise<ViTRun[]> {
  checkCacheWritable(undefined, "runViTSweep"); // the pretrained ViTs are cached: refuse before training
  const where = "runViTSweep";
  // Checked before the ViT is loaded or pretrained.
  const scale = checkSweepCommon(where, args);
  const seeds = args.seeds ?? [0];
  checkLoraHyper(where, args.r ?? 4, args.alpha ?? DEFAULT_LORA_ALPHA, 0);
  (args.frozenBlocks ?? []).forEach((k, i) => checkNonNegativeInt(where, `frozenBlocks[${i}]`, k));
  const tasks = args.tasks ?? sourceTasks({ scale, seed: seeds[0], shift: args.shift ?? "mild" });
  const own = args.source ? null : (await getPretrainedViT({ scale, seed: tasks.seed, tasks, log: false })).model;
  const source = args.source ?? own!;
  const depth = vitDepth(source);
  const runs: ViTRun[] = [];
  const run = async (a: Omit<ViTRunArgs, "source" | "tasks" | "labelsPerClass" | "scale" | "budget">) => {
    const r = await runViTTransfer({
      ...a,
      source,
      tasks,
      labelsPerClass: args.labelsPerClass ?? 5,
      scale,
      budget: args.budget,
    });
    runs.push(r);
    args.onRun?.(r);
  };
  try {
    for (const seed of seeds) {
      await run({ method: "head-only", seed });
      for (const k of args.frozenBlocks ?? Array.from({ length: depth + 1 }, (_, i) => i))
        await run({ method: "freeze-blocks", frozenBlocks: k, seed });
      await run({ method: "full-ft", seed });
      await run({ method: "lora-qv", r: args.r ?? 4, alpha: args.alpha, seed });
    }
  } finally {
    own?.dispose();
  }
  return runs;
}

/** Attention received per patch, as images: for each of the first n examples and each head, the
 * mean over query tokens of the attention paid to key patch j, drawn over that patch's pixels
 * (scaled to [0, 1] per image). maps [n, h, T, T] -> [n·h, S·S] flat images, row-major by example. */
export function attentionReceivedImages(maps: tf.Tensor4D, imageSize = 28, patchSize = 7): Float32Array {
  checkShape("attentionReceivedImages", "maps", maps, [null, null, null, null], ["n", "heads", "T", "T"]);
  checkPositiveInt("attentionReceivedImages", "imageSize", imageSize);
  checkPositiveInt("attentionReceivedImages", "patchSize", patchSize);
  const [n, h, t] = maps.shape;
  const g = imageSize / patchSize;
  if (g * g !== t)
    throw new Error(
      `attentionReceivedImages: ${t} tokens do not make a ${g}×${g} grid of ${patchSize}-pixel patches of a ${imageSize}-pixel image`,
    );
  const received = tf.tidy(() => maps.mean(2)); // [n, h, T]: average over queries
  const v = received.dataSync();
  received.dispose();
  const out = new Float32Array(n * h * imageSize * imageSize);
  for (let i = 0; i < n * h; i++) {
    const row = v.subarray(i * t, (i + 1) * t);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of row) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    for (let py = 0; py < imageSize; py++) {
      for (let px = 0; px < imageSize; px++) {
        const token = Math.floor(py / patchSize) * g + Math.floor(px / patchSize);
        out[i * imageSize * imageSize + py * imageSize + px] = hi > lo ? (row[token] - lo) / (hi - lo) : 0;
      }
    }
  }
  return out;
}

/** One heatmap per head of one example's attention (rows: query patch, columns: key patch). */
export function attentionHeatmaps(model: tf.LayersModel, x: tf.Tensor2D, block: number, example = 0): PlotSpec {
  checkIntInRange("attentionHeatmaps", "example", example, 0, (x?.shape?.[0] ?? 1) - 1, "an index into the batch x");
  const maps = attentionMaps(model, x, block); // [n, h, T, T]
  const heads = (maps.arraySync() as number[][][][])[example];
  maps.dispose();
  const panels = heads.map((z, i) =>
    heatmap({
      z,
      title: `head ${i}`,
      xTitle: "key patch",
      yTitle: "query patch",
      annotate: false,
      colorscale: "Viridis",
    }),
  );
  return multiPanel({
    panels,
    cols: Math.min(4, panels.length),
    title: `Block ${block} attention (rows sum to 1), example ${example}`,
  });
}
