// A save that fails or is interrupted removes what it wrote. Before, an interrupt during a model
// save left a 31 MB `.model-….bin.tmp-<pid>-…` file behind until the next write of that folder.
// Here: a write that throws midway (an injected disk error, an InterruptedError) at the weights or
// at model.json leaves no temp file and no orphan weights file, the previous version still loads,
// and cachedModel frees the model it built; a process that exits (process.exit, as a kernel shutting
// down) or is stopped by Ctrl-C (SIGINT in plain Node) mid-save removes its temp file first. A
// SIGKILL still leaves one, swept by the next write (test/store/cache-kill.test.ts).
import * as tf from "@tensorflow/tfjs";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/core/interrupt";
import { projectRoot } from "../../src/core/paths";
import { writeFileAtomic } from "../../src/store/atomic";
import { cachedModel, loadModel, modelPaths, saveJson, saveModel } from "../../src/store/cache";
import { dense, predictions } from "../helpers/saved-models";
import { tempDir } from "../data/idx-helpers";

const TEMP_RE = /^\.(.+)\.tmp-\d+-[0-9a-f]+$/;
const WEIGHTS_RE = /^weights-[0-9a-f]{16}\.bin$/;

/**
 * Runs `f` with fs.promises.open wrapped so that the first temp file whose target name ends in
 * `suffix` gets half its bytes written, then `error` thrown from its writeFile (a disk failing, or
 * an interrupt, in the middle of the write). Returns the path of that temp file.
 */
async function failingWriteOf(suffix: string, error: Error, f: () => Promise<unknown>): Promise<string | undefined> {
  const promises = fs.promises as { open: typeof fs.promises.open };
  const realOpen = promises.open;
  let failed: string | undefined;
  promises.open = (async (...args: Parameters<typeof fs.promises.open>) => {
    const fh = await realOpen(...args);
    const file = String(args[0]);
    const target = TEMP_RE.exec(path.basename(file))?.[1];
    if (failed === undefined && target !== undefined && target.endsWith(suffix)) {
      failed = file;
      fh.writeFile = (async (data: Uint8Array | string) => {
        const buf = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
        await fh.write(buf, 0, Math.floor(buf.length / 2));
        expect(fs.statSync(file).size).toBe(Math.floor(buf.length / 2)); // part of it is on disk
        throw error;
      }) as typeof fh.writeFile;
    }
    return fh;
  }) as typeof fs.promises.open;
  try {
    await f();
  } finally {
    promises.open = realOpen;
  }
  return failed;
}

const everything = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).sort();
const temps = (dir: string) => everything(dir).filter((f) => TEMP_RE.test(path.basename(f)));

