// The Playground page without a browser: the page script's MNIST framing of a drawing (bounding box
// into 20×20 by area averaging, centre of mass at the centre of 28×28), and installPlayground — the
// page and its assets for an export, the page that says which lesson to run, a damaged export, the
// manifest inlined safely, the link on the index page.
import * as tf from "@tensorflow/tfjs";
import fs from "fs";
import os from "os";
import path from "path";
import vm from "vm";
import { afterAll, describe, expect, it } from "vitest";
import { renderIndex } from "../../src/cli/site/index-page";
import {
  installPlayground,
  PLAYGROUND_LESSON_COMMAND,
  PLAYGROUND_SCRIPT,
  renderPlaygroundPage,
  withPlaygroundLink,
} from "../../src/cli/site/playground";
import { exportPlaygroundModels } from "../../src/experiments/playground";
import { buildSourceModel } from "../../src/models/mlp";
import { readPlayground } from "../../src/store/playground";

const app = require(PLAYGROUND_SCRIPT) as {
  SIZE: number;
  BOX: number;
  toMnist(gray: Float32Array, w: number, h: number): Float32Array | null;
  areaWeights(n: number, m: number): [number, number][][];
  centerOfMass(img: Float32Array, w: number, h: number): [number, number];
  decodeFloats(b64: string): Float32Array;
  softmax(v: number[]): number[];
};

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tl-playground-page-"));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A w×h canvas with the rectangle [x0, x1) × [y0, y1) inked. */
function canvas(w: number, h: number, x0: number, y0: number, x1: number, y1: number): Float32Array {
  const g = new Float32Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) g[y * w + x] = 1;
  return g;
}

