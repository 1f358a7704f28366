// The small models the kill-during-save tests save and compare: test/cache-kill.test.ts and
// its child process test/helpers/kill-writer.ts build them from the same seeds.
import * as tf from "@tensorflow/tfjs";
import { applyLora, loraLayers } from "../../src/adapt/lora/inject";
import { tinySource } from "./fixtures";

/** Fixed inputs to predict on: [4, cols]. */
export const probeInputs = (cols: number) => tf.linspace(-1, 1, 4 * cols).reshape([4, cols]);

export function predictions(m: tf.LayersModel, cols: number): number[] {
  return tf.tidy(() => Array.from((m.predict(probeInputs(cols)) as tf.Tensor).dataSync()));
}

/** One Dense layer, inputDim → units, weights from `seed`. */
export function dense(inputDim: number, units: number, seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [inputDim],
      units,
      kernelInitializer: tf.initializers.randomNormal({ seed }),
      biasInitializer: "ones",
    }),
  );
  return m;
}

/** LoRA on the tiny source with non-zero B (so adapters from different seeds differ). */
export function lora(r: number, seed: number): tf.LayersModel {
  const m = applyLora(tinySource(0), { r, targets: ["hidden1", "hidden2"], trainHead: true });
  loraLayers(m).forEach((l, i) => {
    const b = tf.randomNormal(l.loraB!.shape as number[], 0, 0.5, "float32", seed + i);
    l.loraB!.write(b);
    b.dispose();
  });
  return m;
}
