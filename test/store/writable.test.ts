// An unwritable cache fails at once, before any training, with a message that names the folder,
// where it came from (TRANSFER_LAB_CACHE, the default, or a dir argument), the cause and the remedy.
//
// Before: with a read-only, empty cache the source model was trained and then the save failed with
// "ENOENT: … mkdir '…/models'"; with models cached, the cells ran and then "EROFS … results.jsonl";
// with TRANSFER_LAB_CACHE pointing at a file, a raw ENOTDIR after training. None named
// TRANSFER_LAB_CACHE or the fix.
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedJson, cachedModel, saveJson, saveModel } from "../../src/store/cache";
import { recordResult, repairResults, type ResultRecord } from "../../src/store/results";
import {
  checkCacheWritable,
  describeWriteFailure,
  FolderNotWritableError,
  resolveCacheFolder,
} from "../../src/store/writable";
import { downloadIdxFiles } from "../../src/data/download";
import { projectRoot } from "../../src/core/paths";
import { tempDir } from "../data/idx-helpers";

const record: ResultRecord = {
  lesson: "02",
  method: "head-only",
  task: "mild",
  labelsPerClass: 5,
  accuracy: 0.5,
  backend: "cpu",
  scale: "smoke",
  seed: 0,
};

function tinyModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [2], units: 1 }));
  return m;
}

/** Runs `f` with TRANSFER_LAB_CACHE set to `value`, restoring it after. */
async function withCacheEnv<T>(value: string, f: () => Promise<T> | T): Promise<T> {
  const saved = process.env.TRANSFER_LAB_CACHE;
  process.env.TRANSFER_LAB_CACHE = value;
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.TRANSFER_LAB_CACHE;
    else process.env.TRANSFER_LAB_CACHE = saved;
  }
}

/** Every write entry of the store, each with a build/compute that must never run. */
function writers(dir: string | undefined, ran: string[]): [string, () => Promise<unknown>][] {
  const args = dir === undefined ? { log: false as const } : { dir, log: false as const };
  return [
    [
      "cachedModel",
      () =>
        cachedModel(
          "k",
          async () => {
            ran.push("build");
            return tinyModel();
          },
          args,
        ),
    ],
    ["cachedJson", () => cachedJson("k", () => (ran.push("compute"), 1), args)],
    ["recordResult", async () => recordResult(record, dir)],
    ["saveJson", () => saveJson("k", { a: 1 }, args)],
    ["repairResults", () => repairResults({ dir })],
  ];
}

