// Freezing: which layers of a model train. By ratio (bottom fraction of the base), by count
// (fast.ai's freeze_to), by name; trainable-parameter reports (PEFT's one-line form and a
// per-layer table); weight snapshots that prove frozen weights did not move.
import * as tf from "@tensorflow/tfjs";
import { batchNormLayers, followsKerasBatchNormRule } from "../models/batchnorm";
import { vitLayersBelow } from "../models/transformer";
import { argError, checkIntInRange, checkRatio, show } from "../core/validate";

/** Top weighted layers that form the head: kept trainable by freezeRatio. */
export const DEFAULT_HEAD_LAYERS = 1;
/** Slack when rounding r·L, so decimal ratios round as written (0.35·10 = 3.4999… → 4). */
const ROUNDING_SLACK = 1e-9;

type Layer = tf.layers.Layer;

/** Layers that own weights (Dense, BatchNormalization…), bottom to top: the unit that freezing counts. */
export function weightedLayers(model: tf.LayersModel): Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

/** Parameters of a layer, frozen or not: its intrinsically trainable weights (kernel, bias, BN's
 * gamma/beta). BN's moving statistics are buffers, not parameters (as in PyTorch/PEFT). */
function layerParams(layer: Layer): tf.LayerVariable[] {
  // `_trainableWeights` is the layer's own list of trainable-kind weights; the public getter
  // returns [] once the layer is frozen, so it cannot tell parameters from buffers then.
  return (layer as unknown as { _trainableWeights: tf.LayerVariable[] })._trainableWeights;
}

