// FLOP counts of a tfjs-layers model's training step, from its layers: every matmul (Dense,
// LoraDense's frozen kernel and its A, B factors, attention's q·kᵀ and p·v) costs 2·macs forward,
// 2·macs more for its weight gradient when that weight trains, and 2·macs more for its input
// gradient when anything below it trains. Biases, norms, activations and optimizer not counted.
import * as tf from "@tensorflow/tfjs";

/** One forward matmul, per sample. */
export interface MatmulCost {
  /** Multiply-adds per sample. */
  macs: number;
  /** Its weight operand trains (backward computes a weight gradient). */
  trainable: boolean;
  /** Its input depends on a trainable weight (backward computes an input gradient). */
  inputNeedsGrad: boolean;
}

export const MATMUL_FLOP_RULE =
  "per matmul: 2·macs forward + 2·macs if its weight trains + 2·macs if anything below it trains (matmuls only)";

export function forwardFlopsPerSample(costs: MatmulCost[]): number {
  return 2 * costs.reduce((s, c) => s + c.macs, 0);
}

export function trainFlopsPerSample(costs: MatmulCost[]): number {
  return 2 * costs.reduce((s, c) => s + c.macs * (1 + (c.trainable ? 1 : 0) + (c.inputNeedsGrad ? 1 : 0)), 0);
}

/** Rows per sample a layer's matmul sees: the product of the input's middle dims ([b, T, d] -> T). */
function rowsPerSample(shape: (number | null)[]): number {
  return shape.slice(1, -1).reduce((a: number, b) => a * (b ?? 1), 1);
}

function inputShape(layer: tf.layers.Layer): (number | null)[] {
  const s = layer.input;
  return (Array.isArray(s) ? s[0] : s).shape;
}

/** Matmul costs of a model's layers in model order (a topological order for tfjs models), with
 * trainability as set now. Layers without matmuls pass "needs grad" from inputs to output. */
export function modelMatmulCosts(model: tf.LayersModel): MatmulCost[] {
  const needsGrad = new Map<tf.layers.Layer, boolean>();
  const costs: MatmulCost[] = [];
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const inNG = inbound.some((l) => needsGrad.get(l) === true);
    const trains = layer.trainable && layer.trainableWeights.length > 0;
    const cls = layer.getClassName();
    if (cls === "Dense" || cls === "LoraDense") {
      const shape = inputShape(layer);
      const rows = rowsPerSample(shape);
      const inDim = shape[shape.length - 1] ?? 0;
      const units = (layer as unknown as { units: number }).units;
      if (cls === "Dense") {
        costs.push({ macs: rows * inDim * units, trainable: trains, inputNeedsGrad: inNG });
      } else {
        // LoraDense: frozen x·W beside x·A·B with trainable A [in, r], B [r, units].
        const r = (layer as unknown as { r: number }).r;
        costs.push({ macs: rows * inDim * units, trainable: false, inputNeedsGrad: inNG });
        costs.push({ macs: rows * inDim * r, trainable: trains, inputNeedsGrad: inNG });
        costs.push({ macs: rows * r * units, trainable: trains, inputNeedsGrad: inNG || trains });
      }
    } else if (cls === "DotProductAttention") {
      // q·kᵀ and p·v over all heads: T·T·d each; both operands are activations.
      const shape = inputShape(layer); // q: [b, T, d]
      const t = shape[1] ?? 0;
      const d = shape[2] ?? 0;
      for (let i = 0; i < 2; i++) costs.push({ macs: t * t * d, trainable: inNG, inputNeedsGrad: inNG });
    }
    needsGrad.set(layer, inNG || trains);
  }
  return costs;
}