let root = "";
let aFile = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = tempDir("writable-");
  aFile = path.join(root, "a-file");
  fs.writeFileSync(aFile, "not a folder");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("checkCacheWritable", () => {
  it("creates the folder, probes it, and leaves nothing behind", () => {
    const dir = path.join(root, "fresh", "cache");
    expect(checkCacheWritable(dir)).toBe(dir);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(checkCacheWritable(dir)).toBe(dir); // remembered: no second probe needed
  });

  it("says where the folder came from", async () => {
    expect(resolveCacheFolder(root)).toEqual({ folder: root, origin: "argument" });
    await withCacheEnv(root, () => expect(resolveCacheFolder()).toEqual({ folder: root, origin: "env" }));
    await withCacheEnv("", () =>
      expect(resolveCacheFolder()).toEqual({
        folder: path.join(projectRoot(), ".transfer-lab-cache"),
        origin: "default",
      }),
    );
  });

  it("rejects a dir that is a file, naming it, before build or compute runs", async () => {
    const ran: string[] = [];
    for (const [what, call] of writers(aFile, ran)) {
      const err = (await call().then(
        () => undefined,
        (e) => e,
      )) as FolderNotWritableError;
      expect(err, what).toBeInstanceOf(FolderNotWritableError);
      expect(err.message).toBe(
        `${what}: the cache folder ${aFile} (passed as dir) is not writable: ${aFile} is a file, not a folder; pass a writable cache folder as dir`,
      );
    }
    expect(ran).toEqual([]);
  });

  it("names TRANSFER_LAB_CACHE and the remedy when the variable points at a file", async () => {
    const ran: string[] = [];
    await withCacheEnv(aFile, async () => {
      for (const [what, call] of writers(undefined, ran)) {
        const err = (await call().then(
          () => undefined,
          (e) => e,
        )) as FolderNotWritableError;
        expect(err, what).toBeInstanceOf(FolderNotWritableError);
        expect(err.origin).toBe("env");
        expect(err.message).toMatch(
          new RegExp(
            `^${what}: the cache folder .*a-file \\(set by TRANSFER_LAB_CACHE\\) is not writable: .*a-file is a file, not a folder; point TRANSFER_LAB_CACHE at a writable folder \\(in a shell: export TRANSFER_LAB_CACHE=`,
          ),
        );
      }
    });
    expect(ran).toEqual([]);
  });

  it("rejects a folder under a regular file (what a read-only cache gives when chmod cannot stop root)", async () => {
    const under = path.join(aFile, "cache");
    const built: string[] = [];
    const err = await cachedModel("k", async () => (built.push("build"), tinyModel()), {
      dir: under,
      log: false,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FolderNotWritableError);
    expect(err.code).toBe("ENOTDIR");
    expect(err.message).toContain(`${aFile} is a file, not a folder, so nothing can be created under it`);
    expect(built).toEqual([]);
    const model = tinyModel();
    await expect(saveModel("k", model, { dir: under })).rejects.toThrow(
      /saveModel: the cache folder .* is not writable/,
    );
    model.dispose();
  });

  // chmod does not stop root (tests may run as root, e.g. in a container): there the read-only
  // folder is covered by the path under a regular file above and by the EROFS wording below.
  const chmodRoot = tempDir("writable-chmod-");
  const probeDir = path.join(chmodRoot, "ro");
  fs.mkdirSync(probeDir);
  fs.chmodSync(probeDir, 0o555);
  afterAll(() => {
    fs.chmodSync(probeDir, 0o755);
    fs.rmSync(chmodRoot, { recursive: true, force: true });
  });
  let chmodStopsWrites = true;
  try {
    fs.writeFileSync(path.join(probeDir, "x"), "");
    chmodStopsWrites = false;
  } catch {
    // as expected for a normal user
  }
  it.skipIf(!chmodStopsWrites)(
    "rejects a read-only folder (permission denied) before build runs [skipped as root: chmod does not stop root's writes]",
    async () => {
      const built: string[] = [];
      const err = await cachedModel("k", async () => (built.push("build"), tinyModel()), {
        dir: path.join(probeDir, "cache"),
        log: false,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(FolderNotWritableError);
      expect(err.message).toMatch(/permission denied \(EACCES\)/);
      expect(built).toEqual([]);
    },
  );

  it("words each cause: read-only file system, permission, full disk", () => {
    const err = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
    expect(describeWriteFailure(root, err("EROFS"))).toEqual({
      cause: "it is on a read-only file system (EROFS)",
      code: "EROFS",
    });
    expect(describeWriteFailure(path.join(root, "not-yet", "cache"), err("EROFS")).cause).toBe(
      `it is on a read-only file system (EROFS) (at ${root})`,
    );
    expect(describeWriteFailure(root, err("EACCES")).cause).toBe(
      "permission denied (EACCES): this user may not write there",
    );
    expect(describeWriteFailure(root, err("ENOSPC")).cause).toBe("the disk is full (ENOSPC)");
    expect(describeWriteFailure(aFile, err("EEXIST")).cause).toBe(`${aFile} is a file, not a folder`);
  });

  it("checks a download's destination before fetching anything", async () => {
    const err = await downloadIdxFiles({
      dir: path.join(aFile, "idx"),
      baseUrl: "http://127.0.0.1:9/never-fetched/",
      log: false,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FolderNotWritableError);
    expect(err.message).toMatch(/^downloadIdxFiles: the destination folder .* \(passed as dir\) is not writable/);
  });
});
