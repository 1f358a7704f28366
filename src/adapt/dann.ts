// Domain-adversarial training (DANN, Ganin et al. 2016), the model side: the gradient-reversal layer
// and a source classifier with a domain classifier attached to its features through it. Forward, the
// reversal is the identity; backward it multiplies the incoming gradient by −λ, so one minimisation
// trains the domain classifier to tell source from target while pushing the features to make that
// impossible. The training loop is train/dann.ts.
import * as tf from "@tensorflow/tfjs";
import { argError, checkFinite, checkPositiveInt, show } from "../core/validate";
import { HEAD_LAYER } from "../models/mlp";
import { cloneModel } from "../models/surgery";

/** y = x forward; dL/dx = −λ · dL/dy backward. */
export function gradientReversal(x: tf.Tensor, lambda: number): tf.Tensor {
  checkFinite("gradientReversal", "lambda", lambda);
  // customGrad passes the inputs, then a save function (unused: the gradient needs nothing saved).
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    // A new tensor (clone), so tfjs records the op and uses the gradient below.
    return { value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.mul(dy, -lambda) };
  });
  return op(x);
}

export interface GradientReversalArgs {
  /** Scale of the reversed gradient (default 1); read at every call, so a schedule can change it. */
  lambda?: number;
  name?: string;
}

/** The gradient-reversal layer: a registered layer (it serializes with its λ). */
export class GradientReversal extends tf.layers.Layer {
  static className = "GradientReversal";
  lambda: number;

  constructor(args: GradientReversalArgs = {}) {
    super({ name: args.name });
    const lambda = args.lambda ?? 1;
    checkFinite("GradientReversal", "lambda", lambda);
    this.lambda = lambda;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return gradientReversal(x, this.lambda);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), lambda: this.lambda };
  }
}
tf.serialization.registerClass(GradientReversal);

/** Name of the domain classifier's output layer, and of its hidden layer. */
export const DOMAIN_HEAD = "domain_head";
export const DOMAIN_HIDDEN = "domain_hidden";
export const REVERSAL_LAYER = "gradient_reversal";
/** Width of the domain classifier's hidden layer. */
export const DEFAULT_DOMAIN_UNITS = 64;

export interface DannModelArgs {
  /** Layer whose output the domain classifier reads (default: the layer under the head). */
  featureLayer?: string;
  /** Hidden units of the domain classifier (default DEFAULT_DOMAIN_UNITS). */
  domainUnits?: number;
  /** Seeds the domain classifier's initialisation. */
  seed?: number;
}

/** A DANN model built on a copy of a source classifier; every part shares the copy's weights. */
export interface DannModel {
  /** inputs → [class probabilities [b, classes], P(target) [b, 1]]: what training calls. */
  model: tf.LayersModel;
  /** inputs → class probabilities: the adapted classifier (for evaluation). */
  classifier: tf.LayersModel;
  /** The reversal layer: set its `lambda` to schedule λ. */
  reversal: GradientReversal;
  featureLayer: string;
  /** Names of the domain classifier's layers (the reversal and the two Dense layers). */
  domainLayers: string[];
  dispose(): void;
}

/** The source classifier (copied) with a domain classifier on `featureLayer`'s output through a
 * gradient-reversal layer: features → GRL → Dense(domainUnits, relu) → Dense(1, sigmoid). */
export function buildDannModel(source: tf.LayersModel, args: DannModelArgs = {}): DannModel {
  const where = "buildDannModel";
  const names = source.layers.map((l) => l.name);
  const headAt = names.indexOf(HEAD_LAYER);
  if (headAt < 1)
    throw argError(where, "source", `a classifier whose top layer is "${HEAD_LAYER}"`, `layers ${names.join(", ")}`);
  const featureLayer = args.featureLayer ?? names[headAt - 1];
  if (!names.includes(featureLayer) || featureLayer === HEAD_LAYER)
    throw argError(
      where,
      "featureLayer",
      `a layer below the head (${names.slice(1, headAt).join(", ")})`,
      show(featureLayer),
    );
  const units = args.domainUnits ?? DEFAULT_DOMAIN_UNITS;
  checkPositiveInt(where, "domainUnits", units);
  const seed = args.seed ?? 0;
  checkFinite(where, "seed", seed);
  const copy = cloneModel(source);
  copy.layers.forEach((l) => (l.trainable = true));
  const features = copy.getLayer(featureLayer).output as tf.SymbolicTensor; // [b, featureDim]
  const reversal = new GradientReversal({ lambda: 1, name: REVERSAL_LAYER });
  const hidden = tf.layers.dense({
    units,
    activation: "relu",
    name: DOMAIN_HIDDEN,
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 71 }),
  });
  const out = tf.layers.dense({
    units: 1,
    activation: "sigmoid",
    name: DOMAIN_HEAD,
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 72 }),
  });
  const domain = out.apply(hidden.apply(reversal.apply(features))) as tf.SymbolicTensor; // [b, 1]
  const classes = copy.outputs[0]; // [b, classes]
  const model = tf.model({ inputs: copy.inputs, outputs: [classes, domain], name: "dann" });
  const classifier = tf.model({ inputs: copy.inputs, outputs: classes, name: "dann_classifier" });
  return {
    model,
    classifier,
    reversal,
    featureLayer,
    domainLayers: [REVERSAL_LAYER, DOMAIN_HIDDEN, DOMAIN_HEAD],
    // The models share the copy's layers; the copy and the domain layers own the weights.
    dispose: () => {
      model.dispose();
    },
  };
}
