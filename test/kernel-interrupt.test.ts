// Interrupting a long training run through the Jupyter protocol (jupyter_client's
// interrupt_kernel, i.e. SIGINT, as the notebook's stop button): the training loop stops within
// 2 s, its tensors are released, the model keeps its weights and stops changing, and the next
// cells run. Driven by test/kernel_session.py in a throwaway JUPYTER_DATA_DIR.
import { describe, expect, it } from "vitest";
import { cellText as text, runCells, useThrowawayJupyter, type CellRun } from "./helpers/kernel";

/** The bound: an interrupted training loop has stopped this soon after the SIGINT. */
const STOP_WITHIN_MS = 2000;

const jupyter = useThrowawayJupyter("tl-interrupt-");

/** The `KEY=value` line a cell printed. */
function reading(cell: CellRun, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, "m").exec(text(cell));
  if (!m) throw new Error(`no ${key}= in the cell's output:\n${text(cell)}\nreply: ${JSON.stringify(cell.reply)}`);
  return m[1];
}

const SETUP = `import * as tf from "@tensorflow/tfjs";
import * as tl from "./src";
await tl.setupBackend();
// When SIGINT arrived and when the training loop last ran a step (it sets lastStepAt).
const g = globalThis as unknown as { sigintAt: number; lastStepAt: number };
g.sigintAt = 0;
g.lastStepAt = 0;
process.on("SIGINT", () => { g.sigintAt = Date.now(); });
const n = 2048, dim = 64;
const data: tl.Dataset = {
  x: new Float32Array(n * dim).map((_, i) => ((i * 7919) % 101) / 101),
  y: new Int32Array(n).map((_, i) => i % 10),
  n, dim, numClasses: 10, name: "interrupt-check",
};
const model = tf.sequential({ layers: [
  tf.layers.dense({ inputShape: [dim], units: 256, activation: "relu" }),
  tf.layers.dense({ units: 10, activation: "softmax" }),
] });
const checksum = (): number => tf.tidy(() => model.getWeights().reduce((s, w) => s + w.abs().sum().dataSync()[0], 0));
const initial = checksum();
const baseline = tf.memory().numTensors;
console.log(\`baseline=\${baseline}\`);`;

// Far more epochs than the test waits for: only an interrupt ends this cell.
const TRAIN = `console.log("training");
await tl.fit(model, data, { epochs: 100000, batchSize: 32, progress: false,
  inputTransform: (x) => { g.lastStepAt = Date.now(); return x; } });`;

const AFTER = `const c1 = checksum();
await new Promise((r) => setTimeout(r, 1000));
const c2 = checksum();
console.log(\`stoppedAfterMs=\${g.lastStepAt - g.sigintAt}\`);
console.log(\`unchanged=\${c1 === c2}\`);
console.log(\`trained=\${c1 !== initial}\`);
console.log(\`tensors=\${tf.memory().numTensors}\`);`;

// An experiment's shape: many short fits with awaits between them (cache writes, plots), so
// the interrupt usually lands between two fits rather than inside one.
const EXPERIMENT = `console.log("experiment");
for (let run = 0; run < 100000; run++) {
  await tl.fit(model, data, { epochs: 1, batchSize: 256, progress: false,
    inputTransform: (x) => { g.lastStepAt = Date.now(); return x; } });
  await new Promise((r) => setTimeout(r, 100));
}`;

describe("interrupting training through jupyter_client", () => {
  it("stops fit within 2 s, releases its tensors, and the kernel runs the next cells", async () => {
    const [setup, train, after, next] = await runCells(
      jupyter.python(),
      [
        { code: SETUP },
        { code: TRAIN, interruptAfterOutput: 3, stopOnError: false },
        { code: AFTER },
        { code: "6 * 7" },
      ],
      { env: { TFJS_BACKEND: "wasm" } },
    );
    expect(setup.reply.status, text(setup)).toBe("ok");
    const baseline = Number(reading(setup, "baseline"));
    // The interrupted cell ends as an error (not as a finished run), and the kernel goes on.
    expect(train.reply.status).toBe("error");
    expect(after.reply.status, text(after)).toBe("ok");
    const stoppedAfterMs = Number(reading(after, "stoppedAfterMs"));
    console.log(`fit's last step ran ${stoppedAfterMs} ms after SIGINT (bound ${STOP_WITHIN_MS} ms)`);
    expect(stoppedAfterMs).toBeGreaterThan(-STOP_WITHIN_MS); // the loop ran until the interrupt ...
    expect(stoppedAfterMs).toBeLessThan(STOP_WITHIN_MS); // ... and stopped soon after it
    expect(reading(after, "trained")).toBe("true");
    expect(reading(after, "unchanged")).toBe("true"); // nothing trains in the background
    // The aborted run's tensors (batches, gradients, Adam's slots) are gone; the model's stay.
    expect(Number(reading(after, "tensors"))).toBe(baseline);
    expect(next.reply.status).toBe("ok");
    expect(text(next)).toContain("42");
  }, 300_000);

  it("stops an experiment whose interrupt lands between two fits", async () => {
    const [setup, experiment, after] = await runCells(
      jupyter.python(),
      [{ code: SETUP }, { code: EXPERIMENT, interruptAfterOutput: 3, stopOnError: false }, { code: AFTER }],
      { env: { TFJS_BACKEND: "wasm" } },
    );
    expect(setup.reply.status, text(setup)).toBe("ok");
    expect(experiment.reply.status).toBe("error");
    expect(after.reply.status, text(after)).toBe("ok");
    const stoppedAfterMs = Number(reading(after, "stoppedAfterMs"));
    console.log(`the experiment's last step ran ${stoppedAfterMs} ms after SIGINT (bound ${STOP_WITHIN_MS} ms)`);
    expect(stoppedAfterMs).toBeLessThan(STOP_WITHIN_MS);
    expect(reading(after, "unchanged")).toBe("true");
    expect(Number(reading(after, "tensors"))).toBe(Number(reading(setup, "baseline")));
  }, 300_000);
});
