// Transfer experiments over seeds × shifts × label budgets × variants, recorded with
// recordResult so re-runs accumulate: a run already recorded with the same configuration is
// read back instead of trained again. Summaries (mean ± std over seeds) for tables and plots.
import * as tf from "@tensorflow/tfjs";
import type { ShiftName } from "../data/transforms";
import { stableHash } from "../store/cache";
import { newDisplay } from "../show/display";
import { zeroShotAccuracy } from "../evaluate/evaluate";
import { PROTOCOL_VERSION, readResults, recordResult, type ResultRecord } from "../store/results";
import { getScale, type Scale } from "../core/scale";
import { getSourceModel, sourceTasks } from "./source";
import { runTransfer, scoreFromRecord, scoreRecordFields, type TransferResult, type TransferRunArgs } from "./transfer";
import { TRANSFER_BUDGETS } from "../core/settings";
import { meanCI, sampleMeanStd } from "../core/stats";
import { checkCacheWritable } from "../store/writable";

/** One variant of a run: everything but the data, seed and scale. */
export type TransferVariant = Omit<TransferRunArgs, "source" | "tasks" | "labelsPerClass" | "seed" | "scale">;

export interface TransferExperimentArgs {
  /** Lesson id the results are recorded under ("02", "03", …). */
  lesson: string;
  variants: TransferVariant[];
  /** Target shifts (default ["mild"]); ignored for the class split. */
  shifts?: ShiftName[];
  /** "shift" (default) or "class-split" (digits 0-4 → 5-9). */
  scenario?: "shift" | "class-split";
  labelsPerClass: number[];
  seeds: number[];
  scale?: Scale;
  /** Also record the source model's zero-shot accuracy per shift and seed (shift scenario only). */
  zeroShot?: boolean;
  /** Read back runs already recorded with the same configuration (default true). */
  reuse?: boolean;
  /** Show one line that updates in place with the run in progress (default true). */
  progress?: boolean;
  /** Called with every result, trained or reused. */
  onResult?: (r: TransferExperimentRun) => void;
}

/** Everything that changes a run's numbers; equal keys mean the recorded result can be reused. */
export function transferRunKey(
  v: TransferVariant,
  ctx: { task: string; k: number; seed: number; scale: Scale; backend: string; sourceKey: string },
): string {
  const budget = { ...TRANSFER_BUDGETS[ctx.scale], ...v.budget };
  return stableHash({ v: PROTOCOL_VERSION, variant: { ...v, budget }, ...ctx }).slice(0, 16);
}

function toRecord(r: TransferResult, lesson: string, scale: Scale, backend: string, runKey: string): ResultRecord {
  return {
    lesson,
    method: r.label,
    task: r.task,
    labelsPerClass: r.method === "zero-shot" ? null : r.labelsPerClass,
    ...scoreRecordFields(r),
    backend,
    scale,
    seed: r.seed,
    extra: {
      runKey,
      kind: r.method,
      head: r.head,
      freezeRatio: r.freezeRatio,
      frozenLayers: r.frozenLayers.length,
      frozenNames: r.frozenLayers.join(","),
      learningRate: r.learningRate,
      headLearningRate: r.headLearningRate,
      secondsPerEpoch: r.secondsPerEpoch,
      epochs: r.epochs,
      steps: r.steps,
    },
  };
}

/** Recorded rows back as TransferResults (learning curves are not recorded: loss is []). */
export function transferResultsFromRecords(rows: ResultRecord[]): TransferResult[] {
  return rows
    .filter((r) => r.extra && typeof r.extra.kind === "string")
    .map((r) => {
      const e = r.extra as Record<string, number | string | boolean | null>;
      const names = String(e.frozenNames ?? "");
      return {
        method: e.kind as TransferResult["method"],
        label: r.method,
        task: r.task,
        labelsPerClass: r.labelsPerClass ?? 0,
        seed: r.seed,
        head: (e.head as TransferResult["head"]) ?? null,
        freezeRatio: (e.freezeRatio as number | null) ?? null,
        frozenLayers: names ? names.split(",") : [],
        learningRate: Number(e.learningRate),
        headLearningRate: (e.headLearningRate as number | null) ?? null,
        ...scoreFromRecord(r),
        secondsPerEpoch: Number(e.secondsPerEpoch ?? 0),
        epochs: Number(e.epochs ?? 0),
        steps: Number(e.steps ?? 0),
        loss: [],
      };
    });
}

/** One run of an experiment: its result, whether it was read back, and its results-log record. */
export type TransferExperimentRun = TransferResult & { reused: boolean; record: ResultRecord };

