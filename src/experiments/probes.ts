// Linear probes per layer over seeds (lesson 02): for every seed, its own split, its own cached source
// model (and, to show what depth alone gives, a random base of the same shape) and its own probe
// labels; each probe's length is chosen on the target's validation split and test is scored once.
import * as tf from "@tensorflow/tfjs";
import type { ShiftName } from "../data/transforms";
import { SHIFT_NAMES } from "../data/transforms";
import { classSeparation, extractFeatures, linearProbe, DEFAULT_PROBE_EPOCHS } from "../evaluate/features";
import { checkLabelBudget } from "../data/subset";
import { buildSourceModel } from "../models/mlp";
import { getScale, scaleArg, type Scale } from "../core/scale";
import { meanCI, medianOf, type SeedValue } from "../core/stats";
import { argError, checkNonNegativeInt, checkOneOf, checkSeeds, show } from "../core/validate";
import { newDisplay } from "../show/display";
import { getSourceModel, sourceTasks } from "./source";

/** Which base a probe reads: the source model trained on task A, or an untrained one of the same shape. */
export type ProbeBase = "source" | "random";

export interface ProbeExperimentArgs {
  seeds: number[];
  scale?: Scale;
  /** "shift" (default: task B of `shift`, the same ten classes) or "class-split" (base trained on
   * digits 0-4, probes decode 5-9). */
  scenario?: "shift" | "class-split";
  /** Target shift of the "shift" scenario (default "mild"). */
  shift?: ShiftName;
  /** Probe training labels per class, drawn per seed from the target pool. */
  labelsPerClass: number;
  /** Most epochs a probe trains; the epoch kept is chosen on validation (default 30). */
  epochs?: number;
  learningRate?: number;
  /** Also probe a random base of the same shape (seeded 1000 + seed, as scratch runs are). */
  randomBase?: boolean;
  /** Show one line that updates with the seed in progress (default true). */
  progress?: boolean;
}

/** One layer of one base on one seed. */
export interface ProbeRun {
  seed: number;
  /** The shift's name, or "class-split". */
  task: string;
  base: ProbeBase;
  layer: string;
  dim: number;
  /** Test accuracy with the probe's epoch chosen on validation. */
  accuracy: number;
  valAccuracy: number;
  epochs: number;
  /** Share of the layer's feature variance between class means on the test images (classSeparation). */
  separation: number;
}

/** Probes every layer (the input, then each hidden layer) of each seed's base(s). Leaves no tensors. */
export async function runProbeExperiment(args: ProbeExperimentArgs): Promise<ProbeRun[]> {
  const where = "runProbeExperiment";
  checkSeeds(where, args.seeds);
  const scale = scaleArg(where, args.scale ?? getScale());
  const scenario = args.scenario ?? "shift";
  checkOneOf(where, "scenario", scenario, ["shift", "class-split"] as const);
  const shift = args.shift ?? "mild";
  checkOneOf(where, "shift", shift, SHIFT_NAMES);
  if (args.epochs !== undefined) checkNonNegativeInt(where, "epochs", args.epochs);
  if (scenario === "class-split" && args.randomBase)
    throw argError(where, "randomBase", "false for the class split (probe its source base only)", show(true));
  const line = args.progress === false ? null : newDisplay();
  const out: ProbeRun[] = [];
  for (const seed of args.seeds) {
    const tasks = sourceTasks({ scale, seed, shift, scenario });
    checkLabelBudget(where, "labelsPerClass", args.labelsPerClass, tasks.target.pool);
    const train = tasks.targetLabels(args.labelsPerClass, seed);
    const task = scenario === "class-split" ? "class-split" : shift;
    const source = await getSourceModel({ scale, seed, tasks, log: false });
    const bases: [ProbeBase, tf.LayersModel][] = [["source", source.model]];
    if (args.randomBase) bases.push(["random", buildSourceModel({ seed: 1000 + seed })]);
    try {
      for (const [base, model] of bases) {
        line?.text(`probes: ${task}, seed ${seed}, ${base} base (${out.length} layers probed so far)`);
        const probes = await linearProbe({
          model,
          train,
          val: tasks.target.val,
          test: tasks.target.test,
          seed,
          epochs: args.epochs ?? DEFAULT_PROBE_EPOCHS,
          learningRate: args.learningRate,
        });
        for (const p of probes) {
          const f = extractFeatures(model, p.layer, tasks.target.test);
          out.push({
            seed,
            task,
            base,
            layer: p.layer,
            dim: p.dim,
            accuracy: p.accuracy,
            valAccuracy: p.valAccuracy ?? NaN,
            epochs: p.epochs,
            separation: classSeparation(f.x, f.n, f.dim, f.y, f.numClasses),
          });
        }
      }
    } finally {
      for (const [, model] of bases) model.dispose();
    }
  }
  line?.text(`probes: ${out.length} layer probes on ${args.seeds.length} seed(s)`);
  return out;
}

/** One (task, base, layer) over seeds: mean test accuracy with its 95 % half-width. */
export interface ProbeSummaryRow {
  task: string;
  base: ProbeBase;
  layer: string;
  dim: number;
  seeds: number;
  accuracyMean: number;
  /** 95 % t half-width (Infinity with one seed). */
  accuracyHalfWidth: number;
  valAccuracyMean: number;
  /** Median epochs chosen on validation. */
  epochsMedian: number;
  separationMean: number;
  separationHalfWidth: number;
}

/** Groups probe runs by (task, base, layer), in the order first seen (layers bottom to top). */
export function summarizeProbes(runs: readonly ProbeRun[]): ProbeSummaryRow[] {
  const groups = new Map<string, ProbeRun[]>();
  for (const r of runs) {
    const key = JSON.stringify([r.task, r.base, r.layer]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const acc = meanCI(g.map((r) => r.accuracy));
    const sep = meanCI(g.map((r) => r.separation));
    return {
      task: g[0].task,
      base: g[0].base,
      layer: g[0].layer,
      dim: g[0].dim,
      seeds: g.length,
      accuracyMean: acc.mean,
      accuracyHalfWidth: acc.halfWidth,
      valAccuracyMean: g.reduce((s, r) => s + r.valAccuracy, 0) / g.length,
      epochsMedian: medianOf(g.map((r) => r.epochs)),
      separationMean: sep.mean,
      separationHalfWidth: sep.halfWidth,
    };
  });
}

/** One (task, base, layer)'s per-seed numbers for compareOnSeeds: test accuracy (default) or separation. */
export function probeValues(
  runs: readonly ProbeRun[],
  which: { task: string; base?: ProbeBase; layer: string },
  field: "accuracy" | "separation" = "accuracy",
): SeedValue[] {
  return runs
    .filter((r) => r.task === which.task && r.base === (which.base ?? "source") && r.layer === which.layer)
    .map((r) => ({ seed: r.seed, value: r[field] }));
}
