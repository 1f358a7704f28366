// The statistics every lesson reports, as pure functions on plain arrays:
//   - sampleMeanStd, medianOf: mean ± sample standard deviation over seeds, the median of timings;
//   - meanCI: a mean with its Student-t confidence interval (a table cell via formatMeanCI: "81.0 ± 2.6");
//   - pairedDiff: two methods run on the same seeds: the mean difference a − b, its t interval, the
//     paired t-test and the exact sign-flip permutation test;
//   - mcnemar: two models scored on one shared test set, per example: the exact McNemar test;
//   - judgeClaim: a paired comparison turned into a verdict a lesson can print;
//   - compareOnSeeds: two methods' per-seed numbers, paired by seed, judged in one call (what lessons use).
//
// Verdict rules (judgeClaim). Δ is the mean difference a − b, [lo, hi] its confidence interval at the
// comparison's level (95 % by default), m the margin (in the data's units: 0.02 is 2 points):
//   "greater" claims Δ > m (default m = 0): holds when lo > m; contradicted when hi < m (the data
//             significantly show Δ < m, the claim's opposite); otherwise not significant.
//   "less"    claims Δ < m (default m = 0): holds when hi < m; contradicted when lo > m.
//             A non-inferiority claim "a is at most 1 point worse than b" is "greater" with m = −0.01.
//   "within"  claims |Δ| ≤ m, an equivalence ("LoRA lands within 2 points of full fine-tuning"; m > 0 is
//             required): holds when the whole interval lies inside [−m, +m]; contradicted when the whole
//             interval lies outside it (hi < −m or lo > m); otherwise not significant.
// With a 95 % two-sided interval a one-sided verdict is a test at the 2.5 % level, and "within" is
// stricter than the usual two one-sided tests (which use the 90 % interval). Ties (lo exactly at m)
// do not count as shown. A comparison with n = 1 has an infinite interval and is never significant.

import binomialCdf from "@stdlib/stats-base-dists-binomial-cdf";
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";
import { pct } from "./format";
import { rng } from "./random";
import { argError, checkOneOf, checkPositiveInt, show } from "./validate";

/** [mean, sample standard deviation] (n − 1 in the denominator; 0 for a single value): the
 * "mean ± std over seeds" of every results table. */
export function sampleMeanStd(xs: readonly number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return [m, Math.sqrt(v)];
}

/** The median as one of the measured values (the upper middle one for an even count; NaN for
 * none), so a reported time is a time that was measured. */
export function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** A mean with its two-sided confidence interval: what judgeClaim reads. */
export interface Interval {
  /** The mean (for a paired comparison: the mean difference a − b). */
  mean: number;
  /** Lower and upper end of the interval (±Infinity when n = 1). */
  lo: number;
  hi: number;
  /** Number of values (seeds, pairs). */
  n: number;
  /** Confidence level of [lo, hi], e.g. 0.95. */
  level: number;
}

/** meanCI's answer: the mean, the sample standard deviation and the Student-t interval. */
export interface MeanCI extends Interval {
  /** Sample standard deviation (n − 1 in the denominator); NaN when n = 1. */
  sd: number;
  /** Half-width t(1 − (1 − level)/2, n − 1) · sd / √n; Infinity when n = 1. */
  halfWidth: number;
}

/** Mean, sample sd and the Student-t confidence interval of `xs` at `level` (default 0.95):
 * mean ± t(1 − (1 − level)/2, n − 1) · sd / √n.
 *
 * n = 1: one value says nothing about the spread, so sd is NaN, halfWidth is Infinity and the
 * interval is (−Infinity, +Infinity) — judgeClaim reads it as "not significant".
 * n = 0, a non-finite value or a level outside (0, 1) throw, naming the parameter and the value. */
export function meanCI(xs: readonly number[], level = 0.95): MeanCI {
  checkSample("meanCI", "xs", xs);
  checkLevel("meanCI", level);
  return intervalOf(xs, level);
}

/** pairedDiff's answer: the interval of the mean difference a − b, the paired t-test and the sign-flip
 * permutation test (both two-sided, null hypothesis: no difference). */