/** Runs every (seed, shift, k, variant), reusing recorded runs, recording new ones. */
export async function runTransferExperiment(args: TransferExperimentArgs): Promise<TransferExperimentRun[]> {
  // Results are recorded as runs finish: refuse an unwritable cache before the first one trains.
  checkCacheWritable(undefined, "runTransferExperiment");
  const scale = args.scale ?? getScale();
  const backend = tf.getBackend();
  const reuse = args.reuse ?? true;
  const scenario = args.scenario ?? "shift";
  const shifts: (ShiftName | null)[] = scenario === "class-split" ? [null] : (args.shifts ?? ["mild"]);
  const known = new Map<string, ResultRecord>();
  if (reuse) {
    for (const r of readResults({ lesson: args.lesson, scale })) {
      if (r.backend === backend && typeof r.extra?.runKey === "string") known.set(r.extra.runKey, r);
    }
  }
  const total =
    args.seeds.length * shifts.length * (args.labelsPerClass.length * args.variants.length + (args.zeroShot ? 1 : 0));
  const line = args.progress === false ? null : newDisplay();
  const out: TransferExperimentRun[] = [];
  let done = 0;
  let trained = 0;
  const t0 = performance.now();
  const emit = (r: TransferResult, reused: boolean, record: ResultRecord) => {
    out.push({ ...r, reused, record });
    args.onResult?.({ ...r, reused, record });
    done++;
    line?.text(
      `${args.lesson}: ${done}/${total} runs (${trained} trained, ${done - trained} read back), last: ${r.task} ${r.label} k=${r.labelsPerClass} seed ${r.seed} → ${(100 * r.accuracy).toFixed(1)} %, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  };
  for (const seed of args.seeds) {
    for (const shift of shifts) {
      const tasks = sourceTasks({ scale, seed, shift: shift ?? undefined, scenario });
      const source = await getSourceModel({ scale, seed, tasks, log: false });
      const task = shift ?? "class-split";
      try {
        if (args.zeroShot && scenario === "shift") {
          const zv: TransferVariant = { method: "zero-shot", head: "source" };
          const key = transferRunKey(zv, { task, k: 0, seed, scale, backend, sourceKey: source.key });
          const old = known.get(key);
          if (old) emit(transferResultsFromRecords([old])[0], true, old);
          else {
            const acc = zeroShotAccuracy(source.model, tasks.target.test);
            const valAcc = zeroShotAccuracy(source.model, tasks.target.val);
            const r: TransferResult = {
              method: "zero-shot",
              label: "zero-shot",
              task,
              labelsPerClass: 0,
              seed,
              head: "source",
              freezeRatio: null,
              frozenLayers: [],
              learningRate: 0,
              headLearningRate: null,
              accuracy: acc,
              valAccuracy: valAcc,
              retention: source.testAccuracy,
              forgetting: 0,
              trainableParams: 0,
              totalParams: source.model.countParams(),
              secondsPerEpoch: 0,
              seconds: 0,
              epochs: 0,
              steps: 0,
              loss: [],
            };
            trained++;
            emit(r, false, recordResult(toRecord(r, args.lesson, scale, backend, key)));
          }
        }
        for (const k of args.labelsPerClass) {
          for (const v of args.variants) {
            const key = transferRunKey(v, { task, k, seed, scale, backend, sourceKey: source.key });
            const old = known.get(key);
            if (old) {
              emit(transferResultsFromRecords([old])[0], true, old);
              continue;
            }
            const r = await runTransfer({ ...v, source: source.model, tasks, labelsPerClass: k, seed, scale });
            const record = recordResult(toRecord(r, args.lesson, scale, backend, key));
            known.set(key, record);
            trained++;
            emit(r, false, record);
          }
        }
      } finally {
        source.model.dispose();
      }
    }
  }
  return out;
}

/** Mean over seeds of one (task, label, k) group, with its 95 % t-interval half-width (tables show
 * "mean ± half-width") and the sample std. */
export interface TransferSummaryRow {
  task: string;
  label: string;
  method: TransferResult["method"];
  labelsPerClass: number;
  freezeRatio: number | null;
  frozenLayers: number;
  runs: number;
  accuracyMean: number;
  accuracyStd: number;
  /** 95 % half-width of the mean test accuracy (Infinity with one seed). */
  accuracyHalfWidth: number;
  /** Mean validation accuracy (NaN when the runs predate validation splits). */
  valAccuracyMean: number;
  retentionMean: number | null;
  retentionStd: number | null;
  /** Mean forgetting (source task-A accuracy − retention) and its 95 % half-width. */
  forgettingMean: number | null;
  forgettingHalfWidth: number | null;
  trainableParams: number;
  totalParams: number;
  secondsPerEpoch: number;
}

/** Groups results by (task, label, k, freeze ratio); with several runs of one seed, the latest
 * counts. The ratio keeps the sweep's end points apart from the runs they are named after (ratio 0
 * is "full-ft", 1 is "head-only"), so a sweep plot has all its points. */
export function summarizeTransfer(results: TransferResult[]): TransferSummaryRow[] {
  const groups = new Map<string, Map<number, TransferResult>>();
  for (const r of results) {
    const key = JSON.stringify([r.task, r.label, r.labelsPerClass, r.freezeRatio]);
    if (!groups.has(key)) groups.set(key, new Map());
    groups.get(key)!.set(r.seed, r);
  }
  return [...groups.values()].map((bySeed) => {
    const g = [...bySeed.values()];
    const first = g[0];
    const acc = meanCI(g.map((r) => r.accuracy));
    const ret = g.map((r) => r.retention).filter((v): v is number => typeof v === "number");
    const [retentionMean, retentionStd] = ret.length ? sampleMeanStd(ret) : [null, null];
    const forg = g.map((r) => r.forgetting).filter((v): v is number => typeof v === "number");
    const forgCI = forg.length ? meanCI(forg) : null;
    return {
      task: first.task,
      label: first.label,
      method: first.method,
      labelsPerClass: first.labelsPerClass,
      freezeRatio: first.freezeRatio,
      frozenLayers: first.frozenLayers.length,
      runs: g.length,
      accuracyMean: acc.mean,
      accuracyStd: g.length > 1 ? acc.sd : 0,
      accuracyHalfWidth: acc.halfWidth,
      valAccuracyMean: g.reduce((a, r) => a + r.valAccuracy, 0) / g.length,
      retentionMean,
      retentionStd,
      forgettingMean: forgCI ? forgCI.mean : null,
      forgettingHalfWidth: forgCI ? forgCI.halfWidth : null,
      trainableParams: first.trainableParams,
      totalParams: first.totalParams,
      secondsPerEpoch: sampleMeanStd(g.map((r) => r.secondsPerEpoch))[0],
    };
  });
}
