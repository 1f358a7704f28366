// The cost of freezing, measured on the tiny ViT (lesson 05): for every frozen depth k (the embeddings
// and blocks 0..k-1 frozen), full fine-tuning and LoRA on q and v, one training step counted (matrix-
// product FLOPs, forward and backward) and measured (time split into forward, backward and update;
// tensor memory of weights, gradients, Adam's state and the activations a step holds), each beside the
// analytic bound 3 / (1 + 2f) and the ratio of trainable parameters. Plus LoRA's inference latency
// with the adapters merged into the weights and unmerged.
import * as tf from "@tensorflow/tfjs";
import { freezeBlocks, unfreeze } from "../adapt/freezing";
import { applyLora, mergeLora } from "../adapt/lora/inject";
import { DEFAULT_LORA_ALPHA } from "../adapt/lora/layer";
import { cloneModel } from "../models/surgery";
import { vitDepth } from "../models/transformer";
import type { Dataset } from "../data/types";
import {
  freezeFlopBound,
  inferenceMs,
  measureTrainingStep,
  trainingStepFlops,
  type StepCost,
  type StepFlops,
} from "../evaluate/cost";
import { checkDataset } from "../data/check";
import { checkIntInRange, checkPositiveInt } from "../core/validate";
import { DEFAULT_VIT_LORA_R, VIT_LORA_TARGETS } from "./vit";

/** One configuration's step: counted and measured, and its ratios to full fine-tuning. */
export interface FreezeCostRow {
  /** "full-ft", "freeze-k" or "lora-qv r=<r>". */
  config: string;
  /** Frozen blocks (null for full-ft and LoRA). */
  frozenBlocks: number | null;
  /** Share of the blocks that train (f of the bound; LoRA: null). */
  trainableBlockFraction: number | null;
  flops: StepFlops;
  measured: StepCost;
  /** Full fine-tuning's FLOPs / this configuration's (counted). */
  flopRatio: number;
  /** 3 / (1 + 2f) for f = trainableBlockFraction (null for LoRA). */
  bound: number | null;
  /** Full fine-tuning's measured step time / this one's. */
  timeRatio: number;
  /** Full fine-tuning's gradient + optimizer bytes / this one's (measured). */
  trainStateRatio: number;
  /** 1 − this configuration's gradient bytes / full fine-tuning's (measured). */
  gradientMemorySaved: number;
}

export interface FreezeCostArgs {
  /** The pretrained ViT (never modified: each configuration trains a copy). */
  source: tf.LayersModel;
  /** Images a step trains on (the first batchSize rows). */
  data: Dataset;
  batchSize?: number;
  /** Frozen depths measured (default 0..depth). */
  frozenBlocks?: number[];
  /** Rank of the LoRA row (default DEFAULT_VIT_LORA_R; 0: no LoRA row). */
  loraR?: number;
  /** Timed steps per configuration (after one untimed step). */
  steps?: number;
}

export interface FreezeCost {
  rows: FreezeCostRow[];
  /** LoRA's inference latency (ms per batch) unmerged and merged, and the batch size; null without LoRA. */
  loraInference: { unmergedMs: number; mergedMs: number; batchSize: number } | null;
}

/** Counts and measures one training step per configuration (see the file comment). */
export async function measureFreezingCost(args: FreezeCostArgs): Promise<FreezeCost> {
  const where = "measureFreezingCost";
  checkDataset(where, "data", args.data);
  const depth = vitDepth(args.source);
  const batchSize = args.batchSize ?? 32;
  checkPositiveInt(where, "batchSize", batchSize);
  if (batchSize > args.data.n)
    throw new Error(`${where}: batchSize ${batchSize} is larger than data's ${args.data.n} rows`);
  const ks = args.frozenBlocks ?? Array.from({ length: depth + 1 }, (_, k) => k);
  ks.forEach((k, i) => checkIntInRange(where, `frozenBlocks[${i}]`, k, 0, depth, `the ViT has ${depth} blocks`));
  const loraR = args.loraR ?? DEFAULT_VIT_LORA_R;
  checkIntInRange(where, "loraR", loraR, 0, 1 << 16);
  const steps = args.steps ?? 5;
  checkPositiveInt(where, "steps", steps);
  const x = tf.tensor2d(args.data.x.subarray(0, batchSize * args.data.dim), [batchSize, args.data.dim]);
  const labels = Int32Array.from(args.data.y.subarray(0, batchSize));
  const step = { x, labels, numClasses: args.data.numClasses, steps, warmup: 1 };
  const measureCopy = async (prepare: (m: tf.LayersModel) => tf.LayersModel) => {
    const copy = cloneModel(args.source);
    let m: tf.LayersModel | null = null;
    try {
      m = prepare(copy);
      return { flops: trainingStepFlops(m), measured: await measureTrainingStep(m, step) };
    } finally {
      if (m !== null && m !== copy) m.dispose();
      copy.dispose();
    }
  };
  try {
    const configs: { config: string; frozenBlocks: number | null; prepare: (m: tf.LayersModel) => tf.LayersModel }[] = [
      {
        config: "full-ft",
        frozenBlocks: null,
        prepare: (m) => {
          unfreeze(m);
          return m;
        },
      },
      ...ks.map((k) => ({
        config: `freeze-${k}`,
        frozenBlocks: k,
        prepare: (m: tf.LayersModel) => {
          freezeBlocks(m, k);
          return m;
        },
      })),
    ];
    if (loraR > 0)
      configs.push({
        config: `lora-qv r=${loraR}`,
        frozenBlocks: null,
        prepare: (m) =>
          applyLora(m, { r: loraR, alpha: DEFAULT_LORA_ALPHA, targets: VIT_LORA_TARGETS, trainHead: true, seed: 0 }),
      });
    const measuredRows: { config: string; frozenBlocks: number | null; flops: StepFlops; measured: StepCost }[] = [];
    for (const c of configs)
      measuredRows.push({ config: c.config, frozenBlocks: c.frozenBlocks, ...(await measureCopy(c.prepare)) });
    const full = measuredRows[0];
    const state = (m: StepCost) => m.gradientBytes + m.optimizerBytes;
    const rows: FreezeCostRow[] = measuredRows.map((r) => {
      const f = r.frozenBlocks === null ? (r.config === "full-ft" ? 1 : null) : (depth - r.frozenBlocks) / depth;
      return {
        ...r,
        trainableBlockFraction: f,
        flopRatio: full.flops.total / r.flops.total,
        bound: f === null ? null : freezeFlopBound(f),
        timeRatio: full.measured.stepMs / r.measured.stepMs,
        trainStateRatio: state(full.measured) / state(r.measured),
        gradientMemorySaved: 1 - r.measured.gradientBytes / full.measured.gradientBytes,
      };
    });
    let loraInference: FreezeCost["loraInference"] = null;
    if (loraR > 0) {
      const lora = applyLora(args.source, {
        r: loraR,
        alpha: DEFAULT_LORA_ALPHA,
        targets: VIT_LORA_TARGETS,
        trainHead: true,
        seed: 0,
      });
      const merged = mergeLora(lora);
      try {
        loraInference = { unmergedMs: inferenceMs(lora, x, steps), mergedMs: inferenceMs(merged, x, steps), batchSize };
      } finally {
        merged.dispose();
        lora.dispose();
      }
    }
    return { rows, loraInference };
  } finally {
    x.dispose();
  }
}