export interface PairedDiff extends MeanCI {
  /** t statistic mean / (sd / √n); 0 when every difference is 0, ±Infinity when all are equal and non-zero. */
  t: number;
  /** Degrees of freedom, n − 1. */
  df: number;
  /** Two-sided p-value of the paired t-test (1 when every difference is 0, where scipy gives NaN). */
  pT: number;
  /** Two-sided sign-flip permutation p-value: the share of sign patterns s with |Σ sᵢdᵢ| ≥ |Σ dᵢ|. */
  pPerm: number;
  /** True when pPerm enumerates all 2^n sign patterns (n ≤ EXACT_PERMUTATION_MAX_N). */
  permExact: boolean;
  /** Sign patterns counted: 2^n when exact, else the number of seeded random draws. */
  permDraws: number;
}

/** Options of pairedDiff's Monte-Carlo permutation test (used only when n > EXACT_PERMUTATION_MAX_N). */
export interface PairedDiffOptions {
  /** Random sign patterns drawn (default 100,000; the p-value's standard error is at most 0.0016). */
  permutationDraws?: number;
  /** Seed of the draws (default "pairedDiff"): the same inputs give the same p-value. */
  seed?: number | string;
}

/** Up to this many pairs the permutation p-value is exact (all 2^n sign patterns, 65,536 at n = 16). */
export const EXACT_PERMUTATION_MAX_N = 16;
const DEFAULT_PERMUTATION_DRAWS = 100_000;

/** Paired comparison of two methods measured on the same seeds (a[i] and b[i] from seed i): the mean
 * difference a − b with its Student-t interval at `level` (default 0.95), the two-sided paired t-test
 * and the two-sided sign-flip permutation test, which assumes only that a − b is symmetric around 0
 * under the null. For n ≤ 16 the permutation p-value is exact (count / 2^n, so at least 2 / 2^n when
 * some difference is non-zero); above, it is a seeded Monte-Carlo estimate (count + 1) / (draws + 1)
 * over `options.permutationDraws` random sign patterns (default 100,000). Sums within 1e-9 · Σ|dᵢ| of
 * the observed one count as ties, so float rounding does not split equal sums.
 *
 * Throws, naming the parameter and the value, on different lengths, fewer than 2 pairs, a non-finite
 * value, or a level outside (0, 1). */
export function pairedDiff(
  a: readonly number[],
  b: readonly number[],
  level = 0.95,
  options: PairedDiffOptions = {},
): PairedDiff {
  const where = "pairedDiff";
  checkArray(where, "a", a);
  checkArray(where, "b", b);
  if (a.length !== b.length)
    throw new Error(`${where}: a and b must have the same length, got ${a.length} and ${b.length}`);
  if (a.length < 2) throw argError(where, "a and b", "of length at least 2 (one pair per seed)", `${a.length}`);
  checkFinite(where, "a", a);
  checkFinite(where, "b", b);
  checkLevel(where, level);
  const draws = options.permutationDraws ?? DEFAULT_PERMUTATION_DRAWS;
  checkPositiveInt(where, "options.permutationDraws", draws);
  const d = a.map((x, i) => x - b[i]);
  const ci = intervalOf(d, level);
  const n = d.length;
  const se = ci.sd / Math.sqrt(n);
  const t = ci.mean === 0 ? 0 : ci.mean / se;
  const pT = t === 0 ? 1 : Math.min(1, 2 * tCdf(-Math.abs(t), n - 1));
  const perm = n <= EXACT_PERMUTATION_MAX_N ? signFlipExact(d) : signFlipMonteCarlo(d, draws, options.seed ?? where);
  return { ...ci, t, df: n - 1, pT, pPerm: perm.p, permExact: perm.exact, permDraws: perm.draws };
}

/** mcnemar's answer. b and c are the discordant counts; the test asks whether b and c differ by more
 * than chance when each discordant example is a fair coin. */
export interface McNemar {
  /** Examples in the shared test set. */
  n: number;
  /** Examples a gets right and b gets wrong. */
  b: number;
  /** Examples a gets wrong and b gets right. */
  c: number;
  /** Accuracies of a and b, and their difference accA − accB = (b − c) / n. */
  accA: number;
  accB: number;
  diff: number;
  /** Exact two-sided p-value: min(1, 2 · P(X ≤ min(b, c))), X ~ Binomial(b + c, 1/2); 1 when b + c = 0. */
  p: number;
  /** For reference: max(|b − c| − 1, 0)² / (b + c), the continuity-corrected chi-squared statistic
   * (1 degree of freedom; the correction is clamped at 0, so b = c gives 0; 0 when b + c = 0). */
  chi2: number;
}

