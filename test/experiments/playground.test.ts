// exportPlaygroundModels: the models in the tfjs LayersModel format (read back through tfjs's own http
// loader, as the browser reads them), the manifest with balanced test images and Node's predictions,
// content-named model folders replaced on re-export, arguments checked before anything is written
// (unmerged LoRA, the BatchNorm variant, wrong shapes), no tensors left; readPlayground's checks.
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLora, mergeLora } from "../../src/adapt/lora/inject";
import type { Dataset } from "../../src/data/types";
import {
  BROWSER_LAYER_CLASSES,
  exportPlaygroundModels,
  nonBrowserLayers,
  pickExampleRows,
} from "../../src/experiments/playground";
import { buildSourceModel } from "../../src/models/mlp";
import { PLAYGROUND_FORMAT, readPlayground, slugify, type PlaygroundManifest } from "../../src/store/playground";

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tl-playground-"));
  tmpDirs.push(d);
  return d;
}

/** 784-pixel images, 10 classes, 5 of each (labels 0..9 repeating), seeded noise. */
function digits(n = 50): Dataset {
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    y[i] = i % 10;
    for (let j = 0; j < 784; j++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      x[i * 784 + j] = s / 2147483648;
    }
  }
  return { x, y, n, dim: 784, numClasses: 10, name: "test-digits" };
}

const small = (seed = 0, batchNorm = false) => buildSourceModel({ seed, hiddenUnits: [8, 6], batchNorm });

function readManifest(dir: string): PlaygroundManifest {
  return JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as PlaygroundManifest;
}

