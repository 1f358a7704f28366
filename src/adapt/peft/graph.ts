// Model surgery for the PEFT methods: a functional model's config is edited (a layer inserted after
// another, a layer removed) and the model rebuilt from it, with the weights of every layer it shares
// with the source model copied over. Registered custom layers keep their class through the rebuild.
import * as tf from "@tensorflow/tfjs";
import { copyLayerWeights } from "../../models/surgery";

/** One entry of a functional model's config: `inboundNodes` lists, per call of the layer, its inputs
 * as `[layerName, nodeIndex, tensorIndex, kwargs]`. */
export interface LayerEntry {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes: unknown[][][];
}

export interface ModelConfig {
  name?: string;
  layers: LayerEntry[];
  inputLayers: unknown[][];
  outputLayers: unknown[][];
}

/** A deep copy of the model's config (plain JSON values only). */
export function modelConfig(model: tf.LayersModel): ModelConfig {
  if (model instanceof tf.Sequential)
    throw new Error(
      `peft: the model ${model.name} is a Sequential model; the PEFT methods rebuild functional models (build it with tf.model({inputs, outputs}))`,
    );
  return JSON.parse(JSON.stringify(model.getConfig())) as ModelConfig;
}

/** Builds a functional model from an edited config. */
export function modelFromConfig(config: ModelConfig): tf.LayersModel {
  return tf.LayersModel.fromConfig(tf.LayersModel, config as unknown as tf.serialization.ConfigDict) as tf.LayersModel;
}

/** Replaces every reference to layer `from` (as an input of another layer or as a model output) by
 * layer `to`, except in the entry named `skip`. */
function redirect(config: ModelConfig, from: string, to: string, skip: string): void {
  for (const e of config.layers) {
    if (e.name === skip) continue;
    for (const node of e.inboundNodes)
      for (const inbound of node) if (Array.isArray(inbound) && inbound[0] === from) inbound[0] = to;
  }
  for (const o of config.outputLayers) if (o[0] === from) o[0] = to;
}

/** Inserts a new single-input layer right after layer `after`: it takes `after`'s output and
 * every former consumer of that output takes the new layer's output instead. */
export function insertAfter(
  config: ModelConfig,
  after: string,
  entry: { name: string; className: string; config: Record<string, unknown> },
): void {
  const at = config.layers.findIndex((e) => e.name === after);
  if (at < 0) throw new Error(`peft: cannot insert ${entry.name} after ${after}: the model has no layer ${after}`);
  if (config.layers.some((e) => e.name === entry.name))
    throw new Error(`peft: the model already has a layer named ${entry.name} (was the method applied twice?)`);
  redirect(config, after, entry.name, entry.name);
  config.layers.splice(at + 1, 0, {
    name: entry.name,
    className: entry.className,
    config: { ...entry.config, name: entry.name },
    inboundNodes: [[[after, 0, 0, {}]]],
  });
}

/** Removes a single-input layer: its consumers take its input instead. */
export function removeLayer(config: ModelConfig, name: string): void {
  const at = config.layers.findIndex((e) => e.name === name);
  if (at < 0) throw new Error(`peft: cannot remove ${name}: the model has no such layer`);
  const input = config.layers[at].inboundNodes[0]?.[0]?.[0];
  if (typeof input !== "string") throw new Error(`peft: cannot remove ${name}: it has no single input layer`);
  config.layers.splice(at, 1);
  redirect(config, name, input, name);
}

/** Copies the weights of every layer of `to` that `from` also has (by name) and that holds weights,
 * weight by weight by its own name (copyLayerWeights: per-weight trainability, as BitFit sets it,
 * reorders a layer's `weights`). */
export function copySharedWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  const names = new Set(from.layers.map((l) => l.name));
  for (const layer of to.layers) {
    if (names.has(layer.name) && layer.weights.length > 0) copyLayerWeights(from.getLayer(layer.name), layer, "peft");
  }
}

/** Sets every layer's `trainable` in the config (layers whose name is in `trainable` train). */
export function setConfigTrainable(config: ModelConfig, trainable: (name: string) => boolean): void {
  for (const e of config.layers) e.config.trainable = trainable(e.name);
}

/** A layer to insert after another one. */
export interface Insertion {
  after: string;
  name: string;
  className: string;
  config: Record<string, unknown>;
}

/**
 * A copy of `base` with new layers inserted (each after its layer), the base's weights copied, and
 * only the new layers (plus `head`, when given, and the base layers named in `alsoTrain`) trainable.
 * `base` is left untouched.
 */
export function withInsertedLayers(
  base: tf.LayersModel,
  inserts: Insertion[],
  head: string | null,
  alsoTrain: readonly string[] = [],
): tf.LayersModel {
  const config = modelConfig(base);
  const added = new Set(inserts.map((i) => i.name));
  setConfigTrainable(config, (name) => added.has(name) || name === head || alsoTrain.includes(name));
  for (const i of inserts) insertAfter(config, i.after, { ...i, config: { ...i.config, trainable: true } });
  const out = modelFromConfig(config);
  copySharedWeights(base, out);
  return out;
}