/** McNemar's test for two models scored on one shared test set: `aCorrect[i]` and `bCorrect[i]` say
 * whether each model got example i right (true/false or 1/0). Only the discordant examples carry
 * information: b (a right, b wrong) and c (a wrong, b right). Gives the exact two-sided binomial
 * p-value (what scipy.stats.binomtest(min(b, c), b + c, 0.5) gives), the continuity-corrected
 * chi-squared statistic for reference, and the accuracy difference accA − accB.
 *
 * Throws, naming the parameter and the value, on different lengths, an empty test set, or an entry
 * other than true, false, 0 or 1. */
export function mcnemar(aCorrect: readonly (boolean | number)[], bCorrect: readonly (boolean | number)[]): McNemar {
  const where = "mcnemar";
  checkArray(where, "aCorrect", aCorrect);
  checkArray(where, "bCorrect", bCorrect);
  if (aCorrect.length !== bCorrect.length)
    throw new Error(
      `${where}: aCorrect and bCorrect must have the same length, got ${aCorrect.length} and ${bCorrect.length}`,
    );
  if (aCorrect.length === 0)
    throw argError(where, "aCorrect and bCorrect", "non-empty (one entry per test example)", "empty arrays");
  const okA = correctness(where, "aCorrect", aCorrect);
  const okB = correctness(where, "bCorrect", bCorrect);
  const n = okA.length;
  let b = 0;
  let c = 0;
  let rightA = 0;
  let rightB = 0;
  for (let i = 0; i < n; i++) {
    if (okA[i]) rightA++;
    if (okB[i]) rightB++;
    if (okA[i] && !okB[i]) b++;
    if (!okA[i] && okB[i]) c++;
  }
  const m = b + c;
  const p = m === 0 ? 1 : Math.min(1, 2 * binomialCdf(Math.min(b, c), m, 0.5));
  const chi2 = m === 0 ? 0 : Math.max(Math.abs(b - c) - 1, 0) ** 2 / m;
  return { n, b, c, accA: rightA / n, accB: rightB / n, diff: (b - c) / n, p, chi2 };
}

/** The direction of a claim about a paired difference Δ = a − b; see the file header for the rules. */
export type ClaimDirection = "greater" | "less" | "within";

/** A claim about a paired comparison, and how its text shows numbers. */
export interface ClaimSpec {
  /** "greater": Δ > margin; "less": Δ < margin; "within": |Δ| ≤ margin (equivalence). */
  direction: ClaimDirection;
  /** In the data's units (0.02 = 2 points). Default 0 for "greater" and "less"; "within" needs one > 0. */
  margin?: number;
  /** "points" (default): fractions shown ×100 with one decimal; any other unit ("ms", "", …): raw values. */
  unit?: string;
  /** Multiplier applied before showing a number: 100 for "points", 1 otherwise. */
  scale?: number;
  /** Decimals shown: 1 for "points"; otherwise 3 significant digits unless given. */
  digits?: number;
}

export type Verdict = "holds" | "not significant" | "contradicted";

/** judgeClaim's answer: the verdict and the line a lesson prints. */
export interface ClaimVerdict {
  verdict: Verdict;
  /** e.g. "holds (Δ +1.2 points, 95 % CI [+0.4, +2.0], n = 10)"; a non-zero margin is added at the end:
   * "holds (Δ +0.3 points, 95 % CI [−0.5, +1.1], n = 10, margin ±2.0)". */
  text: string;
}

/** A paired comparison (pairedDiff's answer, or any Interval) judged against a claim, by the rules in
 * the file header: "holds" when the interval shows the claim, "contradicted" when it shows the claim's
 * opposite, "not significant" otherwise. Throws on an unknown direction, a non-finite margin, a
 * "within" claim without a margin > 0, or an interval with NaN ends. */
