// The lessons' own hot paths, timed through the library exactly as the lessons call it: a greedy
// pretraining stage epoch (tied denoising autoencoder), frozen-base vs full fine-tune epochs,
// LoRA vs full epochs, a tiny-ViT epoch. Each module is loaded on demand; a missing or failing
// one is reported as skipped with the reason instead of stopping the bench.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../data/types";
import { fit } from "../../train/fit";
import { median, timed } from "./measure";
import { layersModel } from "./fitcompare";
import { modelMatmulCosts, trainFlopsPerSample } from "./flops";
import { WORKLOADS } from "./workloads";

export const DEFAULT_HOT_SAMPLES = 2048;
export const DEFAULT_HOT_BATCH = 128;
/** An epoch estimated (from two warm-up batches) to take longer than this uses fewer samples. */
export const DEFAULT_HOT_MAX_EPOCH_SECONDS = 8;

export interface HotPathArgs {
  runs: number;
  /** Samples per timed epoch (fewer when the backend is too slow; see maxEpochSeconds). */
  samples?: number;
  batchSize?: number;
  maxEpochSeconds?: number;
  /** Test-suite mode: smaller models where a path allows it. */
  quick?: boolean;
}

/** One timed training epoch of one model configuration. */
export interface EpochTiming {
  label: string;
  samples: number;
  /** Median wall seconds of one epoch over `samples`. */
  seconds: number;
  cpuSeconds: number;
  /** Matmul FLOPs of the epoch (see MATMUL_FLOP_RULE). */
  flops: number;
  gflops: number;
  trainableParams: number;
}

export interface HotPathResult {
  name: string;
  /** Empty when skipped. */
  timings: EpochTiming[];
  /** For paired paths (frozen vs full, LoRA vs full): time ratio and FLOP ratio, first / second. */
  timeRatio?: number;
  flopRatio?: number;
  skipped?: string;
  tensorsBefore: number;
  tensorsAfter: number;
}

type FitArgs = Parameters<typeof fit>[2];

/** Times `args.runs` calls of `train` on the first `samples` rows (after one warm-up call on two
 * batches); `train` returns the parameters it trained. */
async function timeTraining(
  label: string,
  data: Dataset,
  samples: number,
  flops: number,
  args: HotPathArgs,
  train: (d: Dataset) => Promise<number>,
): Promise<EpochTiming> {
  const bs = args.batchSize ?? DEFAULT_HOT_BATCH;
  // Weights move during the runs; speed does not depend on their values.
  await train({ ...data, n: Math.min(samples, 2 * bs) });
  const wall: number[] = [];
  const cpu: number[] = [];
  let trainableParams = 0;
  for (let r = 0; r < args.runs; r++) {
    const t = await timed(() => train({ ...data, n: samples }));
    wall.push(t.wall);
    cpu.push(t.cpu);
    trainableParams = t.value;
  }
  const seconds = median(wall);
  return { label, samples, seconds, cpuSeconds: median(cpu), flops, gflops: flops / seconds / 1e9, trainableParams };
}

/** Times one epoch of `fit` on `model` as configured now (warm-up on two batches first). */
async function timeEpochs(
  label: string,
  model: tf.LayersModel,
  data: Dataset,
  fitArgs: Omit<FitArgs, "epochs">,
  args: HotPathArgs,
  samples: number,
): Promise<EpochTiming> {
  const bs = args.batchSize ?? DEFAULT_HOT_BATCH;
  const flops = trainFlopsPerSample(modelMatmulCosts(model)) * samples;
  return timeTraining(
    label,
    data,
    samples,
    flops,
    args,
    async (d) => (await fit(model, d, { ...fitArgs, epochs: 1, batchSize: bs, progress: false })).trainableParams,
  );
}

/** Samples for a timed epoch: all requested, or as many batches as fit in maxEpochSeconds. */
async function affordableSamples(
  model: tf.LayersModel,
  data: Dataset,
  fitArgs: Omit<FitArgs, "epochs">,
  args: HotPathArgs,
): Promise<number> {
  const bs = args.batchSize ?? DEFAULT_HOT_BATCH;
  const want = Math.min(data.n, args.samples ?? DEFAULT_HOT_SAMPLES);
  const probe: Dataset = { ...data, n: Math.min(want, 2 * bs) };
  await fit(model, probe, { ...fitArgs, epochs: 1, batchSize: bs, progress: false }); // set-up
  const t = await timed(() => fit(model, probe, { ...fitArgs, epochs: 1, batchSize: bs, progress: false }));
  const perSample = t.wall / probe.n;
  const maxSeconds = args.maxEpochSeconds ?? DEFAULT_HOT_MAX_EPOCH_SECONDS;
  if (perSample * want <= maxSeconds) return want;
  return Math.max(probe.n, Math.floor(maxSeconds / perSample / bs) * bs);
}

function pair(a: EpochTiming, b: EpochTiming): { timeRatio: number; flopRatio: number } {
  return { timeRatio: a.seconds / b.seconds, flopRatio: a.flops / b.flops };
}

const CLASSIFIER = WORKLOADS.W2; // 784-256-128-10, ReLU, softmax head
const CE: Omit<FitArgs, "epochs"> = { loss: "crossentropy", optimizer: "adam", learningRate: 1e-3, seed: 0 };

/** The hot paths by name; each returns its timings (and ratios) or throws to be skipped. */
const HOT_PATHS: Record<
  string,
  (data: Dataset, args: HotPathArgs) => Promise<Omit<HotPathResult, "name" | "tensorsBefore" | "tensorsAfter">>
