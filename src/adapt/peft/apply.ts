// applyPeft and its companions: one entry point over the PEFT methods (LoRA, Houlsby and Pfeiffer
// adapters, BitFit, (IA)³, prompt tuning), their parameter counts, the spec matching a budget, and
// the merge back into a plain model where the maths allows. Each model made here is remembered
// (spec and head) so that mergePeft and savePeft know what it is.
import * as tf from "@tensorflow/tfjs";
import { applyLora, loraLayers, mergeLora, outputLayerName, resolveLoraTargets } from "../lora/inject";
import { LoraDense } from "../lora/layer";
import { argError, checkFinite, checkOneOf, show } from "../../core/validate";
import { adapterParams, applyAdapters, BottleneckAdapter } from "./adapters";
import { applyBitFit, bitfitCount, bitfitWeights, layerParams, plainClone } from "./bitfit";
import { applyIA3, IA3Scale, mergeIA3 } from "./ia3";
import { ownWeightName, weightNamed } from "../../models/surgery";
import { applyPrompt, DropPromptTokens, PromptTokens } from "./prompt";
import {
  type ApplyPeftOptions,
  checkBase,
  checkPeftOptions,
  checkPeftSpec,
  HOULSBY_AFTER,
  HOULSBY_LAYER_NORMS,
  IA3_AFTER,
  layersMatching,
  LORA_TARGETS,
  PEFT_METHODS,
  PFEIFFER_AFTER,
  PROMPT_AFTER,
  PROMPT_POOL_INPUT,
  type PeftMethod,
  type PeftSpec,
  unitsOf,
} from "./spec";

/** Classes of the layers the PEFT methods add. */
export const PEFT_LAYER_CLASSES: readonly string[] = [
  LoraDense.className,
  BottleneckAdapter.className,
  IA3Scale.className,
  PromptTokens.className,
  DropPromptTokens.className,
];

/** What a PEFT model is: its spec and its fully trained head (null when the head is frozen). */
export interface PeftInfo {
  spec: PeftSpec;
  head: string | null;
}

const INFO = new WeakMap<tf.LayersModel, PeftInfo>();

