// src/core/stats.ts against known answers and properties.
//
// Reference values: SciPy 1.17.1 with NumPy 2.4.6 (python3 on this machine's PATH), printed with
// repr(float(x)); the exact call is given next to each constant (`sem` is scipy.stats.sem, `d` is a − b).
// Every value was also computed with Debian 12's python3-scipy 1.10.1 (/usr/bin/python3): the means, sds,
// t statistics, permutation and binomial p-values agree to the last digit, but its t.ppf (Cephes stdtrit)
// is off by up to 2.3e-9 relative (t.ppf(0.95, 4) = 2.13184678133629), and so are its t intervals. SciPy
// 1.17.1 (Boost) and @stdlib agree with a 40-digit mpmath reference (the root of the regularized incomplete
// beta, mpmath 1.2.1) to about 1e-16, so the constants are 1.17.1's and the tolerances are tight (1e-12).
import { describe, expect, it } from "vitest";
import { rng } from "../../src/core/random";
import {
  compareOnSeeds,
  EXACT_PERMUTATION_MAX_N,
  formatMeanCI,
  judgeClaim,
  mcnemar,
  meanCI,
  medianOf,
  pairedDiff,
  sampleMeanStd,
  type Interval,
  type SeedValue,
} from "../../src/core/stats";

/** |actual − expected| ≤ rel · |expected| (+ 1e-300, so an expected 0 asks for 0). */
function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

/** Seeds are strings with a tag: seedrandom's ARC4 repeats its key, so numeric seeds "10" and "1010" collide. */
function randomSample(seed: string, n: number, mean = 0.8, spread = 0.03): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => mean + spread * (u() + u() + u() - 1.5));
}

describe("stats", () => {
  it("gives the mean and the sample (n − 1) standard deviation", () => {
    const [m, sd] = sampleMeanStd([0.8, 0.9, 1.0]);
    expect(m).toBeCloseTo(0.9, 12);
    expect(sd).toBeCloseTo(0.1, 12);
    expect(sampleMeanStd([0.7])).toEqual([0.7, 0]);
  });
  it("takes a measured value as the median", () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 3, 2])).toBe(3);
    expect(medianOf([])).toBeNaN();
  });
});

