// The names of the methods in the results log, typed: every lesson that records a run builds its
// name with methodName(), and every reader (the review, its questions and guide) parses it back
// with parseMethod() and matches fields, never the text. One method, one name across lessons: a
// frozen base with a new head is "head-only" whether lesson 02, 03 or 04 ran it.
//
//   name      := kind [ "+source-head" ] { "@" modifier }
//   kind      := scratch | scratch-historical | scratch-modern | greedy-pretrained | zero-shot
//              | head-only | full-ft | freeze-<ratio 0.xx> | freeze-blocks-<k> | tune-<layer>[+<layer>…]
//              | lora-r<r>[-merged] | lora-qv-r<r> | schedule:<plain|discriminative|two-phase|progressive>
//              | bn-frozen:<plain|keras> | feature-cache | source-model
//              | ssl-pretrained:<greedy|denoising|masked|contrastive>
//              | source-pretrained[+dapt:<denoising|masked|contrastive>]
//              | adapter:<houlsby|pfeiffer>-b<bottleneck> | bitfit | ia3 | prompt-t<tokens>
//              | l2-sp | ewc | rehearsal | multi-task
//   modifier  := lr=<rate> | headLr=<rate> | decay=<layer decay> | strength=<penalty strength>
//
// Lesson 07's fine-tuned arms: "ssl-pretrained:<objective>" is an encoder pretrained without labels on the
// target's images by that objective (greedy: stacked denoising autoencoders, one layer at a time), then fine-tuned;
// "source-pretrained" is the supervised source model adapted to the target, "+dapt:<objective>" after continued
// (domain-adaptive) self-supervised pretraining on the target's unlabeled images. Each stands for the candidate (head,
// rate, or zero-shot for the source arms) chosen on validation; the lesson records that in `extra`.
//
// Lesson 09's parameter-efficient methods on the ViT: bottleneck adapters (Houlsby: after attention and after the MLP;
// Pfeiffer: after the MLP only) of a bottleneck width, BitFit (biases only), (IA)³ (learned rescaling of keys, values
// and MLP activations), prompt tuning with a number of learned tokens (LoRA keeps lora-qv-r<r>). And full fine-tuning
// with a defence against forgetting: l2-sp and ewc (penalties, their strength a modifier), rehearsal (a small replay
// buffer of task A) and multi-task (all of task A mixed in); their other settings are in `extra`.

export type ScheduleName = "plain" | "discriminative" | "two-phase" | "progressive";
export const SCHEDULE_NAMES: readonly ScheduleName[] = ["plain", "discriminative", "two-phase", "progressive"];

/** Lesson 07's pretraining objectives without labels: greedy stacked denoising autoencoders (one layer at a time)
 * and the end-to-end ones. */
export type PretrainObjective = "greedy" | "denoising" | "masked" | "contrastive";
export const PRETRAIN_OBJECTIVES: readonly PretrainObjective[] = ["greedy", "denoising", "masked", "contrastive"];
/** The objectives that continue from the source model (domain-adaptive pretraining): the end-to-end ones. */
export type DaptObjective = Exclude<PretrainObjective, "greedy">;
export const DAPT_OBJECTIVES: readonly DaptObjective[] = ["denoising", "masked", "contrastive"];

/** What a run changes besides its kind; absent = the lesson's default. */
export interface MethodModifiers {
  /** The transferred model keeps the source model's head instead of a fresh one. */
  head?: "source";
  /** Learning rate of the base (or of every layer from scratch), when not the default. */
  lr?: number;
  /** Learning rate of the head, when not the default. */
  headLr?: number;
  /** Discriminative rates: each layer down trains at layerDecay × the rate above. */
  layerDecay?: number;
  /** A penalty's strength (L2-SP's alpha, EWC's lambda). */
  strength?: number;
}

