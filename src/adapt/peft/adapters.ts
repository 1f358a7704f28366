// Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2020): h <- h + W_up · GELU(W_down · h + b_down)
// + b_up, a d -> m -> d bottleneck with a residual connection, inserted after a sub-layer's output
// projection and before the block's residual add.
//
// Initialisation: W_up and b_up start at ZERO, so the adapter is exactly the identity and the model
// equals its base at step 0; W_down starts Kaiming-uniform (bound 1/sqrt(d), as LoRA's A in
// loralib/PEFT and AdapterHub's "mam_adapter" init), b_down at zero. This zero up-projection is our
// (AdapterHub "mam_adapter"-style) choice, not the paper's: Houlsby et al. initialise BOTH projections
// near zero (zero-mean Gaussian, std 1e-2, truncated at two std), so their adapter is only nearly
// the identity; the paper's adapter-bert code draws both from a truncated normal of std 1e-3.
// Non-linearity: GELU, as adapter-bert's code and the ViT itself use (the paper does not fix one;
// AdapterHub's Pfeiffer config uses ReLU, its Houlsby config swish).
//
// Placement. Houlsby: one adapter after the attention output projection (block{i}_o -> adapter ->
// block{i}_add1) and one after the MLP (block{i}_mlp2 -> adapter -> block{i}_add2) per block, and,
// as in the paper, each block's LayerNorms (ln1, ln2: gamma and beta, 4·d parameters per block) train
// too, so peftParamCount counts them. Pfeiffer: one adapter after the MLP only (mlp2 -> adapter ->
// add2); the block LayerNorms stay frozen (our choice: only the adapter trains). "After mlp2 only" is
// the pre-norm simplification of AdapterFusion's placement (Pfeiffer et al. place the adapter after
// the post-norm block's FFN output, around its residual and LayerNorm; our ViT is pre-norm, so the
// adapter sits on the MLP branch before the residual add).
// Not mergeable: the non-linearity keeps the adapter out of any weight.
import * as tf from "@tensorflow/tfjs";
import { gelu } from "../../models/transformer";
import type { Kwargs, LayerArgs } from "../../models/layer-args";
import { checkFinite, checkPositiveInt } from "../../core/validate";
import { withInsertedLayers, type Insertion } from "./graph";

export interface BottleneckAdapterArgs extends LayerArgs {
  /** Hidden width m of the bottleneck. */
  bottleneck: number;
  /** Seed of W_down's initialisation. */
  seed?: number;
}

/** h + up(GELU(down(h))) over the last axis; starts as the identity (up = 0). */
export class BottleneckAdapter extends tf.layers.Layer {
  static className = "BottleneckAdapter";
  readonly bottleneck: number;
  readonly seed: number;
  downKernel: tf.LayerVariable | null = null;
  downBias: tf.LayerVariable | null = null;
  upKernel: tf.LayerVariable | null = null;
  upBias: tf.LayerVariable | null = null;

  constructor(args: BottleneckAdapterArgs) {
    super(args);
    checkPositiveInt("BottleneckAdapter", "bottleneck", args.bottleneck);
    this.bottleneck = args.bottleneck;
    this.seed = args.seed ?? 0;
    checkFinite("BottleneckAdapter", "seed", this.seed);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    const d = s[s.length - 1];
    if (d == null)
      throw new Error(`BottleneckAdapter ${this.name}: the last input dimension must be known, got [${s.join(", ")}]`);
    const bound = 1 / Math.sqrt(d);
    // randomUniform treats seed 0 as a seed (unlike truncatedNormal), so the seed is used as is.
    const down = tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.seed });
    this.downKernel = this.addWeight("down_kernel", [d, this.bottleneck], "float32", down, undefined, true);
    this.downBias = this.addWeight("down_bias", [this.bottleneck], "float32", tf.initializers.zeros(), undefined, true);
    this.upKernel = this.addWeight(
      "up_kernel",
      [this.bottleneck, d],
      "float32",
      tf.initializers.zeros(),
      undefined,
      true,
    );
    this.upBias = this.addWeight("up_bias", [d], "float32", tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [..., d]
      const d = x.shape[x.shape.length - 1];
      const x2 = x.reshape([-1, d]); // [n, d]
      const h = gelu(tf.matMul(x2, this.downKernel!.read()).add(this.downBias!.read())); // [n, m]
      const y = tf.matMul(h, this.upKernel!.read()).add(this.upBias!.read()); // [n, d]
      return x2.add(y).reshape(x.shape);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), bottleneck: this.bottleneck, seed: this.seed };
  }
}
tf.serialization.registerClass(BottleneckAdapter);

/** Parameters of one adapter on width d: W_down, b_down, W_up, b_up. */
export function adapterParams(d: number, bottleneck: number): number {
  return 2 * d * bottleneck + bottleneck + d;
}

/** A copy of `base` with an adapter after each of the `after` layers (`<layer>_adapter`); only the
 * adapters (and `head`, when given, and the base layers named in `alsoTrain`: Houlsby's LayerNorms)
 * train. */
export function applyAdapters(
  base: tf.LayersModel,
  after: string[],
  bottleneck: number,
  seed: number,
  head: string | null,
  alsoTrain: readonly string[] = [],
): tf.LayersModel {
  const inserts: Insertion[] = after.map((name, i) => ({
    after: name,
    name: `${name}_adapter`,
    className: BottleneckAdapter.className,
    config: { bottleneck, seed: seed * 1000 + i },
  }));
  return withInsertedLayers(base, inserts, head, alsoTrain);
}
