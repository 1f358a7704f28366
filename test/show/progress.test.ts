// Progress and live plots with a fake clock: throttling, epoch-end-only drawing when headless, the
// final state showing the last step, nothing on stdout outside the kernel, one in-place output.
import { afterEach, describe, expect, it, vi } from "vitest";
import { takeRecorded } from "../../src/show/display";
import { createProgress, progressLine } from "../../src/show/progress";

function clock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Every drawn state: the progress output is rewritten in place, so spy on the display writes. */
function drawnLines(): string[] {
  return takeRecorded().map((r) => String(r.data).replace(/<[^>]+>/g, ""));
}

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.TRANSFER_LAB_PROGRESS;
});

describe("createProgress", () => {
  it("keeps one in-place output whose final state shows the last step and the summary", () => {
    takeRecorded();
    const c = clock();
    const p = createProgress({ label: "pretrain", epochs: 2, stepsPerEpoch: 5, now: c.now, headless: false });
    for (let e = 0; e < 2; e++) {
      for (let s = 1; s <= 5; s++) {
        c.advance(100);
        p.update({ epoch: e, step: s, loss: 1 / (e * 5 + s), metrics: s === 5 ? { valAcc: 0.5 + e / 10 } : undefined });
      }
    }
    c.advance(100);
    p.done("final loss 0.1");
    const out = takeRecorded();
    expect(out).toHaveLength(1);
    expect(out[0].displayId).toBeDefined();
    const line = String(out[0].data);
    expect(line).toContain("pretrain  done  epoch 2/2  step 5/5");
    expect(line).toContain("loss 0.1  valAcc 0.6");
    expect(line).toMatch(/  1\.1 s \(\d+ ms\/epoch\)  /);
    expect(line).toContain("final loss 0.1");
    expect(line).toContain("█".repeat(20));
    expect(() => p.update({ epoch: 1, step: 5, loss: 0 })).toThrow(/update\(\) after done\(\)/);
  });

  it("throttles draws to minIntervalMs apart and always draws the final step", () => {
    takeRecorded();
    const c = clock();
    const p = createProgress({
      label: "fit",
      epochs: 1,
      stepsPerEpoch: 100,
      now: c.now,
      headless: false,
      minIntervalMs: 250,
    });
    const draws = drawnLines(); // the creation draw
    for (let s = 1; s <= 100; s++) {
      c.advance(10); // 1 s in all
      p.update({ epoch: 0, step: s, loss: 1 });
      draws.push(...drawnLines());
    }
    expect(draws).toHaveLength(5); // creation, then t = 250, 500, 750, 1000 ms (the last is the final step)
    expect(draws[1]).toContain("step 25/100");
    expect(draws[4]).toContain("step 100/100");
    expect(draws[4]).toContain("ETA 0 ms");
  });

  it("headless: draws only at epoch ends, with elapsed and ETA", () => {
    takeRecorded();
    const c = clock();
    const p = createProgress({ label: "fit", epochs: 3, stepsPerEpoch: 10, now: c.now, headless: true });
    const seen: string[] = drawnLines(); // the creation draw
    for (let e = 0; e < 3; e++) {
      for (let s = 1; s <= 10; s++) {
        c.advance(1000);
        p.update({ epoch: e, step: s, loss: 0.5 });
        seen.push(...drawnLines());
      }
    }
    expect(seen).toHaveLength(4);
    expect(seen[1]).toContain("epoch 1/3  step 10/10");
    expect(seen[1]).toContain("elapsed 10.0 s  ETA 20.0 s");
    expect(seen[3]).toContain("epoch 3/3  step 10/10");
  });

  it("validates arguments and updates with 0-based epochs", () => {
    expect(() => createProgress({ label: "x", epochs: 0, stepsPerEpoch: 1 })).toThrow(
      /epochs must be a positive integer, got 0/,
    );
    const p = createProgress({ label: "x", epochs: 2, stepsPerEpoch: 3 });
    expect(() => p.update({ epoch: 2, step: 1, loss: 0 })).toThrow(
      /epoch must be an integer in \[0, 1\] \(0-based like tfjs\), got 2/,
    );
    expect(() => p.update({ epoch: 0, step: 4, loss: 0 })).toThrow(/step must be an integer in \[0, 3\]/);
  });

  it("writes nothing to stdout outside the kernel unless TRANSFER_LAB_PROGRESS=stdout", () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const run = () => {
      const p = createProgress({ label: "quiet", epochs: 1, stepsPerEpoch: 2, headless: true });
      p.update({ epoch: 0, step: 1, loss: 1 });
      p.update({ epoch: 0, step: 2, loss: 1 });
      p.done();
    };
    run();
    const quiet = write.mock.calls.filter((c) => String(c[0]).includes("quiet")).length;
    process.env.TRANSFER_LAB_PROGRESS = "stdout";
    run();
    const loud = write.mock.calls.filter((c) => String(c[0]).includes("quiet")).length;
    write.mockRestore();
    expect(quiet).toBe(0);
    expect(loud).toBe(3); // creation, final step, done
  });
});

describe("progressLine", () => {
  it("starts one line per run, labelled with the run's stage", () => {
    takeRecorded();
    const reporter = progressLine("pretrain", { headless: true });
    const p = reporter({ epochs: 1, stepsPerEpoch: 2, stage: "2/5" });
    p.update({ epoch: 0, step: 2, loss: 0.5 });
    p.done();
    const text = takeRecorded()
      .map((o) => String(o.data))
      .join("\n");
    expect(text).toContain("pretrain 2/5  done  epoch 1/1  step 2/2");
  });
});
