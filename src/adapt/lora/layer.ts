// LoRA (Hu et al. 2021) for tfjs Dense layers: the `LoraDense` layer, a frozen Dense plus a
// trainable low-rank update (alpha / r)·A·B, and the checks of its hyper-parameters. inject.ts puts
// it into a model and merges it back; adapter.ts saves and loads the adapters alone.
import * as tf from "@tensorflow/tfjs";
import { checkFinite, checkPositiveInt } from "../../core/validate";
import type { Kwargs, LayerArgs } from "../../models/layer-args";

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
    if (inDim == null)
      throw new Error(`LoraDense ${this.name}: the last input dimension must be known, got [${shape.join(", ")}]`);
    const bound = 1 / Math.sqrt(inDim); // kaiming_uniform(a = sqrt(5)) as in loralib and PEFT
    // The base weights are parameters (counted, saved) that never train: added as trainable-kind
    // weights, then switched off, so parameter counts see them and `trainableWeights` does not.
    this.kernel = this.addWeight(
      "kernel",
      [inDim, this.units],
      "float32",
      tf.initializers.glorotUniform({ seed: this.seed }),
      undefined,
      true,
    );
    if (this.useBias)
      this.bias = this.addWeight("bias", [this.units], "float32", tf.initializers.zeros(), undefined, true);
    this.loraA = this.addWeight(
      "lora_A",
      [inDim, this.r],
      "float32",
      tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.seed }),
      undefined,
      true,
    );
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
    if (this.activationLayer === null)
      this.activationLayer = tf.layers.activation({ activation: this.activationName as ActivationName });
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
        const xd =
          training && this.dropout > 0
            ? tf.dropout(x2, this.dropout, undefined, this.seed * 100003 + this.dropoutCalls++)
            : x2;
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
    if (!this.mergedFlag)
      throw new Error(`LoraDense ${this.name}: not merged, nothing to unmerge (call merge() first)`);
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
      throw new Error(
        `LoraDense ${this.name}: folding the adapter gives non-finite values (NaN/Inf); the adapter is broken (lower the learning rate and retrain)`,
      );
    }
    return out;
  }

  /** Sets the frozen base weights (kernel [inDim, units], bias [units]) from a Dense. */
  setBaseWeights(kernel: tf.Tensor, bias: tf.Tensor | null): void {
    this.assertBuilt("setBaseWeights");
    this.kernel!.write(kernel);
    if (this.bias) {
      if (bias === null)
        throw new Error(`LoraDense ${this.name}: setBaseWeights needs a bias (the layer has useBias = true)`);
      this.bias.write(bias);
    }
  }

  private writeKernel(sign: 1 | -1, what: string): void {
    const delta = this.deltaWeight();
    const next = tf.tidy(() => this.kernel!.read().add(delta.mul(sign)));
    delta.dispose();
    if (!allFinite(next)) {
      next.dispose();
      throw new Error(
        `LoraDense ${this.name}: ${what} would put non-finite values (NaN/Inf) into the kernel; the adapter is broken (lower the learning rate and retrain); the kernel was left unchanged`,
      );
    }
    this.kernel!.write(next);
    next.dispose();
  }

  private assertBuilt(what: string): void {
    if (!this.built || !this.kernel)
      throw new Error(
        `LoraDense ${this.name}: ${what}() needs a built layer (call it on an input or put it in a model first)`,
      );
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
    throw new Error(
      `${where}: alpha must be a positive finite number, got ${alpha} (the update is scaled by alpha / r; alpha = r gives scale 1)`,
    );
  }
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) {
    throw new Error(`${where}: dropout must be in [0, 1), got ${dropout}`);
  }
}
