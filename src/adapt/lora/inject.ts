// Model surgery for LoRA: which Dense layers get an adapter (targets), `applyLora` to rebuild a model
// with LoraDense in their place (everything else frozen), `mergeLora` to fold the adapters back into
// plain Dense layers. The model is rebuilt from its config, so registered layers keep their class.
import * as tf from "@tensorflow/tfjs";
import { DEFAULT_LORA_ALPHA, DEFAULT_LORA_DROPOUT, DEFAULT_LORA_SEED, checkLoraHyper, LoraDense } from "./layer";
import { checkFinite } from "../../core/validate";

/** Which Dense layers get an adapter: names, a pattern over layer names, or every Dense layer
 * except the model's output layer (PEFT's "all-linear" minus the head). */
export type LoraTargets = string[] | RegExp | "all-dense";

export interface ApplyLoraArgs {
  /** Rank of every adapter. */
  r: number;
  /** Scale numerator: delta W = (alpha / r) · A·B. */
  alpha?: number;
  targets: LoraTargets;
  /** Also train the output layer (the head), e.g. the source head on a shifted target task;
   * a string names another layer to keep trainable. */
  trainHead?: boolean | string;
  /** Dropout on the LoRA path's input (training only). */
  dropout?: number;
  /** Seed of the A initialisations (adapter i uses seed·1000 + i). */
  seed?: number;
}

interface LayerEntry {
  name?: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes?: unknown;
}

interface ModelConfig {
  name?: string;
  layers: LayerEntry[];
}

/** Names of the layers of the given class, in model order. */
function layersOfClass(model: tf.LayersModel, cls: string): string[] {
  return model.layers.filter((l) => l.getClassName() === cls).map((l) => l.name);
}

/** The layer that produces the model's (first) output. */
export function outputLayerName(model: tf.LayersModel): string {
  return model.outputLayers?.[0]?.name ?? model.layers[model.layers.length - 1].name;
}

/** Resolves `targets` to Dense layer names, with errors that list what exists. */
export function resolveLoraTargets(model: tf.LayersModel, targets: LoraTargets, where = "applyLora"): string[] {
  const dense = layersOfClass(model, "Dense");
  const listing = `(dense layers: ${dense.join(", ") || "none"})`;
  if (targets === "all-dense") {
    const head = outputLayerName(model);
    const out = dense.filter((n) => n !== head);
    if (out.length === 0)
      throw new Error(
        `${where}: targets "all-dense" found no Dense layer besides the output layer ${JSON.stringify(head)} ${listing}`,
      );
    return out;
  }
  if (targets instanceof RegExp) {
    const out = dense.filter((n) => targets.test(n));
    if (out.length === 0) throw new Error(`${where}: targets ${targets} matched no Dense layer ${listing}`);
    return out;
  }
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new Error(
      `${where}: targets must be a non-empty list of layer names, a RegExp or "all-dense", got ${JSON.stringify(targets)} ${listing}`,
    );
  }
  const names = new Set(model.layers.map((l) => l.name));
  const missing = targets.filter((t) => !names.has(t));
  if (missing.length)
    throw new Error(
      `${where}: targets must name Dense layers of the model, got unknown target layer(s) ${missing.map((m) => JSON.stringify(m)).join(", ")} ${listing}`,
    );
  for (const t of targets) {
    const cls = model.getLayer(t).getClassName();
    if (cls !== "Dense") {
      const hint =
        cls === "LoraDense" ? "; it already has an adapter (mergeLora first)" : "; LoRA wraps Dense layers only";
      throw new Error(`${where}: target ${JSON.stringify(t)} is a ${cls}, not a Dense layer${hint} ${listing}`);
    }
  }
  return [...new Set(targets)];
}

function modelConfig(model: tf.LayersModel): ModelConfig {
  // getConfig holds only plain JSON values (nested initializer configs etc.): deep-copy it.
  return JSON.parse(JSON.stringify(model.getConfig())) as ModelConfig;
}

function entryName(e: LayerEntry): string {
  return (e.name ?? e.config.name) as string;
}

/** Builds a model from an edited config of `like` (same class: Sequential or functional). */
function modelFromConfig(like: tf.LayersModel, config: ModelConfig): tf.LayersModel {
  const dict = config as unknown as tf.serialization.ConfigDict;
  if (like instanceof tf.Sequential) return tf.Sequential.fromConfig(tf.Sequential, dict) as tf.Sequential;
  return tf.LayersModel.fromConfig(tf.LayersModel, dict) as tf.LayersModel;
}

