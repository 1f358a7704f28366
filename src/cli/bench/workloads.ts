// The benchmark workloads W1-W5 (sizes, FLOP formulas, synthetic data) and a raw tfjs
// implementation of W1-W3: tf.Variables, the same matmul/bias/activation ops tfjs-layers' Dense
// uses, tf.variableGrads + Adam — no tfjs-layers and no library code in the timed loop. W4 is the
// library's own tiny ViT (models/transformer.ts buildViT) in the same raw loop, the model being
// what it measures; W5 is lesson 06's tiny BERT pretrained by masked-LM (bench/mlm.ts runs it);
// torch_bench.py has twins of both.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../data/types";
import { rng, shuffledIndices, subSeed } from "../../core/random";
import { buildBert } from "../../models/bert";
import { buildViT } from "../../models/transformer";

export type WorkloadName = "W1" | "W2" | "W3" | "W4" | "W5";
export const WORKLOAD_NAMES: readonly WorkloadName[] = ["W1", "W2", "W3", "W4", "W5"];
export type Activation = "sigmoid" | "relu" | "softmax";

/** The tiny ViT of a workload: buildViT's arguments (all given, so torch_bench.py gets the same). */
export interface ViTShape {
  imageSize: number;
  patchSize: number;
  width: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  numClasses: number;
}

/** The tiny BERT of a masked-LM workload: buildBert's arguments (all given, so torch_bench.py gets the
 * same) and the fraction of tokens masked (lesson 06: 15 %). */
export interface BertBenchShape {
  vocabSize: number;
  seqLength: number;
  width: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  maskRate: number;
}

export interface WorkloadSpec {
  name: WorkloadName;
  /** One line for the table. */
  title: string;
  kind: "train" | "forward";
  /** Layer widths, input first: [784, 256, 784] is two Dense layers. For the ViT (W4): its input
   * and output widths only (the model is `vit`). */
  widths: number[];
  /** Activation after each Dense layer (length widths.length - 1). */
  activations: Activation[];
  /** mse: reconstruct the input (autoencoder); crossentropy: softmax outputs vs one-hot labels;
   * mlm: masked-LM cross-entropy at the masked positions (W5). */
  loss: "mse" | "crossentropy" | "mlm";
  samples: number;
  /** Training epochs (train) or passes over the samples (forward). */
  epochs: number;
  batchSize: number;
  /** W4: the model is this tiny ViT (widths, activations: its input, output and softmax head). */
  vit?: ViTShape;
  /** W5: the model is this tiny BERT; samples are token windows (widths: [seqLength, vocabSize]). */
  bert?: BertBenchShape;
}

/** The ViT of lesson 05 (default and full scale): 16 patches of 7×7, d 64, 4 blocks, 4 heads. */
export const BENCH_VIT: ViTShape = {
  imageSize: 28,
  patchSize: 7,
  width: 64,
  depth: 4,
  numHeads: 4,
  mlpRatio: 2,
  numClasses: 10,
};

/** The tiny BERT of lesson 06 at `full` scale, the size of the PyTorch prototype its pretraining was
 * planned on: 64-token windows, a 5,000-word vocabulary, d 64, 4 blocks, 4 heads, 15 % masked. */
export const BENCH_BERT: BertBenchShape = {
  vocabSize: 5000,
  seqLength: 64,
  width: 64,
  depth: 4,
  numHeads: 4,
  mlpRatio: 2,
  maskRate: 0.15,
};
/** Masked-LM batch of lesson 06 (windows per step). */
export const BENCH_MLM_BATCH = 64;

export const DEFAULT_SAMPLES = 4096;
export const DEFAULT_TRAIN_BATCH = 128;
export const DEFAULT_FORWARD_BATCH = 512;
export const DEFAULT_TRAIN_EPOCHS = 3;
export const DEFAULT_FORWARD_PASSES = 10;
export const BENCH_LEARNING_RATE = 1e-3;

