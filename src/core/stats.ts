// The summary statistics the experiments report: mean ± sample standard deviation over seeds,
// and the median of per-epoch timings. Pure functions on plain arrays.

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