let root = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = tempDir("save-failure-");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("a save that throws midway", () => {
  const diskFull = () =>
    Object.assign(new Error("ENOSPC: no space left on device, write (injected)"), { code: "ENOSPC" });
  const cases: [string, string, () => Error][] = [
    ["a disk error while writing the weights", ".bin", diskFull],
    ["a disk error while writing model.json", "model.json", diskFull],
    ["an interrupt while writing the weights", ".bin", () => new InterruptedError("saveModel")],
  ];
  it.each(cases)("leaves no temp file and the previous model (%s)", async (_name, suffix, error) => {
    const dir = path.join(root, `${suffix}-${error().name}`);
    const first = dense(6, 3, 1);
    await saveModel("victim", first, { dir });
    const folder = modelPaths("victim", { dir }).folder;
    const before = everything(folder);

    const second = dense(64, 64, 2);
    const err = error();
    const tmp = await failingWriteOf(suffix, err, () => expect(saveModel("victim", second, { dir })).rejects.toBe(err));
    expect(tmp, "the injected failure did not trigger").toBeDefined();
    expect(fs.existsSync(tmp!)).toBe(false);
    expect(temps(dir)).toEqual([]);
    expect(everything(folder)).toEqual(before); // no orphan weights of the failed save either
    const back = await loadModel("victim", { dir });
    expect(predictions(back, 6)).toEqual(predictions(first, 6));
    [first, second, back].forEach((m) => m.dispose());
  });

  it("in cachedModel frees the model it built", async () => {
    const dir = path.join(root, "cached");
    const before = tf.memory().numTensors;
    const err = diskFull();
    await failingWriteOf(".bin", err, () =>
      expect(cachedModel("built", async () => dense(8, 4, 3), { dir, log: false })).rejects.toBe(err),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(temps(dir)).toEqual([]);
    expect(everything(modelPaths("built", { dir }).folder)).toEqual([]);
  });

  it("in saveJson and writeFileAtomic leaves no temp file", async () => {
    const dir = path.join(root, "json");
    await saveJson("victim", { v: 1 }, { dir });
    const err = diskFull();
    await failingWriteOf(".json", err, () => expect(saveJson("victim", { v: 2 }, { dir })).rejects.toBe(err));
    expect(everything(dir)).toEqual(["json", path.join("json", "victim.json")]);
    const file = path.join(dir, "plain.txt");
    await failingWriteOf("plain.txt", err, () => expect(writeFileAtomic(file, "x".repeat(1000))).rejects.toBe(err));
    expect(everything(dir)).toEqual(["json", path.join("json", "victim.json")]);
  });
});

/** Runs interrupt-writer `how` in `dir`; resolves with its exit once it ended, sending SIGINT on
 * its MIDWAY line when `how` is "signal". */
function interruptedSave(
  dir: string,
  how: "signal" | "exit",
): Promise<{ code: number | null; signal: string | null; tempFile: string; saved: number[] }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "..", "helpers", "interrupt-writer.ts"), dir, how],
    { cwd: projectRoot(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  let tempFile = "";
  let saved: number[] = [];
  child.stderr.on("data", (d) => (err += d));
  child.stdout.on("data", (d) => {
    out += d;
    for (const line of out.split("\n")) {
      if (line.startsWith("SAVED ")) saved = JSON.parse(line.slice(6));
      const m = /^MIDWAY (\S+) (\d+) (\d+)$/.exec(line);
      if (m && tempFile === "") {
        tempFile = m[1];
        expect(fs.statSync(tempFile).size).toBe(Number(m[2])); // mid-write right now
        if (how === "signal") child.kill("SIGINT");
      }
    }
  });
  return new Promise((resolve, reject) =>
    child.on("exit", (code, signal) => {
      if (tempFile !== "") resolve({ code, signal, tempFile, saved });
      else reject(new Error(`interrupt-writer ${how} ended before its stall\nstdout: ${out}\nstderr: ${err}`));
    }),
  );
}

describe("a process that ends during a save", () => {
  it("removes its temp file when stopped by Ctrl-C (SIGINT in plain Node), and still dies of SIGINT", async () => {
    const dir = path.join(root, "sigint");
    const r = await interruptedSave(dir, "signal");
    expect(r.signal).toBe("SIGINT");
    expect(fs.existsSync(r.tempFile)).toBe(false);
    expect(temps(dir)).toEqual([]);
    const back = await loadModel("victim", { dir });
    expect(predictions(back, 6)).toEqual(r.saved);
    back.dispose();
    const folder = modelPaths("victim", { dir }).folder;
    expect(fs.readdirSync(folder).sort()).toEqual(["model.json", expect.stringMatching(WEIGHTS_RE)]);
  });

  it("removes its temp file when it exits (process.exit, as a kernel shutting down)", async () => {
    const dir = path.join(root, "exit");
    const r = await interruptedSave(dir, "exit");
    expect([r.code, r.signal]).toEqual([130, null]);
    expect(fs.existsSync(r.tempFile)).toBe(false);
    expect(temps(dir)).toEqual([]);
    const back = await loadModel("victim", { dir });
    expect(predictions(back, 6)).toEqual(r.saved);
    back.dispose();
  });
});