function sizeOf(shape: (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** Models already warned about frozen plain-tfjs BatchNormalization layers. */
const warnedPlainBatchNorm = new WeakSet<tf.LayersModel>();

/** After any change of `trainable`: a compiled tfjs model caches its trainable weights at
 * compile time, so recompile it; and a frozen plain tfjs BatchNormalization layer would keep
 * moving its statistics, so say so once (the library's builders use KerasBatchNormalization). */
function afterTrainableChange(model: tf.LayersModel): void {
  const plain = batchNormLayers(model).filter((l) => !l.trainable && !followsKerasBatchNormRule(l));
  if (plain.length > 0 && !warnedPlainBatchNorm.has(model)) {
    warnedPlainBatchNorm.add(model);
    console.warn(
      `freezing: ${plain.map((l) => l.name).join(", ")} ${plain.length === 1 ? "is a" : "are"} plain tfjs BatchNormalization, which keeps ` +
        `using batch statistics and updating its moving statistics in training even when frozen; build BN layers with kerasBatchNormalization() for Keras' rule`,
    );
  }
  // compile() stores `loss` and `metrics` on the model; tfjs types do not expose them.
  const m = model as unknown as { optimizer?: tf.Optimizer; loss?: string | string[]; metrics?: string[] };
  if (m.optimizer && m.loss) {
    model.compile({ optimizer: m.optimizer, loss: m.loss, metrics: m.metrics });
  }
}

function setTrainable(layers: Layer[], trainable: boolean): void {
  for (const l of layers) l.trainable = trainable;
}

/** What a freezing call left frozen and trainable (layer names, bottom to top). */
export interface FreezeReport {
  frozen: string[];
  trainable: string[];
}

function report(model: tf.LayersModel): FreezeReport {
  const ws = weightedLayers(model);
  return {
    frozen: ws.filter((l) => !l.trainable).map((l) => l.name),
    trainable: ws.filter((l) => l.trainable).map((l) => l.name),
  };
}

/** What the ends of a freeze ratio mean, for error messages. */
export const FREEZE_RATIO_MEANING = "0 = train the whole base, 1 = freeze the whole base";

/**
 * Number of base layers frozen by ratio r out of L: the nearest integer to r·L, halves rounding
 * up (r·L = 1.5 freezes 2; 2.25 freezes 2; 0.75 freezes 1). So r = 0 freezes none and r = 1 all.
 */
export function frozenCountForRatio(r: number, baseLayerCount: number): number {
  checkRatio("freezeRatio", "r", r, FREEZE_RATIO_MEANING);
  return Math.min(baseLayerCount, Math.floor(r * baseLayerCount + 0.5 + ROUNDING_SLACK));
}

export interface FreezeRatioArgs {
  /** Top weighted layers that form the head and always train (default DEFAULT_HEAD_LAYERS). */
  headLayers?: number;
}

/** The base: weighted layers below the head, bottom to top. */
export function baseLayers(model: tf.LayersModel, headLayers = DEFAULT_HEAD_LAYERS): Layer[] {
  const ws = weightedLayers(model);
  checkIntInRange("freezeRatio", "headLayers", headLayers, 0, ws.length);
  return ws.slice(0, ws.length - headLayers);
}

/**
 * Freezes the bottom fraction r of the base (the weighted layers below the head) and makes
 * everything above trainable: r = 0 is full fine-tuning, r = 1 feature extraction (head only).
 * The count is frozenCountForRatio(r, L): nearest integer to r·L, halves up.
 */
export function freezeRatio(model: tf.LayersModel, r: number, args: FreezeRatioArgs = {}): FreezeReport {
  const base = baseLayers(model, args.headLayers ?? DEFAULT_HEAD_LAYERS);
  const n = frozenCountForRatio(r, base.length);
  setTrainable(weightedLayers(model), true);
  setTrainable(base.slice(0, n), false);
  afterTrainableChange(model);
  return report(model);
}

/**
 * fast.ai's freeze_to over the weighted layers: layers [0, n) frozen, [n, L) trainable. A
 * negative n counts from the end: freezeTo(m, -1) trains only the top layer (the head).
 * freezeTo(m, 0) unfreezes everything; n = L (or -0 is 0) freezes everything.
 */
export function freezeTo(model: tf.LayersModel, n: number): FreezeReport {
  const ws = weightedLayers(model);
  const L = ws.length;
  if (!Number.isInteger(n) || n < -L || n > L) {
    throw new Error(
      `freezeTo: n must be an integer in [${-L}, ${L}] (the model has ${L} weighted layers; negative counts from the end), got ${n}`,
    );
  }
  const idx = n >= 0 ? n : L + n;
  setTrainable(ws, true);
  setTrainable(ws.slice(0, idx), false);
  afterTrainableChange(model);
  return report(model);
}

function layersByName(model: tf.LayersModel, names: readonly string[], where: string): Layer[] {
  const listing = `layers: ${model.layers.map((x) => x.name).join(", ")}`;
  if (!Array.isArray(names)) throw argError(where, "names", `a list of layer names (${listing})`, show(names));
  return names.map((name) => {
    const l = model.layers.find((x) => x.name === name);
    if (!l)
      throw argError(where, "names", `layers of the model (${listing})`, show(name), "the model has no such layer");
    return l;
  });
}

/** Freezes the named layers (all weighted layers when no names are given). */
export function freeze(model: tf.LayersModel, names?: readonly string[]): FreezeReport {
  setTrainable(names ? layersByName(model, names, "freeze") : weightedLayers(model), false);
  afterTrainableChange(model);
  return report(model);
}

/** Makes the named layers trainable (all layers when no names are given). */
export function unfreeze(model: tf.LayersModel, names?: readonly string[]): FreezeReport {
  setTrainable(names ? layersByName(model, names, "unfreeze") : model.layers, true);
  afterTrainableChange(model);
  return report(model);
}

/** Trainable and total parameter counts (parameters exclude BN moving statistics). */
export interface ParamCounts {
  trainable: number;
  all: number;
  /** 100 · trainable / all. */
  trainablePercent: number;
}

export function countParams(model: tf.LayersModel): ParamCounts {
  let trainable = 0;
  let all = 0;
  for (const l of model.layers) {
    for (const w of layerParams(l)) {
      const n = sizeOf(w.shape);
      all += n;
      if (l.trainable && w.trainable) trainable += n;
    }
  }
  return { trainable, all, trainablePercent: all ? (100 * trainable) / all : 0 };
}

/** PEFT's print_trainable_parameters line: `trainable params: 1,234 || all params: 5,678 || trainable%: 21.73`. */
export function formatTrainableParams(model: tf.LayersModel): string {
  const c = countParams(model);
  const f = (n: number) => n.toLocaleString("en-US");
  return `trainable params: ${f(c.trainable)} || all params: ${f(c.all)} || trainable%: ${c.trainablePercent.toFixed(2)}`;
}

/** One row of the per-layer table. */
export interface LayerRow {
  layer: string;
  type: string;
  /** Output shape without the batch dimension, e.g. "256". */
  output: string;
  params: number;
  trainableParams: number;
  frozen: boolean;
}

/** Per-layer table: every layer with weights, its parameter count, and whether it is frozen. */
export function layerTable(model: tf.LayersModel): LayerRow[] {
  return weightedLayers(model).map((l) => {
    const params = layerParams(l).reduce((s, w) => s + sizeOf(w.shape), 0);
    const shape = l.outputShape as (number | null)[];
    return {
      layer: l.name,
      type: l.getClassName(),
      output: shape.slice(1).join("×"),
      params,
      trainableParams: l.trainable
        ? layerParams(l)
            .filter((w) => w.trainable)
            .reduce((s, w) => s + sizeOf(w.shape), 0)
        : 0,
      frozen: !l.trainable,
    };
  });
}

/** The per-layer table and the PEFT line as aligned text (for logs and notebooks). */
export function formatLayerTable(model: tf.LayersModel): string {
  const rows = layerTable(model);
  const head = ["layer", "type", "output", "params", "trainable", "frozen"];
  const cells = rows.map((r) => [
    r.layer,
    r.type,
    r.output,
    r.params.toLocaleString("en-US"),
    r.trainableParams.toLocaleString("en-US"),
    r.frozen ? "yes" : "no",
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j].length)));
  const line = (c: string[]) =>
    c
      .map((v, j) => (j >= 3 && j <= 4 ? v.padStart(widths[j]) : v.padEnd(widths[j])))
      .join("  ")
      .trimEnd();
  return [
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
    formatTrainableParams(model),
  ].join("\n");
}

