// The types every custom tfjs layer of the library repeats: its constructor options and the
// keyword arguments of its call.
import * as tf from "@tensorflow/tfjs";

/** Constructor options every tfjs layer takes (name, trainable, inputShape…). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** The keyword arguments of Layer.call ({training}, {mask}…). */
export type Kwargs = Parameters<tf.layers.Layer["call"]>[1];
