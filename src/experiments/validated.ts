// One arm of a transfer experiment with its settings chosen on validation data: the same method at
// several candidate settings (learning rates, layer decays...) runs on every seed, and the candidate
// with the best validation accuracy is the arm — per (task, k) — whose test accuracy the lesson
// reports. "shared" mode picks one candidate for all seeds (mean validation accuracy), so a table can
// name it ("lr 1e-4, chosen on validation"); "per-seed" mode lets every seed choose on its own split,
// so the selection itself is replicated and the arm's per-seed test accuracies compare honestly.
// chooseArms makes the same choice on runs already made, so one experiment can serve several arms.
import type { Scale } from "../core/scale";
import { checkOneOf, argError, show } from "../core/validate";
import {
  CHOOSE_BY,
  chooseOnValidation,
  choosePerSeed,
  runValues,
  type ChooseBy,
  type Choice,
  type ScoreField,
} from "../evaluate/select";
import type { SeedValue } from "../core/stats";
import {
  runTransferExperiment,
  type TransferExperimentArgs,
  type TransferExperimentRun,
  type TransferVariant,
} from "./transfer-sweep";
import { transferLabel } from "./transfer";

export type SelectionMode = "shared" | "per-seed";
export const SELECTION_MODES: readonly SelectionMode[] = ["shared", "per-seed"];

export interface ValidatedArmArgs extends Omit<TransferExperimentArgs, "variants"> {
  /** The arm's candidates, simplest or cheapest first (ties go to the earlier one). */
  candidates: TransferVariant[];
  /** "shared" (default): one candidate for all seeds; "per-seed": each seed chooses its own. */
  mode?: SelectionMode;
  /** What to choose on (default "valAccuracy"); "accuracy" (test) only to show how much it flatters. */
  by?: ChooseBy;
  scale?: Scale;
}

/** The arm at one (task, k): its chosen runs, one per seed, and how they were chosen. */
export interface ValidatedArm {
  task: string;
  labelsPerClass: number;
  mode: SelectionMode;
  by: ChooseBy;
  /** The chosen run of every seed (test accuracy = `accuracy`), by ascending seed. */
  runs: TransferExperimentRun[];
  /** shared mode: the choice table (every candidate's mean validation and test accuracy). */
  choice: Choice<TransferVariant> | null;
  /** How often each candidate was chosen (shared mode: all seeds for one). */
  counts: { label: string; variant: TransferVariant; times: number }[];
}

/** What runValidatedArm returns: one arm per (task, k), and every run it trained or read back. */
export interface ValidatedArms {
  arms: ValidatedArm[];
  all: TransferExperimentRun[];
}

/** Runs every candidate on every seed, shift and budget (reusing recorded runs), then chooses per
 * (task, k) on validation accuracy, as `mode` says. */
export async function runValidatedArm(args: ValidatedArmArgs): Promise<ValidatedArms> {
  const where = "runValidatedArm";
  if (!Array.isArray(args.candidates) || args.candidates.length === 0)
    throw argError(where, "candidates", "a non-empty list of transfer variants", show(args.candidates));
  const mode = args.mode ?? "shared";
  checkOneOf(where, "mode", mode, SELECTION_MODES);
  const by = args.by ?? "valAccuracy";
  const { candidates, mode: _mode, by: _by, ...rest } = args;
  const all = await runTransferExperiment({ ...rest, variants: candidates });
  return { arms: chooseArms(all, candidates, { mode, by }), all };
}

/** Whether a run is one of `variant`'s: same label, method and freeze ratio (a ratio of 0 is named
 * "full-ft" like full fine-tuning, and 1 "head-only" like feature extraction). */
function runOf(r: TransferExperimentRun, variant: TransferVariant, label: string): boolean {
  return (
    r.label === label &&
    r.method === variant.method &&
    (variant.method !== "freeze-ratio" || r.freezeRatio === variant.freezeRatio)
  );
}

/** The arms of runs already made (runTransferExperiment's, or several of them joined): per (task, k)
 * that every candidate ran, the candidate chosen as runValidatedArm chooses. Runs of other variants
 * are left out, so one experiment can serve several arms (e.g. each freeze ratio with its own rate). */
export function chooseArms(
  runs: readonly TransferExperimentRun[],
  candidates: TransferVariant[],
  opts: { mode?: SelectionMode; by?: ChooseBy } = {},
): ValidatedArm[] {
  const where = "chooseArms";
  if (!Array.isArray(candidates) || candidates.length === 0)
    throw argError(where, "candidates", "a non-empty list of transfer variants", show(candidates));
  const mode = opts.mode ?? "shared";
  checkOneOf(where, "mode", mode, SELECTION_MODES);
  const by = opts.by ?? "valAccuracy";
  checkOneOf(where, "by", by, CHOOSE_BY);
  const labels = candidates.map((v) => transferLabel(v));
  const groups = new Map<string, TransferExperimentRun[]>();
  for (const r of runs) {
    if (r.method === "zero-shot") continue;
    const key = JSON.stringify([r.task, r.labelsPerClass]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const arms: ValidatedArm[] = [];
  for (const group of groups.values()) {
    const cands = candidates.map((variant, i) => ({
      key: variant,
      runs: group.filter((r) => runOf(r, variant, labels[i])),
    }));
    if (cands.some((c) => c.runs.length === 0)) continue;
    for (const [i, c] of cands.entries()) {
      const seeds = c.runs.map((r) => r.seed);
      if (new Set(seeds).size !== seeds.length)
        throw argError(
          where,
          "runs",
          "one run per candidate, task, budget and seed",
          `${seeds.length} runs of ${labels[i]} on ${c.runs[0].task}, k = ${c.runs[0].labelsPerClass} for seeds ${seeds.join(", ")}`,
        );
    }
    const { task, labelsPerClass } = cands[0].runs[0];
    if (mode === "shared") {
      const choice = chooseOnValidation(cands, by);
      const chosen = cands[choice.index].runs.slice().sort((a, b) => a.seed - b.seed);
      arms.push({
        task,
        labelsPerClass,
        mode,
        by,
        runs: chosen,
        choice,
        counts: candidates.map((variant, i) => ({
          label: labels[i],
          variant,
          times: i === choice.index ? chosen.length : 0,
        })),
      });
    } else {
      const per = choosePerSeed(cands, by);
      arms.push({
        task,
        labelsPerClass,
        mode,
        by,
        runs: per.runs,
        choice: null,
        counts: per.counts.map((c, i) => ({ label: labels[i], variant: c.key, times: c.times })),
      });
    }
  }
  return arms;
}

/** The arm's chosen runs as compareOnSeeds input: test accuracy per seed (or another field). */
export function armValues(arm: Pick<ValidatedArm, "runs">, field: ScoreField = "accuracy"): SeedValue[] {
  return runValues(arm.runs, field);
}
