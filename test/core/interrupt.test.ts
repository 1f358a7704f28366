// Interrupts inside the library: fit polls the interrupt count once per batch, yields to the
// event loop so a SIGINT handler (or any macrotask) can run, stops with InterruptedError and
// releases its tensors. The same path through a real kernel and jupyter_client is covered by
// test/kernel-interrupt.test.ts.
import * as tf from "@tensorflow/tfjs";
import { AsyncLocalStorage } from "async_hooks";
import { beforeAll, describe, expect, it } from "vitest";
import { InterruptedError, interruptCheck, interruptCount, requestInterrupt, YIELD_MS } from "../../src/core/interrupt";
import { fit } from "../../src/train/fit";
import { blobs, smallMlp } from "../helpers/fixtures";

function weightsOf(m: tf.LayersModel): Float32Array[] {
  return m.getWeights().map((w) => w.dataSync() as Float32Array);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("interruptCheck", () => {
  it("throws only for interrupts that arrive after it was created", async () => {
    requestInterrupt(); // an old interrupt (an earlier cell's) must not stop new work
    const check = interruptCheck("work");
    expect(check.interrupted).toBe(false);
    await expect(check.poll()).resolves.toBeUndefined();
    const before = interruptCount();
    requestInterrupt();
    expect(interruptCount()).toBe(before + 1);
    expect(check.interrupted).toBe(true);
    await expect(check.poll()).rejects.toThrow(InterruptedError);
    await expect(check.poll()).rejects.toThrow(/^work: interrupted/);
  });

  it("yields to the event loop, so a timer set before a busy loop gets to run", async () => {
    const check = interruptCheck("busy loop");
    let fired = false;
    setTimeout(() => (fired = true), 0);
    const t0 = performance.now();
    // Busy work in slices, polling between them, as fit does between batches.
    while (!fired && performance.now() - t0 < 2000) {
      const s = performance.now();
      while (performance.now() - s < 5) {
        /* compute */
      }
      await check.poll();
    }
    expect(fired).toBe(true);
    expect(performance.now() - t0).toBeLessThan(YIELD_MS + 500);
  });
});

describe("fit under interrupt", () => {
  it("stops at the next batch, releases its tensors and keeps the last finished step's weights", async () => {
    const data = blobs(256, 8, 0);
    const m = smallMlp(8);
    const start = weightsOf(m);
    const baseline = tf.memory().numTensors;
    const run = fit(m, data, {
      epochs: 50,
      batchSize: 8,
      progress: false,
      onEpochEnd: (epoch) => {
        if (epoch === 1) requestInterrupt();
      },
    });
    await expect(run).rejects.toThrow(InterruptedError);
    expect(tf.memory().numTensors).toBe(baseline);
    // It trained (weights moved) and then stopped: more time passing changes nothing.
    const after = weightsOf(m);
    expect(after.some((w, i) => w.some((v, j) => v !== start[i][j]))).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(weightsOf(m)).toEqual(after);
    // The model stays usable: the next fit runs to the end.
    const h = await fit(m, data, { epochs: 2, batchSize: 64, progress: false });
    expect(h.loss).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(baseline);
    m.dispose();
  });

  it("is reached by an interrupt from outside the loop (a timer, like a SIGINT handler) mid-epoch", async () => {
    const data = blobs(512, 8, 1);
    const m = smallMlp(8);
    const baseline = tf.memory().numTensors;
    const epochs = 200; // 25,600 steps: seconds of work, so an unpolled interrupt would come too late
    let epochsDone = 0;
    setTimeout(requestInterrupt, 150);
    await expect(
      fit(m, data, { epochs, batchSize: 4, progress: false, onEpochEnd: () => void epochsDone++ }),
    ).rejects.toThrow(/^fit: interrupted/);
    expect(epochsDone).toBeLessThan(epochs);
    expect(tf.memory().numTensors).toBe(baseline);
    m.dispose();
  });

  it("in a kernel cell, stops for an interrupt that arrived between two fits, and not in the next cell", async () => {
    // The kernel runs each cell in this context (kernel-setup/interrupts.js).
    const key = Symbol.for("transfer-lab.cell-context");
    const g = globalThis as Record<symbol, unknown>;
    const saved = g[key];
    const cells = new AsyncLocalStorage<{ interruptsAtStart: number }>();
    g[key] = cells;
    const data = blobs(64, 8, 3);
    const m = smallMlp(8);
    const baseline = tf.memory().numTensors;
    try {
      await cells.run({ interruptsAtStart: interruptCount() }, async () => {
        await fit(m, data, { epochs: 1, progress: false });
        requestInterrupt(); // e.g. while an experiment awaited a cache write between two runs
        await expect(fit(m, data, { epochs: 1, progress: false })).rejects.toThrow(InterruptedError);
      });
      const next = await cells.run({ interruptsAtStart: interruptCount() }, () =>
        fit(m, data, { epochs: 1, progress: false }),
      );
      expect(next.loss).toHaveLength(1);
      expect(tf.memory().numTensors).toBe(baseline);
    } finally {
      g[key] = saved;
      m.dispose();
    }
  });
});