> = {
  // Lesson greedy: stage 1 of pretrainGreedy = a tied 784->256 sigmoid denoising AE trained by fit.
  "greedy stage": async (data, args) => {
    const { buildAutoencoder } = await import("../../models/autoencoder");
    const { trainAutoencoder } = await import("../../train/autoencoder");
    const ae = buildAutoencoder({ inputDim: data.dim, units: 256, activation: "sigmoid", tied: true, seed: 1 });
    try {
      const fitArgs: Omit<FitArgs, "epochs"> = {
        loss: "bce",
        target: "inputs",
        optimizer: "adam",
        learningRate: 1e-3,
        seed: 1,
      };
      // The stage's exact call (masking noise included) for the timed epochs.
      const n = await affordableSamples(ae, data, fitArgs, args);
      const bs = args.batchSize ?? DEFAULT_HOT_BATCH;
      // Tied: encoder x·W and decoder h·Wᵀ share W; count both matmuls as trainable.
      const macs = data.dim * 256;
      const flops = 2 * (macs * 2 + macs * 2 + macs) * n; // fwd 2 matmuls, 2 weight grads, 1 input grad (decoder)
      const timing = await timeTraining("tied AE 784-256, noise 0.25", data, n, flops, args, async (d) => {
        await trainAutoencoder(ae, d, { epochs: 1, noise: 0.25, batchSize: bs, seed: 1, progress: false });
        return ae.countParams();
      });
      return { timings: [timing] };
    } finally {
      ae.dispose();
    }
  },
  // Lesson freezing: freezeRatio(model, 1) (head only, base frozen) vs freezeRatio(model, 0).
  "frozen vs full": async (data, args) => {
    const { freezeRatio } = await import("../../adapt/freezing");
    const model = layersModel(CLASSIFIER, 3);
    try {
      freezeRatio(model, 0);
      const n = await affordableSamples(model, data, CE, args);
      const full = await timeEpochs("784-256-128-10 all layers train", model, data, CE, args, n);
      freezeRatio(model, 1);
      const frozen = await timeEpochs("784-256-128-10 base frozen, head trains", model, data, CE, args, n);
      return { timings: [frozen, full], ...pair(frozen, full) };
    } finally {
      model.dispose();
    }
  },
  // Lesson LoRA: applyLora(r = 4, all Dense but the head, head trains) vs full fine-tune.
  "LoRA vs full": async (data, args) => {
    const { applyLora } = await import("../../adapt/lora/inject");
    const base = layersModel(CLASSIFIER, 4);
    const lora = applyLora(base, { r: 4, targets: "all-dense", trainHead: true });
    try {
      const n = await affordableSamples(base, data, CE, args);
      const full = await timeEpochs("784-256-128-10 all layers train", base, data, CE, args, n);
      const lo = await timeEpochs("LoRA r=4 on both hidden layers + head", lora, data, CE, args, n);
      return { timings: [lo, full], ...pair(lo, full) };
    } finally {
      lora.dispose();
      base.dispose();
    }
  },
  // Lesson transformer: one epoch of the default tiny ViT (16 patches of 7×7, width 64, depth 4).
  "tiny ViT": async (data, args) => {
    const { buildViT } = await import("../../models/transformer");
    // --quick: one block instead of four (the test suite only checks the report's shape).
    const model = buildViT({ seed: 0, depth: args.quick ? 1 : undefined });
    try {
      const n = await affordableSamples(model, data, CE, args);
      return {
        timings: [await timeEpochs(`16 patches 7×7, d=64, depth ${args.quick ? 1 : 4}`, model, data, CE, args, n)],
      };
    } finally {
      model.dispose();
    }
  },
  // Lesson transformer, the cost of freezing: the tiny ViT with its first k blocks frozen (freezeBlocks,
  // k = round(2/3 · depth), BERT's "first 8 of 12") vs full fine-tuning; the ratio's bound is 3 / (1 + 2f).
  "tiny ViT frozen blocks vs full": async (data, args) => {
    const { buildViT } = await import("../../models/transformer");
    const { freezeBlocks, unfreeze } = await import("../../adapt/freezing");
    const depth = args.quick ? 1 : 4;
    const k = Math.round((2 / 3) * depth);
    const model = buildViT({ seed: 0, depth });
    try {
      unfreeze(model);
      const n = await affordableSamples(model, data, CE, args);
      const full = await timeEpochs(`tiny ViT depth ${depth}, all blocks train`, model, data, CE, args, n);
      freezeBlocks(model, k);
      const frozen = await timeEpochs(`tiny ViT depth ${depth}, first ${k} blocks frozen`, model, data, CE, args, n);
      return { timings: [frozen, full], ...pair(frozen, full) };
    } finally {
      model.dispose();
    }
  },
};

export const HOT_PATH_NAMES = Object.keys(HOT_PATHS);

/** Runs every hot path (or those named); failures become `skipped` with the error message. */
export async function runHotPaths(data: Dataset, args: HotPathArgs, only?: string[]): Promise<HotPathResult[]> {
  const out: HotPathResult[] = [];
  for (const name of HOT_PATH_NAMES) {
    if (only && !only.some((o) => name.toLowerCase().includes(o.toLowerCase()))) continue;
    const tensorsBefore = tf.memory().numTensors;
    try {
      const r = await HOT_PATHS[name](data, args);
      out.push({ name, ...r, tensorsBefore, tensorsAfter: tf.memory().numTensors });
    } catch (e) {
      const reason = e instanceof Error ? e.message.split("\n")[0] : String(e);
      out.push({ name, timings: [], skipped: reason, tensorsBefore, tensorsAfter: tf.memory().numTensors });
    }
  }
  return out;
}
