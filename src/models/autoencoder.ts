// One autoencoder layer: encoder h = f(x·W + b), decoder x̂ = g(h·W' + c) with W' = Wᵀ (tied, a
// small custom layer that serializes) or its own kernel (untied, two Dense layers); optional
// denoising with masking noise; trained with the project's `fit` (target = the clean inputs).
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/types";
import { makeInitializer, type HiddenActivation, type Initializer, type KernelInit } from "./recipes";
import { argError, checkFinite, checkNonNegativeInt, checkOneOf, checkPositiveInt, show } from "../core/validate";
import { checkDataset, checkModelTakes } from "../data/check";

/** Output nonlinearity of a decoder: sigmoid for targets in [0, 1] (pixels, sigmoid codes). */
export type OutputActivation = "sigmoid" | "linear";

/** The weights of one Dense map y = act(x·kernel + bias), in JS memory (no tensors to dispose). */
export interface DenseWeights {
  /** [inputDim, units] row-major. */
  kernel: Float32Array;
  /** [units]. */
  bias: Float32Array;
  inputDim: number;
  units: number;
  activation: HiddenActivation | OutputActivation;
}

export interface AutoencoderArgs {
  /** Features in (784 for pixels, the previous width for codes). */
  inputDim: number;
  /** Code width (hidden units). */
  units: number;
  /** Encoder nonlinearity. */
  activation: HiddenActivation;
  /** Decoder nonlinearity; default sigmoid (targets in [0, 1]). Use linear for ReLU codes. */
  outputActivation?: OutputActivation;
  /** Tie the decoder kernel to the encoder's (W' = Wᵀ); default true. */
  tied?: boolean;
  /** Kernel initialisation; default Glorot-uniform. */
  kernelInit?: KernelInit;
  /** Seed of the initializers. */
  seed?: number;
  /** Model name; default "autoencoder". */
  name?: string;
}

export const DEFAULT_TIED = true;
export const DEFAULT_KERNEL_INIT: KernelInit = { kind: "glorotUniform" };

/** Constructor config of TiedAutoencoder (what getConfig returns besides the base fields). */
export interface TiedAutoencoderConfig {
  units: number;
  activation: HiddenActivation;
  outputActivation: OutputActivation;
  kernelInit: KernelInit;
  seed: number;
  name?: string;
  trainable?: boolean;
  /** Input shape without the batch axis ([inputDim]) when this is a model's first layer. */
  inputShape?: number[];
  /** Input shape with the batch axis (what getConfig writes for a first layer). */
  batchInputShape?: (number | null)[];
}

function activate(x: tf.Tensor, act: HiddenActivation | OutputActivation): tf.Tensor {
  switch (act) {
    case "sigmoid":
      return tf.sigmoid(x);
    case "relu":
      return tf.relu(x);
    case "linear":
      return x;
    default:
      throw new Error(`activation must be "sigmoid", "relu" or "linear", got ${JSON.stringify(act)}`);
  }
}

/**
 * x̂ = g(f(x·W + b)·Wᵀ + c): encoder and decoder share the kernel W [inputDim, units].
 * Weights, in order: kernel [inputDim, units], bias b [units], decoderBias c [inputDim].
 */
export class TiedAutoencoder extends tf.layers.Layer {
  static className = "TiedAutoencoder";
  readonly units: number;
  readonly activation: HiddenActivation;
  readonly outputActivation: OutputActivation;
  readonly kernelInit: KernelInit;
  readonly seed: number;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;
  private decoderBias: tf.LayerVariable | null = null;

  constructor(config: TiedAutoencoderConfig) {
    super({
      name: config.name,
      trainable: config.trainable,
      inputShape: config.inputShape,
      batchInputShape: config.batchInputShape,
    });
    checkPositiveInt("TiedAutoencoder", "units", config.units);
    this.units = config.units;
    this.activation = config.activation;
    this.outputActivation = config.outputActivation;
    this.kernelInit = config.kernelInit;
    this.seed = config.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1];
    if (inputDim === null)
      throw new Error(
        `TiedAutoencoder ${this.name}: the last input dimension must be known, got ${JSON.stringify(shape)}`,
      );
    const init: Initializer = makeInitializer(this.kernelInit, this.seed);
    this.kernel = this.addWeight("kernel", [inputDim, this.units], "float32", init);
    this.bias = this.addWeight("bias", [this.units], "float32", tf.initializers.zeros());
    this.decoderBias = this.addWeight("decoder_bias", [inputDim], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const w = this.kernel!.read(); // [inputDim, units]
      const h = activate(tf.add(tf.matMul(x, w), this.bias!.read()), this.activation); // [b, in] x [in, units] -> [b, units]
      // [b, units] x [units, in] -> [b, in]: the decoder reuses W transposed.
      return activate(tf.add(tf.matMul(h, w, false, true), this.decoderBias!.read()), this.outputActivation);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation,
      outputActivation: this.outputActivation,
      kernelInit: { ...this.kernelInit },
      seed: this.seed,
    };
  }
}
tf.serialization.registerClass(TiedAutoencoder);

