// Model surgery on a classifier whose top layer is the head: an independent copy, a copy with a fresh
// head for a new task, and a copy judged through another model's head (how forgetting is measured).
import * as tf from "@tensorflow/tfjs";
import { argError, checkPositiveInt, show } from "../core/validate";
import { HEAD_LAYER } from "./mlp";

/** A weight's own name within its layer ("kernel", "bias", "gamma"…). */
export function ownWeightName(w: tf.LayerVariable): string {
  return w.originalName.split("/").pop() ?? w.originalName;
}

/** A layer's weight by its own name, or null: never unpack `layer.weights` / getWeights() by position
 * (tfjs lists trainable weights first, so per-weight freezing reorders them). */
export function weightNamed(layer: tf.layers.Layer, name: string): tf.LayerVariable | null {
  return layer.weights.find((w) => ownWeightName(w) === name) ?? null;
}

interface LayerInternals {
  _trainableWeights: tf.LayerVariable[];
  _nonTrainableWeights: tf.LayerVariable[];
}

/** A layer's weights in the order its build() declared them: parameters, then state (moving means…).
 * Unlike `layer.weights` (trainable first), this order does not change when single weights freeze. */
export function declaredWeights(layer: tf.layers.Layer): tf.LayerVariable[] {
  const l = layer as unknown as LayerInternals;
  return l._trainableWeights.concat(l._nonTrainableWeights);
}

/** Own names of the pinned (always frozen) weights of each pinned layer. */
const PINNED = new WeakMap<tf.layers.Layer, Set<string>>();

function accessorOf(obj: object, prop: string): PropertyDescriptor {
  for (let p = Object.getPrototypeOf(obj) as object | null; p; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, prop);
    if (d) return d;
  }
  throw new Error(`pinFrozen: layers have no property ${prop} (tfjs changed?)`);
}

function refreeze(layer: tf.layers.Layer): void {
  const pinned = PINNED.get(layer);
  if (!pinned) return;
  for (const w of (layer as unknown as LayerInternals)._trainableWeights)
    if (pinned.has(ownWeightName(w))) w.trainable = false;
}

/**
 * Pins weights of a plain layer frozen, whatever is done to the layer's or the model's `trainable`
 * later. In tfjs, `layer.trainable = v` and `model.trainable = v` write `v` into the flag of every
 * weight of the layer(s), which would unfreeze a weight frozen on its own (BitFit's kernels). The
 * layer instance gets accessors (as LoraDense has by subclassing) that re-freeze the pinned weights
 * whenever the layer's weights are listed (which fit(), countParams and the optimizers go through)
 * and after every `trainable` write; `layer.weights` / getWeights() / setWeights() keep the declared
 * order (kernel before bias) instead of tfjs' trainable-first order. `layer.trainable = false` still
 * freezes the whole layer. cloneModel carries the pins over; a model rebuilt from its config does not.
 */
export function pinFrozen(layer: tf.layers.Layer, names: readonly string[]): void {
  const own = declaredWeights(layer).map(ownWeightName);
  for (const n of names)
    if (!own.includes(n))
      throw argError("pinFrozen", "names", `weights of layer ${layer.name} (${own.join(", ") || "none"})`, show(n));
  const already = PINNED.get(layer);
  if (already) {
    names.forEach((n) => already.add(n));
    refreeze(layer);
    return;
  }
  PINNED.set(layer, new Set(names));
  const trainable = accessorOf(layer, "trainable");
  // A weight list of tfjs's (trainableWeights, nonTrainableWeights), re-frozen before it is read.
  const refreezing = (prop: string): PropertyDescriptor => {
    const base = accessorOf(layer, prop);
    return {
      configurable: true,
      get(this: tf.layers.Layer) {
        refreeze(this);
        return base.get!.call(this) as tf.LayerVariable[];
      },
      set(this: tf.layers.Layer, v: tf.LayerVariable[]) {
        base.set!.call(this, v);
      },
    };
  };
  Object.defineProperties(layer, {
    trainable: {
      configurable: true,
      get(this: tf.layers.Layer) {
        return trainable.get!.call(this) as boolean;
      },
      set(this: tf.layers.Layer, v: boolean) {
        trainable.set!.call(this, v);
        refreeze(this);
      },
    },
    trainableWeights: refreezing("trainableWeights"),
    nonTrainableWeights: refreezing("nonTrainableWeights"),
    weights: {
      configurable: true,
      get(this: tf.layers.Layer) {
        refreeze(this);
        return declaredWeights(this);
      },
    },
  });
  refreeze(layer);
}

/** Own names of the weights pinned frozen on `layer` (empty when none is). */
export function pinnedWeights(layer: tf.layers.Layer): string[] {
  return [...(PINNED.get(layer) ?? [])];
}

/**
 * Copies every weight of `from` into `to` (same architecture): layer by layer (same names, same
 * order), weight by weight by its own name, so the copy is right whatever either model's
 * trainability (tfjs lists trainable weights first, so per-weight freezing reorders getWeights()).
 */
