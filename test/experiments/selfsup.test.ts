// Lesson 07's experiment at smoke scale on real data: every arm asked for is pretrained, probed and
// fine-tuned per (shift, seed), a re-run reads every record back, the fine-tuning rate is chosen on
// validation, summaries have a row per (arm, k), the chosen runs are recorded once in the results log, no tensor
// is leaked, and bad input is named.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  selfSupValues,
  bestSelfSupervisedArm,
  chooseFineTune,
  fineTuneCandidate,
  runSelfSupExperiment,
  seedDifferences,
  summarizeArms,
  summarizeCosts,
} from "../../src/experiments/selfsup";
import { lessonSettings } from "../../src/core/settings";
import { setupBackend } from "../../src/backend/backend";
import { PROTOCOL_VERSION, readResults } from "../../src/store/results";
import { parseMethod } from "../../src/core/methods";

let dir = "";
beforeAll(async () => {
  await setupBackend({ backend: "wasm" }); // the lessons' backend: this real smoke run takes a few seconds there
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "selfsup-"));
  process.env.TRANSFER_LAB_CACHE = dir;
});
afterAll(() => {
  delete process.env.TRANSFER_LAB_CACHE;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("runSelfSupExperiment (smoke)", () => {
  const settings = { ...lessonSettings("07", "smoke"), labelBudgets: [1, 2], fineTuneBudgets: [1] };
  const args = {
    scale: "smoke" as const,
    settings,
    arms: ["scratch", "contrastive", "source+dapt"] as const,
    shifts: ["mild"] as const,
    seeds: [0, 1],
    progress: false,
  };

  it("measures every arm on every seed, then reads every record back; leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const exp = await runSelfSupExperiment({ ...args, arms: [...args.arms], shifts: [...args.shifts] });
    expect(tf.memory().numTensors).toBe(before);
    expect(exp.measured).toBe(3 * 2 + 2); // (arm, seed) records + a raw-pixel probe record per seed
    expect(exp.probes.length).toBe((3 + 1) * 2 * 2); // (arms + pixels) × seeds × probe budgets
    // per seed and fine-tune budget: scratch 2 rates, contrastive 2 rates (fresh head), source + DAPT 2 heads × 2
    // rates + zero-shot
    expect(exp.fineTunes.length).toBe((2 + 2 + 5) * 2);
    const dapt = exp.fineTunes.filter((r) => r.arm === "source+dapt" && r.seed === 0);
    expect(dapt.map(fineTuneCandidate).sort()).toEqual(
      ["fresh head @ 0.0001", "fresh head @ 0.001", "source head @ 0.0001", "source head @ 0.001", "zero-shot"].sort(),
    );
    expect(dapt.find((r) => r.variant === "zero-shot")!.steps).toBe(0);
    expect(exp.probes.filter((r) => r.arm === "pixels").length).toBe(2 * 2);
    for (const r of [...exp.probes, ...exp.fineTunes]) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.valAccuracy).toBeLessThanOrEqual(1);
    }
    const contrastive = exp.costs.find((c) => c.arm === "contrastive")!;
    expect(contrastive.steps).toBeGreaterThan(0);
    expect(contrastive.seconds).toBeGreaterThan(0);
    // The rate is the candidate with the best mean validation accuracy; the values are its runs' test accuracy.
    for (const arm of ["scratch", "source+dapt"] as const) {
      const choice = chooseFineTune(exp, arm, "mild", 1)!;
      const runs = exp.fineTunes.filter((r) => r.arm === arm && r.labelsPerClass === 1);
      const mean = (key: string) => {
        const rs = runs.filter((r) => fineTuneCandidate(r) === key);
        return rs.reduce((a, r) => a + r.valAccuracy, 0) / rs.length;
      };
      expect(Math.max(...runs.map((r) => mean(fineTuneCandidate(r))))).toBe(mean(choice.chosen));
    }
    const vals = selfSupValues(exp, "scratch", "mild", 1, "fine-tuned");
    expect(vals.map((v) => v.seed)).toEqual([0, 1]);
    expect(selfSupValues(exp, "scratch", "mild", 2, "fine-tuned")).toEqual([]); // not fine-tuned at k = 2
    expect(
      seedDifferences(
        selfSupValues(exp, "contrastive", "mild", 1, "probe"),
        selfSupValues(exp, "scratch", "mild", 1, "probe"),
      ).length,
    ).toBe(2);
    expect(bestSelfSupervisedArm(exp, "mild", 1, "probe")).toBe("contrastive");
    expect(summarizeArms(exp).length).toBe((3 + 1) * 2); // pixels + arms, per probe budget
    expect(selfSupValues(exp, "pixels", "mild", 1, "fine-tuned")).toEqual([]);
    expect(summarizeCosts(exp).map((c) => c.arm)).toEqual(["scratch", "contrastive", "source+dapt"]);

    const again = await runSelfSupExperiment({ ...args, arms: [...args.arms], shifts: [...args.shifts] });
    expect(again.measured).toBe(0);
    expect(again.reused).toBe(8);
    expect(again.probes).toEqual(exp.probes);
    expect(tf.memory().numTensors).toBe(before);

    // The final runs went to the results log once: per arm, shift, fine-tuning budget and seed, the candidate chosen on
    // validation, under lesson 07 and a typed method name; the re-run read them back and recorded nothing twice.
    const log = readResults({ lesson: "07", scale: "smoke" });
    expect(log.length).toBe(3 * 2);
    expect(exp.recorded.every((r) => !r.reused)).toBe(true);
    expect(again.recorded.map((r) => r.reused)).toEqual(Array(6).fill(true));
    expect(again.recorded.map((r) => r.record)).toEqual(exp.recorded.map((r) => r.record));
    expect([...new Set(log.map((r) => r.method))].sort()).toEqual(
      ["scratch", "source-pretrained+dapt:contrastive", "ssl-pretrained:contrastive"].sort(),
    );
    for (const arm of args.arms) {
      const chosen = chooseFineTune(exp, arm, "mild", 1)!.chosen;
      const mine = log.filter((r) => r.extra?.arm === arm);
      expect(mine.map((r) => r.seed).sort()).toEqual([0, 1]);
      expect(mine.every((r) => r.extra?.candidate === chosen && r.task === "mild" && r.labelsPerClass === 1)).toBe(
        true,
      );
      expect(mine.map((r) => r.accuracy).sort()).toEqual(
        selfSupValues(exp, arm, "mild", 1, "fine-tuned")
          .map((v) => v.value)
          .sort(),
      );
      for (const r of mine) {
        expect(parseMethod(r.method)).not.toBeNull();
        expect(r.valAccuracy).toBeGreaterThanOrEqual(0);
        expect(r.protocol).toBe(PROTOCOL_VERSION);
        expect(r.totalParams).toBe(259274);
      }
    }
    // A one-seed variant (an exercise's) is a demo: not recorded unless asked.
    const one = await runSelfSupExperiment({ ...args, arms: ["scratch"], shifts: ["mild"], seeds: [0] });
    expect(one.recorded).toEqual([]);
    expect(readResults({ lesson: "07", scale: "smoke" }).length).toBe(6);
  }, 120_000);

  it("names bad input", async () => {
    await expect(runSelfSupExperiment({ scale: "smoke", arms: ["rbm" as never] })).rejects.toThrow(
      /arms\[0\] must be one of scratch, greedy/,
    );
    await expect(runSelfSupExperiment({ scale: "smoke", seeds: [] })).rejects.toThrow(/seeds must be a non-empty list/);
    await expect(
      runSelfSupExperiment({ scale: "smoke", settings: { ...settings, fineTuneBudgets: [1.5] } }),
    ).rejects.toThrow(/settings.fineTuneBudgets must be labels per class: positive integers/);
  });
});