describe("meanCI", () => {
  // scipy.stats.t.ppf(q, df) for q = 0.975 (95 %), 0.95 (90 %), 0.995 (99 %).
  const T_PPF: [level: number, df: number, t: number][] = [
    [0.95, 1, 12.706204736174694],
    [0.95, 2, 4.302652729749462],
    [0.95, 4, 2.7764451051977934],
    [0.95, 9, 2.262157162798205],
    [0.95, 29, 2.045229642132703],
    [0.9, 1, 6.313751514675037],
    [0.9, 2, 2.9199855803537242],
    [0.9, 4, 2.1318467863266495],
    [0.9, 9, 1.833112932656237],
    [0.9, 29, 1.6991270265334972],
    [0.99, 1, 63.656741162871526],
    [0.99, 2, 9.924843200918287],
    [0.99, 4, 4.604094871349992],
    [0.99, 9, 3.249835541592126],
    [0.99, 29, 2.756385903670605],
  ];
  it.each(T_PPF)("uses the Student-t quantile (level %s, df %s) = scipy.stats.t.ppf", (level, df, t) => {
    const xs = Array.from({ length: df + 1 }, (_, i) => i);
    const ci = meanCI(xs, level);
    close(ci.halfWidth / (ci.sd / Math.sqrt(ci.n)), t);
  });

  // xs = [0.81, 0.79, 0.84, 0.80, 0.83]; np.mean(xs), np.std(xs, ddof=1),
  // scipy.stats.t.interval(level, 4, loc=np.mean(xs), scale=scipy.stats.sem(xs)) -> (lo, hi), half-width (hi − lo) / 2.
  const XS = [0.81, 0.79, 0.84, 0.8, 0.83];
  const XS_MEAN = 0.8140000000000001;
  const XS_SD = 0.020736441353327684;
  const XS_CI: [level: number, halfWidth: number, lo: number, hi: number][] = [
    [0.95, 0.02574769267929078, 0.7882523073207093, 0.8397476926792908],
    [0.9, 0.0197699337872419, 0.7942300662127582, 0.833769933787242],
    [0.99, 0.04269661935396818, 0.7713033806460319, 0.8566966193539682],
  ];
  it.each(XS_CI)("matches scipy.stats.t.interval at level %s", (level, halfWidth, lo, hi) => {
    const ci = meanCI(XS, level);
    expect(ci.n).toBe(5);
    expect(ci.level).toBe(level);
    close(ci.mean, XS_MEAN, 1e-14);
    close(ci.sd, XS_SD, 1e-12);
    close(ci.halfWidth, halfWidth);
    close(ci.lo, lo);
    close(ci.hi, hi);
  });
  it("defaults to 95 %", () => {
    expect(meanCI(XS)).toEqual(meanCI(XS, 0.95));
  });

  it("gives an infinite interval for one value (nothing is known about the spread)", () => {
    const ci = meanCI([0.7]);
    expect(ci.mean).toBe(0.7);
    expect(ci.n).toBe(1);
    expect(ci.sd).toBeNaN();
    expect(ci.halfWidth).toBe(Infinity);
    expect([ci.lo, ci.hi]).toEqual([-Infinity, Infinity]);
  });

  it("rejects no values, a non-finite value and a bad level, naming the parameter and the value", () => {
    expect(() => meanCI([])).toThrow("meanCI: xs must be a non-empty array of finite numbers, got an empty array");
    expect(() => meanCI([0.8, NaN])).toThrow("meanCI: xs[1] must be a finite number, got NaN");
    expect(() => meanCI([0.8, 0.9, -Infinity])).toThrow("meanCI: xs[2] must be a finite number, got -Infinity");
    expect(() => meanCI([0.8, 0.9], 95)).toThrow("meanCI: level must be a number in (0, 1), e.g. 0.95, got 95");
    expect(() => meanCI([0.8, 0.9], 0)).toThrow("meanCI: level must be a number in (0, 1), e.g. 0.95, got 0");
    expect(() => meanCI(undefined as unknown as number[])).toThrow("meanCI: xs must be an array, got undefined");
  });

  it("property: the interval covers the mean and widens with the level", () => {
    for (let seed = 0; seed < 50; seed++) {
      const xs = randomSample(`x${seed}`, 2 + (seed % 12));
      const c90 = meanCI(xs, 0.9);
      const c95 = meanCI(xs, 0.95);
      const c99 = meanCI(xs, 0.99);
      for (const c of [c90, c95, c99]) {
        expect(c.lo).toBeLessThanOrEqual(c.mean);
        expect(c.hi).toBeGreaterThanOrEqual(c.mean);
        close(c.hi - c.mean, c.mean - c.lo, 1e-12);
      }
      expect(c90.halfWidth).toBeLessThan(c95.halfWidth);
      expect(c95.halfWidth).toBeLessThan(c99.halfWidth);
    }
  });

  it("property: the half-width shrinks with n (the same values seen k times)", () => {
    for (let seed = 0; seed < 20; seed++) {
      const xs = randomSample(`k${seed}`, 3 + (seed % 5));
      let previous = Infinity;
      for (let k = 1; k <= 6; k++) {
        const ci = meanCI(Array.from({ length: k }, () => xs).flat());
        close(ci.mean, meanCI(xs).mean, 1e-12);
        expect(ci.halfWidth).toBeLessThan(previous);
        previous = ci.halfWidth;
      }
    }
  });
});

