// Argument checks for the public boundary, all with one message format:
//   `<where>: <param> must be <what is allowed>, got <value> (<remedy>)`
// so a bad call names the function, the parameter, the value and the fix. Checks run before any
// tensor is built or file touched, so a rejected call leaves nothing behind.

/** A value as messages print it: strings quoted, numbers as JS prints them (NaN, Infinity, 2.5). */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || v === undefined || typeof v !== "object") return String(v);
  if (v instanceof RegExp) return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The error of one bad argument; `got` is printed as is (use show() for plain values). */
export function argError(where: string, param: string, allowed: string, got: string, remedy?: string): Error {
  return new Error(`${where}: ${param} must be ${allowed}, got ${got}${remedy ? ` (${remedy})` : ""}`);
}

function fail(where: string, param: string, allowed: string, value: unknown, remedy?: string): never {
  throw argError(where, param, allowed, show(value), remedy);
}

const isNum = (v: unknown): v is number => typeof v === "number";

export function checkPositiveInt(where: string, param: string, v: unknown, remedy?: string): asserts v is number {
  if (!isNum(v) || !Number.isInteger(v) || v < 1) fail(where, param, "a positive integer", v, remedy);
}

export function checkNonNegativeInt(where: string, param: string, v: unknown, remedy?: string): asserts v is number {
  if (!isNum(v) || !Number.isInteger(v) || v < 0) fail(where, param, "a non-negative integer", v, remedy);
}

/** An integer in [lo, hi] (both ends included). */
export function checkIntInRange(
  where: string,
  param: string,
  v: unknown,
  lo: number,
  hi: number,
  remedy?: string,
): asserts v is number {
  if (!isNum(v) || !Number.isInteger(v) || v < lo || v > hi)
    fail(where, param, `an integer in [${lo}, ${hi}]`, v, remedy);
}

/** A ratio in [0, 1]. */
export function checkRatio(where: string, param: string, v: unknown, remedy?: string): asserts v is number {
  if (!isNum(v) || !(v >= 0 && v <= 1)) fail(where, param, "a number in [0, 1]", v, remedy);
}

/** A rate or scale: finite and > 0 (learning rates, alpha, standard deviations). */
export function checkPositiveFinite(where: string, param: string, v: unknown, remedy?: string): asserts v is number {
  if (!isNum(v) || !Number.isFinite(v) || v <= 0) fail(where, param, "a finite number > 0", v, remedy);
}

export function checkFinite(where: string, param: string, v: unknown, remedy?: string): asserts v is number {
  if (!isNum(v) || !Number.isFinite(v)) fail(where, param, "a finite number", v, remedy);
}

/** A list of seeds (one run per seed): non-empty, every seed finite. */
export function checkSeeds(where: string, seeds: unknown): asserts seeds is number[] {
  if (!Array.isArray(seeds) || seeds.length === 0)
    throw argError(where, "seeds", "a non-empty list of finite numbers", show(seeds));
  seeds.forEach((s, i) => checkFinite(where, `seeds[${i}]`, s));
}

/** One of a fixed set of names (shift names, methods, scales…). */
export function checkOneOf<T extends string>(
  where: string,
  param: string,
  v: unknown,
  allowed: readonly T[],
  remedy?: string,
): asserts v is T {
  if (!(allowed as readonly unknown[]).includes(v)) fail(where, param, `one of ${allowed.join(", ")}`, v, remedy);
}

/** A tensor of an expected shape; null in `expected` accepts any size on that axis. */
export function checkShape(
  where: string,
  param: string,
  t: unknown,
  expected: (number | null)[],
  names: string[] = [],
): void {
  const s = (t as { shape?: unknown } | null)?.shape;
  const want = `[${expected.map((d, i) => d ?? names[i] ?? "any").join(", ")}]`;
  if (!Array.isArray(s)) throw argError(where, param, `a tensor of shape ${want}`, show(t));
  if (s.length !== expected.length || expected.some((d, i) => d !== null && s[i] !== d)) {
    throw argError(where, param, `a tensor of shape ${want}`, `shape [${s.join(", ")}]`);
  }
}
