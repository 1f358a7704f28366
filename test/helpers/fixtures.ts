// Small synthetic data, models and helpers shared by the unit tests (not a test file itself).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../src/data/types";
import { rng } from "../../src/core/random";
import { buildSourceModel } from "../../src/models/mlp";
import type { ResultRecord } from "../../src/store/results";

/** Three Gaussian-ish blobs in `dim` dimensions, labels 0..2: feature j is high for class j % 3. */
export function blobs(n: number, dim: number, seed: number, spread = 0.3): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < dim; j++) x[i * dim + j] = (j % 3 === y[i] ? 0.8 : 0.2) + spread * (r() - 0.5);
  }
  return { x, y, n, dim, numClasses: 3, name: "blobs" };
}

/** dim → 16 (relu) → 3 (softmax), layers "h1" and "head", seeded: for the blobs above. */
export function smallMlp(dim: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [dim],
      units: 16,
      activation: "relu",
      name: "h1",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 3,
      activation: "softmax",
      name: "head",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  return m;
}

/** The source-model architecture at toy size: 12 → 8 → 6 → 4 → 3. */
export const tinySource = (seed = 0) => buildSourceModel({ seed, hiddenUnits: [8, 6, 4], inputDim: 12, numClasses: 3 });

/** Saves a model to memory and loads it back (custom layers must be registered). */
export async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(saved!));
}

/** One valid results-log record, the base the results tests vary. */
export const SAMPLE_RESULT: ResultRecord = {
  lesson: "03",
  method: "freeze-0.50",
  task: "mild",
  labelsPerClass: 5,
  accuracy: 0.8,
  backend: "cpu",
  scale: "smoke",
  seed: 0,
};
