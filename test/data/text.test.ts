// Lesson 06's text data: tokenizer round trip, a vocabulary built from the pretraining addresses only,
// splits that keep every address and e-mail on one side, BERT's masking rates, windows with padding,
// e-mail bodies without headers or HTML, and bad input named.
import { describe, expect, it } from "vitest";
import {
  buildVocabulary,
  decodeIds,
  emailBody,
  encodeTokens,
  loadAddresses,
  maskTokens,
  MLM_RATE,
  takePerClass,
  TEXT_CLS,
  TEXT_MASK,
  TEXT_PAD,
  TEXT_UNK,
  textTasks,
  tokenize,
  windowsOf,
} from "../../src/data/text";

const ARGS = {
  seed: 3,
  seqLength: 16,
  vocabSize: 800,
  pretrainWindows: 300,
  valPerClass: 10,
  testWindowsPerAddress: 4,
  farTestPerClass: 30,
};

describe("tokens and vocabulary", () => {
  it("round-trips text through ids; unknown words become [UNK]", () => {
    const tokens = tokenize("Fellow-Citizens: it's 1999, and we're here! Aren't we?");
    expect(tokens).toEqual([
      "fellow",
      "citizens",
      ":",
      "it's",
      "1999",
      ",",
      "and",
      "we're",
      "here",
      "!",
      "aren't",
      "we",
      "?",
    ]);
    const vocab = buildVocabulary([tokens], 100);
    expect(vocab.words.slice(0, 4)).toEqual(["[PAD]", "[UNK]", "[CLS]", "[MASK]"]);
    expect(decodeIds(vocab, encodeTokens(vocab, tokens))).toEqual(tokens);
    const ids = encodeTokens(vocab, ["we", "zebra"]);
    expect(ids[1]).toBe(TEXT_UNK);
    expect(decodeIds(vocab, ids)).toEqual(["we", "[UNK]"]);
  });

  it("keeps the most frequent words, ties alphabetical", () => {
    const v = buildVocabulary([["b", "a", "c", "c"]], 6);
    expect(v.words).toEqual(["[PAD]", "[UNK]", "[CLS]", "[MASK]", "c", "a"]);
  });

  it("builds each seed's vocabulary from its pretraining addresses only", () => {
    const t = textTasks(ARGS);
    const pre = new Set(t.pretrainAddresses);
    const addresses = loadAddresses();
    const preWords = new Set(addresses.filter((a) => pre.has(a.id)).flatMap((a) => tokenize(a.text)));
    const preTokens = addresses.filter((a) => pre.has(a.id)).reduce((s, a) => s + tokenize(a.text).length, 0);
    expect(t.vocab.tokensSeen).toBe(preTokens);
    for (const w of t.vocab.words.slice(4)) expect(preWords.has(w), w).toBe(true);
    // A word frequent in the held-out addresses but absent from the pretraining ones is [UNK].
    const heldOnly = addresses
      .filter((a) => !pre.has(a.id))
      .flatMap((a) => tokenize(a.text))
      .find((w) => !preWords.has(w));
    if (heldOnly !== undefined) expect(t.vocab.index.has(heldOnly)).toBe(false);
  });
});

describe("windows and splits", () => {
  it("windows start with [CLS] and pad the last one", () => {
    const ids = Int32Array.from([10, 11, 12, 13, 14, 15, 16]);
    const ws = windowsOf(ids, 4);
    expect(ws.map((w) => Array.from(w))).toEqual([
      [TEXT_CLS, 10, 11, 12],
      [TEXT_CLS, 13, 14, 15],
      [TEXT_CLS, 16, TEXT_PAD, TEXT_PAD],
    ]);
    expect(windowsOf(ids, 4, 1)).toHaveLength(1);
  });

  it("keeps every address and e-mail on one side: pretraining, pool, validation, test", () => {
    const t = textTasks(ARGS);
    const pre = new Set(t.pretrainAddresses);
    for (const g of [t.near, t.far]) {
      const names = (s: typeof g.pool) => new Set(Array.from(s.docs, (d) => s.docNames[d]));
      const [pool, val, test] = [names(g.pool), names(g.val), names(g.test)];
      for (const d of pool) expect(val.has(d) || test.has(d), d).toBe(false);
      for (const d of val) expect(test.has(d), d).toBe(false);
      if (g.name === "near") for (const d of [...pool, ...val, ...test]) expect(pre.has(d), d).toBe(false);
      // A budget comes from the pool only.
      const k = g.labels(4, 1);
      for (const d of names(k)) expect(pool.has(d)).toBe(true);
      expect(k.n).toBe(4 * g.classNames.length);
    }
    for (const d of t.pretrain.docs) expect(pre.has(t.pretrain.docNames[d])).toBe(true);
    expect(t.near.classNames).toHaveLength(3);
    // Another seed, another split.
    expect(textTasks({ ...ARGS, seed: 4 }).pretrainAddresses).not.toEqual(t.pretrainAddresses);
  });

  it("names the budget, the value and what is allowed when k is larger than a pool", () => {
    const t = textTasks(ARGS);
    expect(() => t.near.labels(1_000_000, 0)).toThrow(
      /labels: labelsPerClass must be an integer in \[1, \d+\].*got 1000000/,
    );
    expect(() => takePerClass(t.far.val, 0, "x")).toThrow(/labelsPerClass/);
    expect(() => textTasks({ ...ARGS, seqLength: 1 })).toThrow(/textTasks: seqLength must be/);
  });
});

describe("masking", () => {
  it("chooses 15 % of real tokens, 80 % [MASK] / 10 % random / 10 % kept, never [PAD] or [CLS]", () => {
    const n = 200_000;
    const ids = Int32Array.from({ length: n }, (_, i) =>
      i % 50 === 0 ? TEXT_CLS : i % 50 > 45 ? TEXT_PAD : 4 + (i % 37),
    );
    const m = maskTokens(ids, 100, "rates");
    const real = ids.filter((t) => t > 3).length;
    expect(Math.abs(m.positions.length / real - MLM_RATE)).toBeLessThan(0.005);
    const share = (k: number) => m.kinds.filter((x) => x === k).length / m.kinds.length;
    expect(Math.abs(share(0) - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(share(1) - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(share(2) - 0.1)).toBeLessThan(0.01);
    m.positions.forEach((p, i) => {
      expect(ids[p]).toBeGreaterThan(3);
      expect(m.labels[i]).toBe(ids[p]);
      if (m.kinds[i] === 0) expect(m.input[p]).toBe(TEXT_MASK);
      if (m.kinds[i] === 2) expect(m.input[p]).toBe(ids[p]);
    });
    // Same seed, same mask.
    expect(Array.from(maskTokens(ids.subarray(0, 500), 100, "s").positions)).toEqual(
      Array.from(maskTokens(ids.subarray(0, 500), 100, "s").positions),
    );
  });
});

describe("e-mail bodies", () => {
  it("drops headers, MIME part headers, HTML and quoted-printable breaks", () => {
    const raw =
      "From: a@b.c\nSubject: Win now\nContent-Type: text/html\n\n------=_Part\nContent-Type: text/html;\n\n" +
      "<html><style>p{}</style><b>Cheap</b> pills&nbsp;to=\nday</html>\n------=_Part--";
    const body = emailBody(raw);
    expect(tokenize(body)).toEqual(["cheap", "pills", "today"]);
  });
});