/** An autoencoder model [b, inputDim] -> [b, inputDim]; see AutoencoderArgs. */
export function buildAutoencoder(args: AutoencoderArgs): tf.LayersModel {
  checkPositiveInt("buildAutoencoder", "inputDim", args.inputDim);
  checkPositiveInt("buildAutoencoder", "units", args.units);
  checkOneOf("buildAutoencoder", "activation", args.activation, ["sigmoid", "relu"] as const);
  checkOneOf("buildAutoencoder", "outputActivation", args.outputActivation ?? "sigmoid", [
    "sigmoid",
    "linear",
  ] as const);
  if (args.seed !== undefined) checkFinite("buildAutoencoder", "seed", args.seed);
  const kernelInit = args.kernelInit ?? DEFAULT_KERNEL_INIT;
  const outputActivation = args.outputActivation ?? "sigmoid";
  const seed = args.seed ?? 0;
  const model = tf.sequential({ name: args.name ?? "autoencoder" });
  if (args.tied ?? DEFAULT_TIED) {
    model.add(
      new TiedAutoencoder({
        units: args.units,
        activation: args.activation,
        outputActivation,
        kernelInit,
        seed,
        name: "tied",
        inputShape: [args.inputDim],
      }),
    );
  } else {
    const dense = (units: number, activation: string, s: number, name: string, inputShape?: number[]) =>
      // Activation names are tfjs identifiers; the union type is internal to tfjs-layers.
      tf.layers.dense({
        units,
        activation: activation as "linear",
        kernelInitializer: makeInitializer(kernelInit, s),
        name,
        inputShape,
      });
    model.add(dense(args.units, args.activation, seed, "encoder", [args.inputDim]));
    model.add(dense(args.inputDim, outputActivation, seed + 1, "decoder"));
  }
  return model;
}

/** Encoder and decoder weights of an autoencoder from `buildAutoencoder`, copied to JS memory
 * (a tied decoder's kernel is the encoder kernel transposed). */
export function autoencoderWeights(model: tf.LayersModel): { encoder: DenseWeights; decoder: DenseWeights } {
  const first = model.layers[0];
  if (first instanceof TiedAutoencoder) {
    const [k, b, c] = first.getWeights(); // [in, units], [units], [in]
    const [inputDim, units] = k.shape;
    const kernel = k.dataSync() as Float32Array;
    const kT = new Float32Array(units * inputDim); // [units, in]
    for (let i = 0; i < inputDim; i++) for (let j = 0; j < units; j++) kT[j * inputDim + i] = kernel[i * units + j];
    return {
      encoder: {
        kernel: kernel.slice(),
        bias: (b.dataSync() as Float32Array).slice(),
        inputDim,
        units,
        activation: first.activation,
      },
      decoder: {
        kernel: kT,
        bias: (c.dataSync() as Float32Array).slice(),
        inputDim: units,
        units: inputDim,
        activation: first.outputActivation,
      },
    };
  }
  if (model.layers.length !== 2) {
    throw new Error(
      `autoencoderWeights: expected a model from buildAutoencoder (tied layer, or encoder + decoder Dense), got ${model.layers.length} layers`,
    );
  }
  const read = (layer: tf.layers.Layer): DenseWeights => {
    const [k, b] = layer.getWeights();
    const [inputDim, units] = k.shape as [number, number];
    const act = (layer.getConfig().activation as string) ?? "linear";
    return {
      kernel: (k.dataSync() as Float32Array).slice(),
      bias: (b.dataSync() as Float32Array).slice(),
      inputDim,
      units,
      activation: act as DenseWeights["activation"],
    };
  };
  return { encoder: read(model.layers[0]), decoder: read(model.layers[1]) };
}

/** Applies one Dense map to every row of `x` ([n, inputDim] row-major) in batches: [n, units]. */
export function applyDense(w: DenseWeights, x: Float32Array, batchSize = 1024): Float32Array {
  checkPositiveInt("applyDense", "batchSize", batchSize);
  const n = x.length / w.inputDim;
  if (!Number.isInteger(n))
    throw new Error(`applyDense: x has ${x.length} values, not a multiple of inputDim ${w.inputDim}`);
  const out = new Float32Array(n * w.units);
  const [kernel, bias] = [tf.tensor2d(w.kernel, [w.inputDim, w.units]), tf.tensor1d(w.bias)];
  try {
    for (let from = 0; from < n; from += batchSize) {
      const to = Math.min(n, from + batchSize);
      const y = tf.tidy(() =>
        activate(
          tf
            .tensor2d(x.subarray(from * w.inputDim, to * w.inputDim), [to - from, w.inputDim])
            .matMul(kernel)
            .add(bias),
          w.activation,
        ),
      );
      out.set(y.dataSync() as Float32Array, from * w.units);
      y.dispose();
    }
  } finally {
    kernel.dispose();
    bias.dispose();
  }
  return out;
}

/** The dataset's rows mapped through a stack of Dense maps (codes), labels kept: [n, last units]. */
export function encodeDataset(stack: DenseWeights[], data: Dataset, name?: string): Dataset {
  checkDataset("encodeDataset", "data", data, { nonEmpty: false });
  let x = data.x;
  let dim = data.dim;
  for (const [i, w] of stack.entries()) {
    if (w.inputDim !== dim)
      throw new Error(`encodeDataset: layer ${i + 1} takes ${w.inputDim} features but gets ${dim}`);
    x = applyDense(w, x);
    dim = w.units;
  }
  return {
    x,
    y: data.y,
    n: data.n,
    dim,
    numClasses: data.numClasses,
    name: name ?? `${data.name}/codes${stack.length}`,
  };
}
