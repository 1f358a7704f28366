// Lesson 10's interview question bank, as data: each question has a topic, an answer written for
// this project and follow-ups; answers are functions of the measured results (Facts), so every
// number they state was measured by lessons 01-05 on this machine, or is said to be missing.
import { DEFAULT_LAYER_DECAY } from "../adapt/schedules";
import { claim, NOT_MEASURED, type Facts, type ResultQuery } from "./review";
import { formatCount } from "../core/format";
import { queryAt } from "./queries";
import { prose } from "../core/format";

export type ReviewTopic =
  | "greedy-pretraining"
  | "vanishing-gradients"
  | "greedy-vs-freezing"
  | "greedy-today"
  | "which-layers"
  | "over-freezing"
  | "unfreezing"
  | "discriminative-lr"
  | "batchnorm"
  | "forgetting"
  | "freezing-savings"
  | "lora"
  | "adapters"
  | "combining"
  | "self-supervised";

/** Every topic the bank must cover, with the interview theme it stands for. */
export const REVIEW_TOPICS: Readonly<Record<ReviewTopic, string>> = {
  "greedy-pretraining": "What greedy layer-wise pretraining is and why it mattered (2006-2007)",
  "vanishing-gradients": "Why deep nets did not train before: vanishing gradients",
  "greedy-vs-freezing": "Greedy pretraining compared with freezing pretrained layers",
  "greedy-today": "When greedy pretraining is still useful",
  "which-layers": "Which layers to freeze and how to decide (similarity, data size, compute)",
  "over-freezing": "Downsides of freezing too much",
  unfreezing: "Unfreezing during training (gradual / progressive)",
  "discriminative-lr": "Discriminative learning rates",
  batchnorm: "BatchNorm when frozen",
  forgetting: "Catastrophic forgetting",
  "freezing-savings": "Computational savings of freezing (gradients, optimizer memory)",
  lora: "LoRA: rank, alpha, where to apply, merge",
  adapters: "Adapters and parameter-efficient fine-tuning",
  combining: "Combining the approaches",
  "self-supervised": "Self-supervised pretraining as the modern successor",
};

export interface FollowUp {
  question: string;
  answer: (f: Facts) => string;
}

export interface ReviewQuestion {
  id: string;
  topic: ReviewTopic;
  question: string;
  answer: (f: Facts) => string;
  followUps: FollowUp[];
}

/** Adam keeps two float32 moments per trainable weight, next to the weight and its gradient. */
export const ADAM_BYTES_PER_PARAM = 8;

/** The mean over a query's runs (every seed of the row `f.find(q)` stands for) of a value read
 * from each run; runs without the value are skipped; null when there is none. */