/** tfjs's own http loader (what the browser's tf.loadLayersModel uses) on a folder of this disk. */
function loadThroughHttpLoader(folder: string): Promise<tf.LayersModel> {
  const fetchFunc = async (url: RequestInfo | URL) => {
    const file = path.join(folder, decodeURIComponent(new URL(String(url)).pathname.replace(/^\/m\//, "")));
    const body = fs.readFileSync(file);
    return new Response(body, { status: 200 });
  };
  return tf.loadLayersModel(tf.io.http("http://playground.test/m/model.json", { fetchFunc }));
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("exportPlaygroundModels", () => {
  it("writes tfjs LayersModel files the http loader reads back, and a manifest with Node's predictions; leaks nothing", async () => {
    const dir = path.join(tmp(), "playground");
    const source = small(0);
    const lora = applyLora(source, { r: 2, targets: ["hidden1"], trainHead: true, seed: 1 });
    // Move B off zero so the merged model differs from the source.
    for (const w of lora.trainableWeights) if (/lora_B/.test(w.name)) w.write(tf.onesLike(w.read()).mul(0.05));
    const merged = mergeLora(lora);
    const data = digits();
    const before = tf.memory().numTensors;
    const out = await exportPlaygroundModels({
      models: { "source (task A)": source, "LoRA r=2, merged": merged },
      examples: data,
      count: 12,
      dir,
      description: "unit test",
    });
    expect(tf.memory().numTensors).toBe(before);

    expect(out.dir).toBe(dir);
    expect(out.examples).toBe(12);
    expect(out.models.map((m) => m.id)).toEqual(["source-task-a", "lora-r-2-merged"]);
    const m = readManifest(dir);
    expect(m.format).toBe(PLAYGROUND_FORMAT);
    expect(m.description).toBe("unit test");
    expect(m.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // Class by class: 0..9, then 0, 1.
    expect(m.examples.labels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(m.examples.rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const pixels = new Float32Array(Buffer.from(m.examples.pixels, "base64").buffer.slice(0));
    expect(Array.from(pixels.subarray(784 * 11, 784 * 12))).toEqual(Array.from(data.x.subarray(784 * 11, 784 * 12)));

    for (const [entry, model] of [
      [m.models[0], source],
      [m.models[1], merged],
    ] as const) {
      expect(entry.output).toBe("probabilities");
      expect(entry.inputShape).toEqual([784]);
      expect(entry.params).toBe(model.countParams());
      const folder = path.join(dir, entry.folder);
      const json = JSON.parse(fs.readFileSync(path.join(folder, "model.json"), "utf8"));
      expect(json.format).toBe("layers-model");
      expect(json.weightsManifest[0].paths).toEqual([entry.weightsFile]);
      expect(json.trainingConfig).toBeUndefined();
      expect(fs.readdirSync(folder).sort()).toEqual([entry.weightsFile, "model.json"].sort());
      const loaded = await loadThroughHttpLoader(folder);
      const x = tf.tensor2d(pixels, [12, 784]);
      const want = tf.tidy(() => (model.predict(x) as tf.Tensor).arraySync() as number[][]);
      const got = tf.tidy(() => (loaded.predict(x) as tf.Tensor).arraySync() as number[][]);
      x.dispose();
      loaded.dispose();
      for (let i = 0; i < 12; i++) {
        for (let c = 0; c < 10; c++) {
          expect(got[i][c]).toBeCloseTo(want[i][c], 6);
          expect(m.examples.probabilities[entry.id][i][c]).toBeCloseTo(want[i][c], 5);
        }
        expect(m.examples.predictions[entry.id][i]).toBe(want[i].indexOf(Math.max(...want[i])));
      }
    }
    expect(out.correct["source-task-a"]).toBe(
      m.examples.predictions["source-task-a"].filter((p, i) => p === m.examples.labels[i]).length,
    );
    expect(readPlayground(dir)).toMatchObject({ kind: "ok" });
    for (const model of [source, lora, merged]) model.dispose();
  });

  it("names model folders by content: the same model lands in the same folder, and older exports' folders go", async () => {
    const dir = tmp();
    const a = small(0);
    const b = small(1);
    const data = digits(20);
    const first = await exportPlaygroundModels({ models: { a }, examples: data, dir, count: 3 });
    const again = await exportPlaygroundModels({ models: { a }, examples: data, dir, count: 3 });
    expect(again.models[0].folder).toBe(first.models[0].folder);
    const other = await exportPlaygroundModels({ models: { a: b, "a!": a }, examples: data, dir, count: 3 });
    expect(other.models.map((e) => e.id)).toEqual(["a", "a-2"]);
    expect(other.models[0].folder).not.toBe(first.models[0].folder);
    expect(other.models[1].folder).toBe(first.models[0].folder.replace("/a-", "/a-2-"));
    expect(fs.readdirSync(path.join(dir, "models")).sort()).toEqual(
      other.models.map((e) => path.basename(e.folder)).sort(),
    );
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]); // no temp files left
    for (const model of [a, b]) model.dispose();
  });

  it("exports a model without a softmax as logits, with softmaxed probabilities in the manifest", async () => {
    const dir = tmp();
    const model = tf.sequential({
      layers: [
        tf.layers.reshape({ targetShape: [28, 28, 1], inputShape: [28, 28] }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    await exportPlaygroundModels({ models: { logits: model }, examples: digits(10), dir, count: 4 });
    const m = readManifest(dir);
    expect(m.models[0].output).toBe("logits");
    expect(m.models[0].inputShape).toEqual([28, 28]);
    for (const p of m.examples.probabilities.logits) expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    model.dispose();
  });

  it("refuses models the browser cannot load, or of the wrong shape, before writing anything", async () => {
    const dir = path.join(tmp(), "never");
    const data = digits(10);
    const source = small(0);
    const lora = applyLora(source, { r: 2, targets: ["hidden1"], seed: 1 });
    const bn = small(0, true);
    const wide = buildSourceModel({ seed: 0, hiddenUnits: [4], inputDim: 100 });
    const three = buildSourceModel({ seed: 0, hiddenUnits: [4], numClasses: 3 });
    const n0 = tf.memory().numTensors;
    const go = (models: Record<string, tf.LayersModel>, extra: object = {}) =>
      exportPlaygroundModels({ models, examples: data, dir, ...extra });
    await expect(go({ ok: source, lora })).rejects.toThrow(
      /models\["lora"\] must be a model of standard tfjs layers.*hidden1:LoraDense.*tl\.mergeLora/,
    );
    await expect(go({ bn })).rejects.toThrow(/bn1:KerasBatchNormalization.*without batchNorm/);
    await expect(go({ wide })).rejects.toThrow(/models\["wide"\] input must be 784 values.*\[batch, 100\]/);
    await expect(go({ three })).rejects.toThrow(/models\["three"\] output must be \[batch, 10\].*\[batch, 3\]/);
    await expect(go({})).rejects.toThrow(/models must be a non-empty object/);
    await expect(go({ source }, { count: 0 })).rejects.toThrow(/count must be a positive integer, got 0/);
    await expect(go({ source }, { classNames: ["a"] })).rejects.toThrow(/classNames must be 10 strings/);
    await expect(
      exportPlaygroundModels({ models: { source }, examples: { ...data, dim: 100, x: new Float32Array(1000) }, dir }),
    ).rejects.toThrow(/examples\.dim must be 784/);
    expect(fs.existsSync(dir)).toBe(false);
    expect(tf.memory().numTensors).toBe(n0);
    expect(nonBrowserLayers(source)).toEqual([]);
    expect(nonBrowserLayers(lora)).toEqual(["hidden1:LoraDense"]);
    expect(BROWSER_LAYER_CLASSES.has("KerasBatchNormalization")).toBe(false);
    for (const model of [source, lora, bn, wide, three]) model.dispose();
  });

  it("picks examples class by class, and stops when the data runs out", () => {
    const d = { ...digits(10), y: new Int32Array([3, 3, 3, 1, 1, 0, -1, 2, 2, 2]) };
    expect(pickExampleRows(d, 5)).toEqual([5, 3, 7, 0, 4]);
    expect(pickExampleRows(d, 100)).toEqual([5, 3, 7, 0, 4, 8, 1, 9, 2]);
  });
});

describe("readPlayground", () => {
  it("reports nothing exported, a damaged manifest, and weights that do not match their checksum", async () => {
    const dir = tmp();
    expect(readPlayground(path.join(dir, "none"))).toMatchObject({ kind: "none" });
    const model = small(0);
    const out = await exportPlaygroundModels({ models: { m: model }, examples: digits(10), dir, count: 2 });
    model.dispose();
    expect(readPlayground(dir)).toMatchObject({ kind: "ok" });
    const weights = path.join(dir, out.models[0].folder, out.models[0].weightsFile);
    const bytes = fs.readFileSync(weights);
    bytes[10] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    expect(readPlayground(dir)).toMatchObject({
      kind: "broken",
      problem: expect.stringMatching(/does not match its checksum/),
    });
    fs.writeFileSync(path.join(dir, "manifest.json"), "{ not json");
    expect(readPlayground(dir)).toMatchObject({ kind: "broken", problem: expect.stringMatching(/not valid JSON/) });
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ ...out, format: "other/1" }));
    expect(readPlayground(dir)).toMatchObject({ kind: "broken", problem: expect.stringMatching(/format "other\/1"/) });
  });

  it("slugs names for folders and URLs", () => {
    expect(slugify("LoRA r=4, merged")).toBe("lora-r-4-merged");
    expect(slugify("source (task A)")).toBe("source-task-a");
    expect(slugify("ÄÖ")).toBe("model");
  });
});