export function judgeClaim(comparison: Interval, spec: ClaimSpec): ClaimVerdict {
  const where = "judgeClaim";
  checkOneOf(where, "spec.direction", spec.direction, ["greater", "less", "within"] as const);
  const { mean, lo, hi, n, level } = comparison;
  if (Number.isNaN(mean) || Number.isNaN(lo) || Number.isNaN(hi) || !(lo <= hi))
    throw argError(where, "comparison", "an interval with lo ≤ hi, none NaN", `mean ${mean}, [${lo}, ${hi}]`);
  const margin = spec.margin ?? 0;
  if (typeof margin !== "number" || !Number.isFinite(margin))
    throw argError(where, "spec.margin", "a finite number", show(spec.margin));
  if (spec.direction === "within" && !(margin > 0))
    throw argError(
      where,
      "spec.margin",
      'a number > 0 for a "within" claim',
      show(spec.margin),
      "e.g. 0.02 for 2 points",
    );
  const unit = spec.unit ?? "points";
  const scale = spec.scale ?? (unit === "points" ? 100 : 1);
  if (!Number.isFinite(scale) || scale <= 0)
    throw argError(where, "spec.scale", "a finite number > 0", show(spec.scale));
  const digits = spec.digits ?? (unit === "points" ? 1 : undefined);
  if (digits !== undefined && !(Number.isInteger(digits) && digits >= 0 && digits <= 20))
    throw argError(where, "spec.digits", "an integer in [0, 20]", show(spec.digits));

  let verdict: Verdict;
  if (spec.direction === "greater") verdict = lo > margin ? "holds" : hi < margin ? "contradicted" : "not significant";
  else if (spec.direction === "less")
    verdict = hi < margin ? "holds" : lo > margin ? "contradicted" : "not significant";
  else
    verdict =
      lo >= -margin && hi <= margin ? "holds" : hi < -margin || lo > margin ? "contradicted" : "not significant";

  const num = (v: number) => signed(v * scale, digits);
  const unitText = unit === "" ? "" : ` ${unit}`;
  const marginText =
    margin === 0 ? "" : `, margin ${spec.direction === "within" ? `±${num(margin).slice(1)}` : num(margin)}`;
  const text = `${verdict} (Δ ${num(mean)}${unitText}, ${levelText(level)} % CI [${num(lo)}, ${num(hi)}], n = ${n}${marginText})`;
  return { verdict, text };
}

/** One measured number of one seed (an accuracy, a retention, seconds...). */
export interface SeedValue {
  seed: number;
  value: number;
}

/** compareOnSeeds' answer: the verdict and its line, the paired difference behind it (null with fewer
 * than 2 shared seeds), and the seeds it used and left out. */
export interface SeedComparison extends ClaimVerdict {
  diff: PairedDiff | null;
  /** Seeds both sides measured, ascending: the pairs. */
  seeds: number[];
  /** Seeds only one side measured (left out of the comparison). */
  unpaired: number[];
}

/** Two methods' numbers per seed (a − b), paired by seed, judged against a claim: the one call every
 * empirical sentence of a lesson goes through. Pairs only the seeds both sides have; with fewer than
 * two pairs there is no interval, and the verdict is "not significant" with the reason in the text —
 * a verdict never throws on what was measured. Throws only on malformed input (a seed listed twice on
 * one side, a non-finite value, a bad spec). */
export function compareOnSeeds(a: readonly SeedValue[], b: readonly SeedValue[], spec: ClaimSpec): SeedComparison {
  const where = "compareOnSeeds";
  const bySeed = (side: string, xs: readonly SeedValue[]): Map<number, number> => {
    checkArray(where, side, xs);
    const m = new Map<number, number>();
    xs.forEach((x, i) => {
      if (typeof x !== "object" || x === null || typeof x.seed !== "number" || typeof x.value !== "number")
        throw argError(where, `${side}[${i}]`, "{ seed: number, value: number }", show(x));
      if (!Number.isFinite(x.seed)) throw argError(where, `${side}[${i}].seed`, "a finite number", show(x.seed));
      if (!Number.isFinite(x.value)) throw argError(where, `${side}[${i}].value`, "a finite number", show(x.value));
      if (m.has(x.seed)) throw argError(where, `${side}[${i}].seed`, "a seed listed once", show(x.seed));
      m.set(x.seed, x.value);
    });
    return m;
  };
  if (typeof spec !== "object" || spec === null)
    throw argError(where, "spec", '{ direction: "greater" | "less" | "within", margin?, unit? }', show(spec));
  // Check the spec before anything is paired, as judgeClaim would (on a placeholder interval that
  // shows nothing), and under this function's name: a bad spec fails whatever was measured.
  try {
    judgeClaim({ mean: 0, lo: -Infinity, hi: Infinity, n: 0, level: 0.95 }, spec);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^judgeClaim: /, `${where}: `));
  }
  const ma = bySeed("a", a);
  const mb = bySeed("b", b);
  const seeds = [...ma.keys()].filter((s) => mb.has(s)).sort((x, y) => x - y);
  const unpaired = [...new Set([...ma.keys(), ...mb.keys()])]
    .filter((s) => !(ma.has(s) && mb.has(s)))
    .sort((x, y) => x - y);
  if (seeds.length < 2) {
    const text = `not significant (n = ${seeds.length}: ${seeds.length === 0 ? "no seed measured by both" : "one seed gives no interval"})`;
    return { verdict: "not significant", text, diff: null, seeds, unpaired };
  }
  const diff = pairedDiff(
    seeds.map((s) => ma.get(s)!),
    seeds.map((s) => mb.get(s)!),
  );
  return { ...judgeClaim(diff, spec), diff, seeds, unpaired };
}