export function copyWeightsByName(from: tf.LayersModel, to: tf.LayersModel, where = "copyWeightsByName"): void {
  if (from.layers.length !== to.layers.length)
    throw new Error(`${where}: the models have ${from.layers.length} and ${to.layers.length} layers`);
  to.layers.forEach((dst, i) => {
    const src = from.layers[i];
    if (src.name !== dst.name)
      throw new Error(`${where}: layer ${i} is ${src.name} in one model, ${dst.name} in the other`);
    if (src instanceof tf.LayersModel && dst instanceof tf.LayersModel) {
      copyWeightsByName(src, dst, where); // a nested model holds its weights in its own layers
      return;
    }
    copyLayerWeights(src, dst, where);
  });
}

/** Copies the weights of layer `src` into layer `dst`, each by its own name (by position only when a
 * layer repeats a name), whatever either layer's per-weight trainability; throws, naming `where`,
 * when a weight of `dst` has no source of that name and shape. */
export function copyLayerWeights(src: tf.layers.Layer, dst: tf.layers.Layer, where: string): void {
  const srcWeights = declaredWeights(src);
  const names = srcWeights.map(ownWeightName);
  const unique = new Set(names).size === names.length;
  declaredWeights(dst).forEach((w, j) => {
    const s = unique ? srcWeights[names.indexOf(ownWeightName(w))] : srcWeights[j];
    if (!s || s.shape.join() !== w.shape.join())
      throw new Error(
        `${where}: weight ${w.originalName} of layer ${dst.name} has no source of that name and shape [${w.shape}]`,
      );
    w.write(s.read());
  });
}

/** An independent copy (same architecture, layer names, copied weights, and the same trainability:
 * layer flags, per-weight flags and pinned-frozen weights). */
export function cloneModel(model: tf.LayersModel): tf.LayersModel {
  const copy = tf.LayersModel.fromConfig(tf.LayersModel, model.getConfig()) as tf.LayersModel;
  try {
    copyWeightsByName(model, copy, "cloneModel");
  } catch (e) {
    copy.dispose();
    throw e;
  }
  copy.layers.forEach((l, i) => {
    const src = model.layers[i];
    l.trainable = src.trainable;
    const flags = declaredWeights(src).map((w) => w.trainable);
    declaredWeights(l).forEach((w, j) => (w.trainable = flags[j]));
    const pins = pinnedWeights(src);
    if (pins.length) pinFrozen(l, pins);
  });
  return copy;
}

function headIndex(model: tf.LayersModel, where: string): number {
  const i = model.layers.findIndex((l) => l.name === HEAD_LAYER);
  if (i !== model.layers.length - 1) {
    throw new Error(
      `${where}: expected the top layer to be named "${HEAD_LAYER}" (layers: ${model.layers.map((l) => l.name).join(", ")}); build it with buildSourceModel`,
    );
  }
  return i;
}

export interface ReplaceHeadArgs {
  /** Classes of the new head (default: as the old head). */
  numClasses?: number;
  /** Seeds the new head's initializer. */
  seed?: number;
}

/** A copy of the model whose head is freshly initialized (the base keeps its trained weights). */
export function replaceHead(model: tf.LayersModel, args: ReplaceHeadArgs = {}): tf.LayersModel {
  const i = headIndex(model, "replaceHead");
  if (args.numClasses !== undefined) checkPositiveInt("replaceHead", "numClasses", args.numClasses);
  const copy = cloneModel(model);
  const oldHead = copy.layers[i] as tf.layers.Layer;
  const numClasses = args.numClasses ?? (oldHead.outputShape as number[])[1];
  const features = copy.layers[i - 1].output as tf.SymbolicTensor; // [batch, lastHidden]
  const head = tf.layers.dense({
    units: numClasses,
    activation: "softmax",
    name: HEAD_LAYER,
    kernelInitializer: tf.initializers.glorotUniform({ seed: (args.seed ?? 0) * 100 + 98 }),
  });
  const out = tf.model({
    inputs: copy.inputs,
    outputs: head.apply(features) as tf.SymbolicTensor,
    name: `${model.name}_newhead`,
  });
  oldHead.dispose();
  return out;
}

/** A copy of `tuned` with its head weights replaced by those of `original` (same architecture):
 * the tuned base judged through the original task-A head — how forgetting is measured. */
export function withHeadOf(tuned: tf.LayersModel, original: tf.LayersModel): tf.LayersModel {
  const i = headIndex(tuned, "withHeadOf");
  const j = headIndex(original, "withHeadOf");
  const copy = cloneModel(tuned);
  const src = original.layers[j].getWeights();
  const dstShapes = copy.layers[i].getWeights().map((w) => w.shape.join("×"));
  const srcShapes = src.map((w) => w.shape.join("×"));
  if (dstShapes.join() !== srcShapes.join()) {
    copy.dispose();
    throw new Error(
      `withHeadOf: head shapes differ (tuned ${dstShapes.join(", ")} vs original ${srcShapes.join(", ")}); both models need the same classes`,
    );
  }
  copy.layers[i].setWeights(src);
  return copy;
}