export type Method = MethodModifiers &
  (
    | { kind: "scratch"; recipe?: "historical" | "modern" }
    | { kind: "greedy-pretrained" }
    | { kind: "zero-shot" }
    /** The whole base frozen, a head trained on it (feature extraction). */
    | { kind: "head-only" }
    /** Every layer trains. */
    | { kind: "full-ft" }
    /** The bottom fraction `ratio` (strictly between 0 and 1) of the base frozen. */
    | { kind: "freeze"; ratio: number }
    /** A transformer with its embeddings and first `blocks` blocks frozen. */
    | { kind: "freeze-blocks"; blocks: number }
    /** Only the named base layers (and the head) train. */
    | { kind: "tune"; layers: string[] }
    /** LoRA adapters of rank r on the MLP's hidden layers, or on attention's q and v; `merged`:
     * scored after folding the adapters into the base weights. */
    | { kind: "lora"; r: number; on?: "qv"; merged?: boolean }
    | { kind: "schedule"; schedule: ScheduleName }
    | { kind: "bn-frozen"; rule: "plain" | "keras" }
    | { kind: "feature-cache" }
    /** The pretrained (source) model itself, scored on its own task. */
    | { kind: "source-model" }
    /** An encoder pretrained on the target's unlabeled images by `objective`, then fine-tuned (lesson 07). */
    | { kind: "ssl-pretrained"; objective: PretrainObjective }
    /** The supervised source model adapted to the target (lesson 07's best candidate on validation: fresh head,
     * source head or zero-shot); `dapt`: after continued self-supervised pretraining on the target's images. */
    | { kind: "source-pretrained"; dapt?: DaptObjective }
    /** Bottleneck adapters (lesson 09): Houlsby after attention and the MLP of every block, Pfeiffer after the MLP. */
    | { kind: "adapter"; placement: "houlsby" | "pfeiffer"; bottleneck: number }
    /** Only the biases (and the head) train. */
    | { kind: "bitfit" }
    /** Learned per-channel scales of keys, values and MLP activations (and the head) train. */
    | { kind: "ia3" }
    /** `tokens` learned prompt tokens in the input sequence (and the head) train. */
    | { kind: "prompt"; tokens: number }
    /** Full fine-tuning with a defence against forgetting task A (lesson 09). */
    | { kind: "l2-sp" }
    | { kind: "ewc" }
    | { kind: "rehearsal" }
    | { kind: "multi-task" }
  );

export type MethodKind = Method["kind"];

const SIMPLE_KINDS = [
  "greedy-pretrained",
  "zero-shot",
  "head-only",
  "full-ft",
  "feature-cache",
  "source-model",
  "bitfit",
  "ia3",
  "l2-sp",
  "ewc",
  "rehearsal",
  "multi-task",
] as const;

/** A rate as the name writes it: 1e-3, 3e-4. */
function rateText(x: number): string {
  return x.toExponential(0).replace("e+", "e");
}

/** The run's name in the results log and the tables. */
export function methodName(m: Method): string {
  let s: string;
  switch (m.kind) {
    case "scratch":
      s = m.recipe ? `scratch-${m.recipe}` : "scratch";
      break;
    case "freeze":
      if (!(m.ratio > 0 && m.ratio < 1)) {
        throw new Error(
          `methodName: freeze ratio must be in (0, 1), got ${m.ratio} (0 is "full-ft", 1 is "head-only")`,
        );
      }
      s = `freeze-${m.ratio.toFixed(2)}`;
      break;
    case "freeze-blocks":
      s = `freeze-blocks-${m.blocks}`;
      break;
    case "tune":
      s = `tune-${m.layers.join("+")}`;
      break;
    case "lora":
      s = `${m.on === "qv" ? "lora-qv" : "lora"}-r${m.r}${m.merged ? "-merged" : ""}`;
      break;
    case "schedule":
      s = `schedule:${m.schedule}`;
      break;
    case "bn-frozen":
      s = `bn-frozen:${m.rule}`;
      break;
    case "ssl-pretrained":
      s = `ssl-pretrained:${m.objective}`;
      break;
    case "source-pretrained":
      s = m.dapt ? `source-pretrained+dapt:${m.dapt}` : "source-pretrained";
      break;
    case "adapter":
      s = `adapter:${m.placement}-b${m.bottleneck}`;
      break;
    case "prompt":
      s = `prompt-t${m.tokens}`;
      break;
    default:
      s = m.kind;
  }
  if (m.head === "source") s += "+source-head";
  if (m.lr !== undefined) s += `@lr=${rateText(m.lr)}`;
  if (m.headLr !== undefined) s += `@headLr=${rateText(m.headLr)}`;
  if (m.layerDecay !== undefined) s += `@decay=${Number(m.layerDecay.toPrecision(3))}`;
  if (m.strength !== undefined) s += `@strength=${rateText(m.strength)}`;
  return s;
}