/** A table cell: mean ± confidence half-width, both in points with one decimal: "81.0 ± 2.6"
 * (meanCI's answer for accuracies in [0, 1]); "81.0 ± ∞" for a single value, "–" for a NaN mean. */
export function formatMeanCI(ci: { mean: number; halfWidth: number }): string {
  if (!Number.isFinite(ci.mean)) return pct(null);
  return Number.isFinite(ci.halfWidth) ? pct(ci.mean, ci.halfWidth) : `${pct(ci.mean)} ± ∞`;
}

// --- helpers -----------------------------------------------------------------------------------

function intervalOf(xs: readonly number[], level: number): MeanCI {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { mean, sd: NaN, n, level, halfWidth: Infinity, lo: -Infinity, hi: Infinity };
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const halfWidth = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { mean, sd, n, level, halfWidth, lo: mean - halfWidth, hi: mean + halfWidth };
}

/** Exact: every one of the 2^n sign patterns. */
function signFlipExact(d: readonly number[]): { p: number; exact: true; draws: number } {
  const n = d.length;
  const { observed, tol } = observedSum(d);
  const total = 2 ** n;
  let count = 0;
  for (let mask = 0; mask < total; mask++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i] : d[i];
    if (Math.abs(s) >= observed - tol) count++;
  }
  return { p: count / total, exact: true, draws: total };
}

/** Monte Carlo: `draws` seeded random sign patterns; (count + 1) / (draws + 1) counts the observed one. */
function signFlipMonteCarlo(
  d: readonly number[],
  draws: number,
  seed: number | string,
): { p: number; exact: false; draws: number } {
  const n = d.length;
  const { observed, tol } = observedSum(d);
  const uniform = rng(seed);
  let count = 0;
  for (let k = 0; k < draws; k++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if (i % 32 === 0) bits = Math.floor(uniform() * 2 ** 32) >>> 0;
      s += bits & (1 << (i % 32)) ? -d[i] : d[i];
    }
    if (Math.abs(s) >= observed - tol) count++;
  }
  return { p: (count + 1) / (draws + 1), exact: false, draws };
}

function observedSum(d: readonly number[]): { observed: number; tol: number } {
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  const tol = 1e-9 * d.reduce((s, x) => s + Math.abs(x), 0);
  return { observed, tol };
}

function signed(v: number, digits: number | undefined): string {
  if (v === Infinity) return "+∞";
  if (v === -Infinity) return "−∞";
  const abs = Math.abs(v);
  const body = digits === undefined ? String(Number(abs.toPrecision(3))) : abs.toFixed(digits);
  return `${v < 0 ? "−" : "+"}${body}`;
}

function levelText(level: number): string {
  return String(Number((100 * level).toFixed(4)));
}

function checkArray(where: string, param: string, xs: unknown): void {
  if (!Array.isArray(xs)) throw argError(where, param, "an array", show(xs));
}

function checkFinite(where: string, param: string, xs: readonly unknown[]): void {
  xs.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x))
      throw argError(where, `${param}[${i}]`, "a finite number", show(x));
  });
}

function checkSample(where: string, param: string, xs: unknown): asserts xs is readonly number[] {
  checkArray(where, param, xs);
  const arr = xs as readonly unknown[];
  if (arr.length === 0) throw argError(where, param, "a non-empty array of finite numbers", "an empty array");
  checkFinite(where, param, arr);
}

function checkLevel(where: string, level: unknown): void {
  if (typeof level !== "number" || !(level > 0 && level < 1))
    throw argError(where, "level", "a number in (0, 1), e.g. 0.95", show(level));
}

function correctness(where: string, param: string, xs: readonly unknown[]): boolean[] {
  return xs.map((x, i) => {
    if (x === true || x === 1) return true;
    if (x === false || x === 0) return false;
    throw argError(where, `${param}[${i}]`, "true, false, 0 or 1", show(x));
  });
}