describe("pairedDiff", () => {
  // Reference: scipy.stats.ttest_rel(a, b) -> (t, p); scipy.stats.t.interval(0.95, n − 1, loc=d.mean(),
  // scale=scipy.stats.sem(d)) -> (lo, hi); d.mean(), d.std(ddof=1); the exact sign-flip p-value by
  // enumeration, count of s in itertools.product((1, -1), repeat=n) with abs(np.dot(s, d)) >= abs(d.sum())
  // − 1e-9 · sum(|d|), over 2^n, which equals scipy.stats.permutation_test((a, b), lambda x, y: np.mean(x − y),
  // permutation_type="samples", n_resamples=np.inf, alternative="two-sided").pvalue in every case below.
  const CASES: {
    name: string;
    a: number[];
    b: number[];
    mean: number;
    sd: number;
    lo: number;
    hi: number;
    t: number;
    pT: number;
    pPerm: number;
  }[] = [
    {
      name: "a clear gain, n = 10 (4 / 1024 sign patterns)",
      a: [0.812, 0.805, 0.82, 0.798, 0.815, 0.809, 0.822, 0.801, 0.817, 0.811],
      b: [0.79, 0.801, 0.806, 0.8, 0.799, 0.795, 0.812, 0.797, 0.803, 0.808],
      mean: 0.009899999999999964,
      sd: 0.00740045043674143,
      lo: 0.004606036672783361,
      hi: 0.015193963327216568,
      t: 4.23035720639888,
      pT: 0.0022054504942573064,
      pPerm: 0.00390625,
    },
    {
      name: "no clear difference, n = 6, with tied sums (34 / 64)",
      a: [0.7, 0.74, 0.69, 0.73, 0.71, 0.72],
      b: [0.71, 0.72, 0.7, 0.7, 0.72, 0.7],
      mean: 0.006666666666666672,
      sd: 0.01861898672502527,
      lo: -0.012872761581325061,
      hi: 0.026206094914658404,
      t: 0.8770580193070292,
      pT: 0.42059102691454237,
      pPerm: 0.53125,
    },
    {
      name: "n = 3 (2 / 8)",
      a: [1, 2, 4],
      b: [0.5, 1, 1.5],
      mean: 1.3333333333333333,
      sd: 1.0408329997330665,
      lo: -1.2522391729377984,
      hi: 3.9189058396044647,
      t: 2.218800784900916,
      pT: 0.15672595728843222,
      pPerm: 0.25,
    },
  ];
  it.each(CASES)("matches scipy: $name", (c) => {
    const r = pairedDiff(c.a, c.b);
    expect(r.n).toBe(c.a.length);
    expect(r.df).toBe(c.a.length - 1);
    expect(r.level).toBe(0.95);
    close(r.mean, c.mean, 1e-12);
    close(r.sd, c.sd);
    close(r.lo, c.lo);
    close(r.hi, c.hi);
    close(r.halfWidth, (c.hi - c.lo) / 2);
    close(r.t, c.t);
    close(r.pT, c.pT);
    expect(r.pPerm).toBe(c.pPerm);
    expect(r.permExact).toBe(true);
    expect(r.permDraws).toBe(2 ** c.a.length);
  });

  // n = 20 differences (points / 100). Exact reference by enumerating all 2^20 patterns with NumPy:
  // signs = ((np.arange(2**20)[:, None] >> np.arange(20)) & 1) * 2 − 1; count of np.abs(signs @ d) >=
  // abs(d.sum()) − 1e-9 · sum(|d|) = 64078 / 1048576 = 0.06110954284667969;
  // scipy.stats.ttest_1samp(d, 0) -> t = 2.0428294738121138, p = 0.055192743547786104.
  const D20 = [
    0.8, -0.3, 1.2, 0.5, -0.9, 0.4, 1.1, -0.2, 0.7, 0.3, -0.6, 0.9, 0.2, -0.4, 1.0, 0.6, -0.1, 0.5, -0.7, 0.8,
  ];
  const A20 = D20.map((x) => 0.8 + x / 100);
  const B20 = D20.map(() => 0.8);
  it("above 16 pairs estimates the permutation p-value from seeded draws, close to the exact one", () => {
    const r = pairedDiff(A20, B20);
    expect(r.permExact).toBe(false);
    expect(r.permDraws).toBe(100_000);
    close(r.t, 2.0428294738121138);
    close(r.pT, 0.055192743547786104);
    // Standard error at p ≈ 0.061 with 100,000 draws: 0.00076; allow 5 of them.
    expect(Math.abs(r.pPerm - 0.06110954284667969)).toBeLessThan(0.0038);
    expect(pairedDiff(A20, B20).pPerm).toBe(r.pPerm);
    const other = pairedDiff(A20, B20, 0.95, { seed: 7, permutationDraws: 20_000 });
    expect(other.permDraws).toBe(20_000);
    expect(Math.abs(other.pPerm - 0.06110954284667969)).toBeLessThan(0.0085);
    expect(EXACT_PERMUTATION_MAX_N).toBe(16);
  });
  it("is exact up to 16 pairs", () => {
    const r = pairedDiff(A20.slice(0, 16), B20.slice(0, 16));
    expect(r.permExact).toBe(true);
    expect(r.permDraws).toBe(65536);
  });

  it("rejects bad inputs, naming the parameter and the value", () => {
    expect(() => pairedDiff([1, 2, 3, 4, 5], [1, 2, 3, 4])).toThrow(
      "pairedDiff: a and b must have the same length, got 5 and 4",
    );
    expect(() => pairedDiff([1], [2])).toThrow(
      "pairedDiff: a and b must be of length at least 2 (one pair per seed), got 1",
    );
    expect(() => pairedDiff([], [])).toThrow(
      "pairedDiff: a and b must be of length at least 2 (one pair per seed), got 0",
    );
    expect(() => pairedDiff([0.8, NaN, 0.7], [0.8, 0.7, 0.7])).toThrow(
      "pairedDiff: a[1] must be a finite number, got NaN",
    );
    expect(() => pairedDiff([0.8, 0.7], [0.8, Infinity])).toThrow(
      "pairedDiff: b[1] must be a finite number, got Infinity",
    );
    expect(() => pairedDiff([0.8, 0.7], [0.8, 0.6], 1)).toThrow(
      "pairedDiff: level must be a number in (0, 1), e.g. 0.95, got 1",
    );
    expect(() => pairedDiff(A20, B20, 0.95, { permutationDraws: 0 })).toThrow(
      "pairedDiff: options.permutationDraws must be a positive integer, got 0",
    );
  });

  it("property: pairedDiff(a, a) has zero mean and p = 1 (exact and Monte Carlo)", () => {
    for (const n of [2, 5, 10, 16, 17, 30]) {
      const a = randomSample(`same${n}`, n);
      const r = pairedDiff(a, a, 0.95, { permutationDraws: 2000 });
      expect(r.mean).toBe(0);
      expect(r.sd).toBe(0);
      expect([r.lo, r.hi]).toEqual([0, 0]);
      expect(r.t).toBe(0);
      expect(r.pT).toBe(1);
      expect(r.pPerm).toBe(1);
    }
  });

  it("property: swapping a and b flips the sign and keeps the p-values", () => {
    for (let seed = 0; seed < 30; seed++) {
      const n = 2 + (seed % 15);
      const a = randomSample(`x${seed}`, n, 0.8);
      const b = randomSample(`b${seed}`, n, 0.79);
      const ab = pairedDiff(a, b);
      const ba = pairedDiff(b, a);
      close(ba.mean, -ab.mean, 1e-12);
      close(ba.lo, -ab.hi, 1e-12);
      close(ba.hi, -ab.lo, 1e-12);
      close(ba.t, -ab.t);
      close(ba.sd, ab.sd, 1e-12);
      close(ba.pT, ab.pT, 1e-12);
      expect(ba.pPerm).toBe(ab.pPerm);
    }
  });

  it("property: the permutation p-value is at least 1 / 2^n (2 / 2^n with a non-zero difference) and at most 1", () => {
    for (let seed = 0; seed < 40; seed++) {
      const n = 2 + (seed % 15);
      // A large shift: every difference positive, so only the identity and the full flip reach the observed sum.
      const a = randomSample(`x${seed}`, n, 0.9, 0.01);
      const b = randomSample(`low${seed}`, n, 0.7, 0.01);
      const r = pairedDiff(a, b);
      expect(r.pPerm).toBeGreaterThanOrEqual(1 / 2 ** n);
      expect(r.pPerm).toBe(2 / 2 ** n);
      const noisy = pairedDiff(randomSample(`x${seed}`, n), randomSample(`noisy${seed}`, n));
      expect(noisy.pPerm).toBeGreaterThanOrEqual(2 / 2 ** n);
      expect(noisy.pPerm).toBeLessThanOrEqual(1);
      expect(noisy.pT).toBeGreaterThan(0);
      expect(noisy.pT).toBeLessThanOrEqual(1);
    }
  });

  it("gives p = 0 on the t-test when every difference is the same non-zero value", () => {
    const r = pairedDiff([3, 4, 5], [1, 2, 3]);
    expect(r.mean).toBe(2);
    expect(r.sd).toBe(0);
    expect(r.t).toBe(Infinity);
    expect(r.pT).toBe(0);
    expect(r.pPerm).toBe(2 / 8);
  });
});

