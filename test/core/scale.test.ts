import { describe, it, expect, afterEach } from "vitest";
import { getScale, parseScale } from "../../src/core/scale";
import { LESSON_IDS, lessonSettings, TRANSFER_BUDGETS, SOURCE_RECIPES, VIT_RECIPES } from "../../src/core/settings";

const saved = process.env.LESSON_SCALE;
afterEach(() => {
  if (saved === undefined) delete process.env.LESSON_SCALE;
  else process.env.LESSON_SCALE = saved;
});

describe("scale", () => {
  it("defaults to default, reads LESSON_SCALE, and an explicit value wins", () => {
    delete process.env.LESSON_SCALE;
    expect(getScale()).toBe("default");
    process.env.LESSON_SCALE = "smoke";
    expect(getScale()).toBe("smoke");
    expect(getScale("full")).toBe("full");
  });

  it("names the bad value and the allowed ones", () => {
    process.env.LESSON_SCALE = "huge";
    expect(() => getScale()).toThrow(/LESSON_SCALE must be one of smoke, default, full, got "huge"/);
    expect(() => parseScale("")).toThrow(/got ""/);
  });

  it("gives every lesson settings whose sizes grow with the scale", () => {
    expect(LESSON_IDS).toEqual(["00", "01", "02", "03", "04", "05", "06", "07", "08", "09"]);
    for (const lesson of LESSON_IDS) {
      const s = lessonSettings(lesson, "smoke");
      const d = lessonSettings(lesson, "default");
      const f = lessonSettings(lesson, "full");
      expect(s.samples).toBeLessThan(d.samples);
      expect(d.samples).toBeLessThanOrEqual(f.samples);
    }
    expect(() => lessonSettings("99" as never)).toThrow(
      /lesson must be one of 00, 01, 02, 03, 04, 05, 06, 07, 08, 09, got "99"/,
    );
  });

  it("returns copies, so a lesson cannot change the table", () => {
    lessonSettings("00", "smoke").labelBudgets.push(99);
    expect(lessonSettings("00", "smoke").labelBudgets).not.toContain(99);
    lessonSettings("05", "smoke").vit.model.width = 1;
    expect(lessonSettings("05", "smoke").vit.model.width).toBe(VIT_RECIPES.smoke.model.width);
  });

  it("keeps the protocol that lessons 02-05 share in step with their sizes", () => {
    for (const scale of ["smoke", "default", "full"] as const) {
      for (const lesson of ["02", "03", "04"] as const) {
        const s = lessonSettings(lesson, scale);
        expect(s.epochs).toBe(SOURCE_RECIPES[scale].epochs);
        expect(s.testSamples).toBe(SOURCE_RECIPES[scale].testSize);
        expect(s.fineTuneEpochs).toBe(TRANSFER_BUDGETS[scale].epochs);
        expect(s.batchSize).toBe(TRANSFER_BUDGETS[scale].batchSize);
      }
      expect(lessonSettings("05", scale).vit).toEqual(VIT_RECIPES[scale]);
    }
  });
});