export const WORKLOADS: Record<WorkloadName, WorkloadSpec> = {
  W1: {
    name: "W1",
    title: "autoencoder 784-256-784 sigmoid, MSE, Adam (train)",
    kind: "train",
    widths: [784, 256, 784],
    activations: ["sigmoid", "sigmoid"],
    loss: "mse",
    samples: DEFAULT_SAMPLES,
    epochs: DEFAULT_TRAIN_EPOCHS,
    batchSize: DEFAULT_TRAIN_BATCH,
  },
  W2: {
    name: "W2",
    title: "MLP 784-256-128-10, cross-entropy, Adam (train)",
    kind: "train",
    widths: [784, 256, 128, 10],
    activations: ["relu", "relu", "softmax"],
    loss: "crossentropy",
    samples: DEFAULT_SAMPLES,
    epochs: DEFAULT_TRAIN_EPOCHS,
    batchSize: DEFAULT_TRAIN_BATCH,
  },
  W3: {
    name: "W3",
    title: "W2 forward, batch 512, 10 passes",
    kind: "forward",
    widths: [784, 256, 128, 10],
    activations: ["relu", "relu", "softmax"],
    loss: "crossentropy",
    samples: DEFAULT_SAMPLES,
    epochs: DEFAULT_FORWARD_PASSES,
    batchSize: DEFAULT_FORWARD_BATCH,
  },
  W4: {
    name: "W4",
    title: "tiny ViT 16 patches 7×7, d 64, 4 blocks, 4 heads, MLP 2d, Adam (train, one epoch)",
    kind: "train",
    widths: [784, 10],
    activations: ["softmax"],
    loss: "crossentropy",
    samples: 2048,
    epochs: 1,
    batchSize: DEFAULT_TRAIN_BATCH,
    vit: BENCH_VIT,
  },
  W5: {
    name: "W5",
    title:
      "tiny BERT masked-LM, 64 tokens, vocabulary 5,000, d 64, 4 blocks, 4 heads, 15 % masked, Adam (train, one epoch)",
    kind: "train",
    widths: [BENCH_BERT.seqLength, BENCH_BERT.vocabSize],
    activations: ["softmax"],
    loss: "mlm",
    samples: 2048,
    epochs: 1,
    batchSize: BENCH_MLM_BATCH,
    bert: BENCH_BERT,
  },
};

/** The FLOP formulas the table states. */
export const FLOP_FORMULA =
  "train = 3 × 2·Σ(in·out) per sample per epoch (forward matmul + the 2 backward matmuls); " +
  "forward = 2·Σ(in·out) per sample per pass; W4 counts its Dense layers and attention's q·kᵀ and p·v alike; " +
  "W5 (a sample = a window) likewise, plus the tied output h·Eᵀ at the expected masked positions; " +
  "biases, norms, activations, loss and Adam not counted";

/** A workload shrunk for `--quick` (test suite): same layers (the ViT: one block), few samples,
 * one epoch/pass. */
export function quickSpec(spec: WorkloadSpec): WorkloadSpec {
  return {
    ...spec,
    samples: 128,
    epochs: 1,
    batchSize: 64,
    ...(spec.vit ? { vit: { ...spec.vit, depth: 1 } } : {}),
    ...(spec.bert ? { bert: { ...spec.bert, depth: 1, vocabSize: 200, seqLength: 16 } } : {}),
  };
}

/** Multiply-accumulates per sample of one ViT forward pass: patch embedding, per block q, k, v, o,
 * the MLP and attention's q·kᵀ and p·v, and the head. */
export function vitMacsPerSample(v: ViTShape): number {
  const t = (v.imageSize / v.patchSize) ** 2;
  const d = v.width;
  const hidden = Math.round(v.mlpRatio * d);
  const block = 4 * t * d * d + 2 * t * d * hidden + 2 * t * t * d;
  return t * v.patchSize * v.patchSize * d + v.depth * block + d * v.numClasses;
}

/** Multiply-accumulates per window of one masked-LM forward pass: per block q, k, v, o, the MLP and
 * attention's q·kᵀ and p·v over all T tokens, and the tied output h·Eᵀ at the masked positions
 * (expected count: maskRate of the T − 1 tokens after [CLS]). The embeddings are lookups (no MACs). */
