// Seeded randomness for everything done on the JS side (shuffles, label budgets, noise):
// the same seed gives the same numbers on every backend.
import seedrandom from "seedrandom";

/** A seeded uniform generator on [0, 1). */
export function rng(seed: number | string): () => number {
  return seedrandom(String(seed));
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function shuffledIndices(n: number, seed: number | string): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`shuffledIndices: n must be a non-negative integer, got ${n}`);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/** A standard-normal sampler (Box-Muller) driven by a seeded uniform generator. */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const m = Math.sqrt(-2 * Math.log(u));
    spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  };
}

/** Derives a per-purpose seed from a base seed, so streams do not overlap. */
export function subSeed(seed: number, purpose: string): string {
  return `${seed}:${purpose}`;
}
