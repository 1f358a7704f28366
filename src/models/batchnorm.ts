// BatchNormalization that follows Keras' rule for frozen layers. tfjs 4.22 ignores `trainable` in
// BatchNormalization.call: with {training: true} a frozen BN layer still normalizes with the batch's
// statistics and still updates its moving mean/variance. Keras (TF ≥ 2) runs a frozen BN layer in
// inference mode. `KerasBatchNormalization` is a registered subclass that does the same, so the
// rule travels with the model's config: through clones, LoRA injection and merging, save and load.
import * as tf from "@tensorflow/tfjs";

type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;
type BatchNormLayer = ReturnType<typeof tf.layers.batchNormalization>;
type Kwargs = Parameters<tf.layers.Layer["call"]>[1];

// tfjs exports a factory, not the class; its constructor is the base every BN layer shares, so a
// subclass of it deserializes, trains and saves like the built-in layer.
const BatchNormalization = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as new (
  args?: BatchNormArgs,
) => BatchNormLayer;

export interface KerasBatchNormalizationArgs extends BatchNormArgs {
  /** Frozen (`trainable = false`) → inference mode in training too (default true). False gives
   * plain tfjs behaviour, kept only to show the pitfall. */
  kerasRule?: boolean;
}

export class KerasBatchNormalization extends BatchNormalization {
  static className = "KerasBatchNormalization";
  /** Read at every call, so freezing or unfreezing later takes effect at once. */
  kerasRule: boolean;

  constructor(args: KerasBatchNormalizationArgs = {}) {
    const { kerasRule, ...base } = args;
    super(base);
    this.kerasRule = kerasRule ?? true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = Boolean(kwargs?.training) && (this.trainable || !this.kerasRule);
    return super.call(inputs, { ...kwargs, training });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kerasRule: this.kerasRule };
  }
}
// The constructor type tfjs expects names the static fromConfig every Layer inherits; the base
// above is typed without statics, hence the cast.
tf.serialization.registerClass(
  KerasBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
);

/** A BatchNormalization layer that follows Keras' rule (see KerasBatchNormalization). */
export function kerasBatchNormalization(args: KerasBatchNormalizationArgs = {}): KerasBatchNormalization {
  return new KerasBatchNormalization(args);
}

/** The model's BatchNormalization layers (built-in or Keras-rule), top level, bottom to top. */
export function batchNormLayers(model: tf.LayersModel): BatchNormLayer[] {
  return model.layers.filter((l): l is BatchNormLayer => l instanceof BatchNormalization);
}

/** True when the layer runs in inference mode while frozen (Keras' rule). */
export function followsKerasBatchNormRule(layer: tf.layers.Layer): boolean {
  return layer instanceof KerasBatchNormalization && layer.kerasRule;
}
