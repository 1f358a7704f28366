// LoRA (Hu et al. 2021) for tfjs Dense layers: the `LoraDense` layer (a frozen Dense plus a
// trainable low-rank update), `applyLora` to put it into a model, `mergeLora` to fold it back
// into plain Dense layers. Adapter files live in lora-adapter.ts.
import * as tf from "@tensorflow/tfjs";
import { checkFinite, checkPositiveInt } from "../../core/validate";

/** tfjs-layers' LayerArgs and call kwargs (not exported by name from @tensorflow/tfjs). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
export type Kwargs = Parameters<tf.layers.Layer["call"]>[1];

export const DEFAULT_LORA_R = 4;
/** Hu et al. fix alpha at the first r tried and do not tune it; scaling = alpha / r. */
export const DEFAULT_LORA_ALPHA = 8;
export const DEFAULT_LORA_DROPOUT = 0;
export const DEFAULT_LORA_SEED = 0;

export interface LoraDenseArgs extends LayerArgs {
  /** Output units of the wrapped Dense. */
  units: number;
  /** Rank of the update: A is [inDim, r], B is [r, units]. */
  r: number;
  /** Scale of the update: delta W = (alpha / r) · A·B. */
  alpha?: number;
  /** Dropout rate on the input of the LoRA path (training only), as in PEFT. */
  dropout?: number;
  /** Activation of the wrapped Dense, applied after the update (default linear). */
  activation?: string;
  /** Whether the wrapped Dense has a bias (default true). */
  useBias?: boolean;
  /** True when A·B is already folded into the kernel (set by merge(), kept by serialization). */
  merged?: boolean;
  /** Seed of A's initialisation and of the dropout masks. */
  seed?: number;
  inputDim?: number;
}

const MERGE_HINT = "(call unmerge() first)";

/** True when every value of `t` is finite; does not dispose `t`. */
function allFinite(t: tf.Tensor): boolean {
  const bad = tf.tidy(() => tf.logicalNot(tf.isFinite(t)).any());
  const v = bad.dataSync()[0];
  bad.dispose();
  return v === 0;
}

/**
 * A Dense layer with a frozen kernel W [inDim, units] and bias b, plus a trainable low-rank
 * update: y = act(x·W + b + (alpha/r) · x·A·B). A starts Kaiming-uniform (bound 1/sqrt(inDim),
 * as loralib/PEFT), B starts at zero, so the layer starts equal to its base Dense.
 */
export class LoraDense extends tf.layers.Layer {
  static className = "LoraDense";
  readonly units: number;
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly scaling: number;
  readonly activationName: string;
  readonly useBias: boolean;
  readonly seed: number;
  private mergedFlag: boolean;
  private dropoutCalls = 0;
  private activationLayer: tf.layers.Layer | null = null;
  kernel: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;
  loraA: tf.LayerVariable | null = null;
  loraB: tf.LayerVariable | null = null;

  constructor(args: LoraDenseArgs) {
    const base: LayerArgs = { ...args };
    if (args.batchInputShape == null && args.inputShape == null && args.inputDim != null) {
      base.batchInputShape = [null, args.inputDim];
    }
    super(base);
    checkLoraHyper("LoraDense", args.r, args.alpha ?? DEFAULT_LORA_ALPHA, args.dropout ?? DEFAULT_LORA_DROPOUT);
    if (!Number.isInteger(args.units) || args.units < 1) {
      throw new Error(`LoraDense: units must be a positive integer, got ${args.units}`);
    }
    this.units = args.units;
    this.r = args.r;
    this.alpha = args.alpha ?? DEFAULT_LORA_ALPHA;
    this.dropout = args.dropout ?? DEFAULT_LORA_DROPOUT;
    this.scaling = this.alpha / this.r;
    this.activationName = args.activation ?? "linear";
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? DEFAULT_LORA_SEED;
    this.mergedFlag = args.merged ?? false;
  }