function inkBox(img: Float32Array): { w: number; h: number } {
  let x0 = 28,
    y0 = 28,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++)
      if (img[y * 28 + x] > 0.02) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  return { w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

describe("the page script's MNIST framing (toMnist)", () => {
  it("returns null for an empty drawing", () => {
    expect(app.toMnist(new Float32Array(280 * 280), 280, 280)).toBeNull();
  });

  it("scales the bounding box into 20×20 keeping its aspect, and centres the mass in 28×28", () => {
    // A 100×50 block in the top-left corner of a 280×280 drawing.
    const out = app.toMnist(canvas(280, 280, 10, 20, 110, 70), 280, 280)!;
    expect(out).toHaveLength(784);
    expect(inkBox(out)).toEqual({ w: 20, h: 10 });
    const [cx, cy] = app.centerOfMass(out, 28, 28);
    expect(cx).toBeCloseTo(14, 5);
    expect(cy).toBeCloseTo(14, 5);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out)).toBeCloseTo(1, 6);
  });

  it("area-averages: each pixel of the 20×20 box is the mean ink of the area it covers", () => {
    // Two 15-px bars at the edges of a 100×200 box: scaled by 1/10, a row reads 1, 0.5, 0…0, 0.5, 1.
    const g = canvas(280, 280, 30, 40, 45, 240);
    const right = canvas(280, 280, 115, 40, 130, 240);
    for (let i = 0; i < g.length; i++) g[i] = Math.max(g[i], right[i]);
    const out = app.toMnist(g, 280, 280)!;
    expect(inkBox(out)).toEqual({ w: 10, h: 20 });
    const row = Array.from(out.subarray(14 * 28, 15 * 28)).filter((_, x) => x >= 9 && x < 19);
    expect(row.map((v) => Math.round(v * 1000) / 1000)).toEqual([1, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 1]);
    const [cx, cy] = app.centerOfMass(out, 28, 28);
    expect(cx).toBeCloseTo(14, 5);
    expect(cy).toBeCloseTo(14, 5);
  });

  it("keeps a thin stroke at least one pixel wide", () => {
    const out = app.toMnist(canvas(280, 280, 200, 40, 206, 240), 280, 280)!;
    expect(inkBox(out)).toEqual({ w: 1, h: 20 });
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
  });

  it("has area weights that sum to 1 per target pixel; decodes base64 floats; softmax sums to 1", () => {
    for (const [n, m] of [
      [200, 20],
      [7, 3],
      [3, 7],
      [20, 20],
    ]) {
      for (const ws of app.areaWeights(n, m)) expect(ws.reduce((a, [, w]) => a + w, 0)).toBeCloseTo(1, 9);
    }
    const f = new Float32Array([0, 0.5, 1, -2.25]);
    expect(Array.from(app.decodeFloats(Buffer.from(f.buffer).toString("base64")))).toEqual([0, 0.5, 1, -2.25]);
    expect(app.softmax([1, 2, 3]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe("installPlayground", () => {
  it("with nothing exported: a page naming lesson 04 and its command, no assets, and the index line", () => {
    const out = tmp();
    const r = installPlayground({ outDir: out, playgroundDir: path.join(tmp(), "nothing") });
    expect(r.models).toEqual([]);
    expect(r.problem).toMatch(/no models exported yet \(run lesson 04\)/);
    const html = fs.readFileSync(r.page, "utf8");
    expect(html).toContain("No models have been exported for the playground yet");
    expect(html).toContain(PLAYGROUND_LESSON_COMMAND);
    expect(html).not.toContain("<script");
    expect(fs.existsSync(path.join(out, "playground"))).toBe(false);
    const index = withPlaygroundLink(renderIndex({ lessons: [], generatedAt: "now" }), r);
    expect(index.indexOf('<p class="playground"><a href="playground.html">')).toBeLessThan(index.indexOf("<table>"));
    expect(index).toContain("no models exported yet: run lesson 04");
  });

  it("with an export: tf.min.js, the script, each model's files and a model.js with the same bytes", async () => {
    await tf.setBackend("cpu");
    const dir = tmp();
    const model = buildSourceModel({ seed: 0, hiddenUnits: [4] });
    const data = {
      x: new Float32Array(10 * 784).fill(0.5),
      y: Int32Array.from({ length: 10 }, (_, i) => i),
      n: 10,
      dim: 784,
      numClasses: 10,
      name: "flat",
    };
    await exportPlaygroundModels({
      models: { "source </script><script>alert(1)</script>": model },
      examples: data,
      dir,
      count: 3,
      description: "a </script> in the description",
    });
    model.dispose();
    const out = tmp();
    const r = installPlayground({ outDir: out, playgroundDir: dir });
    expect(r.problem).toBeNull();
    expect(r.examples).toBe(3);
    const state = readPlayground(dir);
    if (state.kind !== "ok") throw new Error("expected an export");
    const e = state.manifest.models[0];
    const assets = path.join(out, "playground");
    expect(fs.readFileSync(path.join(assets, "playground-app.js"), "utf8")).toBe(
      fs.readFileSync(PLAYGROUND_SCRIPT, "utf8"),
    );
    expect(fs.statSync(path.join(assets, "tf.min.js")).size).toBeGreaterThan(500_000);
    const folder = path.join(assets, "models", e.id);
    const modelJson = fs.readFileSync(path.join(folder, "model.json"), "utf8");
    const weights = fs.readFileSync(path.join(folder, e.weightsFile));
    expect(weights.byteLength).toBe(e.weightsBytes);
    const sandbox: {
      window: { TRANSFER_LAB_PLAYGROUND_MODELS?: Record<string, { modelJson: unknown; weights: string }> };
    } = { window: {} };
    vm.runInNewContext(fs.readFileSync(path.join(folder, "model.js"), "utf8"), sandbox);
    const stored = sandbox.window.TRANSFER_LAB_PLAYGROUND_MODELS![e.id];
    expect(stored.modelJson).toEqual(JSON.parse(modelJson));
    expect(Buffer.from(stored.weights, "base64").equals(weights)).toBe(true);
    // The manifest is inlined as JSON that no "</script>" in a name or description can end early.
    const html = fs.readFileSync(r.page, "utf8");
    expect(html.match(/<\/script>/g)).toHaveLength(4); // the manifest, tf.min.js, the page script, start()
    const inline = /<script id="playground-manifest" type="application\/json">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(inline).models[0].name).toBe("source </script><script>alert(1)</script>");
    expect(html).toContain("a &lt;/script&gt; in the description");
    // A rebuild after the export is gone removes the assets and says what to run.
    fs.rmSync(dir, { recursive: true });
    const again = installPlayground({ outDir: out, playgroundDir: dir });
    expect(again.models).toEqual([]);
    expect(fs.existsSync(assets)).toBe(false);
  });

  it("with a damaged export: the page says what is wrong and what to run", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "manifest.json"), "{ oops");
    const r = installPlayground({ outDir: tmp(), playgroundDir: dir });
    expect(r.problem).toMatch(/not valid JSON/);
    const html = fs.readFileSync(r.page, "utf8");
    expect(html).toContain("The exported models cannot be used");
    expect(html).toContain(PLAYGROUND_LESSON_COMMAND);
  });

  it("renders the empty page for playgroundDir null", () => {
    const html = renderPlaygroundPage({ kind: "none", dir: "/x/playground" }, "2026-01-01");
    expect(html).toContain("/x/playground");
    expect(html).toContain('data-state="empty"');
  });
});
