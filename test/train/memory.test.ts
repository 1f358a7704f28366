// Training loops do not grow memory epoch over epoch: tensor count and bytes after every epoch
// equal those after the first, for each kind of model the lessons train.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../../src/data/types";
import { applyLora } from "../../src/adapt/lora/inject";
import { fit } from "../../src/train/fit";
import { buildViT } from "../../src/models/transformer";
import { blobs, smallMlp, tinySource } from "../helpers/fixtures";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("fit's memory over epochs", () => {
  // The three kinds of model the lessons train: a plain MLP (with per-layer rates), LoRA
  // adapters on a frozen base, and the tiny ViT (attention, its own LayerNorm).
  const models: [string, () => tf.LayersModel, Dataset][] = [
    ["MLP", () => smallMlp(8), blobs(300, 8, 2)],
    [
      "LoRA",
      () => applyLora(tinySource(0), { r: 2, targets: ["hidden1", "hidden2"], trainHead: true }),
      blobs(300, 12, 2),
    ],
    [
      "tiny ViT",
      () => buildViT({ imageSize: 4, patchSize: 2, width: 8, depth: 1, numHeads: 2, mlpRatio: 1, numClasses: 3 }),
      blobs(300, 16, 2),
    ],
  ];
  it.each(models)("does not grow memory epoch over epoch (%s)", async (_name, build, data) => {
    const m = build();
    const perEpoch: { tensors: number; bytes: number }[] = [];
    await fit(m, data, {
      epochs: 6,
      batchSize: 32,
      progress: false,
      validation: data,
      layerLearningRates: { [m.layers[m.layers.length - 1].name]: 0.5 },
      onEpochEnd: () => void perEpoch.push({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }),
    });
    expect(perEpoch).toHaveLength(6);
    // Epoch 1 may allocate the optimizers' slots; from then on nothing grows.
    for (const p of perEpoch.slice(1)) expect(p).toEqual(perEpoch[0]);
    m.dispose();
  });
});
