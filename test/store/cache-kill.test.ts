// Nothing lost when a save is killed: a child process (test/helpers/kill-writer.ts) saves an
// artifact, starts saving a new version of the same key and is SIGKILLed half-way through one of
// its files. The previous version must still load with its checksum, no partial file may sit under
// a final name, and the temp file the dead writer left must not get in the way of later saves.
//
// Why this can fail: with a plain fs.writeFileSync to the final path, the ".bin" kill leaves a
// half-written weights file under its real name and loadModel rejects it as truncated. With the
// earlier save (weights.bin and model.json each replaced atomically, one after the other), the
// "model.json" kill left the new weights.bin beside the old model.json and the load failed its
// checksum; only one rename that commits weights and manifest together passes both.
import * as tf from "@tensorflow/tfjs";
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadJson, loadModel, saveJson, saveModel } from "../../src/store/cache";
import { tinySource } from "../helpers/fixtures";
import { loadAdapter, saveAdapter } from "../../src/adapt/lora/adapter";
import { projectRoot } from "../../src/core/paths";
import { dense, lora, predictions } from "../helpers/saved-models";
import { tempDir } from "../data/idx-helpers";

const WRITER = path.join(__dirname, "..", "helpers", "kill-writer.ts");
const TEMP_RE = /^\..+\.tmp-\d+-[0-9a-f]+$/;

/** What the killed child reported: the first version's content and the temp file it stalled in. */
interface Killed {
  saved: unknown;
  tempFile: string;
  half: number;
  total: number;
}

/** Runs kill-writer and SIGKILLs it on its MIDWAY line, after checking the temp file is partial. */
function saveThenKill(scenario: string, stallSuffix: string, dir: string): Promise<Killed> {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, scenario, stallSuffix, dir], {
    cwd: projectRoot(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let saved: unknown;
  let killed: Killed | undefined;
  child.stderr.on("data", (d) => (err += d));
  child.stdout.on("data", (d) => {
    out += d;
    for (const line of out.split("\n")) {
      if (line.startsWith("SAVED ")) saved = JSON.parse(line.slice(6));
      const m = /^MIDWAY (\S+) (\d+) (\d+)$/.exec(line);
      if (m && !killed) {
        killed = { saved, tempFile: m[1], half: Number(m[2]), total: Number(m[3]) };
        // The write is in progress right now: part of the bytes are on disk, not all.
        expect(fs.statSync(killed.tempFile).size).toBe(killed.half);
        child.kill("SIGKILL");
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code, signal) => {
      if (killed && signal === "SIGKILL") resolve(killed);
      else
        reject(
          new Error(
            `kill-writer ${scenario} ended (exit ${code}, signal ${signal}) without being killed mid-save\nstdout: ${out}\nstderr: ${err}`,
          ),
        );
    });
  });
}

/** Files a reader could mistake for the artifact: everything not hidden. */
const visible = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .sort();
const temps = (dir: string) => fs.readdirSync(dir).filter((f) => TEMP_RE.test(f));

/** Content-addressed blobs must hold exactly the bytes their name promises. */
function expectBlobsComplete(dir: string, prefix: string): void {
  for (const f of visible(dir)) {
    const m = new RegExp(`^${prefix}-([0-9a-f]{16})\\.bin$`).exec(f);
    if (!m) continue;
    const sum = createHash("sha256")
      .update(fs.readFileSync(path.join(dir, f)))
      .digest("hex");
    expect(sum.slice(0, 16), `${f} is not what its name says (partial?)`).toBe(m[1]);
  }
}

let root = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = tempDir("cache-kill-");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("a save killed midway", () => {
  it.each([".bin", "model.json"])(
    "keeps the previous cached model loadable (killed while writing %s)",
    async (stall) => {
      const dir = path.join(root, `model${stall}`);
      const killed = await saveThenKill("model", stall, dir);
      const folder = path.join(dir, "models", "victim");
      if (stall === ".bin") expect(killed.total).toBe((2048 * 2048 + 2048) * 4); // the 16 MiB version

      const back = await loadModel("victim", { dir }); // checks size and sha256
      expect(predictions(back, 6)).toEqual(killed.saved);
      back.dispose();
      expect(visible(folder)).toContain("model.json");
      expect(visible(folder).every((f) => f === "model.json" || /^weights-[0-9a-f]{16}\.bin$/.test(f))).toBe(true);
      expectBlobsComplete(folder, "weights");
      expect(temps(folder)).toEqual([path.basename(killed.tempFile)]);

      // A later save replaces it cleanly and sweeps what the dead writer left.
      const third = dense(6, 3, 3);
      await saveModel("victim", third, { dir });
      const again = await loadModel("victim", { dir });
      expect(predictions(again, 6)).toEqual(predictions(third, 6));
      expect(fs.readdirSync(folder).sort()).toEqual([
        "model.json",
        expect.stringMatching(/^weights-[0-9a-f]{16}\.bin$/),
      ]);
      [third, again].forEach((m) => m.dispose());
    },
  );

  it.each([".bin", "adapter.json"])(
    "keeps the previous LoRA adapter loadable (killed while writing %s)",
    async (stall) => {
      const dir = path.join(root, `adapter${stall}`);
      const killed = await saveThenKill("adapter", stall, dir);

      const base = tinySource(0);
      const back = loadAdapter(base, dir); // checks size and sha256
      expect(predictions(back, 12)).toEqual(killed.saved);
      back.dispose();
      expect(visible(dir)).toContain("adapter.json");
      expect(visible(dir).every((f) => f === "adapter.json" || /^adapter-[0-9a-f]{16}\.bin$/.test(f))).toBe(true);
      expectBlobsComplete(dir, "adapter");
      expect(temps(dir)).toEqual([path.basename(killed.tempFile)]);

      const third = lora(2, 9);
      await saveAdapter(third, dir);
      const again = loadAdapter(base, dir);
      expect(predictions(again, 12)).toEqual(predictions(third, 12));
      expect(fs.readdirSync(dir).sort()).toEqual([
        expect.stringMatching(/^adapter-[0-9a-f]{16}\.bin$/),
        "adapter.json",
      ]);
      [base, third, again].forEach((m) => m.dispose());
    },
  );

  it("keeps the previous cached JSON", async () => {
    const dir = path.join(root, "json");
    const killed = await saveThenKill("json", ".json", dir);
    const folder = path.join(dir, "json");
    expect(await loadJson("victim", { dir })).toEqual(killed.saved);
    expect(visible(folder)).toEqual(["victim.json"]);
    expect(temps(folder)).toEqual([path.basename(killed.tempFile)]);

    await saveJson("victim", { version: 3 }, { dir });
    expect(await loadJson("victim", { dir })).toEqual({ version: 3 });
    expect(fs.readdirSync(folder)).toEqual(["victim.json"]);
  });
});