describe("mcnemar", () => {
  /** Correctness arrays with the given counts: both right, a only (b), b only (c), both wrong. */
  function scored(both: number, b: number, c: number, neither: number): [boolean[], boolean[]] {
    const a: boolean[] = [];
    const z: boolean[] = [];
    const push = (k: number, x: boolean, y: boolean) => {
      for (let i = 0; i < k; i++) {
        a.push(x);
        z.push(y);
      }
    };
    push(both, true, true);
    push(b, true, false);
    push(c, false, true);
    push(neither, false, false);
    return [a, z];
  }
  // p: scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue (the same as binomtest(b, b + c, 0.5));
  // chi2: max(|b − c| − 1, 0)² / (b + c), computed alongside.
  const CASES: [b: number, c: number, p: number, chi2: number][] = [
    [12, 4, 0.076812744140625, 3.0625],
    [0, 5, 0.0625, 3.2],
    [7, 7, 1.0, 0.0],
    [1, 0, 1.0, 0.0],
    [30, 18, 0.11140289106101878, 2.5208333333333335],
    [3, 11, 0.057373046875, 3.5],
  ];
  it.each(CASES)("b = %s, c = %s matches scipy.stats.binomtest", (b, c, p, chi2) => {
    const [ka, kb] = scored(80, b, c, 20);
    const r = mcnemar(ka, kb);
    const n = 100 + b + c;
    expect(r).toMatchObject({ n, b, c });
    close(r.p, p, 1e-12);
    close(r.chi2, chi2, 1e-12);
    close(r.accA, (80 + b) / n, 1e-15);
    close(r.accB, (80 + c) / n, 1e-15);
    close(r.diff, r.accA - r.accB, 1e-14);
  });

  it("takes 0/1 as well as booleans; no discordant example gives p = 1", () => {
    const [ka, kb] = scored(5, 12, 4, 3);
    expect(mcnemar(ka.map(Number), kb.map(Number))).toEqual(mcnemar(ka, kb));
    const same = mcnemar([true, false, true], [1, 0, 1]);
    expect(same).toMatchObject({ b: 0, c: 0, p: 1, chi2: 0, diff: 0 });
  });

  it("property: swapping the models swaps b and c and keeps p", () => {
    for (let seed = 0; seed < 20; seed++) {
      const u = rng(seed);
      const ka = Array.from({ length: 50 }, () => u() < 0.8);
      const kb = Array.from({ length: 50 }, () => u() < 0.7);
      const ab = mcnemar(ka, kb);
      const ba = mcnemar(kb, ka);
      expect([ba.b, ba.c]).toEqual([ab.c, ab.b]);
      expect(ba.p).toBe(ab.p);
      expect(ba.diff).toBeCloseTo(-ab.diff, 15);
      expect(ab.p).toBeGreaterThan(0);
      expect(ab.p).toBeLessThanOrEqual(1);
    }
  });

  it("rejects bad inputs, naming the parameter and the value", () => {
    expect(() => mcnemar([true, false], [true])).toThrow(
      "mcnemar: aCorrect and bCorrect must have the same length, got 2 and 1",
    );
    expect(() => mcnemar([], [])).toThrow(
      "mcnemar: aCorrect and bCorrect must be non-empty (one entry per test example), got empty arrays",
    );
    expect(() => mcnemar([1, 2], [1, 0])).toThrow("mcnemar: aCorrect[1] must be true, false, 0 or 1, got 2");
    expect(() => mcnemar([1, 0], [1, 0.5])).toThrow("mcnemar: bCorrect[1] must be true, false, 0 or 1, got 0.5");
  });
});