function runMean(f: Facts, q: ResultQuery, value: (r: Facts["rows"][number]) => unknown): number | null {
  const s = f.find(q);
  if (!s) return null;
  const xs = f.rows
    .filter(
      (r) =>
        r.lesson === s.lesson && r.method === s.method && r.task === s.task && r.labelsPerClass === s.labelsPerClass,
    )
    .map(value)
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Mean seconds per optimizer step of a query's runs (from extra.steps), or null. */
export function secondsPerStep(f: Facts, q: ResultQuery): number | null {
  return runMean(f, q, (r) =>
    typeof r.seconds === "number" && typeof r.extra?.steps === "number" && r.extra.steps > 0
      ? r.seconds / r.extra.steps
      : null,
  );
}

/** "12.3 ms/step (head-only) vs 30.1 ms/step (full-ft), 0.41×", or NOT_MEASURED. */
function citeStepTimes(f: Facts, a: ResultQuery, b: ResultQuery): string {
  const [ta, tb] = [secondsPerStep(f, a), secondsPerStep(f, b)];
  if (ta === null || tb === null) return NOT_MEASURED;
  return prose`${(1000 * ta).toFixed(1)} vs ${(1000 * tb).toFixed(1)} ms per step (${(ta / tb).toFixed(2)}×)
    [lesson ${f.find(a)?.lesson}]`;
}

/** Optimizer-state bytes of a query's trainable parameters, or NOT_MEASURED. */
function citeAdamBytes(f: Facts, q: ResultQuery): string {
  const p = f.find(q)?.trainableParams;
  return p == null
    ? NOT_MEASURED
    : prose`${formatCount(ADAM_BYTES_PER_PARAM * p)} bytes of Adam state for ${formatCount(p)}
    trainable weights`;
}

/** Mean of a numeric extra field over a query's latest runs, or null. */
export function extraMean(f: Facts, q: ResultQuery, key: string): number | null {
  return runMean(f, q, (r) => r.extra?.[key]);
}

/** Lesson 02's epoch times: full vs frozen vs on cached features, with the FLOP ratio. */
function citeEpochTimes(f: Facts): string {
  const q = queryAt("featureCache", "few");
  const [full, frozen, cached, flops, speedup] = [
    "epochSecondsFull",
    "epochSecondsFrozen",
    "epochSecondsCached",
    "flopRatio",
    "speedupPerEpoch",
  ].map((k) => extraMean(f, q, k));
  if (full === null || frozen === null) return NOT_MEASURED;
  const parts = [
    prose`an epoch takes ${full.toFixed(3)} s training everything and ${frozen.toFixed(3)} s with
    the base frozen (${(frozen / full).toFixed(2)}×${flops !== null ? `; the FLOP ratio is ${flops.toFixed(2)}` : ""})`,
  ];
  if (cached !== null)
    parts.push(
      prose`${cached.toFixed(4)} s on cached features${speedup !== null ? ` (${speedup.toFixed(1)}× faster than frozen)` : ""}`,
    );
  return `${parts.join(", and ")} [02 feature-cache]`;
}

/** Gradient ratio head / layer 1 at init of lesson 01's runs of a method (extra.gradientRatio). */
function citeGradientRatio(f: Facts, q: ResultQuery): string {
  const s = f.find(q);
  const xs = s
    ? f.rows
        .filter((r) => r.lesson === s.lesson && r.method === s.method && typeof r.extra?.gradientRatio === "number")
        .map((r) => r.extra?.gradientRatio as number)
    : [];
  if (!xs.length) return NOT_MEASURED;
  const geo = Math.exp(xs.reduce((a, b) => a + Math.log(b), 0) / xs.length);
  return `${geo.toExponential(1)} [01 ${s?.method}, ${xs.length} run${xs.length === 1 ? "" : "s"}]`;
}

/** Lesson 03's frozen-BN runs per task: task-A accuracy after training only the head, plain tfjs
 * vs Keras' rule, and whether plain tfjs visibly lost accuracy with no weight trained. */
function citeBatchNorm(f: Facts): string {
  const tasks = [
    ...new Set(f.summary.filter((s) => s.lesson === "03" && /^bn-frozen:plain/.test(s.method)).map((s) => s.task)),
  ];
  if (!tasks.length) return `Lesson 03 trains only the head on a frozen BN base: ${NOT_MEASURED}.`;
  const rows = tasks.map((task) => {
    const plain = f.find({ ...queryAt("bnPlain", "few"), task });
    const keras = f.find({ ...queryAt("bnKeras", "few"), task });
    return {
      task,
      plain,
      keras,
      lost:
        plain?.retentionMean != null &&
        keras?.retentionMean != null &&
        plain.retentionMean < keras.retentionMean - 0.01,
    };
  });
  const parts = rows.map(
    (r) => prose`on ${r.task}, ${f.citeRetention({ ...queryAt("bnPlain", "few"), task: r.task })}
    in plain tfjs vs ${f.citeRetention({ ...queryAt("bnKeras", "few"), task: r.task })} with Keras' rule`,
  );
  const verdict = rows.some((r) => r.lost)
    ? "plain tfjs lost task-A accuracy although no base weight trained — only the statistics moved"
    : "at this scale the drift costs no visible task-A accuracy";
  return prose`Lesson 03 trains only the head on a frozen BN base and measures task A afterwards: ${parts.join("; ")}
    — ${verdict}.`;
}

export const QUESTION_BANK: readonly ReviewQuestion[] = [
  {
    id: "greedy-what",
    topic: "greedy-pretraining",
    question: "What is greedy layer-wise pretraining, and why did it matter in 2006-2007?",
    answer: (f) => prose`Train the network one layer at a time without labels: layer 1 learns to reconstruct (or
      model) the input, it is then frozen and the data is pushed through it; layer 2 learns on those codes, and
      so on. "Greedy" because each layer is optimised for its own local objective, never revisited until the
      end. Then the stack gets a softmax head and the whole net is fine-tuned with labels. Hinton, Osindero and
      Teh (2006) did it with restricted Boltzmann machines (deep belief nets); Bengio et al. (2007) showed
      autoencoders work too, and Vincent et al. (2008) made them denoising. It mattered because it was the first
      recipe that trained nets with more than two or three hidden layers at all. In lesson 01 the 5-hidden-layer
      sigmoid net with the historical recipe scores ${f.citeAccuracy(queryAt("historicalScratch", "many"))} from
      scratch and ${f.citeAccuracy(queryAt("greedyPretrained", "many"))} after greedy pretraining.`,
    followUps: [
      {
        question: "Why does it help — better optimisation or regularisation?",
        answer: (f) => prose`Both (Erhan et al. 2010): it places the weights in a region where gradients carry
          signal, and it biases the net towards features of the input distribution, which acts like a prior when
          labels are few. Here the gain at the smallest label budget is ${f.citeGain(queryAt("greedyPretrained", "few"), queryAt("historicalScratch", "few"))}.`,
      },
    ],
  },
  {
    id: "vanishing",
    topic: "vanishing-gradients",
    question: "Why could a deep sigmoid network not be trained from scratch back then?",
    answer: (f) => prose`Backpropagation multiplies the error signal by each layer's weights and by the
      sigmoid's derivative, which is at most 1/4. With small random weights the product shrinks geometrically
      with depth, so the bottom layers get almost no gradient and barely move, while the top layers fit noise on
      top of random features. Lesson 01 measures it: the ratio of the head's gradient norm to layer 1's at
      initialisation is ${citeGradientRatio(f, queryAt("historicalScratch", "few"))} from scratch and ${citeGradientRatio(f, queryAt("greedyPretrained", "few"))}
      after pretraining.`,
    followUps: [
      {
        question: "What fixed it without pretraining?",
        answer: (f) => prose`ReLU (derivative 1 on active units), variance-preserving initialisation (Glorot
          2010, He 2015), adaptive optimisers (Adam), later BatchNorm and residual connections. The modern
          recipe in lesson 01 reaches ${f.citeAccuracy(queryAt("modernScratch", "many"))} with no pretraining.`,
      },
    ],
  },
  {
    id: "greedy-vs-freeze",
    topic: "greedy-vs-freezing",
    question: "How does greedy layer-wise pretraining compare with freezing pretrained layers in transfer learning?",
    answer: (f) => prose`Both reuse layers trained on something else, but the freezing plays different roles. In
      greedy pretraining, lower layers are frozen only while the next layer is trained, the objective is
      unsupervised on the same data, and at the end everything is fine-tuned. In transfer learning the layers
      come from a supervised source task and stay frozen while the target task trains, to keep general features
      and save compute. Lesson 01's pretrained stack reaches ${f.citeAccuracy(queryAt("greedyPretrained", "few"))}
      after full fine-tuning; lesson 02's frozen source base with a trained head reaches ${f.citeAccuracy(queryAt("headOnlyMild", "few"))}
      on the shifted digits.`,
    followUps: [
      {
        question: "So is a pretrained encoder stack just a frozen feature extractor?",
        answer: () => prose`Only if you stop before the fine-tuning step. The greedy recipe ends with supervised
          fine-tuning of all layers; using the stack frozen is the linear-probe (feature-extraction) variant and
          usually lower.`,
      },
    ],
  },
  {
    id: "greedy-today",
    topic: "greedy-today",
    question: "When is greedy layer-wise pretraining still useful today?",
    answer: (f) => prose`Rarely as a recipe for ordinary nets: with ReLU, good initialisation and Adam,
      end-to-end training does the job. Lesson 01, modern recipe (no pretraining) vs greedy pretraining: ${f.citeGain(queryAt("modernScratch", "few"), queryAt("greedyPretrained", "few"))}
      at the fewest labels, ${f.citeGain(queryAt("modernScratch", "many"), queryAt("greedyPretrained", "many"))}
      with the most. It still helps when (1) the architecture cannot use the modern fixes (saturating units, no
      normalisation, very deep plain stacks); (2) memory only allows training one block at a time; (3) there is
      much unlabeled data and very few labels, so an unsupervised objective per layer adds information; (4) you
      teach or debug representations layer by layer. Its idea survives as self-supervised pretraining, done end
      to end rather than greedily.`,
    followUps: [],
  },
  {
    id: "which-layers",
    topic: "which-layers",
    question: "Which layers would you freeze when transferring, and how do you decide?",
    answer: (f) => prose`Three questions decide it. Task similarity: early layers hold generic features
      (strokes, edges), late layers are task-specific, so for a similar task freeze more and retrain the top.
      Data size: with few labels, reusing (and freezing) pretrained layers is a strong regulariser; with many,
      the data can move every layer (transfer's gain over scratch on the mild shift: ${f.citeGain(queryAt("fullFtMild", "few"), queryAt("scratchMild", "few"))}
      at the fewest labels, ${f.citeGain(queryAt("fullFtMild", "many"), queryAt("scratchMild", "many"))} at the
      most). Compute: every frozen layer saves its gradients and optimizer state. Then measure a freeze-ratio
      sweep on held-out data, as lesson 03 does: on the mild shift freezing all of the base scores ${f.citeAccuracy(queryAt("freezeAllMild", "few"))}
      against ${f.citeAccuracy(queryAt("freezeNoneMild", "few"))} with nothing frozen.`,
    followUps: [
      {
        question: "The domain shift is at the input (a new sensor). Do you still freeze the early layers?",
        answer: (
          f,
        ) => prose`No — the shift lives in the first layers, so they must move. ${claim(f, queryAt("tuneFirstInverted", "few"), queryAt("tuneLastInverted", "few"), { yes: "Measured on inverted digits, tuning only the first layer vs only the last", no: "At this scale the measurement does not show it, tuning only the first layer vs only the last" })};
          freezing the whole base vs freezing none: ${f.citeGain(queryAt("freezeAllInverted", "few"), queryAt("freezeNoneInverted", "few"))}.`,
      },
      {
        question: "Rule of thumb for a 12-layer transformer (BERT)?",
        answer: (f) => prose`Freezing the lower 8 of 12 layers and tuning the top 4 plus the head is a common
          cheap start on similar text tasks; measure it. In lesson 05's tiny ViT, freezing the first blocks
          scores ${f.citeAccuracy(queryAt("vitFreezeSome", "few"))}, full fine-tuning ${f.citeAccuracy(queryAt("vitFullFt", "few"))}.`,
      },
    ],
  },
  {
    id: "over-freezing",
    topic: "over-freezing",
    question: "What goes wrong if you freeze too much?",
    answer: (f) => prose`The model cannot adapt: the frozen features may not separate the new classes or may
      encode the old domain's statistics, and a head on top cannot undo that — it underfits the target. On the
      class split (digits 0-4 → 5-9) a frozen base with a fresh head scores ${f.citeAccuracy(queryAt("headOnlySplit", "few"))}
      vs full fine-tuning ${f.citeAccuracy(queryAt("fullFtSplit", "few"))} and scratch ${f.citeAccuracy(queryAt("scratchSplit", "few"))};
      on inverted digits freezing everything ${f.citeGain(queryAt("freezeAllInverted", "few"), queryAt("freezeNoneInverted", "few"))}
      vs freezing nothing. Symptoms: training accuracy plateaus low, and unfreezing one more layer helps a lot.`,
    followUps: [],
  },
  {
    id: "unfreezing",
    topic: "unfreezing",
    question: "Why and how would you unfreeze layers during training?",
    answer: (f) => prose`A freshly initialised head produces large, random gradients; if the base trains from
      step one they damage the pretrained features. So train the head first with the base frozen, then unfreeze
      — either all at once at a lower rate (two-phase) or from the top down, one more group per stage (gradual
      unfreezing, Howard & Ruder 2018). Each stage adapts the layers that are most task-specific first. Lesson
      03 ran the schedules on the same labels and epochs: progressive unfreezing ${f.citeAccuracy(queryAt("scheduleProgressive", "few"))},
      two-phase ${f.citeAccuracy(queryAt("scheduleTwoPhase", "few"))}, one rate for everything ${f.citeAccuracy(queryAt("schedulePlain", "few"))};
      task-A retention ${f.citeRetention(queryAt("scheduleProgressive", "few"))} vs ${f.citeRetention(queryAt("schedulePlain", "few"))}.`,
    followUps: [],
  },
  {
    id: "discriminative",
    topic: "discriminative-lr",
    question: "What are discriminative learning rates?",
    answer: (f) => prose`One learning rate per layer group, smaller for the early layers: η_l = η_0 · α^(L−l),
      with the head at η_0. Early layers hold general features that need only small corrections; the top layers
      and head need to move more. ULMFiT uses α = 1/2.6 (here DEFAULT_LAYER_DECAY = ${DEFAULT_LAYER_DECAY.toFixed(3)}).
      It sits between freezing (rate 0) and plain fine-tuning (one rate). Lesson 03: discriminative rates ${f.citeAccuracy(queryAt("scheduleDiscriminative", "few"))}
      vs one rate ${f.citeAccuracy(queryAt("schedulePlain", "few"))} on the same labels and epochs; in the
      transfer sweep, discriminative vs one base rate: ${f.citeGain(queryAt("discriminativeMild", "few"), queryAt("fullFtMild", "few"))}.`,
    followUps: [
      {
        question: "How do you implement it in a framework whose optimiser has one rate?",
        answer: () => prose`Scale each group's gradients by its multiplier before the update, or keep one
          optimiser per group (what this project's training loop does, keyed by top-level layer name).`,
      },
    ],
  },
  {
    id: "batchnorm",
    topic: "batchnorm",
    question: "What happens to BatchNorm layers when you freeze a network?",
    answer: (f) => prose`Freezing stops γ and β from training, but BatchNorm also has moving mean and variance.
      If a frozen BN layer still runs in training mode, it normalises with the statistics of each small target
      batch and keeps overwriting its moving statistics — the "frozen" base changes under you, and with tiny
      batches the statistics are noisy. Keras (TF 2) runs a frozen BN layer in inference mode; tfjs 4.22 does
      not (it ignores trainable in BN's call), so this library patches models to follow Keras' rule. Usual
      practice: keep BN in inference mode while frozen, and unfreeze BN late, if at all. ${citeBatchNorm(f)}`,
    followUps: [],
  },
  {
    id: "forgetting",
    topic: "forgetting",
    question: "What is catastrophic forgetting, and how do you measure and limit it?",
    answer: (f) => {
      // One label budget for the three lesson 02/03 numbers: the one the higher-rate run used.
      const k = f.find(queryAt("fullFtHighLrMild", "few"))?.labelsPerClass ?? "few";
      return prose`Fine-tuning on task B moves weights that task A relied on, so the model's task-A accuracy
        drops — quickly and severely with high learning rates and deep tuning. Measure it as task-A accuracy of
        the tuned base with its original task-A head, on held-out task-A data. Measured here (task-A retention):
        frozen base ${f.citeRetention(queryAt("headOnlyMild", k))}; full fine-tuning at lr 1e-4 ${f.citeRetention(queryAt("fullFtMild", k))},
        at lr 1e-3 ${f.citeRetention(queryAt("fullFtHighLrMild", k))}; LoRA r=4 ${f.citeRetention(queryAt("loraR4", "few"))}.
        Limit it with lower rates, fewer tuned layers, adapters/LoRA (the base stays intact; remove the adapter
        to get task A back exactly), rehearsal of task-A data, or penalties that keep weights near the source
        (L2-SP, EWC).`;
    },
    followUps: [],
  },
  {
    id: "savings",
    topic: "freezing-savings",
    question: "What does freezing save computationally?",
    answer: (f) => prose`For frozen weights nothing is stored or computed for training: no weight gradients, no
      optimizer state (Adam keeps two moments per weight, ${ADAM_BYTES_PER_PARAM} bytes in float32), and if
      every layer below a point is frozen, backpropagation stops there — no activation gradients further down.
      The forward pass still runs through the frozen layers, unless their outputs are computed once and cached
      (the feature-cache trick of lesson 02). Measured: full fine-tuning needs ${citeAdamBytes(f, queryAt("fullFtMild", "few"))};
      head-only ${citeAdamBytes(f, queryAt("headOnlyMild", "few"))}; LoRA r=4 ${citeAdamBytes(f, queryAt("loraR4", "few"))}.
      Time: ${citeEpochTimes(f)}; per step, head-only vs full fine-tuning: ${citeStepTimes(f, queryAt("loraHeadOnly", "few"), queryAt("loraFullFt", "few"))}.`,
    followUps: [
      {
        question: "Why is the speed-up smaller than the parameter ratio?",
        answer: () => prose`The forward pass through the frozen layers still costs the same, and on small models
          fixed per-step overheads (data upload, kernel launches) dominate. The memory saving, by contrast,
          scales with the frozen parameters.`,
      },
    ],
  },
  {
    id: "lora-what",
    topic: "lora",
    question: "What is LoRA, and how do you choose rank and alpha?",
    answer: (f) => prose`Low-Rank Adaptation (Hu et al. 2021) freezes W and learns an update of rank r: W' = W +
      (α/r)·B·A, A of shape r×d_in (random init), B of shape d_out×r (zeros, so training starts exactly at the
      base model). Trainable parameters per layer: r·(d_in + d_out) instead of d_in·d_out. Rank sets capacity:
      here r=1 ${f.citeGain(queryAt("loraR1", "few"), queryAt("loraR4", "few"))} vs r=4, and r=16 ${f.citeGain(queryAt("loraR16", "few"), queryAt("loraR4", "few"))}
      vs r=4. LoRA r=4 (${f.citeParams(queryAt("loraR4", "few"))} trainable) reaches ${f.citeAccuracy(queryAt("loraR4", "few"))}
      vs full fine-tuning ${f.citeAccuracy(queryAt("loraFullFt", "few"))} (${f.citeParams(queryAt("loraFullFt", "few"))}
      trainable). Alpha scales the update; with α/r as the scale you fix α once and change r without retuning
      the learning rate. LoRA starts from a zero update and usually wants a larger learning rate than full
      fine-tuning; ${claim(f, queryAt("loraHighLr", "few"), queryAt("loraLowLr", "few"), { yes: "lesson 04 confirms it, lr 1e-3 vs 1e-4", no: "lesson 04 does not show it at this scale, lr 1e-3 vs 1e-4" })}.`,
    followUps: [
      {
        question: "Where do you apply it?",
        answer: (f) => prose`On the large linear maps: in transformers the attention projections (query and
          value in the original paper), often also the MLP; in an MLP the hidden Dense layers. Lesson 05's ViT
          with LoRA on q and v: ${f.citeAccuracy(queryAt("vitLora", "few"))} with ${f.citeParams(queryAt("vitLora", "few"))}
          trainable, vs full fine-tuning ${f.citeAccuracy(queryAt("vitFullFt", "few"))}.`,
      },
      {
        question: "What does merging do, and when do you not merge?",
        answer: () => prose`Merging folds the update into the weight, W ← W + (α/r)·B·A, giving a plain model
          with no extra latency and identical outputs (lesson 04 checks the maximum difference). Keep adapters
          unmerged to serve many tasks from one base, swapping small adapter files, or to remove the adaptation
          later.`,
      },
    ],
  },
  {
    id: "adapters",
    topic: "adapters",
    question: "How do adapters compare with LoRA and with freezing?",
    answer: (f) => prose`All three keep the base frozen. Freezing + a new head adds capacity only at the top.
      Bottleneck adapters (Houlsby et al. 2019) insert small trainable modules inside each block: capacity
      everywhere, but extra layers at inference. LoRA adds a low-rank update in parallel to existing weights:
      capacity everywhere and, after merging, no inference cost. Measured: head-only ${f.citeAccuracy(queryAt("loraHeadOnly", "few"))},
      LoRA r=4 ${f.citeAccuracy(queryAt("loraR4", "few"))}, full fine-tuning ${f.citeAccuracy(queryAt("loraFullFt", "few"))}.`,
    followUps: [],
  },
  {
    id: "combining",
    topic: "combining",
    question: "How would you combine these techniques in one project?",
    answer: (f) => prose`Pretrain broadly (self-supervised on unlabeled data, or a supervised source task);
      transfer with the head trained first on a frozen base; then adapt deeper — unfreeze progressively with
      discriminative rates when compute allows, or add LoRA to the frozen base when memory is short or the
      source task must keep working. Pick freeze depth by where the shift is: input shift → let early layers
      move (on inverted digits tuning the first layer ${f.citeGain(queryAt("tuneFirstInverted", "few"), queryAt("tuneLastInverted", "few"))}
      vs the last); similar task with few labels → freeze most (head-only vs scratch: ${f.citeGain(queryAt("headOnlyMild", "few"), queryAt("scratchMild", "few"))}).
      Call recommendStrategy(...) with your situation for the measured version.`,
    followUps: [],
  },
  {
    id: "self-supervised",
    topic: "self-supervised",
    question: "What replaced greedy pretraining?",
    answer: (f) => prose`Self-supervised pretraining of the whole network end to end on large unlabeled data:
      masked prediction (BERT, masked autoencoders — the denoising idea of lesson 01 at scale), next-token
      prediction (GPT), and contrastive or joint-embedding methods (SimCLR, DINO). It keeps the 2006 insight —
      learn from unlabeled data first — but trains all layers jointly and relies on ReLU/GELU, normalisation and
      residual connections for optimisation instead of layer-by-layer initialisation. In lesson 01, denoising
      pretraining vs none under the historical recipe: ${f.citeGain(queryAt("greedyPretrained", "few"), queryAt("historicalScratch", "few"))};
      the modern recipe, with no pretraining, reaches ${f.citeAccuracy(queryAt("modernScratch", "few"))}.`,
    followUps: [],
  },
];

export interface RenderQuestionsArgs {
  /** Only these topics (default all). */
  topics?: ReviewTopic[];
  /** Include follow-ups (default true). */
  followUps?: boolean;
}

/** The bank (or some topics) as markdown, answers filled in from `facts`. */
export function renderQuestions(facts: Facts, args: RenderQuestionsArgs = {}): string {
  const topics = args.topics ?? (Object.keys(REVIEW_TOPICS) as ReviewTopic[]);
  for (const t of topics) {
    if (!(t in REVIEW_TOPICS))
      throw new Error(prose`renderQuestions: unknown topic ${JSON.stringify(t)}
      (topics: ${Object.keys(REVIEW_TOPICS).join(", ")})`);
  }
  const parts: string[] = [];
  let n = 0;
  for (const t of topics) {
    const qs = QUESTION_BANK.filter((q) => q.topic === t);
    if (!qs.length) continue;
    parts.push(`#### ${REVIEW_TOPICS[t]}`);
    for (const q of qs) {
      parts.push(`**Q${++n}. ${q.question}**\n\n${q.answer(facts)}`);
      if (args.followUps ?? true)
        for (const fu of q.followUps) parts.push(`> *Follow-up: ${fu.question}*\n>\n> ${fu.answer(facts)}`);
    }
  }
  return parts.join("\n\n");
}
