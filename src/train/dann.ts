// The DANN training loop (Ganin et al. 2016): every step takes a batch of labeled source images, a
// batch of unlabeled target images and, when there are any, a batch of labeled target images, and
// minimises  L = CE(source labels) [+ CE(target labels)] + BCE(domain)  over every weight. The
// gradient-reversal layer (adapt/dann.ts) turns the domain loss's gradient into the features around:
// the domain classifier learns to tell the domains apart, the features learn to hide the difference.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { shuffledIndices, subSeed } from "../core/random";
import { checkDataset, checkModelTakes } from "../data/check";
import { gatherRows } from "../data/batches";
import {
  argError,
  checkFinite,
  checkNonNegativeInt,
  checkPositiveFinite,
  checkPositiveInt,
  show,
} from "../core/validate";
import type { DannModel } from "../adapt/dann";

export interface TrainDannArgs {
  /** Labeled source images (task A). */
  source: Dataset;
  /** Target images; their labels are never read. */
  target: Dataset;
  /** Labeled target images (k per class), trained on with the source labels; none by default. */
  targetLabeled?: Dataset;
  /** Optimizer steps. */
  steps: number;
  /** Rows of each domain per step (the labeled target batch is at most this). */
  batchSize?: number;
  /** Adam's rate of the classifier (features and head). */
  learningRate?: number;
  /** Adam's rate of the domain classifier (default 10 × learningRate: a choice of this course, so
   * that the freshly initialised domain classifier keeps up with pretrained features it is asked to
   * separate; Ganin et al.'s 10× is for newly added layers against a pretrained backbone, not an
   * adversary-specific rule). */
  domainLearningRate?: number;
  /** Largest weight λ of the reversed gradient; 0 = no adversary (the same loop, the baseline). */
  lambda: number;
  /** "ramp" (Ganin et al.): λ_p = λ (2 / (1 + e^{−10p}) − 1), p = step / steps, so the noisy early
   * domain gradient is damped; "constant": λ every step. */
  schedule?: "ramp" | "constant";
  seed?: number;
}

export interface DannHistory {
  /** Mean class loss and domain loss over each block of steps (read back every `every` steps). */
  classLoss: number[];
  domainLoss: number[];
  steps: number;
  seconds: number;
}

export const DEFAULT_DANN_BATCH = 32;
export const DEFAULT_DANN_LR = 3e-4;
const LOG_EVERY = 25;

/** An endless stream of seeded batches of row indices of an n-row set (a new shuffle per pass). */
function batches(n: number, size: number, seed: string): () => Int32Array {
  let pass = 0;
  let order = shuffledIndices(n, `${seed}:0`);
  let at = 0;
  return () => {
    if (at + size > n) {
      pass++;
      order = shuffledIndices(n, `${seed}:${pass}`);
      at = 0;
    }
    const b = order.subarray(at, Math.min(n, at + size));
    at += size;
    return b;
  };
}