function parseKind(k: string): Method | null {
  if ((SIMPLE_KINDS as readonly string[]).includes(k)) return { kind: k as (typeof SIMPLE_KINDS)[number] };
  if (k === "scratch") return { kind: "scratch" };
  if (k === "scratch-historical" || k === "scratch-modern")
    return { kind: "scratch", recipe: k.slice(8) as "historical" | "modern" };
  let m: RegExpExecArray | null;
  if ((m = /^freeze-(0\.\d\d)$/.exec(k))) return { kind: "freeze", ratio: Number(m[1]) };
  if ((m = /^freeze-blocks-(\d+)$/.exec(k))) return { kind: "freeze-blocks", blocks: Number(m[1]) };
  if ((m = /^tune-(.+)$/.exec(k))) return { kind: "tune", layers: m[1].split("+") };
  if ((m = /^lora-(qv-)?r(\d+)(-merged)?$/.exec(k))) {
    const lora: Method = { kind: "lora", r: Number(m[2]) };
    if (m[1]) lora.on = "qv";
    if (m[3]) lora.merged = true;
    return lora;
  }
  if ((m = /^schedule:(.+)$/.exec(k)) && (SCHEDULE_NAMES as readonly string[]).includes(m[1]))
    return { kind: "schedule", schedule: m[1] as ScheduleName };
  if ((m = /^bn-frozen:(plain|keras)$/.exec(k))) return { kind: "bn-frozen", rule: m[1] as "plain" | "keras" };
  if ((m = /^ssl-pretrained:(.+)$/.exec(k)) && (PRETRAIN_OBJECTIVES as readonly string[]).includes(m[1]))
    return { kind: "ssl-pretrained", objective: m[1] as PretrainObjective };
  if (k === "source-pretrained") return { kind: "source-pretrained" };
  if ((m = /^source-pretrained\+dapt:(.+)$/.exec(k)) && (DAPT_OBJECTIVES as readonly string[]).includes(m[1]))
    return { kind: "source-pretrained", dapt: m[1] as DaptObjective };
  if ((m = /^adapter:(houlsby|pfeiffer)-b(\d+)$/.exec(k)))
    return { kind: "adapter", placement: m[1] as "houlsby" | "pfeiffer", bottleneck: Number(m[2]) };
  if ((m = /^prompt-t(\d+)$/.exec(k))) return { kind: "prompt", tokens: Number(m[1]) };
  return null;
}

/** The method a name stands for, or null when the name is not one methodName() writes (a record
 * from an older version of the lessons). */
export function parseMethod(name: string): Method | null {
  const [head, ...mods] = name.split("@");
  const source = head.endsWith("+source-head");
  const m = parseKind(source ? head.slice(0, -"+source-head".length) : head);
  if (m === null) return null;
  if (source) m.head = "source";
  for (const mod of mods) {
    const eq = mod.indexOf("=");
    const key = mod.slice(0, eq);
    const value = Number(mod.slice(eq + 1));
    if (eq < 0 || !Number.isFinite(value)) return null;
    if (key === "lr") m.lr = value;
    else if (key === "headLr") m.headLr = value;
    else if (key === "decay") m.layerDecay = value;
    else if (key === "strength") m.strength = value;
    else return null;
  }
  // Only names methodName() writes, in its form (e.g. not "freeze-1.00", which it calls "head-only").
  try {
    return methodName(m) === name ? m : null;
  } catch {
    return null;
  }
}

/** A question about methods: the fields a method must have. A field set to a value must be equal
 * (lists element by element); set to null it must be absent (e.g. `lr: null`: the default rate);
 * a field left out may be anything. `where` adds a test the fields cannot say. */
export type MethodPattern = { kind: MethodKind } & { [K in keyof UnionKeys]?: UnionKeys[K] | null } & {
  where?: (m: Method) => boolean;
};
type UnionKeys = MethodModifiers & {
  recipe: string;
  ratio: number;
  blocks: number;
  layers: string[];
  r: number;
  on: string;
  merged: boolean;
  schedule: string;
  rule: string;
  objective: string;
  dapt: string;
  placement: string;
  bottleneck: number;
  tokens: number;
};

/** True when the method has every field the pattern names. */
export function matchesMethod(m: Method, pattern: MethodPattern): boolean {
  const fields = m as unknown as Record<string, unknown>;
  for (const [key, want] of Object.entries(pattern)) {
    if (key === "where") continue;
    const got = fields[key];
    if (want === null) {
      if (got !== undefined) return false;
    } else if (Array.isArray(want)) {
      if (!Array.isArray(got) || got.length !== want.length || want.some((w, i) => w !== got[i])) return false;
    } else if (got !== want) {
      return false;
    }
  }
  return pattern.where ? pattern.where(m) : true;
}
