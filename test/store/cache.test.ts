import * as tf from "@tensorflow/tfjs";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CacheError,
  cacheDir,
  cachedJson,
  cachedModel,
  cacheKey,
  canonicalJson,
  hasModel,
  listJsonKeys,
  loadJson,
  loadModel,
  modelPaths,
  saveJson,
  saveModel,
  writeFileAtomic,
} from "../../src/store/cache";
import { projectRoot } from "../../src/core/paths";
import { tempDir } from "../data/idx-helpers";

/** A layer with its own weight, serialized by class name: y = alpha * x (elementwise). */
class ScaleLayer extends tf.layers.Layer {
  static className = "TestScaleLayer";
  alpha!: tf.LayerVariable;
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.alpha = this.addWeight(
      "alpha",
      [shape[shape.length - 1] as number],
      "float32",
      tf.initializers.randomNormal({ seed: 3 }),
    );
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.alpha.read()));
  }
  override getClassName(): string {
    return ScaleLayer.className;
  }
}
tf.serialization.registerClass(ScaleLayer);

function buildModel(seed = 1): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [6],
      units: 8,
      activation: "relu",
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    }),
  );
  m.add(new ScaleLayer({}));
  m.add(
    tf.layers.dense({
      units: 3,
      activation: "softmax",
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }),
    }),
  );
  return m;
}

function predict(m: tf.LayersModel): Float32Array {
  return tf.tidy(() => (m.predict(tf.linspace(-1, 1, 24).reshape([4, 6])) as tf.Tensor).dataSync() as Float32Array);
}

/** The weights file that model.json of `key` names. */
function weightsFile(key: string): string {
  const p = modelPaths(key, { dir });
  return path.join(p.folder, JSON.parse(fs.readFileSync(p.modelJson, "utf8")).weightsFile);
}

const WEIGHTS_RE = /^weights-[0-9a-f]{16}\.bin$/;