/** Copies of every weight of a model at one moment, with each layer's frozen state then. */
export interface WeightSnapshot {
  entries: { layer: string; weight: string; frozen: boolean; values: Float32Array }[];
}

/** Reads all weights back to JS (one copy each); disposes nothing the model owns. */
export function snapshotWeights(model: tf.LayersModel): WeightSnapshot {
  const entries: WeightSnapshot["entries"] = [];
  for (const l of model.layers) {
    const params = new Set(layerParams(l));
    for (const w of l.weights) {
      // Frozen: the whole layer is (then even BN buffers must stay put), or a parameter is.
      const frozen = !l.trainable || (params.has(w) && !w.trainable);
      entries.push({
        layer: l.name,
        weight: w.originalName,
        frozen,
        values: Float32Array.from(w.read().dataSync() as Float32Array),
      });
    }
  }
  return { entries };
}

/** How far one weight moved since a snapshot. */
export interface WeightChange {
  layer: string;
  weight: string;
  frozen: boolean;
  maxAbsChange: number;
  /** True when any element differs bit-for-bit. */
  changed: boolean;
}

/** Compares the model's weights now with a snapshot taken of the same model. */
export function compareWeights(model: tf.LayersModel, snap: WeightSnapshot): WeightChange[] {
  const now = snapshotWeights(model).entries;
  if (now.length !== snap.entries.length) {
    throw new Error(
      `compareWeights: the model has ${now.length} weights, the snapshot ${snap.entries.length} (take the snapshot of the same model)`,
    );
  }
  return snap.entries.map((e, i) => {
    const cur = now[i].values;
    let max = 0;
    let changed = false;
    for (let j = 0; j < cur.length; j++) {
      if (!Object.is(cur[j], e.values[j])) changed = true;
      max = Math.max(max, Math.abs(cur[j] - e.values[j]));
    }
    return { layer: e.layer, weight: e.weight, frozen: e.frozen, maxAbsChange: max, changed };
  });
}

/** Throws, naming each weight, if any weight frozen at snapshot time changed; otherwise returns the
 * comparison (trainable weights are expected to move). */
export function assertFrozenUnchanged(model: tf.LayersModel, snap: WeightSnapshot): WeightChange[] {
  const changes = compareWeights(model, snap);
  const moved = changes.filter((c) => c.frozen && c.changed);
  if (moved.length) {
    throw new Error(
      `assertFrozenUnchanged: frozen weights moved: ${moved.map((c) => `${c.weight} (max |Δ| ${c.maxAbsChange.toExponential(2)})`).join(", ")}`,
    );
  }
  return changes;
}

/** Freezes the embeddings and the first k blocks; everything above (blocks k.., final_ln, head) trains. */
export function freezeBlocks(model: tf.LayersModel, k: number): FreezeReport {
  const below = vitLayersBelow(model, k);
  unfreeze(model);
  return freeze(model, below);
}
