// The PEFT methods' specs: their names, their fields, the checks of a spec and of the options, and
// which layers of a ViT (src/models/transformer.ts buildViT) each method touches.
import * as tf from "@tensorflow/tfjs";
import { argError, checkFinite, checkOneOf, checkPositiveFinite, checkPositiveInt, show } from "../../core/validate";

export type PeftMethod = "lora" | "houlsby" | "pfeiffer" | "bitfit" | "ia3" | "prompt";
export const PEFT_METHODS: readonly PeftMethod[] = ["lora", "houlsby", "pfeiffer", "bitfit", "ia3", "prompt"];

export type PeftSpec =
  | { method: "lora"; r: number; alpha?: number }
  | { method: "houlsby"; bottleneck: number }
  | { method: "pfeiffer"; bottleneck: number }
  | { method: "bitfit" }
  | { method: "ia3" }
  | { method: "prompt"; tokens: number };

export interface ApplyPeftOptions {
  /** Also train the output layer (the head) fully; default true. */
  trainHead?: boolean;
  /** Seed of the random initialisations (LoRA's A, the adapters' down-projections, the prompt tokens). */
  seed?: number;
}

/** The fields each method's spec takes (besides `method`). */
const SPEC_FIELDS: Record<PeftMethod, readonly string[]> = {
  lora: ["r", "alpha"],
  houlsby: ["bottleneck"],
  pfeiffer: ["bottleneck"],
  bitfit: [],
  ia3: [],
  prompt: ["tokens"],
};

/** Checks a spec: a known method, only its fields, each valid. */
export function checkPeftSpec(where: string, spec: unknown): asserts spec is PeftSpec {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec))
    throw argError(
      where,
      "spec",
      `an object { method, ... } with method one of ${PEFT_METHODS.join(", ")}`,
      show(spec),
    );
  const s = spec as Record<string, unknown>;
  checkOneOf(where, "spec.method", s.method, PEFT_METHODS);
  const fields = SPEC_FIELDS[s.method];
  for (const k of Object.keys(s)) {
    if (k !== "method" && !fields.includes(k))
      throw argError(
        where,
        `spec.${k}`,
        `absent (a ${s.method} spec takes ${fields.length ? fields.join(", ") : "no field besides method"})`,
        show(s[k]),
      );
  }
  switch (s.method) {
    case "lora":
      checkPositiveInt(where, "spec.r", s.r, "the LoRA rank, e.g. 4");
      if (s.alpha !== undefined) checkPositiveFinite(where, "spec.alpha", s.alpha, "the update is scaled by alpha / r");
      break;
    case "houlsby":
    case "pfeiffer":
      checkPositiveInt(where, "spec.bottleneck", s.bottleneck, "the adapter's hidden width, e.g. 8");
      break;
    case "prompt":
      checkPositiveInt(where, "spec.tokens", s.tokens, "the number of learned prompt tokens, e.g. 4");
      break;
  }
}

export function checkPeftOptions(where: string, options: unknown): Required<ApplyPeftOptions> {
  if (options === null || typeof options !== "object" || Array.isArray(options))
    throw argError(where, "options", "an object { trainHead?, seed? }", show(options));
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== "trainHead" && k !== "seed")
      throw argError(where, `options.${k}`, "absent (options take trainHead, seed)", show(o[k]));
  const trainHead = o.trainHead ?? true;
  if (typeof trainHead !== "boolean") throw argError(where, "options.trainHead", "true or false", show(trainHead));
  const seed = o.seed ?? 0;
  checkFinite(where, "options.seed", seed);
  return { trainHead, seed };
}

/** A base must be a built functional model without PEFT layers. */
export function checkBase(
  where: string,
  base: unknown,
  peftClasses: readonly string[],
): asserts base is tf.LayersModel {
  if (!(base instanceof tf.LayersModel)) throw argError(where, "base", "a tf.LayersModel", show(base));
  if (base instanceof tf.Sequential)
    throw argError(
      where,
      "base",
      "a functional model (tf.model)",
      `the Sequential model ${base.name}`,
      "the PEFT methods rebuild the model from its functional config; build it with tf.model({inputs, outputs})",
    );
  const peft = base.layers.filter((l) => peftClasses.includes(l.getClassName()));
  if (peft.length)
    throw argError(
      where,
      "base",
      "a model without PEFT layers",
      `a model with ${peft.map((l) => `${l.name} (${l.getClassName()})`).join(", ")}`,
      "apply PEFT to the plain base model, or mergePeft first",
    );
}

/** LoRA targets: every block's query and value projections (Hu et al. 2021; PEFT's default for ViT). */
export const LORA_TARGETS = /^block\d+_(q|v)$/;
/** Houlsby adapters follow each block's attention output projection and its MLP output. */
export const HOULSBY_AFTER = /^block\d+_(o|mlp2)$/;
/** Houlsby et al. (2019) also train each block's LayerNorms (gamma and beta of ln1 and ln2). */
export const HOULSBY_LAYER_NORMS = /^block\d+_ln[12]$/;
/** Pfeiffer adapters follow each block's MLP output only. */
export const PFEIFFER_AFTER = /^block\d+_mlp2$/;
/** (IA)³ scales keys, values and the MLP's hidden activations (the GELU output of mlp1). */
export const IA3_AFTER = /^block\d+_(k|v|mlp1)$/;
/** Prompt tokens join the token sequence after the position embedding. */
export const PROMPT_AFTER = "pos_embed";
/** The layer whose output is pooled over tokens; prompt tokens are dropped just before it. */
export const PROMPT_POOL_INPUT = "final_ln";

/** Names of the layers matching `re`, in model order; a named error listing the layers when none does. */
export function layersMatching(where: string, model: tf.LayersModel, re: RegExp, what: string): string[] {
  const names = model.layers.filter((l) => re.test(l.name)).map((l) => l.name);
  if (names.length === 0)
    throw argError(
      where,
      "base",
      `a ViT from buildViT with ${what} layers matching ${re}`,
      `a model with layers ${model.layers.map((l) => l.name).join(", ")}`,
    );
  return names;
}

/** Output units of a Dense-like layer (its last output dimension). */
export function unitsOf(model: tf.LayersModel, name: string): number {
  const shape = model.getLayer(name).outputShape as (number | null)[];
  const d = shape[shape.length - 1];
  if (d == null) throw new Error(`peft: layer ${name} has an unknown output width`);
  return d;
}
