// A linear probe solved in closed form: ridge regression of one-hot labels on frozen features (a
// least-squares linear classifier), its penalty chosen on validation. No learning rate or epoch count
// to tune and no tensors: a probe on 64 features costs microseconds, so every arm, budget and seed
// gets one. Plain JS in float64.
import type { Dataset } from "../data/types";
import { checkDataset } from "../data/check";
import { argError, show } from "../core/validate";

/** Candidate penalties, relative to the mean squared feature norm (so they mean the same for features
 * of any scale): the probe keeps the one with the best validation accuracy (ties: the earlier). */
export const DEFAULT_RIDGE_ALPHAS: readonly number[] = [1e-3, 1e-2, 1e-1, 1];

export interface RidgeProbeArgs {
  /** Frozen features with labels: the probe is fitted on train, chosen on val, scored once on test. */
  train: Dataset;
  val: Dataset;
  test: Dataset;
  alphas?: readonly number[];
  /** How to solve: "primal" (normal equations over the dim + 1 weights), "dual" (centred kernel form over
   * the n training rows; the same minimiser), or "auto" (default): dual when n < dim, as for a probe
   * on the 784 raw pixels with a few labels per class. */
  solver?: "auto" | "primal" | "dual";
}

export interface RidgeProbeResult {
  /** Test accuracy of the probe with the penalty chosen on validation. */
  accuracy: number;
  valAccuracy: number;
  /** The chosen relative penalty. */
  alpha: number;
  /** Validation accuracy of every candidate, in the order given. */
  candidates: { alpha: number; valAccuracy: number }[];
}

/** Solves A·X = B for symmetric positive definite A ([m, m]) by Cholesky; B is [m, c]. In place on copies. */
function solveSpd(a: Float64Array, b: Float64Array, m: number, c: number): Float64Array {
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j];
      for (let k = 0; k < j; k++) s -= l[i * m + k] * l[j * m + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`ridgeProbe: the normal equations are not positive definite (pivot ${s})`);
        l[i * m + i] = Math.sqrt(s);
      } else l[i * m + j] = s / l[j * m + j];
    }
  }
  const x = new Float64Array(m * c);
  for (let col = 0; col < c; col++) {
    const y = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = b[i * c + col];
      for (let k = 0; k < i; k++) s -= l[i * m + k] * y[k];
      y[i] = s / l[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < m; k++) s -= l[k * m + i] * x[k * c + col];
      x[i * c + col] = s / l[i * m + i];
    }
  }
  return x;
}

/** Accuracy of the linear map W ([dim + 1, C], bias last) on a dataset. */
function accuracyOf(w: Float64Array, ds: Dataset): number {
  const d = ds.dim;
  const c = ds.numClasses;
  let correct = 0;
  for (let i = 0; i < ds.n; i++) {
    let best = -Infinity;
    let arg = 0;
    for (let k = 0; k < c; k++) {
      let s = w[d * c + k];
      for (let j = 0; j < d; j++) s += ds.x[i * d + j] * w[j * c + k];
      if (s > best) {
        best = s;
        arg = k;
      }
    }
    if (arg === ds.y[i]) correct++;
  }
  return ds.n === 0 ? NaN : correct / ds.n;
}

/**
 * Fits W = argmin ‖[X 1]W − Y‖² + λ‖W_features‖² (the bias unpenalised) with Y one-hot, for each
 * λ = alpha · mean ‖x‖² · n, keeps the alpha with the best validation accuracy and scores it on test.
 */
export function ridgeProbe(args: RidgeProbeArgs): RidgeProbeResult {
  const where = "ridgeProbe";
  checkDataset(where, "train", args.train);
  checkDataset(where, "val", args.val);
  checkDataset(where, "test", args.test);
  const { train } = args;
  for (const p of ["val", "test"] as const) {
    if (args[p].dim !== train.dim || args[p].numClasses !== train.numClasses)
      throw argError(
        where,
        p,
        `features like train's (${train.dim} features, ${train.numClasses} classes)`,
        `${args[p].dim} features, ${args[p].numClasses} classes`,
      );
  }
  const alphas = args.alphas ?? DEFAULT_RIDGE_ALPHAS;
  if (!Array.isArray(alphas) || alphas.length === 0 || alphas.some((a) => !(a > 0) || !Number.isFinite(a)))
    throw argError(where, "alphas", "a non-empty list of finite numbers > 0", show(alphas));
  const solver = args.solver ?? "auto";
  if (!["auto", "primal", "dual"].includes(solver))
    throw argError(where, "solver", '"auto", "primal" or "dual"', show(solver));
  if (solver === "dual" || (solver === "auto" && train.n < train.dim))
    return chooseAlpha(dualRidge(train, alphas), args);
  return chooseAlpha(primalRidge(train, alphas), args);
}