/** Every file below `dir`, relative. */
function listAll(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

let dir = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = tempDir("cache-");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("cache keys", () => {
  it("hash a canonical JSON of config + scale + seed", () => {
    const k = cacheKey({
      name: "lesson01-stack",
      config: { depth: 5, widths: [200, 200], recipe: "historical" },
      scale: "smoke",
      seed: 0,
    });
    expect(k).toMatch(/^lesson01-stack-smoke-s0-[0-9a-f]{12}$/);
    expect(
      cacheKey({
        name: "lesson01-stack",
        config: { recipe: "historical", widths: [200, 200], depth: 5, unused: undefined },
        scale: "smoke",
        seed: 0,
      }),
    ).toBe(k);
    expect(
      cacheKey({
        name: "lesson01-stack",
        config: { depth: 4, widths: [200, 200], recipe: "historical" },
        scale: "smoke",
        seed: 0,
      }),
    ).not.toBe(k);
    expect(
      cacheKey({
        name: "lesson01-stack",
        config: { depth: 5, widths: [200, 200], recipe: "historical" },
        scale: "default",
        seed: 0,
      }),
    ).not.toBe(k);
    expect(canonicalJson({ b: [1, { d: 2, c: new Int32Array([3]) }], a: -0 })).toBe('{"a":0,"b":[1,{"c":[3],"d":2}]}');
    expect(() => canonicalJson({ lr: NaN })).toThrow("canonicalJson: config.lr must be a finite number, got NaN");
    expect(() => canonicalJson({ f: [() => 1] })).toThrow(/config.f\[0\] is a function/);
    expect(() => canonicalJson({ m: new Map() })).toThrow(/config.m is a Map/);
    expect(() => cacheKey({ name: "../x", config: {}, scale: "smoke", seed: 0 })).toThrow(/key must be letters/);
  });

  it("put the cache under TRANSFER_LAB_CACHE unless a folder is given", () => {
    const old = process.env.TRANSFER_LAB_CACHE;
    process.env.TRANSFER_LAB_CACHE = dir;
    try {
      expect(cacheDir()).toBe(dir);
      expect(cacheDir("/tmp/other")).toBe("/tmp/other");
      delete process.env.TRANSFER_LAB_CACHE;
      expect(cacheDir()).toBe(path.join(projectRoot(), ".transfer-lab-cache"));
    } finally {
      if (old === undefined) delete process.env.TRANSFER_LAB_CACHE;
      else process.env.TRANSFER_LAB_CACHE = old;
    }
  });
});

describe("models", () => {
  it("round-trip with a custom layer gives identical predictions and no leaked tensors", async () => {
    const before = tf.memory().numTensors;
    const m = buildModel();
    const want = predict(m);
    const { weightsBytes } = await saveModel("roundtrip", m, { dir });
    expect(weightsBytes).toBe((6 * 8 + 8 + 8 + 8 * 3 + 3) * 4); // dense 6→8, alpha [8], dense 8→3: 91 floats
    const loaded = await loadModel("roundtrip", { dir });
    expect(Array.from(predict(loaded))).toEqual(Array.from(want));
    expect(loaded.layers[1].getClassName()).toBe("TestScaleLayer");
    expect(listAll(path.join(dir, "models", "roundtrip"))).toEqual(["model.json", expect.stringMatching(WEIGHTS_RE)]);
    m.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a truncated weights file with a message saying how to recover", async () => {
    const m = buildModel();
    await saveModel("trunc", m, { dir });
    m.dispose();
    const w = weightsFile("trunc");
    fs.truncateSync(w, 100);
    const before = tf.memory().numTensors;
    await expect(loadModel("trunc", { dir })).rejects.toThrow(
      `cache: ${path.basename(w)} for key trunc is truncated: expected 364 bytes, found 100; delete it or call with retrain`,
    );
    await expect(loadModel("trunc", { dir })).rejects.toBeInstanceOf(CacheError);
    fs.appendFileSync(w, Buffer.alloc(400));
    await expect(loadModel("trunc", { dir })).rejects.toThrow(/is the wrong size: expected 364 bytes, found 500/);
    fs.rmSync(w);
    await expect(loadModel("trunc", { dir })).rejects.toThrow(/weights-[0-9a-f]{16}\.bin for key trunc is missing/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects weights whose checksum does not match, and a damaged model.json", async () => {
    const m = buildModel();
    await saveModel("sum", m, { dir });
    m.dispose();
    const p = modelPaths("sum", { dir });
    const w = fs.readFileSync(weightsFile("sum"));
    w[7] ^= 0xff;
    fs.writeFileSync(weightsFile("sum"), w);
    const err = await loadModel("sum", { dir }).catch((e) => e);
    expect(err).toBeInstanceOf(CacheError);
    expect(err.problem).toBe("checksum");
    expect(err.message).toMatch(
      /^cache: weights-[0-9a-f]{16}\.bin for key sum does not match its checksum: sha256 expected [0-9a-f]{16}…, found [0-9a-f]{16}…; delete it or call with retrain$/,
    );
    const text = fs.readFileSync(p.modelJson, "utf8");
    fs.writeFileSync(p.modelJson, JSON.stringify({ ...JSON.parse(text), weightsFile: "../../elsewhere.bin" }));
    await expect(loadModel("sum", { dir })).rejects.toThrow(
      /model.json for key sum names weights file "..\/..\/elsewhere.bin", not a plain file name/,
    );
    fs.writeFileSync(p.modelJson, '{"format": "transfer-lab-mo');
    await expect(loadModel("sum", { dir })).rejects.toThrow(/model.json for key sum is not valid JSON/);
    await expect(loadModel("nothing", { dir })).rejects.toThrow(/cache: no model for key nothing/);
  });

  it("names an unknown layer class instead of failing obscurely, without leaking", async () => {
    const m = buildModel();
    await saveModel("unknown", m, { dir });
    m.dispose();
    const p = modelPaths("unknown", { dir });
    // As if saved by a session that had registered NotRegisteredLayer: the edit keeps the description's
    // checksum right, so the load gets as far as the layer classes.
    const stored = JSON.parse(fs.readFileSync(p.modelJson, "utf8").replace(/TestScaleLayer/g, "NotRegisteredLayer"));
    stored.descriptionSha256 = createHash("sha256")
      .update(JSON.stringify({ modelTopology: stored.modelTopology, weightSpecs: stored.weightSpecs }))
      .digest("hex");
    fs.writeFileSync(p.modelJson, JSON.stringify(stored));
    const before = tf.memory().numTensors;
    await expect(loadModel("unknown", { dir })).rejects.toThrow(
      /does not load \(.*NotRegisteredLayer.*\); register its custom layers first/s,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it("cachedModel builds once, then loads; rebuilds a damaged copy or on retrain", async () => {
    const lines: string[] = [];
    let builds = 0;
    const build = async () => {
      builds++;
      return buildModel(7);
    };
    const args = { dir, log: (m: string) => lines.push(m) };
    const a = await cachedModel("cm", build, args);
    expect([a.fromCache, builds]).toEqual([false, 1]);
    expect(a.message).toMatch(/^cache: built model cm \(not cached yet\); saved 364 bytes of weights to /);
    const b = await cachedModel("cm", build, args);
    expect([b.fromCache, builds]).toEqual([true, 1]);
    expect(Array.from(predict(b.model))).toEqual(Array.from(predict(a.model)));
    fs.truncateSync(weightsFile("cm"), 10);
    const c = await cachedModel("cm", build, args);
    expect([c.fromCache, builds]).toEqual([false, 2]);
    expect(c.message).toContain("is truncated: expected 364 bytes, found 10");
    const d = await cachedModel("cm", build, { ...args, retrain: true });
    expect([d.fromCache, builds]).toEqual([false, 3]);
    expect(lines.length).toBe(4);
    expect(hasModel("cm", { dir })).toBe(true);
    for (const m of [a, b, c, d]) m.model.dispose();
    expect(listAll(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(listAll(modelPaths("cm", { dir }).folder)).toEqual(["model.json", expect.stringMatching(WEIGHTS_RE)]);
  });

  it("loads the older layout (weights.bin, not named in model.json) and replaces it on the next save", async () => {
    const m = buildModel(4);
    await saveModel("legacy", m, { dir });
    const p = modelPaths("legacy", { dir });
    fs.renameSync(weightsFile("legacy"), path.join(p.folder, "weights.bin"));
    const old = JSON.parse(fs.readFileSync(p.modelJson, "utf8"));
    delete old.weightsFile;
    fs.writeFileSync(p.modelJson, JSON.stringify(old));
    const back = await loadModel("legacy", { dir });
    expect(Array.from(predict(back))).toEqual(Array.from(predict(m)));
    await saveModel("legacy", back, { dir });
    expect(listAll(p.folder)).toEqual(["model.json", expect.stringMatching(WEIGHTS_RE)]);
    [m, back].forEach((x) => x.dispose());
  });
});

describe("atomic writes and JSON results", () => {
  it("leave no temp file behind, also when the rename fails", async () => {
    const file = path.join(dir, "atomic", "a.txt");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(fs.readFileSync(file, "utf8")).toBe("two");
    // A non-empty folder where the file should go: rename fails, the temp file must go away.
    const blocked = path.join(dir, "atomic", "blocked");
    fs.mkdirSync(path.join(blocked, "inside"), { recursive: true });
    await expect(writeFileAtomic(blocked, "x")).rejects.toThrow();
    expect(fs.readdirSync(path.join(dir, "atomic")).sort()).toEqual(["a.txt", "blocked"]);
  });

  it("sweep temp files of dead writers, keeping those of live ones and of other files", async () => {
    const folder = path.join(dir, "sweep");
    fs.mkdirSync(folder);
    // pid 2^30 is above Linux's pid_max, so no process has it: a writer that was killed.
    const dead = `.a.txt.tmp-${2 ** 30}-0123456789ab`;
    const live = `.a.txt.tmp-${process.pid}-0123456789ab`;
    const other = `.b.txt.tmp-${2 ** 30}-0123456789ab`;
    for (const f of [dead, live, other]) fs.writeFileSync(path.join(folder, f), "half");
    await writeFileAtomic(path.join(folder, "a.txt"), "whole");
    expect(fs.readdirSync(folder).sort()).toEqual([live, other, "a.txt"].sort());
  });

  it("saveJson/loadJson round-trip; missing is undefined; damaged is a CacheError", async () => {
    const value = { lesson: "01", acc: [0.1, 0.765], nested: { k: 5 } };
    await saveJson("res-01", value, { dir });
    expect(await loadJson("res-01", { dir })).toEqual(value);
    expect(await loadJson("res-none", { dir })).toBeUndefined();
    fs.writeFileSync(path.join(dir, "json", "res-bad.json"), '{"lesson": ');
    await expect(loadJson("res-bad", { dir })).rejects.toThrow(
      /res-bad.json for key res-bad is not valid JSON .*; delete it or call with retrain/,
    );
    let calls = 0;
    const compute = () => ({ n: ++calls });
    expect(await cachedJson("res-c", compute, { dir })).toEqual({ value: { n: 1 }, fromCache: false });
    expect(await cachedJson("res-c", compute, { dir })).toEqual({ value: { n: 1 }, fromCache: true });
    expect(await cachedJson("res-bad", compute, { dir, log: false })).toEqual({ value: { n: 2 }, fromCache: false });
    expect(await listJsonKeys("res-", { dir })).toEqual(["res-01", "res-bad", "res-c"]);
    expect(listAll(path.join(dir, "json")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