  get merged(): boolean {
    return this.mergedFlag;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inDim = shape[shape.length - 1];
    if (inDim == null) throw new Error(`LoraDense ${this.name}: the last input dimension must be known, got [${shape.join(", ")}]`);
    const bound = 1 / Math.sqrt(inDim); // kaiming_uniform(a = sqrt(5)) as in loralib and PEFT
    // The base weights are parameters (counted, saved) that never train: added as trainable-kind
    // weights, then switched off, so parameter counts see them and `trainableWeights` does not.
    this.kernel = this.addWeight("kernel", [inDim, this.units], "float32", tf.initializers.glorotUniform({ seed: this.seed }), undefined, true);
    if (this.useBias) this.bias = this.addWeight("bias", [this.units], "float32", tf.initializers.zeros(), undefined, true);
    this.loraA = this.addWeight("lora_A", [inDim, this.r], "float32", tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.seed }), undefined, true);
    this.loraB = this.addWeight("lora_B", [this.r, this.units], "float32", tf.initializers.zeros(), undefined, true);
    this.freezeBase();
    this.built = true;
  }

  private freezeBase(): void {
    if (this.kernel) this.kernel.trainable = false;
    if (this.bias) this.bias.trainable = false;
  }

  override get trainable(): boolean {
    return super.trainable;
  }

  /** Freezing or unfreezing the layer moves only the adapter; the base stays frozen. */
  override set trainable(value: boolean) {
    super.trainable = value;
    this.freezeBase();
  }

  // tfjs-layers' Sequential/Container `trainable` setter flips every weight's flag directly
  // (bypassing the setter above) when it builds its inner model on the first predict/fit, which
  // would make the base kernel trainable. Re-freezing it whenever the weights are listed keeps
  // fit() and the optimizers training the adapter alone.
  override get trainableWeights(): tf.LayerVariable[] {
    this.freezeBase();
    return super.trainableWeights;
  }

  override set trainableWeights(weights: tf.LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    this.freezeBase();
    return super.nonTrainableWeights;
  }

  override set nonTrainableWeights(weights: tf.LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  private activate(z: tf.Tensor): tf.Tensor {
    if (this.activationName === "linear") return z;
    // The name comes from the wrapped Dense's config; tfjs validates it (the cast only names the type).
    type ActivationName = Parameters<typeof tf.layers.activation>[0]["activation"];
    if (this.activationLayer === null) this.activationLayer = tf.layers.activation({ activation: this.activationName as ActivationName });
    return this.activationLayer.apply(z) as tf.Tensor;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [..., inDim]
      const inDim = x.shape[x.shape.length - 1];
      const x2 = x.reshape([-1, inDim]); // [n, inDim]
      let z = tf.matMul(x2, this.kernel!.read()); // [n, inDim] x [inDim, units] -> [n, units]
      if (this.bias) z = z.add(this.bias.read());
      if (!this.mergedFlag) {
        const training = kwargs != null && kwargs.training === true;
        const xd = training && this.dropout > 0 ? tf.dropout(x2, this.dropout, undefined, this.seed * 100003 + this.dropoutCalls++) : x2;
        const low = tf.matMul(xd, this.loraA!.read()); // [n, inDim] x [inDim, r] -> [n, r]
        z = z.add(tf.matMul(low, this.loraB!.read()).mul(this.scaling)); // [n, r] x [r, units] -> [n, units]
      }
      return this.activate(z).reshape([...x.shape.slice(0, -1), this.units]);
    });
  }

  /** The update the adapter adds to the kernel: (alpha/r) · A·B, [inDim, units]. Caller disposes. */
  deltaWeight(): tf.Tensor2D {
    this.assertBuilt("deltaWeight");
    return tf.tidy(() => tf.matMul(this.loraA!.read(), this.loraB!.read()).mul(this.scaling)) as tf.Tensor2D;
  }

  /** Folds the update into the kernel (W <- W + delta W); the LoRA path is then skipped. */
  merge(): void {
    this.assertBuilt("merge");
    if (this.mergedFlag) throw new Error(`LoraDense ${this.name}: already merged ${MERGE_HINT}`);
    this.writeKernel(1, "merge");
    this.mergedFlag = true;
  }

  /** Takes the update back out of the kernel (W <- W - delta W). */
  unmerge(): void {
    this.assertBuilt("unmerge");
    if (!this.mergedFlag) throw new Error(`LoraDense ${this.name}: not merged, nothing to unmerge (call merge() first)`);
    this.writeKernel(-1, "unmerge");
    this.mergedFlag = false;
  }

  /** The kernel a plain Dense would need to compute what this layer computes, [inDim, units]. */
  foldedKernel(): tf.Tensor2D {
    this.assertBuilt("foldedKernel");
    if (this.mergedFlag) return this.kernel!.read().clone() as tf.Tensor2D;
    const delta = this.deltaWeight();
    const out = tf.tidy(() => this.kernel!.read().add(delta)) as tf.Tensor2D;
    delta.dispose();
    if (!allFinite(out)) {
      out.dispose();
      throw new Error(`LoraDense ${this.name}: folding the adapter gives non-finite values (NaN/Inf); the adapter is broken (lower the learning rate and retrain)`);
    }
    return out;
  }

  /** Sets the frozen base weights (kernel [inDim, units], bias [units]) from a Dense. */
  setBaseWeights(kernel: tf.Tensor, bias: tf.Tensor | null): void {
    this.assertBuilt("setBaseWeights");
    this.kernel!.write(kernel);
    if (this.bias) {
      if (bias === null) throw new Error(`LoraDense ${this.name}: setBaseWeights needs a bias (the layer has useBias = true)`);
      this.bias.write(bias);
    }
  }

  private writeKernel(sign: 1 | -1, what: string): void {
    const delta = this.deltaWeight();
    const next = tf.tidy(() => this.kernel!.read().add(delta.mul(sign)));
    delta.dispose();
    if (!allFinite(next)) {
      next.dispose();
      throw new Error(`LoraDense ${this.name}: ${what} would put non-finite values (NaN/Inf) into the kernel; the adapter is broken (lower the learning rate and retrain); the kernel was left unchanged`);
    }
    this.kernel!.write(next);
    next.dispose();
  }

  private assertBuilt(what: string): void {
    if (!this.built || !this.kernel) throw new Error(`LoraDense ${this.name}: ${what}() needs a built layer (call it on an input or put it in a model first)`);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      r: this.r,
      alpha: this.alpha,
      dropout: this.dropout,
      activation: this.activationName,
      useBias: this.useBias,
      merged: this.mergedFlag,
      seed: this.seed,
    };
  }
}
tf.serialization.registerClass(LoraDense);

