// (IA)³ (Liu et al. 2022): learned per-channel rescaling vectors l_k, l_v (of the attention keys and
// values) and l_ff (of the MLP's hidden activations, i.e. the GELU output of mlp1), initialised to
// ones so the model starts equal to its base. Mergeable: k·l_k = x·(W_k diag(l_k)) + b_k·l_k, so
// W_k's columns and b_k are scaled (same for v), and GELU(·)·l_ff feeding mlp2 folds into W_mlp2's rows.
import * as tf from "@tensorflow/tfjs";
import type { Kwargs, LayerArgs } from "../../models/layer-args";
import { weightNamed } from "../../models/surgery";
import {
  copySharedWeights,
  modelConfig,
  modelFromConfig,
  removeLayer,
  setConfigTrainable,
  withInsertedLayers,
} from "./graph";

/** x · l over the last axis, l a learned vector (ones at the start). */
export class IA3Scale extends tf.layers.Layer {
  static className = "IA3Scale";
  scale: tf.LayerVariable | null = null;

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    const d = s[s.length - 1];
    if (d == null)
      throw new Error(`IA3Scale ${this.name}: the last input dimension must be known, got [${s.join(", ")}]`);
    this.scale = this.addWeight("scale", [d], "float32", tf.initializers.ones(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [..., d]
      return x.mul(this.scale!.read()); // [..., d] · [d]
    });
  }
}
tf.serialization.registerClass(IA3Scale);

/** A copy of `base` with a scale after each of the `after` layers (`<layer>_ia3`). */
export function applyIA3(base: tf.LayersModel, after: string[], head: string | null): tf.LayersModel {
  return withInsertedLayers(
    base,
    after.map((name) => ({ after: name, name: `${name}_ia3`, className: IA3Scale.className, config: {} })),
    head,
  );
}

/** The layer (by name) that consumes `name`'s output, if exactly one does. */
function soleConsumer(model: tf.LayersModel, name: string): tf.layers.Layer {
  const out = model.getLayer(name).output as tf.SymbolicTensor;
  const users = model.layers.filter((l) => l.inboundNodes.some((n) => n.inputTensors.some((t) => t.id === out.id)));
  if (users.length !== 1)
    throw new Error(
      `mergePeft: ${name} feeds ${users.length} layers (${users.map((l) => l.name).join(", ")}); expected one`,
    );
  return users[0];
}

/**
 * A plain model with the scales folded in: a scale after a Dense whose output is linear (k, v)
 * multiplies that Dense's kernel columns and bias; a scale after an activation (mlp1's GELU) multiplies
 * the rows of the kernel of the Dense that consumes it (mlp2). Every layer of the result trains.
 */
export function mergeIA3(model: tf.LayersModel): tf.LayersModel {
  const scales = model.layers.filter((l): l is IA3Scale => l instanceof IA3Scale);
  const config = modelConfig(model);
  for (const s of scales) removeLayer(config, s.name);
  setConfigTrainable(config, () => true);
  const out = modelFromConfig(config);
  copySharedWeights(model, out);
  for (const s of scales) {
    const producer = s.inboundNodes[0].inboundLayers[0];
    const activation = (producer.getConfig().activation as string | undefined) ?? "linear";
    const scale = s.scale!.read(); // [d]
    if (activation === "linear") {
      const target = out.getLayer(producer.name);
      const kernel = weightNamed(target, "kernel"); // [in, d]
      const bias = weightNamed(target, "bias"); // [d] or absent
      if (!kernel) throw new Error(`mergePeft: ${producer.name} has no kernel to fold the scale ${s.name} into`);
      for (const w of bias ? [kernel, bias] : [kernel]) {
        const next = tf.tidy(() => w.read().mul(scale));
        w.write(next);
        next.dispose();
      }
    } else {
      const consumer = soleConsumer(model, s.name);
      if (consumer.getClassName() !== "Dense")
        throw new Error(
          `mergePeft: the scale ${s.name} follows a non-linear layer and feeds ${consumer.name} (${consumer.getClassName()}), not a Dense; it cannot be folded`,
        );
      const kernel = weightNamed(out.getLayer(consumer.name), "kernel"); // [d, out]
      if (!kernel) throw new Error(`mergePeft: ${consumer.name} has no kernel to fold the scale ${s.name} into`);
      const folded = tf.tidy(() => kernel.read().mul(scale.reshape([-1, 1])));
      kernel.write(folded);
      folded.dispose();
    }
  }
  return out;
}
