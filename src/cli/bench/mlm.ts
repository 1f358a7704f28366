// W5's runner: lesson 06's masked-LM pretraining step on synthetic token windows — the library's
// own tiny BERT (buildBert), masking (maskTokens: 15 %, 80/10/10) and step (mlmTrainStep: logits at
// the masked positions only, tied to the token embedding, Adam), batches in a seeded per-epoch order.
// Speed does not depend on which words the windows hold, so they are uniform random words.
import * as tf from "@tensorflow/tfjs";
import { rng, subSeed } from "../../core/random";
import { TEXT_CLS, TEXT_SPECIALS, maskTokens } from "../../data/text";
import { bertEncoder } from "../../models/bert";
import { mlmTrainStep, mlmVariables } from "../../experiments/bert";
import {
  BENCH_LEARNING_RATE,
  buildBenchBert,
  orderedTrainRunner,
  type BertBenchShape,
  type StepRunner,
  type WorkloadSpec,
} from "./workloads";

/** n windows of T token ids: [CLS] then uniform random words (ids past the special tokens). */
export function syntheticWindows(n: number, b: BertBenchShape, seed = 0): Int32Array {
  const r = rng(`bench-mlm:${seed}`);
  const T = b.seqLength;
  const words = b.vocabSize - TEXT_SPECIALS.length;
  const ids = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    ids[i * T] = TEXT_CLS;
    for (let t = 1; t < T; t++) ids[i * T + t] = TEXT_SPECIALS.length + Math.floor(r() * words);
  }
  return ids;
}

/** Masked-LM training steps of a W5 spec: each step masks its batch afresh (in JS, as lesson 06). */
export function mlmTrainRunner(spec: WorkloadSpec, seed = 0): StepRunner {
  const b = spec.bert;
  if (!b) throw new Error(`mlmTrainRunner: ${spec.name} is not a masked-LM workload (it has no bert shape)`);
  const T = b.seqLength;
  const windows = syntheticWindows(spec.samples, b, seed);
  const model = buildBenchBert(b, seed);
  const encoder = bertEncoder(model);
  const vars = mlmVariables(model);
  const optimizer: tf.Optimizer = tf.train.adam(BENCH_LEARNING_RATE);
  return orderedTrainRunner(
    spec,
    seed,
    (order, from, rows) => {
      const ids = new Int32Array(rows * T);
      for (let i = 0; i < rows; i++) ids.set(windows.subarray(order[from + i] * T, (order[from + i] + 1) * T), i * T);
      const batch = maskTokens(ids, b.vocabSize, subSeed(seed, `mask${from}:${order[from]}`), b.maskRate);
      return mlmTrainStep(model, encoder, vars, optimizer, batch, rows, T);
    },
    () => {
      optimizer.dispose();
      model.dispose();
    },
  );
}