export function bertMlmMacsPerSample(b: BertBenchShape): number {
  const t = b.seqLength;
  const d = b.width;
  const hidden = Math.max(1, Math.round(b.mlpRatio * d));
  const block = 4 * t * d * d + 2 * t * d * hidden + 2 * t * t * d;
  return b.depth * block + b.maskRate * (t - 1) * d * b.vocabSize;
}

/** The tiny BERT of a W5 spec (buildBert, seeded). */
export function buildBenchBert(b: BertBenchShape, seed = 0): tf.LayersModel {
  const { maskRate: _rate, ...shape } = b;
  return buildBert({ ...shape, seed });
}

/** Masked-LM parameters: what pretraining trains, every weight of the tiny BERT but the
 * classification head (pool_norm holds no trainable weight). torch_bench.py's twin must match. */
export function bertMlmParamCount(b: BertBenchShape): number {
  const m = buildBenchBert(b);
  const n = m.layers
    .filter((l) => l.name !== "head")
    .flatMap((l) => l.trainableWeights)
    .reduce((s, w) => s + w.shape.reduce((p: number, k) => p * (k ?? 1), 1), 0);
  m.dispose();
  return n;
}

/** The tiny ViT of a W4 spec (glorot initialisation seeded by `seed`). */
export function buildBenchViT(v: ViTShape, seed = 0): tf.LayersModel {
  return buildViT({ ...v, seed });
}

/** Parameters of the workload's ViT as buildViT makes it (torch_bench.py's twin must match). */
export function vitParamCount(v: ViTShape): number {
  const m = buildBenchViT(v);
  const n = m.countParams();
  m.dispose();
  return n;
}

/** Multiply-accumulates per sample of one forward pass: Σ(in·out) over the Dense layers. */
export function macsPerSample(widths: number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < widths.length; i++) s += widths[i] * widths[i + 1];
  return s;
}

/** Steps (batches) the whole workload takes. */
export function workloadSteps(spec: WorkloadSpec): number {
  return spec.epochs * Math.ceil(spec.samples / spec.batchSize);
}

/** FLOPs of `steps` steps of the workload (full batches; the formula in FLOP_FORMULA). */
export function workloadFlops(spec: WorkloadSpec, steps = workloadSteps(spec)): number {
  const perStepSamples = (spec.samples * spec.epochs) / workloadSteps(spec);
  const macs = spec.vit
    ? vitMacsPerSample(spec.vit)
    : spec.bert
      ? bertMlmMacsPerSample(spec.bert)
      : macsPerSample(spec.widths);
  const perSample = (spec.kind === "train" ? 3 : 1) * 2 * macs;
  return perSample * perStepSamples * steps;
}

/** Seeded synthetic images in [0, 1) and labels in 0..9 (speed does not depend on the values). */
export function syntheticDataset(n: number, dim: number, seed = 0, numClasses = 10): Dataset {
  const r = rng(`bench:${seed}`);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = r();
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(r() * numClasses);
  return { x, y, n, dim, numClasses, name: `synthetic(${n}x${dim}, seed ${seed})` };
}

/** Something that runs steps of a workload: `run` enqueues them, `finish` waits for the device. */
export interface StepRunner {
  run(steps: number): void;
  /** Waits until all enqueued work is done; returns the last loss (train) if any. */
  finish(): Promise<number | undefined>;
  dispose(): void;
}

/** A training runner over the workload's samples in a seeded per-epoch order (as fit): `step`
 * trains on rows order[from .. from + rows) and returns the loss (a scalar it owns); the runner
 * keeps the last loss for `finish` and calls `cleanup` on dispose. */
export function orderedTrainRunner(
  spec: WorkloadSpec,
  seed: number,
  step: (order: Int32Array, from: number, rows: number) => tf.Scalar,
  cleanup: () => void,
): StepRunner {
  const perEpoch = Math.ceil(spec.samples / spec.batchSize);
  let done = 0;
  let order = new Int32Array(0);
  let last: tf.Scalar | null = null;
  return {
    run(steps: number) {
      for (let k = 0; k < steps; k++, done++) {
        const inEpoch = done % perEpoch;
        if (inEpoch === 0) order = shuffledIndices(spec.samples, subSeed(seed, `epoch${Math.floor(done / perEpoch)}`));
        const from = inEpoch * spec.batchSize;
        const loss = step(order, from, Math.min(spec.samples, from + spec.batchSize) - from);
        last?.dispose();
        last = loss;
      }
    },
    async finish() {
      return last ? (await last.data())[0] : undefined;
    },
    dispose() {
      last?.dispose();
      cleanup();
    },
  };
}

