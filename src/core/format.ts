// How numbers read in lessons, tables, progress lines and the site: one function per kind of
// number (percent, points, counts, durations), so the same quantity always looks the same.

/** A number with at most `digits` significant digits, integers as they are: 0.123456 -> "0.123". */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(digits)));
}

/** Percent with one decimal: 0.8421 -> "84.2 %". */
export function formatPct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** A table cell in percent, with its spread when given: (0.81, 0.026) -> "81.0 ± 2.6"; "–" for none. */
export function pct(mean: number | null, spread?: number | null): string {
  if (mean === null || !Number.isFinite(mean)) return "–";
  return spread === undefined || spread === null
    ? `${(100 * mean).toFixed(1)}`
    : `${(100 * mean).toFixed(1)} ± ${(100 * spread).toFixed(1)}`;
}

/** A difference of accuracies in signed points, without the unit: 0.12 -> "+12.0", -0.05 -> "−5.0". */
export function signedPoints(d: number): string {
  return `${d >= 0 ? "+" : "−"}${Math.abs(100 * d).toFixed(1)}`;
}

/** Signed points between two accuracies: (0.84, 0.72) -> "+12.0 points". */
export function formatPoints(a: number, b: number): string {
  return `${signedPoints(a - b)} points`;
}

/** Integer with thousands separators: 138890 -> "138,890". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** "1 label/class", "5 labels/class". */
export function labelsText(k: number): string {
  return `${k} label${k === 1 ? "" : "s"}/class`;
}

/** A duration given in milliseconds: "850 ms", "12.3 s", "2 min 05 s", "1 h 02 min"; "?" when unknown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** A duration given in seconds (see formatDuration); "—" for none. */
export function formatSeconds(s: number | null): string {
  return s === null || !Number.isFinite(s) ? "—" : formatDuration(s * 1000);
}

/**
 * A tagged template for long prose in code: line breaks written in the source are layout, each
 * (with the indentation after it) read as one space, so an answer can be wrapped at 120 columns
 * and still come out as one paragraph. Use `\n` escapes nowhere in it (they would be folded too).
 */
export function prose(strings: TemplateStringsArray, ...values: unknown[]): string {
  strings.raw.forEach((raw) => {
    if (raw.includes("\\n"))
      throw new Error("prose: a \\n escape would be folded into a space; write the paragraph break outside prose");
  });
  return strings.reduce(
    (acc, s, i) => acc + s.replace(/\n[ \t]*/g, " ") + (i < values.length ? String(values[i]) : ""),
    "",
  );
}