/** Trains a DANN model in place (every weight, classifier and domain head). Leaves no tensors behind. */
export async function trainDann(dann: DannModel, args: TrainDannArgs): Promise<DannHistory> {
  const where = "trainDann";
  if (typeof args !== "object" || args === null)
    throw argError(where, "args", "{ source, target, steps, lambda, ... }", show(args));
  checkDataset(where, "source", args.source);
  checkDataset(where, "target", args.target);
  checkModelTakes(where, "source", dann.model, args.source);
  checkModelTakes(where, "target", dann.model, args.target);
  if (args.targetLabeled !== undefined) {
    checkDataset(where, "targetLabeled", args.targetLabeled);
    checkModelTakes(where, "targetLabeled", dann.model, args.targetLabeled);
    if (args.targetLabeled.numClasses !== args.source.numClasses)
      throw argError(
        where,
        "targetLabeled.numClasses",
        `the source's ${args.source.numClasses} (DANN shares the classifier)`,
        show(args.targetLabeled.numClasses),
      );
  }
  checkNonNegativeInt(where, "steps", args.steps);
  checkFinite(where, "lambda", args.lambda);
  if (args.lambda < 0) throw argError(where, "lambda", "a number >= 0 (0 = no adversary)", show(args.lambda));
  const batchSize = args.batchSize ?? DEFAULT_DANN_BATCH;
  checkPositiveInt(where, "batchSize", batchSize);
  const learningRate = args.learningRate ?? DEFAULT_DANN_LR;
  checkPositiveFinite(where, "learningRate", learningRate);
  const domainLearningRate = args.domainLearningRate ?? 10 * learningRate;
  checkPositiveFinite(where, "domainLearningRate", domainLearningRate);
  const schedule = args.schedule ?? "ramp";
  if (schedule !== "ramp" && schedule !== "constant")
    throw argError(where, "schedule", 'one of "ramp", "constant"', show(schedule));
  const seed = args.seed ?? 0;
  checkFinite(where, "seed", seed);

  const classes = args.source.numClasses;
  const nextS = batches(args.source.n, Math.min(batchSize, args.source.n), subSeed(seed, "dann:source"));
  const nextT = batches(args.target.n, Math.min(batchSize, args.target.n), subSeed(seed, "dann:target"));
  const lab = args.targetLabeled;
  const nextL = lab ? batches(lab.n, Math.min(batchSize, lab.n), subSeed(seed, "dann:labeled")) : null;
  const optimizer = tf.train.adam(learningRate);
  const domainOptimizer = tf.train.adam(domainLearningRate);
  const domainNames = new Set(dann.domainLayers);
  const weightsOf = (domain: boolean) =>
    dann.model.layers
      .filter((l) => domainNames.has(l.name) === domain)
      .flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const vars = weightsOf(false);
  const domainVars = weightsOf(true);
  const history: DannHistory = { classLoss: [], domainLoss: [], steps: 0, seconds: 0 };
  const t0 = performance.now();
  let sums: tf.Tensor[] = [];
  const flush = () => {
    if (sums.length === 0) return;
    const mean = tf.tidy(() => tf.stack(sums).mean(0)); // [2]: class, domain
    const v = mean.dataSync();
    mean.dispose();
    history.classLoss.push(v[0]);
    history.domainLoss.push(v[1]);
    tf.dispose(sums);
    sums = [];
  };
  try {
    for (let step = 0; step < args.steps; step++) {
      const p = args.steps > 1 ? step / (args.steps - 1) : 1;
      dann.reversal.lambda = schedule === "ramp" ? args.lambda * (2 / (1 + Math.exp(-10 * p)) - 1) : args.lambda;
      const s = gatherRows(args.source, nextS());
      const t = gatherRows(args.target, nextT());
      const l = lab && nextL ? gatherRows(lab, nextL()) : null;
      const nS = s.y.length;
      const nT = t.y.length;
      const nL = l ? l.y.length : 0;
      const dim = args.source.dim;
      const losses = tf.tidy(() => {
        const parts = [tf.tensor2d(s.x, [nS, dim]), tf.tensor2d(t.x, [nT, dim])];
        if (l) parts.push(tf.tensor2d(l.x, [nL, dim]));
        const x = tf.concat(parts, 0); // [nS + nT + nL, dim]: source, target, labeled target
        const labels = l ? Int32Array.from([...s.y, ...l.y]) : s.y;
        const yClass = tf.oneHot(tf.tensor1d(labels, "int32"), classes).toFloat(); // [nS + nL, classes]
        const yDomain = tf.concat([tf.zeros([nS, 1]), tf.ones([nT + nL, 1])], 0); // [n, 1]: 1 = target
        let pair: tf.Tensor[] = [];
        // One backward pass for both groups, then each group's Adam step with its own rate.
        const { value, grads } = tf.variableGrads(() => {
          const [p, d] = dann.model.apply(x, { training: true }) as tf.Tensor[]; // [n, classes], [n, 1]
          // Rows with labels: the source batch and the labeled target batch (the unlabeled target never).
          const pLabeled = l
            ? tf.concat([p.slice([0, 0], [nS, -1]), p.slice([nS + nT, 0], [nL, -1])], 0)
            : p.slice([0, 0], [nS, -1]);
          const classLoss = tf.metrics.categoricalCrossentropy(yClass, pLabeled).mean();
          const domainLoss = tf.metrics.binaryCrossentropy(yDomain, d).mean();
          pair = [tf.keep(classLoss), tf.keep(domainLoss)];
          return classLoss.add(domainLoss) as tf.Scalar;
        }, [...vars, ...domainVars]);
        const pick = (vs: tf.Variable[]) => vs.map((v) => ({ name: v.name, tensor: grads[v.name] }));
        optimizer.applyGradients(pick(vars));
        domainOptimizer.applyGradients(pick(domainVars));
        value.dispose();
        const both = tf.stack(pair); // [2]
        tf.dispose(pair);
        return both;
      });
      sums.push(losses);
      if ((step + 1) % LOG_EVERY === 0) flush();
      history.steps++;
      if (step % 50 === 49) await tf.nextFrame();
    }
    flush();
  } finally {
    tf.dispose(sums);
    optimizer.dispose();
    domainOptimizer.dispose();
  }
  history.seconds = (performance.now() - t0) / 1000;
  return history;
}
