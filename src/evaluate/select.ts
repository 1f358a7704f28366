// Choosing on validation data: every "best" a lesson names — a learning rate, a freeze ratio, a rank,
// a number of epochs — is the candidate with the highest validation accuracy; test accuracy is read
// only for what was chosen. Two ways to choose, both here:
//   - chooseOnValidation: one candidate for all seeds, by mean validation accuracy (a table's "best");
//   - choosePerSeed: each seed picks its own candidate on its own validation split — the whole
//     pipeline, selection included, is what gets replicated, so the chosen runs' test accuracies are
//     an honest per-seed sample to compare with compareOnSeeds.
// Both take `by`: "accuracy" chooses on test instead — only to measure how much that flatters a result.
import { meanCI } from "../core/stats";
import { argError, checkOneOf, show } from "../core/validate";

/** What a run must report to take part in a choice. */
export interface ScoredRun {
  seed: number;
  /** Validation accuracy: what choices are made on. */
  valAccuracy: number;
  /** Test accuracy: reported for the chosen candidate only. */
  accuracy: number;
}

/** One candidate: its name or settings (`key`) and its runs, one per seed. */
export interface CandidateRuns<K, R extends ScoredRun = ScoredRun> {
  key: K;
  runs: readonly R[];
}

/** The score choices are made on: validation accuracy, or (to show the bias) test accuracy. */
export type ChooseBy = "valAccuracy" | "accuracy";
export const CHOOSE_BY: readonly ChooseBy[] = ["valAccuracy", "accuracy"];

/** One candidate's line in a choice's table. */
export interface CandidateSummary<K> {
  key: K;
  n: number;
  /** Mean validation accuracy and its 95 % half-width. */
  valMean: number;
  valHalfWidth: number;
  /** Mean test accuracy (shown for the chosen candidate; kept for all so a lesson can show the gap). */
  testMean: number;
}

export interface Choice<K> {
  chosen: K;
  /** Index of the chosen candidate in the list given. */
  index: number;
  by: ChooseBy;
  candidates: CandidateSummary<K>[];
}

function checkCandidates<K, R extends ScoredRun>(where: string, groups: readonly CandidateRuns<K, R>[]): void {
  if (!Array.isArray(groups) || groups.length === 0)
    throw argError(where, "candidates", "a non-empty list of { key, runs }", show(groups));
  groups.forEach((g, i) => {
    if (!g || !Array.isArray(g.runs) || g.runs.length === 0)
      throw argError(where, `candidates[${i}].runs`, "a non-empty list of runs", show(g?.runs));
    const seen = new Set<number>();
    g.runs.forEach((r: ScoredRun, j: number) => {
      // One run per seed: a seed listed twice would count twice in a mean and pick arbitrarily per seed.
      if (typeof r?.seed !== "number" || !Number.isFinite(r.seed) || seen.has(r.seed))
        throw argError(
          where,
          `candidates[${i}].runs[${j}].seed`,
          "a finite seed listed once per candidate",
          show(r?.seed),
        );
      seen.add(r.seed);
      for (const field of ["valAccuracy", "accuracy"] as const) {
        if (typeof r[field] !== "number" || !Number.isFinite(r[field]))
          throw argError(
            where,
            `candidates[${i}].runs[${j}].${field}`,
            "a finite number (was the run scored on validation data?)",
            show(r[field]),
          );
      }
    });
  });
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The candidate with the highest mean score over its runs (`by`, default validation accuracy); ties
 * go to the earlier candidate, so list the simpler or cheaper one first. */
export function chooseOnValidation<K, R extends ScoredRun>(
  candidates: readonly CandidateRuns<K, R>[],
  by: ChooseBy = "valAccuracy",
): Choice<K> {
  const where = "chooseOnValidation";
  checkCandidates(where, candidates);
  checkOneOf(where, "by", by, CHOOSE_BY);
  const summaries = candidates.map((g) => {
    const val = meanCI(g.runs.map((r) => r.valAccuracy));
    return {
      key: g.key,
      n: g.runs.length,
      valMean: val.mean,
      valHalfWidth: val.halfWidth,
      testMean: mean(g.runs.map((r) => r.accuracy)),
    };
  });
  const score = (s: CandidateSummary<K>) => (by === "valAccuracy" ? s.valMean : s.testMean);
  let index = 0;
  summaries.forEach((s, i) => {
    if (score(s) > score(summaries[index])) index = i;
  });
  return { chosen: summaries[index].key, index, by, candidates: summaries };
}

/** choosePerSeed's answer: per seed, the run chosen and which candidate it came from. */
export interface PerSeedChoice<K, R extends ScoredRun> {
  by: ChooseBy;
  /** The chosen run of every seed that all candidates measured, by ascending seed. */
  runs: (R & { chosen: K })[];
  /** How often each candidate was chosen, in the order given. */
  counts: { key: K; times: number }[];
}

/** Each seed chooses its own candidate on its own score (`by`, default validation accuracy; ties go to
 * the earlier candidate). Only seeds that every candidate ran take part. */
export function choosePerSeed<K, R extends ScoredRun>(
  candidates: readonly CandidateRuns<K, R>[],
  by: ChooseBy = "valAccuracy",
): PerSeedChoice<K, R> {
  const where = "choosePerSeed";
  checkCandidates(where, candidates);
  checkOneOf(where, "by", by, CHOOSE_BY);
  const seeds = [...new Set(candidates[0].runs.map((r) => r.seed))]
    .filter((s) => candidates.every((g) => g.runs.some((r) => r.seed === s)))
    .sort((a, b) => a - b);
  const times = candidates.map(() => 0);
  const runs = seeds.map((seed) => {
    let best = -1;
    let bestRun: R | null = null;
    candidates.forEach((g, i) => {
      const r = g.runs.find((x) => x.seed === seed)!;
      if (bestRun === null || r[by] > bestRun[by]) {
        best = i;
        bestRun = r;
      }
    });
    times[best]++;
    return { ...(bestRun as unknown as R), chosen: candidates[best].key };
  });
  return { by, runs, counts: candidates.map((g, i) => ({ key: g.key, times: times[i] })) };
}

/** The run fields a lesson compares across seeds. */
export type ScoreField = "accuracy" | "valAccuracy" | "retention" | "forgetting";

/** Runs as compareOnSeeds input: one field per seed (test accuracy by default); runs without the
 * field (retention not measured) are left out. */
export function runValues(
  runs: readonly ({ seed: number } & { [F in ScoreField]?: number | null })[],
  field: ScoreField = "accuracy",
): { seed: number; value: number }[] {
  return runs
    .filter((r) => typeof r[field] === "number" && Number.isFinite(r[field]))
    .map((r) => ({ seed: r.seed, value: r[field] as number }));
}
