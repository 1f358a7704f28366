// Method names in the results log: one constructor and one parser, round-tripping every kind, one
// name per method across lessons, and matching by fields instead of by text.
import { describe, expect, it } from "vitest";
import { matchesMethod, methodName, parseMethod, type Method } from "../../src/core/methods";
import { transferLabel } from "../../src/experiments/transfer";
import { vitMethodLabel } from "../../src/experiments/vit";
import { atLearningRate } from "../../src/experiments/lora";
import { RECORDED_METHOD } from "../../src/experiments/pretraining";
import { LESSON07_ARMS, lesson07Method } from "../../src/experiments/selfsup";

/** Lesson 07's arm names as recorded, with its default DAPT objective (contrastive). */
const LESSON07_METHODS = Object.fromEntries(LESSON07_ARMS.map((a) => [a, lesson07Method(a, "contrastive")]));

const EVERY_KIND: [Method, string][] = [
  [{ kind: "scratch" }, "scratch"],
  [{ kind: "scratch", recipe: "historical" }, "scratch-historical"],
  [{ kind: "scratch", recipe: "modern", lr: 3e-4 }, "scratch-modern@lr=3e-4"],
  [{ kind: "greedy-pretrained" }, "greedy-pretrained"],
  [{ kind: "zero-shot" }, "zero-shot"],
  [{ kind: "head-only", head: "source" }, "head-only+source-head"],
  [{ kind: "full-ft", lr: 1e-3 }, "full-ft@lr=1e-3"],
  [{ kind: "full-ft", headLr: 1e-3, layerDecay: 0.385 }, "full-ft@headLr=1e-3@decay=0.385"],
  [{ kind: "freeze", ratio: 0.25, lr: 1e-3 }, "freeze-0.25@lr=1e-3"],
  [{ kind: "freeze-blocks", blocks: 2 }, "freeze-blocks-2"],
  [{ kind: "tune", layers: ["hidden1", "hidden2"] }, "tune-hidden1+hidden2"],
  [{ kind: "lora", r: 4, head: "source" }, "lora-r4+source-head"],
  [{ kind: "lora", r: 4, merged: true, head: "source" }, "lora-r4-merged+source-head"],
  [{ kind: "lora", r: 8, on: "qv" }, "lora-qv-r8"],
  [{ kind: "schedule", schedule: "two-phase" }, "schedule:two-phase"],
  [{ kind: "bn-frozen", rule: "keras" }, "bn-frozen:keras"],
  [{ kind: "feature-cache" }, "feature-cache"],
  [{ kind: "source-model" }, "source-model"],
  [{ kind: "ssl-pretrained", objective: "greedy" }, "ssl-pretrained:greedy"],
  [{ kind: "ssl-pretrained", objective: "contrastive" }, "ssl-pretrained:contrastive"],
  [{ kind: "source-pretrained" }, "source-pretrained"],
  [{ kind: "source-pretrained", dapt: "masked" }, "source-pretrained+dapt:masked"],
];

