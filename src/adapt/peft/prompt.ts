// Prompt tuning (Lester et al. 2021; for ViTs, "shallow" visual prompt tuning, Jia et al. 2022): n
// learned tokens are prepended to the token sequence after the position embedding (they carry no
// position embedding of their own), every block attends over patches and prompts, and the prompt
// tokens are dropped again before the mean pooling, as VPT discards them at its class-token head:
// the pooled vector is the mean of the patch tokens only, so the prompts act through attention alone.
// Initialisation: truncated normal with std 0.02 (the ViT's own token initialisation, as its position
// embedding; VPT uses a small uniform, Lester et al. sampled vocabulary embeddings).
// NOT equal to the base at initialisation: whatever their values, the prompt tokens take part in
// every softmax over keys and so shift every patch token's attention output. Not mergeable either:
// the prompts are extra inputs of the attention, not a change of any weight.
import * as tf from "@tensorflow/tfjs";
import type { Kwargs, LayerArgs } from "../../models/layer-args";
import { checkPositiveInt } from "../../core/validate";
import { withInsertedLayers } from "./graph";
import { PROMPT_AFTER, PROMPT_POOL_INPUT } from "./spec";

export const PROMPT_INIT_STDDEV = 0.02;

export interface PromptArgs extends LayerArgs {
  tokens: number;
  seed?: number;
}

/** [b, T, d] -> [b, n + T, d]: n learned tokens before the sequence. */
export class PromptTokens extends tf.layers.Layer {
  static className = "PromptTokens";
  readonly tokens: number;
  readonly seed: number;
  prompt: tf.LayerVariable | null = null;

  constructor(args: PromptArgs) {
    super(args);
    checkPositiveInt("PromptTokens", "tokens", args.tokens);
    this.tokens = args.tokens;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    if (s.length !== 3 || s[2] == null)
      throw new Error(`PromptTokens ${this.name}: input must be [batch, tokens, width], got [${s.join(", ")}]`);
    // truncatedNormal treats seed 0 as "unseeded" (tfjs-core 4.22): map it to a fixed non-zero seed.
    const init = tf.initializers.truncatedNormal({
      stddev: PROMPT_INIT_STDDEV,
      seed: this.seed === 0 ? 0x9e37 : this.seed,
    });
    this.prompt = this.addWeight("prompt", [this.tokens, s[2]], "float32", init, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = inputShape as tf.Shape;
    return [s[0], s[1] == null ? null : s[1] + this.tokens, s[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, T, d]
      const [b, , d] = x.shape;
      // A broadcasting add (not tile): its gradient is one sum over the batch.
      const p = tf.zeros([b, 1, d]).add(this.prompt!.read().expandDims(0)); // [b, n, d]
      return tf.concat([p, x], 1); // [b, n + T, d]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), tokens: this.tokens, seed: this.seed };
  }
}
tf.serialization.registerClass(PromptTokens);

/** [b, n + T, d] -> [b, T, d]: drops the first n (prompt) tokens. */
export class DropPromptTokens extends tf.layers.Layer {
  static className = "DropPromptTokens";
  readonly tokens: number;

  constructor(args: PromptArgs) {
    super(args);
    checkPositiveInt("DropPromptTokens", "tokens", args.tokens);
    this.tokens = args.tokens;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = inputShape as tf.Shape;
    return [s[0], s[1] == null ? null : s[1] - this.tokens, s[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // [b, n + T, d]
      return x.slice([0, this.tokens, 0], [-1, -1, -1]); // [b, T, d]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), tokens: this.tokens };
  }
}
tf.serialization.registerClass(DropPromptTokens);

/** Name of the prompt layer (and of the layer that drops the prompts before pooling). */
export const PROMPT_LAYER = "prompt";
export const PROMPT_DROP_LAYER = "prompt_drop";

/** A copy of `base` with `tokens` prompt tokens; only the prompt (and `head`, when given) trains. */
export function applyPrompt(base: tf.LayersModel, tokens: number, seed: number, head: string | null): tf.LayersModel {
  return withInsertedLayers(
    base,
    [
      { after: PROMPT_AFTER, name: PROMPT_LAYER, className: PromptTokens.className, config: { tokens, seed } },
      { after: PROMPT_POOL_INPUT, name: PROMPT_DROP_LAYER, className: DropPromptTokens.className, config: { tokens } },
    ],
    head,
  );
}