/** Checks r, alpha and dropout; `where` names the caller in the message (`rParam` the rank's
 * option when it is not `r`, e.g. `ranks[2]`). */
export function checkLoraHyper(where: string, r: number, alpha: number, dropout: number, rParam = "r"): void {
  checkPositiveInt(where, rParam, r, "use r >= 1");
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
    throw new Error(`${where}: alpha must be a positive finite number, got ${alpha} (the update is scaled by alpha / r; alpha = r gives scale 1)`);
  }
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) {
    throw new Error(`${where}: dropout must be in [0, 1), got ${dropout}`);
  }
}

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
    if (out.length === 0) throw new Error(`${where}: targets "all-dense" found no Dense layer besides the output layer ${JSON.stringify(head)} ${listing}`);
    return out;
  }
  if (targets instanceof RegExp) {
    const out = dense.filter((n) => targets.test(n));
    if (out.length === 0) throw new Error(`${where}: targets ${targets} matched no Dense layer ${listing}`);
    return out;
  }
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new Error(`${where}: targets must be a non-empty list of layer names, a RegExp or "all-dense", got ${JSON.stringify(targets)} ${listing}`);
  }
  const names = new Set(model.layers.map((l) => l.name));
  const missing = targets.filter((t) => !names.has(t));
  if (missing.length) throw new Error(`${where}: targets must name Dense layers of the model, got unknown target layer(s) ${missing.map((m) => JSON.stringify(m)).join(", ")} ${listing}`);
  for (const t of targets) {
    const cls = model.getLayer(t).getClassName();
    if (cls !== "Dense") {
      const hint = cls === "LoraDense" ? "; it already has an adapter (mergeLora first)" : "; LoRA wraps Dense layers only";
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
  const head = args.trainHead === true ? outputLayerName(model) : typeof args.trainHead === "string" ? args.trainHead : null;
  if (head !== null) {
    if (!model.layers.some((l) => l.name === head)) {
      throw new Error(`applyLora: trainHead names layer ${JSON.stringify(head)}, which the model does not have (layers: ${model.layers.map((l) => l.name).join(", ")})`);
    }
    if (targets.includes(head)) throw new Error(`applyLora: the head ${JSON.stringify(head)} is also a LoRA target; train it fully (trainHead) or adapt it (targets), not both`);
  }
  const config = modelConfig(model);
  for (const e of config.layers) {
    const name = entryName(e);
    const i = targets.indexOf(name);
    if (i >= 0) {
      const c = e.config;
      e.className = LoraDense.className;
      e.config = { ...keepShapeKeys(c), trainable: true, units: c.units, activation: c.activation, useBias: c.useBias, r: args.r, alpha, dropout, seed: seed * 1000 + i, merged: false };
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
  if (lora.length === 0) throw new Error(`mergeLora: the model has no LoraDense layer (layers: ${model.layers.map((l) => `${l.name}:${l.getClassName()}`).join(", ")}); use applyLora first`);
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