let rawNets = 0;

/** A stack of Dense layers held as plain tf.Variables: [W0, b0, W1, b1, ...]. */
export interface RawNet {
  vars: tf.Variable[];
  /** [b, widths[0]] -> [b, widths[last]], inside the caller's tidy. */
  forward(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/** The raw-loop view of a layers model: its trainable variables and model.apply as the forward
 * pass (training mode); dispose() disposes the model when `owned`. */
export function layersNet(model: tf.LayersModel, owned = false): RawNet {
  return {
    // LayerVariable.read() returns the backing tf.Variable (typed as Tensor by tfjs-layers).
    vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
    forward: (x) => model.apply(x, { training: true }) as tf.Tensor2D,
    dispose: () => {
      if (owned) model.dispose();
    },
  };
}

/** Builds the raw net with Glorot-uniform kernels (seeded) and zero biases, or from `init`
 * tensors in [W0, b0, W1, b1, ...] order (copied). W4: the ViT through layersNet (no `init`). */
export function buildRawNet(spec: WorkloadSpec, seed = 0, init?: tf.Tensor[]): RawNet {
  if (spec.bert) throw new Error(`buildRawNet: ${spec.name} is a masked-LM workload; bench/mlm.ts runs it`);
  if (spec.vit) {
    if (init) throw new Error(`buildRawNet: ${spec.name} is a ViT; init weights apply to the Dense stacks only`);
    return layersNet(buildBenchViT(spec.vit, seed), true);
  }
  const vars: tf.Variable[] = [];
  const tag = ++rawNets; // variable names must be unique per engine
  for (let i = 0; i + 1 < spec.widths.length; i++) {
    const [a, b] = [spec.widths[i], spec.widths[i + 1]];
    const limit = Math.sqrt(6 / (a + b));
    // tidy disposes the initial-value temporaries; variables survive it.
    vars.push(
      tf.tidy(() =>
        tf.variable(
          init ? init[2 * i].clone() : tf.randomUniform([a, b], -limit, limit, "float32", seed + i),
          true,
          `raw${tag}_w${i}_${a}x${b}`,
        ),
      ),
    );
    vars.push(tf.tidy(() => tf.variable(init ? init[2 * i + 1].clone() : tf.zeros([b]), true, `raw${tag}_b${i}_${b}`)));
  }
  return {
    vars,
    forward(x: tf.Tensor2D): tf.Tensor2D {
      let h = x;
      spec.activations.forEach((act, i) => {
        const w = vars[2 * i] as tf.Tensor2D;
        const bias = vars[2 * i + 1];
        if (act === "relu") {
          // What tfjs-layers' Dense does for fusable activations: [b, in] x [in, out] + bias -> relu
          h = tf.fused.matMul({ a: h, b: w, bias, activation: "relu" }) as tf.Tensor2D;
        } else {
          // Non-fusable activations: matMul, then bias, then the activation (as Dense does).
          const z = tf.add(tf.matMul(h, w), bias) as tf.Tensor2D; // [b, out]
          h = act === "sigmoid" ? tf.sigmoid(z) : (tf.softmax(z) as tf.Tensor2D);
        }
      });
      return h;
    },
    dispose() {
      vars.forEach((v) => v.dispose());
    },
  };
}

/** The loss fit() uses for the same workload: MSE vs the input, or mean categorical
 * cross-entropy of softmax outputs vs one-hot targets. */
export function rawLoss(spec: WorkloadSpec, pred: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return spec.loss === "mse"
    ? (tf.losses.meanSquaredError(target, pred) as tf.Scalar)
    : (tf.metrics.categoricalCrossentropy(target, pred).mean() as tf.Scalar);
}