describe("method names", () => {
  it("writes each kind one way and parses it back to the same fields", () => {
    for (const [m, name] of EVERY_KIND) {
      expect(methodName(m)).toBe(name);
      expect(parseMethod(name)).toEqual(m);
      expect(methodName(parseMethod(name)!)).toBe(name);
    }
  });

  it("gives names it does not write no meaning (older records match nothing)", () => {
    for (const old of [
      "feature-extraction",
      "freeze-1.00",
      "freeze-0.00",
      "freeze-4",
      "bn-frozen:keras-rule",
      "schedule:plain (one rate)",
      "lora-r4@foo=1",
      "pretrain-vit",
      "ssl-pretrained",
      "ssl-pretrained:rbm",
      "source-pretrained+dapt:greedy",
      "source-pretrained+dapt",
      "",
    ]) {
      expect(parseMethod(old)).toBeNull();
    }
  });

  it("refuses a freeze ratio that is really full fine-tuning or head-only", () => {
    expect(() => methodName({ kind: "freeze", ratio: 1 })).toThrow(
      /freeze ratio must be in \(0, 1\), got 1 \(0 is "full-ft", 1 is "head-only"\)/,
    );
    expect(() => methodName({ kind: "freeze", ratio: 0 })).toThrow(/got 0/);
  });

  it("names one method one way across lessons: a frozen base with a new head is head-only", () => {
    expect(transferLabel({ method: "feature-extraction" })).toBe("head-only");
    expect(transferLabel({ method: "freeze-ratio", freezeRatio: 1, learningRate: 1e-3 })).toBe("head-only");
    expect(transferLabel({ method: "tune-layers", trainLayers: [] })).toBe("head-only");
    expect(transferLabel({ method: "freeze-ratio", freezeRatio: 0, learningRate: 1e-3 })).toBe(
      transferLabel({ method: "full-ft", learningRate: 1e-3 }),
    );
    expect(transferLabel({ method: "freeze-ratio", freezeRatio: 0.5, learningRate: 1e-3 })).toBe("freeze-0.50@lr=1e-3");
    expect(transferLabel({ method: "full-ft", head: "source" })).toBe("full-ft+source-head");
    expect(vitMethodLabel("head-only")).toBe("head-only");
    expect(vitMethodLabel("freeze-blocks", 3)).toBe("freeze-blocks-3");
    expect(vitMethodLabel("lora-qv", undefined, 4)).toBe("lora-qv-r4");
    expect(atLearningRate("lora-r4+source-head", 1e-4)).toBe("lora-r4+source-head@lr=1e-4");
    expect(() => atLearningRate("lora r4", 1e-4)).toThrow(/method must be a name methodName\(\) writes, got "lora r4"/);
    expect(Object.values(LESSON07_METHODS).map((n) => methodName(parseMethod(n)!))).toEqual([
      "scratch",
      "ssl-pretrained:greedy",
      "ssl-pretrained:denoising",
      "ssl-pretrained:masked",
      "ssl-pretrained:contrastive",
      "source-pretrained",
      "source-pretrained+dapt:contrastive",
    ]);
    expect(Object.values(RECORDED_METHOD).map((n) => parseMethod(n)?.kind)).toEqual([
      "scratch",
      "greedy-pretrained",
      "scratch",
    ]);
  });

  it("matches by fields: a value must be equal, null must be absent, left out is anything", () => {
    const m = parseMethod("full-ft+source-head@lr=1e-3")!;
    expect(matchesMethod(m, { kind: "full-ft" })).toBe(true);
    expect(matchesMethod(m, { kind: "full-ft", lr: 1e-3 })).toBe(true);
    expect(matchesMethod(m, { kind: "full-ft", lr: null })).toBe(false);
    expect(matchesMethod(m, { kind: "full-ft", head: null })).toBe(false);
    expect(matchesMethod(m, { kind: "head-only" })).toBe(false);
    expect(matchesMethod(parseMethod("source-pretrained")!, { kind: "source-pretrained", dapt: null })).toBe(true);
    expect(
      matchesMethod(parseMethod("source-pretrained+dapt:masked")!, { kind: "source-pretrained", dapt: null }),
    ).toBe(false);
    expect(matchesMethod(parseMethod("ssl-pretrained:greedy")!, { kind: "ssl-pretrained", objective: "greedy" })).toBe(
      true,
    );
    expect(matchesMethod(parseMethod("tune-hidden1")!, { kind: "tune", layers: ["hidden1"] })).toBe(true);
    expect(matchesMethod(parseMethod("tune-hidden1+hidden2")!, { kind: "tune", layers: ["hidden1"] })).toBe(false);
    expect(
      matchesMethod(parseMethod("freeze-blocks-0")!, {
        kind: "freeze-blocks",
        where: (x) => x.kind === "freeze-blocks" && x.blocks > 0,
      }),
    ).toBe(false);
  });
});