function sizeOf(shape: (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** The base's head: its output layer. */
function headOf(base: tf.LayersModel): string {
  return outputLayerName(base);
}

/**
 * A new model (the base untouched) with the method's weights added: trainable are the method's
 * own weights, plus the head when `trainHead` (default true). Outputs equal the base's at
 * initialisation for every method but prompt tuning (prompt.ts says why). Every argument is checked.
 */
export function applyPeft(base: tf.LayersModel, spec: PeftSpec, options: ApplyPeftOptions = {}): tf.LayersModel {
  const where = "applyPeft";
  checkBase(where, base, PEFT_LAYER_CLASSES);
  checkPeftSpec(where, spec);
  const { trainHead, seed } = checkPeftOptions(where, options);
  const headName = headOf(base);
  const head = trainHead ? headName : null;
  // Resolve the targets first (named errors) so that nothing is built for a base that lacks them.
  let model: tf.LayersModel;
  switch (spec.method) {
    case "lora":
      resolveLoraTargets(base, LORA_TARGETS, where);
      model = applyLora(base, { r: spec.r, alpha: spec.alpha, targets: LORA_TARGETS, trainHead, seed });
      break;
    case "houlsby":
    case "pfeiffer": {
      const after = layersMatching(where, base, spec.method === "houlsby" ? HOULSBY_AFTER : PFEIFFER_AFTER, "block");
      const norms =
        spec.method === "houlsby" ? layersMatching(where, base, HOULSBY_LAYER_NORMS, "block LayerNorm") : [];
      model = applyAdapters(base, after, spec.bottleneck, seed, head, norms);
      break;
    }
    case "bitfit":
      model = applyBitFit(base, headName, trainHead);
      break;
    case "ia3":
      model = applyIA3(base, layersMatching(where, base, IA3_AFTER, "block k, v and mlp1"), head);
      break;
    case "prompt":
      layersMatching(where, base, new RegExp(`^${PROMPT_AFTER}$`), "a position-embedding");
      layersMatching(where, base, new RegExp(`^${PROMPT_POOL_INPUT}$`), "a final LayerNorm");
      model = applyPrompt(base, spec.tokens, seed, head);
      break;
  }
  INFO.set(model, { spec: { ...spec }, head });
  return model;
}

/** The PEFT spec and trained head of a model made by applyPeft or loadPeft; a named error otherwise. */
export function peftInfo(model: tf.LayersModel, where = "peftInfo"): PeftInfo {
  const info = model instanceof tf.LayersModel ? INFO.get(model) : undefined;
  if (!info)
    throw argError(
      where,
      "model",
      "a model made by applyPeft or loadPeft",
      model instanceof tf.LayersModel ? `model ${model.name}` : show(model),
    );
  return info;
}

/** The method's own trainable parameters on `base` (the head excluded), computed from the base's shapes. */
export function peftParamCount(base: tf.LayersModel, spec: PeftSpec): number {
  const where = "peftParamCount";
  checkBase(where, base, PEFT_LAYER_CLASSES);
  checkPeftSpec(where, spec);
  switch (spec.method) {
    case "lora":
      return resolveLoraTargets(base, LORA_TARGETS, where).reduce((s, n) => {
        const kernel = weightNamed(base.getLayer(n), "kernel");
        if (!kernel) throw new Error(`${where}: the LoRA target ${n} has no kernel`);
        const [fanIn, units] = kernel.shape as number[]; // kernel [in, units]
        return s + spec.r * (fanIn + units);
      }, 0);
    case "houlsby":
    case "pfeiffer": {
      const adapters = layersMatching(
        where,
        base,
        spec.method === "houlsby" ? HOULSBY_AFTER : PFEIFFER_AFTER,
        "block",
      ).reduce((s, n) => s + adapterParams(unitsOf(base, n), spec.bottleneck), 0);
      // Houlsby also trains every block's two LayerNorms (gamma and beta: 4·d per block).
      const norms =
        spec.method === "houlsby"
          ? layersMatching(where, base, HOULSBY_LAYER_NORMS, "block LayerNorm").reduce(
              (s, n) => s + base.getLayer(n).countParams(),
              0,
            )
          : 0;
      return adapters + norms;
    }
    case "bitfit":
      return bitfitCount(base, headOf(base));
    case "ia3":
      return layersMatching(where, base, IA3_AFTER, "block k, v and mlp1").reduce((s, n) => s + unitsOf(base, n), 0);
    case "prompt": {
      layersMatching(where, base, new RegExp(`^${PROMPT_AFTER}$`), "a position-embedding");
      return spec.tokens * unitsOf(base, PROMPT_AFTER);
    }
  }
}

/** Largest size tried for each sized method's one knob (LoRA's r, the bottleneck, the tokens). */
const MAX_KNOB = 4096;

/**
 * The spec of `method` whose peftParamCount on `base` is closest to `budget` (ties: the smaller).
 * BitFit and (IA)³ have one size: their one spec. LoRA keeps the default alpha.
 */
export function specForBudget(base: tf.LayersModel, method: PeftMethod, budget: number): PeftSpec {
  const where = "specForBudget";
  checkBase(where, base, PEFT_LAYER_CLASSES);
  checkOneOf(where, "method", method, PEFT_METHODS);
  checkFinite(where, "budget", budget);
  if (!(budget > 0)) throw argError(where, "budget", "a number of parameters > 0", show(budget));
  const make = (k: number): PeftSpec => {
    switch (method) {
      case "lora":
        return { method, r: k };
      case "houlsby":
      case "pfeiffer":
        return { method, bottleneck: k };
      case "prompt":
        return { method, tokens: k };
      default:
        return { method } as PeftSpec;
    }
  };
  if (method === "bitfit" || method === "ia3") {
    const spec = make(0);
    peftParamCount(base, spec); // checks that the base has what the method needs
    return spec;
  }
  // Every count is linear in the knob (c0 + c1·k): two counts give the line, the best k is next to budget.
  const c1 = peftParamCount(base, make(1));
  const c2 = peftParamCount(base, make(2));
  const slope = c2 - c1;
  const k0 = Math.min(MAX_KNOB, Math.max(1, Math.floor((budget - (c1 - slope)) / slope)));
  let best = k0;
  for (const k of [k0 - 1, k0, k0 + 1, k0 + 2]) {
    if (k < 1 || k > MAX_KNOB) continue;
    const gap = Math.abs(c1 + slope * (k - 1) - budget);
    const bestGap = Math.abs(c1 + slope * (best - 1) - budget);
    if (gap < bestGap || (gap === bestGap && k < best)) best = k;
  }
  return make(best);
}

/**
 * A plain model (no PEFT layers, every layer trainable) with the same outputs, for LoRA (A·B folded
 * into W), (IA)³ (the scales folded into W_k, W_v and W_mlp2) and BitFit (a clone: its trained
 * biases are ordinary weights). Null for the bottleneck adapters (a GELU sits between their two
 * projections, so no weight of the base can absorb them) and for prompt tuning (the prompts are extra
 * tokens the attention reads, not a change of a weight). The input model is left untouched.
 */
export function mergePeft(model: tf.LayersModel): tf.LayersModel | null {
  const { spec } = peftInfo(model, "mergePeft");
  switch (spec.method) {
    case "lora":
      return mergeLora(model);
    case "ia3":
      return mergeIA3(model);
    case "bitfit":
      return plainClone(model);
    default:
      return null;
  }
}

/** The weights a PEFT model trains as its method (head excluded), with names `<layer>/<weight>`. */
export function methodWeights(model: tf.LayersModel, info: PeftInfo): { name: string; variable: tf.LayerVariable }[] {
  const named = (l: tf.layers.Layer, ws: tf.LayerVariable[]) =>
    ws.map((w) => ({ name: `${l.name}/${ownWeightName(w)}`, variable: w }));
  switch (info.spec.method) {
    case "lora":
      return loraLayers(model).flatMap((l) => named(l, [l.loraA!, l.loraB!]));
    case "bitfit": {
      const keep = new Set(bitfitWeights(model, headOf(model)));
      return model.layers.flatMap((l) =>
        named(
          l,
          layerParams(l).filter((w) => keep.has(w)),
        ),
      );
    }
    default: {
      const cls =
        info.spec.method === "ia3" ? IA3Scale : info.spec.method === "prompt" ? PromptTokens : BottleneckAdapter;
      const own = model.layers.filter((l) => l instanceof cls);
      // Houlsby: the block LayerNorms train too.
      const norms = info.spec.method === "houlsby" ? model.layers.filter((l) => HOULSBY_LAYER_NORMS.test(l.name)) : [];
      return [...own, ...norms].flatMap((l) => named(l, layerParams(l)));
    }
  }
}

/** Parameters a PEFT model trains as its method (head excluded): what peftParamCount predicts. */
export function methodParamCount(model: tf.LayersModel): number {
  return methodWeights(model, peftInfo(model, "methodParamCount")).reduce((s, w) => s + sizeOf(w.variable.shape), 0);
}

/** Records what a model rebuilt elsewhere (loadPeft) is. */
export function rememberPeft(model: tf.LayersModel, info: PeftInfo): void {
  INFO.set(model, { spec: { ...info.spec }, head: info.head });
}
