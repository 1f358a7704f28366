// The decision guide with the user's own unlabeled images: the distance is measured and mapped to a
// similarity with lesson 08's calibration; without a calibration it falls back to the declared
// similarity or says "not measured"; bad input is refused by name. Smoke scale, private cache.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { measureSimilarity, recommendFromImages } from "../../src/review/strategy";
import { makeFacts } from "../../src/review/review";
import { sourceTasks } from "../../src/experiments/source";
import { runDistanceExperiment, type DistanceCalibration } from "../../src/experiments/domain";

const dirs: string[] = [];
beforeEach(() => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tl-guide-images-"));
  dirs.push(d);
  process.env.TRANSFER_LAB_CACHE = d;
  process.env.LESSON_SCALE = "smoke";
});
afterEach(() => {
  delete process.env.TRANSFER_LAB_CACHE;
  delete process.env.LESSON_SCALE;
});
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A hand-made calibration at the pixels: none 0, mild 1, class split 1.4, inverted 1.9. */
const calibration: DistanceCalibration = {
  scale: "smoke",
  seeds: [0, 1],
  layer: "input",
  imagesPerDomain: 64,
  tasks: [
    { task: "none", similarity: "similar", mean: 0, halfWidth: 0.1 },
    { task: "mild", similarity: "similar", mean: 1, halfWidth: 0.1 },
    { task: "class-split", similarity: "new-classes", mean: 1.4, halfWidth: 0.1 },
    { task: "inverted", similarity: "input-shift", mean: 1.9, halfWidth: 0.1 },
  ],
  thresholds: [
    { below: "none", above: "mild", at: 0.5 },
    { below: "mild", above: "class-split", at: 1.2 },
    { below: "class-split", above: "inverted", at: 1.65 },
  ],
  leaveOneSeedOut: { correct: 8, total: 8 },
  how: "a test calibration",
  measuredAt: "2026-12-03T00:00:00Z",
};

describe("the guide from unlabeled images", () => {
  it("maps inverted digits to input-shift and clean digits to similar, with no leaked tensors", async () => {
    const before = tf.memory().numTensors;
    const inverted = sourceTasks({ scale: "smoke", seed: 7, shift: "inverted" }).target.pool;
    const m = await measureSimilarity({ targetImages: inverted, calibration });
    expect(m?.similarity).toBe("input-shift");
    expect(m?.distance).toBeGreaterThan(1.65);
    expect(m?.text).toMatch(/proxy A-distance .* nearest to lesson 08's inverted/);
    const clean = sourceTasks({ scale: "smoke", seed: 7, shift: "none" }).target.pool;
    const rec = await recommendFromImages({
      labels: 5,
      compute: "high",
      targetImages: clean,
      calibration,
      facts: makeFacts([]),
    });
    expect(rec.measured?.similarity).toBe("similar");
    expect(rec.markdown).toMatch(/Measured similarity: \*similar\*/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("measures the class split exactly as lesson 08 calibrated it (same model, same reference images)", async () => {
    // Lesson 08's calibration distance for the class split and the guide's distance for the same
    // unlabeled digits 5-9 must be one number: task A's model and test images on both sides.
    const digits59 = sourceTasks({ scale: "smoke", seed: 0, scenario: "class-split" }).target.pool;
    const [calibrated] = await runDistanceExperiment({
      tasks: ["class-split"],
      seeds: [0],
      scale: "smoke",
      imagesPerDomain: 64,
      progress: false,
    });
    expect(calibrated.layer).toBe("input");
    const m = await measureSimilarity({ targetImages: digits59, calibration: { ...calibration, seeds: [0] }, seed: 0 });
    expect(m?.distance).toBeCloseTo(calibrated.distance, 10);
  });

  it("without a calibration: the declared similarity, or not measured", async () => {
    const images = sourceTasks({ scale: "smoke", seed: 7, shift: "mild" }).target.pool;
    const none = await recommendFromImages({ labels: 5, compute: "high", targetImages: images, facts: makeFacts([]) });
    expect(none.strategy).toBe("not measured");
    expect(none.measured).toBeNull();
    const declared = await recommendFromImages({
      labels: 5,
      compute: "high",
      targetImages: images,
      similarity: "similar",
      facts: makeFacts([]),
    });
    expect(declared.evidence[0]).toMatch(/Using the declared similarity \*similar\*/);
  });

  it("refuses bad input by name", async () => {
    await expect(measureSimilarity({ targetImages: { x: new Float32Array(0) } as never, calibration })).rejects.toThrow(
      /measureSimilarity: targetImages must be a Dataset/,
    );
    const images = sourceTasks({ scale: "smoke", seed: 7, shift: "mild" }).target.pool;
    await expect(
      recommendFromImages({
        labels: 5,
        compute: "high",
        targetImages: images,
        similarity: "close" as never,
        calibration,
      }),
    ).rejects.toThrow(/recommendFromImages: similarity must be one of similar, input-shift, new-classes, unrelated/);
  });
});