/** Keeps the candidate with the best validation accuracy (ties: the earlier) and scores it on test. */
function chooseAlpha(fits: { alpha: number; w: Float64Array }[], args: RidgeProbeArgs): RidgeProbeResult {
  const candidates = fits.map((f) => ({ ...f, valAccuracy: accuracyOf(f.w, args.val) }));
  let best = 0;
  candidates.forEach((cand, i) => {
    if (cand.valAccuracy > candidates[best].valAccuracy) best = i;
  });
  return {
    accuracy: accuracyOf(candidates[best].w, args.test),
    valAccuracy: candidates[best].valAccuracy,
    alpha: candidates[best].alpha,
    candidates: candidates.map(({ alpha, valAccuracy }) => ({ alpha, valAccuracy })),
  };
}

/** The sum of squared feature norms Σ‖x‖² (λ = alpha · this, in both solvers). */
function sumSquares(train: Dataset): number {
  let sq = 0;
  for (let i = 0; i < train.n * train.dim; i++) sq += train.x[i] * train.x[i];
  return Math.max(sq, 1e-12);
}

/** Dual form: with the unpenalised bias, the minimiser is ridge on centred data, W = X̃ᵀA with
 * (X̃X̃ᵀ + λI)A = Ỹ ([n, n], X̃ = X − x̄, Ỹ = Y − ȳ) and bias ȳ − x̄ᵀW: n³ instead of dim³. */
function dualRidge(train: Dataset, alphas: readonly number[]): { alpha: number; w: Float64Array }[] {
  const { n, dim: d, numClasses: c } = train;
  const xm = new Float64Array(d);
  const ym = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xm[j] += train.x[i * d + j] / n;
    ym[train.y[i]] += 1 / n;
  }
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = train.x[i * d + j] - xm[j];
  const yc = new Float64Array(n * c);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) yc[i * c + k] = (train.y[i] === k ? 1 : 0) - ym[k];
  const kern = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += xc[i * d + t] * xc[j * d + t];
      kern[i * n + j] = s;
      kern[j * n + i] = s;
    }
  const scale = sumSquares(train);
  return alphas.map((alpha) => {
    const a = Float64Array.from(kern);
    for (let i = 0; i < n; i++) a[i * n + i] += alpha * scale;
    const coef = solveSpd(a, yc, n, c);
    const w = new Float64Array((d + 1) * c);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const v = xc[i * d + j];
        if (v !== 0) for (let k = 0; k < c; k++) w[j * c + k] += v * coef[i * c + k];
      }
    for (let k = 0; k < c; k++) {
      let b = ym[k];
      for (let j = 0; j < d; j++) b -= xm[j] * w[j * c + k];
      w[d * c + k] = b;
    }
    return { alpha, w };
  });
}

/** Primal form: the normal equations over the dim + 1 weights (bias last, unpenalised). */
function primalRidge(train: Dataset, alphas: readonly number[]): { alpha: number; w: Float64Array }[] {
  const d = train.dim;
  const m = d + 1;
  const c = train.numClasses;
  // Normal equations: G = [X 1]ᵀ[X 1] ([m, m]), R = [X 1]ᵀ Y ([m, c]).
  const g = new Float64Array(m * m);
  const r = new Float64Array(m * c);
  const row = new Float64Array(m);
  let sq = 0;
  for (let i = 0; i < train.n; i++) {
    for (let j = 0; j < d; j++) row[j] = train.x[i * d + j];
    row[d] = 1;
    for (let j = 0; j < m; j++) {
      if (j < d) sq += row[j] * row[j];
      for (let k = 0; k <= j; k++) g[j * m + k] += row[j] * row[k];
      r[j * c + train.y[i]] += row[j];
    }
  }
  for (let j = 0; j < m; j++) for (let k = j + 1; k < m; k++) g[j * m + k] = g[k * m + j];
  const scale = Math.max(sq, 1e-12); // mean ‖x‖² · n
  return alphas.map((alpha) => {
    const a = Float64Array.from(g);
    for (let j = 0; j < d; j++) a[j * m + j] += alpha * scale;
    if (!(a[d * m + d] > 0)) a[d * m + d] += 1e-9;
    return { alpha, w: solveSpd(a, r, m, c) };
  });
}
