// Parameter-efficient fine-tuning: the entry point. Methods (spec.ts), applyPeft / peftParamCount /
// specForBudget / mergePeft (apply.ts), adapter-only save and load (save.ts), and the layers each
// method adds (adapters.ts, ia3.ts, prompt.ts; BitFit adds none, bitfit.ts).
export { PEFT_METHODS, type ApplyPeftOptions, type PeftMethod, type PeftSpec } from "./spec";
export {
  applyPeft,
  mergePeft,
  methodParamCount,
  peftInfo,
  peftParamCount,
  PEFT_LAYER_CLASSES,
  specForBudget,
  type PeftInfo,
} from "./apply";
export { loadPeft, PEFT_FORMAT, PEFT_JSON, savePeft } from "./save";
export { BottleneckAdapter } from "./adapters";
export { IA3Scale } from "./ia3";
export { DropPromptTokens, PromptTokens, PROMPT_INIT_STDDEV } from "./prompt";