describe("judgeClaim", () => {
  const A = [0.812, 0.805, 0.82, 0.798, 0.815, 0.809, 0.822, 0.801, 0.817, 0.811];
  const B = [0.79, 0.801, 0.806, 0.8, 0.799, 0.795, 0.812, 0.797, 0.803, 0.808];
  const gain = pairedDiff(A, B); // Δ 0.0099, CI [0.0046, 0.0152]
  const loss = pairedDiff(B, A);
  const unclear = pairedDiff([0.7, 0.74, 0.69, 0.73, 0.71, 0.72], [0.71, 0.72, 0.7, 0.7, 0.72, 0.7]); // CI [−0.0129, 0.0262]

  it("greater: holds when lo > margin, contradicted when hi < margin", () => {
    expect(judgeClaim(gain, { direction: "greater" })).toEqual({
      verdict: "holds",
      text: "holds (Δ +1.0 points, 95 % CI [+0.5, +1.5], n = 10)",
    });
    expect(judgeClaim(unclear, { direction: "greater" })).toEqual({
      verdict: "not significant",
      text: "not significant (Δ +0.7 points, 95 % CI [−1.3, +2.6], n = 6)",
    });
    expect(judgeClaim(loss, { direction: "greater" })).toEqual({
      verdict: "contradicted",
      text: "contradicted (Δ −1.0 points, 95 % CI [−1.5, −0.5], n = 10)",
    });
    // A margin: "a beats b by more than 2 points" is contradicted by a CI entirely below 2 points.
    expect(judgeClaim(gain, { direction: "greater", margin: 0.02 })).toEqual({
      verdict: "contradicted",
      text: "contradicted (Δ +1.0 points, 95 % CI [+0.5, +1.5], n = 10, margin +2.0)",
    });
    expect(judgeClaim(gain, { direction: "greater", margin: 0.01 }).verdict).toBe("not significant");
    // Non-inferiority: "b is at most 2 points worse than a".
    expect(judgeClaim(loss, { direction: "greater", margin: -0.02 }).verdict).toBe("holds");
  });

  it("less: the mirror image of greater", () => {
    expect(judgeClaim(loss, { direction: "less" }).verdict).toBe("holds");
    expect(judgeClaim(gain, { direction: "less" }).verdict).toBe("contradicted");
    expect(judgeClaim(unclear, { direction: "less" }).verdict).toBe("not significant");
    expect(judgeClaim(loss, { direction: "less", margin: -0.02 }).verdict).toBe("contradicted");
  });

  it("within m: holds when the whole CI lies inside [−m, +m], contradicted when it lies wholly outside", () => {
    expect(judgeClaim(gain, { direction: "within", margin: 0.02 })).toEqual({
      verdict: "holds",
      text: "holds (Δ +1.0 points, 95 % CI [+0.5, +1.5], n = 10, margin ±2.0)",
    });
    expect(judgeClaim(gain, { direction: "within", margin: 0.004 }).verdict).toBe("contradicted");
    expect(judgeClaim(loss, { direction: "within", margin: 0.004 }).verdict).toBe("contradicted");
    expect(judgeClaim(gain, { direction: "within", margin: 0.01 }).verdict).toBe("not significant");
    expect(judgeClaim(unclear, { direction: "within", margin: 0.02 }).verdict).toBe("not significant");
    expect(judgeClaim(unclear, { direction: "within", margin: 0.03 }).verdict).toBe("holds");
  });

  it("a CI touching the margin is not significant; a single seed never is", () => {
    const touching: Interval = { mean: 0.01, lo: 0, hi: 0.02, n: 4, level: 0.95 };
    expect(judgeClaim(touching, { direction: "greater" }).verdict).toBe("not significant");
    expect(judgeClaim({ ...touching, lo: -0.02, hi: 0 }, { direction: "less" }).verdict).toBe("not significant");
    expect(judgeClaim(meanCI([0.5]), { direction: "greater" })).toEqual({
      verdict: "not significant",
      text: "not significant (Δ +50.0 points, 95 % CI [−∞, +∞], n = 1)",
    });
  });

  it("shows raw values for other units, and the comparison's level", () => {
    const ms: Interval = { mean: 12.345, lo: 3.21, hi: 21.48, n: 5, level: 0.9 };
    expect(judgeClaim(ms, { direction: "greater", unit: "ms" }).text).toBe(
      "holds (Δ +12.3 ms, 90 % CI [+3.21, +21.5], n = 5)",
    );
    expect(judgeClaim(ms, { direction: "greater", unit: "s", scale: 0.001, digits: 4 }).text).toBe(
      "holds (Δ +0.0123 s, 90 % CI [+0.0032, +0.0215], n = 5)",
    );
    expect(judgeClaim({ ...ms, level: 0.99 }, { direction: "less", unit: "" }).text).toBe(
      "contradicted (Δ +12.3, 99 % CI [+3.21, +21.5], n = 5)",
    );
  });

  it("rejects a bad claim, naming the parameter and the value", () => {
    expect(() => judgeClaim(gain, { direction: "within" })).toThrow(
      'judgeClaim: spec.margin must be a number > 0 for a "within" claim, got undefined (e.g. 0.02 for 2 points)',
    );
    expect(() => judgeClaim(gain, { direction: "bigger" as "greater" })).toThrow(
      'judgeClaim: spec.direction must be one of greater, less, within, got "bigger"',
    );
    expect(() => judgeClaim(gain, { direction: "greater", margin: NaN })).toThrow(
      "judgeClaim: spec.margin must be a finite number, got NaN",
    );
    expect(() => judgeClaim({ ...gain, lo: NaN }, { direction: "greater" })).toThrow("judgeClaim: comparison must be");
  });
});

