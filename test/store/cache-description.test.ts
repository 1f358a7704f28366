// The cache checks a model's description, not only its weights: model.json records the sha256 of
// the model's topology and weight specs, checked on load. Before, editing a cached model.json
// (`relu` → `linear`, weights intact) loaded silently ("cache: loaded model …") a model that was
// not the one trained; now the entry counts as damaged and cachedModel rebuilds it, saying why.
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheError, cachedModel, loadModel, modelPaths, saveModel } from "../../src/store/cache";
import { tempDir } from "../data/idx-helpers";

function build(seed = 1): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [4],
      units: 5,
      activation: "relu",
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    }),
  );
  m.add(tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }));
  return m;
}

/** Rewrites the key's model.json through `edit` (on its text). */
function editModelJson(key: string, edit: (text: string) => string): void {
  const file = modelPaths(key, { dir }).modelJson;
  const text = fs.readFileSync(file, "utf8");
  const edited = edit(text);
  expect(edited).not.toBe(text);
  fs.writeFileSync(file, edited);
}

let dir = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = tempDir("cache-description-");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the model description checksum", () => {
  it("is saved with the model and rejects an edited architecture on load", async () => {
    const m = build();
    await saveModel("edited", m, { dir });
    m.dispose();
    const stored = JSON.parse(fs.readFileSync(modelPaths("edited", { dir }).modelJson, "utf8"));
    expect(stored.descriptionSha256).toMatch(/^[0-9a-f]{64}$/);
    editModelJson("edited", (t) => t.replace('"activation":"relu"', '"activation":"linear"'));
    const before = tf.memory().numTensors;
    const err = await loadModel("edited", { dir }).catch((e) => e);
    expect(err).toBeInstanceOf(CacheError);
    expect(err.problem).toBe("checksum");
    expect(err.message).toMatch(
      /^cache: model.json for key edited: the model's description \(layers, activations, weight specs\) does not match its checksum: sha256 expected [0-9a-f]{16}…, found [0-9a-f]{16}… \(edited after it was saved\?\); delete it or call with retrain$/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it("also covers the weight specs (a swapped weight name loads the wrong numbers)", async () => {
    const m = build(3);
    await saveModel("specs", m, { dir });
    m.dispose();
    editModelJson("specs", (t) => {
      const s = JSON.parse(t);
      s.weightSpecs[0].name = s.weightSpecs[2].name;
      return JSON.stringify(s);
    });
    await expect(loadModel("specs", { dir })).rejects.toThrow(/the model's description .* does not match its checksum/);
  });

  it("makes cachedModel rebuild the entry, naming it and the reason", async () => {
    const lines: string[] = [];
    let builds = 0;
    const args = { dir, log: (l: string) => lines.push(l) };
    const make = async () => (builds++, build(5));
    const first = await cachedModel("rebuilt", make, args);
    editModelJson("rebuilt", (t) => t.replace('"activation":"relu"', '"activation":"linear"'));
    const second = await cachedModel("rebuilt", make, args);
    expect([second.fromCache, builds]).toEqual([false, 2]);
    expect(second.message).toMatch(
      /^cache: built model rebuilt \(cache: model.json for key rebuilt: the model's description .* does not match its checksum: .*\); saved \d+ bytes of weights to /,
    );
    // The rebuilt entry is intact again, and holds the real architecture.
    const third = await cachedModel("rebuilt", make, args);
    expect([third.fromCache, builds]).toEqual([true, 2]);
    expect((third.model.layers[0].getConfig() as { activation: string }).activation).toBe("relu");
    expect(lines).toHaveLength(3);
    for (const m of [first, second, third]) m.model.dispose();
  });

  it("loads entries saved before the checksum was recorded", async () => {
    const m = build(7);
    await saveModel("older", m, { dir });
    editModelJson("older", (t) => {
      const s = JSON.parse(t);
      delete s.descriptionSha256;
      return JSON.stringify(s);
    });
    const back = await loadModel("older", { dir });
    const x = tf.ones([1, 4]);
    const [a, b] = [m, back].map((k) => k.predict(x) as tf.Tensor);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    [x, a, b].forEach((t) => t.dispose());
    [m, back].forEach((k) => k.dispose());
    expect(fs.readdirSync(path.join(dir, "models", "older")).length).toBe(2);
  });
});