/** Keys a layer config keeps when the layer's class is swapped (shape and identity only). */
const SHAPE_KEYS = ["name", "batchInputShape", "dtype"];

function keepShapeKeys(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SHAPE_KEYS) if (c[k] !== undefined) out[k] = c[k];
  return out;
}

/**
 * A new model in which each target Dense is a LoraDense (base weights copied, frozen; A random,
 * B zero) and every other layer is frozen, except the head when `trainHead` is set. Its outputs
 * equal the input model's until the adapters train. The input model is left untouched.
 */
export function applyLora(model: tf.LayersModel, args: ApplyLoraArgs): tf.LayersModel {
  const alpha = args.alpha ?? DEFAULT_LORA_ALPHA;
  const dropout = args.dropout ?? DEFAULT_LORA_DROPOUT;
  const seed = args.seed ?? DEFAULT_LORA_SEED;
  checkLoraHyper("applyLora", args.r, alpha, dropout);
  checkFinite("applyLora", "seed", seed);
  const targets = resolveLoraTargets(model, args.targets);
  const head =
    args.trainHead === true ? outputLayerName(model) : typeof args.trainHead === "string" ? args.trainHead : null;
  if (head !== null) {
    if (!model.layers.some((l) => l.name === head)) {
      throw new Error(
        `applyLora: trainHead names layer ${JSON.stringify(head)}, which the model does not have (layers: ${model.layers.map((l) => l.name).join(", ")})`,
      );
    }
    if (targets.includes(head))
      throw new Error(
        `applyLora: the head ${JSON.stringify(head)} is also a LoRA target; train it fully (trainHead) or adapt it (targets), not both`,
      );
  }
  const config = modelConfig(model);
  for (const e of config.layers) {
    const name = entryName(e);
    const i = targets.indexOf(name);
    if (i >= 0) {
      const c = e.config;
      e.className = LoraDense.className;
      e.config = {
        ...keepShapeKeys(c),
        trainable: true,
        units: c.units,
        activation: c.activation,
        useBias: c.useBias,
        r: args.r,
        alpha,
        dropout,
        seed: seed * 1000 + i,
        merged: false,
      };
    } else {
      e.config.trainable = name === head;
    }
  }
  const out = modelFromConfig(model, config);
  for (const layer of out.layers) {
    const src = model.getLayer(layer.name);
    if (layer instanceof LoraDense) {
      const [kernel, bias] = src.getWeights(); // Dense weights: kernel [in, units], bias [units]
      layer.setBaseWeights(kernel, bias ?? null);
    } else if (src.weights.length) {
      layer.setWeights(src.getWeights());
    }
  }
  return out;
}

/** The LoraDense layers of a model, in model order. */
export function loraLayers(model: tf.LayersModel): LoraDense[] {
  return model.layers.filter((l): l is LoraDense => l instanceof LoraDense);
}

/**
 * A plain model (Dense layers only, all layers trainable) computing what the LoRA model
 * computes: each LoraDense becomes a Dense whose kernel is W + (alpha/r)·A·B. The input model
 * is left untouched (merged or not).
 */
export function mergeLora(model: tf.LayersModel): tf.LayersModel {
  const lora = loraLayers(model);
  if (lora.length === 0)
    throw new Error(
      `mergeLora: the model has no LoraDense layer (layers: ${model.layers.map((l) => `${l.name}:${l.getClassName()}`).join(", ")}); use applyLora first`,
    );
  const config = modelConfig(model);
  for (const e of config.layers) {
    const c = e.config;
    if (e.className === LoraDense.className) {
      e.className = "Dense";
      e.config = { ...keepShapeKeys(c), trainable: true, units: c.units, activation: c.activation, useBias: c.useBias };
    } else {
      c.trainable = true;
    }
  }
  const out = modelFromConfig(model, config);
  for (const layer of out.layers) {
    const src = model.getLayer(layer.name);
    if (src instanceof LoraDense) {
      const kernel = src.foldedKernel();
      layer.setWeights(src.bias ? [kernel, src.bias.read()] : [kernel]);
      kernel.dispose();
    } else if (src.weights.length) {
      layer.setWeights(src.getWeights());
    }
  }
  return out;
}