describe("formatMeanCI", () => {
  it('shows mean ± 95 % half-width in points: "81.4 ± 2.6"', () => {
    expect(formatMeanCI(meanCI([0.81, 0.79, 0.84, 0.8, 0.83]))).toBe("81.4 ± 2.6");
    expect(formatMeanCI({ mean: 0.81, halfWidth: 0.026 })).toBe("81.0 ± 2.6");
    expect(formatMeanCI(meanCI([0.7]))).toBe("70.0 ± ∞");
    expect(formatMeanCI({ mean: NaN, halfWidth: 0 })).toBe("–");
  });
});

describe("compareOnSeeds", () => {
  // Constructed so the paired interval is known by hand: over seeds 0..9 the differences a − b are
  // m + s·e with e = +1, −1, +1, … (mean m, sample sd s·√(10/9)), so the 95 % half-width is
  // t(0.975, 9) · s·√(10/9) / √10 = t(0.975, 9) · s / 3, with t(0.975, 9) = 2.2621571628 (scipy.stats.t.ppf).
  const T_975_9 = 2.2621571628;
  const S = 0.03;
  const HALF = (T_975_9 * S) / 3; // 0.0226215716
  const seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const base = (seed: number) => 0.7 + 0.013 * ((seed * 7) % 5); // b's values: any spread, it cancels
  const sides = (m: number): { a: SeedValue[]; b: SeedValue[] } => ({
    a: seeds.map((seed) => ({ seed, value: base(seed) + m + S * (seed % 2 === 0 ? 1 : -1) })),
    b: seeds.map((seed) => ({ seed, value: base(seed) })),
  });

  it("holds, is contradicted or is not significant as the hand-computed interval says", () => {
    const up = sides(0.03); // CI [0.0074, 0.0526]: above 0
    const r = compareOnSeeds(up.a, up.b, { direction: "greater" });
    expect(r.diff!.mean).toBeCloseTo(0.03, 12);
    expect(r.diff!.halfWidth).toBeCloseTo(HALF, 9);
    expect(r.diff!.lo).toBeCloseTo(0.03 - HALF, 9);
    expect(r.diff!.hi).toBeCloseTo(0.03 + HALF, 9);
    expect(r.verdict).toBe("holds");
    expect(r.text).toBe("holds (Δ +3.0 points, 95 % CI [+0.7, +5.3], n = 10)");
    expect([r.seeds, r.unpaired]).toEqual([seeds, []]);

    const down = sides(-0.03); // CI [−0.0526, −0.0074]: below 0
    expect(compareOnSeeds(down.a, down.b, { direction: "greater" })).toMatchObject({
      verdict: "contradicted",
      text: "contradicted (Δ −3.0 points, 95 % CI [−5.3, −0.7], n = 10)",
    });
    expect(compareOnSeeds(down.a, down.b, { direction: "less" }).verdict).toBe("holds");

    const small = sides(0.01); // CI [−0.0126, +0.0326]: straddles 0, inside ±5 points, not inside ±3
    expect(compareOnSeeds(small.a, small.b, { direction: "greater" })).toMatchObject({
      verdict: "not significant",
      text: "not significant (Δ +1.0 points, 95 % CI [−1.3, +3.3], n = 10)",
    });
    expect(compareOnSeeds(small.a, small.b, { direction: "within", margin: 0.05 }).text).toBe(
      "holds (Δ +1.0 points, 95 % CI [−1.3, +3.3], n = 10, margin ±5.0)",
    );
    expect(compareOnSeeds(small.a, small.b, { direction: "within", margin: 0.03 }).verdict).toBe("not significant");
    // The same numbers judged by hand-built interval agree with judgeClaim.
    const byHand: Interval = { mean: 0.01, lo: 0.01 - HALF, hi: 0.01 + HALF, n: 10, level: 0.95 };
    expect(compareOnSeeds(small.a, small.b, { direction: "greater" }).text).toBe(
      judgeClaim(byHand, { direction: "greater" }).text,
    );
  });

  it("pairs by seed, whatever the order of either list", () => {
    const { a, b } = sides(0.03);
    const inOrder = compareOnSeeds(a, b, { direction: "greater" });
    // b reversed and a rotated: pairing by position would mix seeds (mean stays, sd does not).
    const shuffled = compareOnSeeds([...a.slice(3), ...a.slice(0, 3)], [...b].reverse(), { direction: "greater" });
    expect(shuffled.text).toBe(inOrder.text);
    expect(shuffled.diff!.sd).toBeCloseTo(inOrder.diff!.sd, 12);
    expect(shuffled.diff!.sd).toBeCloseTo(S * Math.sqrt(10 / 9), 12);
    expect(shuffled.seeds).toEqual(seeds);
    const byPosition = pairedDiff(
      [...a.slice(3), ...a.slice(0, 3)].map((x) => x.value),
      [...b].reverse().map((x) => x.value),
    );
    expect(byPosition.sd).not.toBeCloseTo(inOrder.diff!.sd, 3); // so the test above could fail
  });

  it("reports seeds only one side measured and leaves them out", () => {
    const { a, b } = sides(0.03);
    const r = compareOnSeeds([...a, { seed: 42, value: 0 }], [{ seed: 99, value: 1 }, ...b.slice(1)], {
      direction: "greater",
    });
    expect(r.seeds).toEqual(seeds.slice(1));
    expect(r.unpaired).toEqual([0, 42, 99]);
    expect(r.diff!.n).toBe(9);
    expect(r.text).toMatch(/, n = 9\)$/);
    // The extreme unpaired values did not enter: the mean is that of seeds 1..9 only.
    const d = seeds.slice(1).map((s) => a[s].value - b[s].value);
    expect(r.diff!.mean).toBeCloseTo(d.reduce((x, y) => x + y, 0) / 9, 12);
  });

  it("with one or no shared seed says 'not significant' with the reason, and never throws", () => {
    const one = compareOnSeeds(
      [{ seed: 3, value: 0.9 }],
      [
        { seed: 3, value: 0.5 },
        { seed: 4, value: 0.5 },
      ],
      { direction: "greater" },
    );
    expect(one).toEqual({
      verdict: "not significant",
      text: "not significant (n = 1: one seed gives no interval)",
      diff: null,
      seeds: [3],
      unpaired: [4],
    });
    const none = compareOnSeeds([{ seed: 0, value: 0.9 }], [{ seed: 1, value: 0.5 }], {
      direction: "within",
      margin: 0.02,
    });
    expect(none).toMatchObject({
      verdict: "not significant",
      text: "not significant (n = 0: no seed measured by both)",
      diff: null,
      seeds: [],
      unpaired: [0, 1],
    });
    expect(compareOnSeeds([], [], { direction: "less" }).text).toBe(
      "not significant (n = 0: no seed measured by both)",
    );
  });

  it("throws on malformed input, naming the parameter and the value", () => {
    const ok = [
      { seed: 0, value: 0.5 },
      { seed: 1, value: 0.6 },
    ];
    const greater = { direction: "greater" } as const;
    expect(() => compareOnSeeds(ok, [...ok, { seed: 1, value: 0.7 }], greater)).toThrow(
      "compareOnSeeds: b[2].seed must be a seed listed once, got 1",
    );
    expect(() => compareOnSeeds([{ seed: 0, value: NaN }, ok[1]], ok, greater)).toThrow(
      "compareOnSeeds: a[0].value must be a finite number, got NaN",
    );
    expect(() => compareOnSeeds([{ seed: NaN, value: 0.5 }], ok, greater)).toThrow(
      "compareOnSeeds: a[0].seed must be a finite number, got NaN",
    );
    expect(() => compareOnSeeds([0.5 as never], ok, greater)).toThrow(
      "compareOnSeeds: a[0] must be { seed: number, value: number }, got 0.5",
    );
    expect(() => compareOnSeeds(ok, "b" as never, greater)).toThrow('compareOnSeeds: b must be an array, got "b"');
    // A bad spec fails under compareOnSeeds' name, with or without shared seeds.
    for (const b of [ok, []]) {
      expect(() => compareOnSeeds(ok, b, { direction: "within" })).toThrow(
        'compareOnSeeds: spec.margin must be a number > 0 for a "within" claim, got undefined',
      );
      expect(() => compareOnSeeds(ok, b, { direction: "up" as never })).toThrow(
        'compareOnSeeds: spec.direction must be one of greater, less, within, got "up"',
      );
    }
    expect(() => compareOnSeeds(ok, ok, undefined as never)).toThrow(/compareOnSeeds: spec must be .*got undefined/);
  });
});
