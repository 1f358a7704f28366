import { describe, it, expect, afterEach } from "vitest";
import { getScale, parseScale, lessonSizes, byScale, knownLessons } from "../../src/core/scale";

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

  it("gives every known lesson sizes that grow with the scale", () => {
    expect(knownLessons()).toContain("00");
    for (const lesson of knownLessons()) {
      const s = lessonSizes(lesson, "smoke");
      const d = lessonSizes(lesson, "default");
      const f = lessonSizes(lesson, "full");
      expect(s.samples).toBeLessThan(d.samples);
      expect(d.samples).toBeLessThanOrEqual(f.samples);
    }
    expect(() => lessonSizes("99")).toThrow(/unknown lesson "99"/);
  });

  it("returns copies, so a lesson cannot change the table", () => {
    lessonSizes("00", "smoke").labelBudgets.push(99);
    expect(lessonSizes("00", "smoke").labelBudgets).not.toContain(99);
  });

  it("picks by scale", () => {
    expect(byScale({ smoke: 1, default: 2, full: 3 }, "full")).toBe(3);
  });
});
