// The lessons' images: the embedded digits by default, the IDX files TRANSFER_LAB_DATA names when
// set (read once), and a clear error for a path that is not a folder.
import * as fs from "fs";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import { DATA_ENV, lessonData, lessonDataSource } from "../../src/data/lesson-data";
import { makeTransferTasks } from "../../src/data/tasks";
import { fakeMnist, tempDir, writeIdx } from "./idx-helpers";

afterEach(() => {
  delete process.env[DATA_ENV];
});

function idxFolder(nTrain: number, nTest: number): string {
  const dir = tempDir("lesson-data-");
  for (const [prefix, n] of [
    ["train", nTrain],
    ["t10k", nTest],
  ] as const) {
    const { images, labels } = fakeMnist(n);
    writeIdx(dir, `${prefix}-images-idx3-ubyte`, images, true);
    writeIdx(dir, `${prefix}-labels-idx1-ubyte`, labels, true);
  }
  return dir;
}

describe("lessonData", () => {
  it("is the embedded 10,000 digits when TRANSFER_LAB_DATA is unset", () => {
    expect(lessonDataSource()).toBe("embedded");
    const d = lessonData();
    expect(d.n).toBe(10000);
    expect(lessonData()).toBe(d);
  });

  it("reads the IDX folder TRANSFER_LAB_DATA names (train then test rows), and the tasks use it", () => {
    const dir = idxFolder(300, 100);
    process.env[DATA_ENV] = dir;
    expect(lessonDataSource()).toBe(path.resolve(dir));
    const d = lessonData();
    expect([d.n, d.dim, d.numClasses]).toEqual([400, 784, 10]);
    // 400 images leave no room for the default 50 validation images per class: ask for 2.
    const tasks = makeTransferTasks({ testSize: 50, targetPoolSize: 100, sourceValPerClass: 2, targetValPerClass: 2 });
    expect(tasks.data).toBe(d);
    expect([tasks.source.train.n, tasks.source.val.n]).toEqual([400 - 50 - 50 - 100 - 20, 20]);
    expect([tasks.target.pool.n, tasks.target.val.n]).toEqual([100 - 20, 20]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("names the variable and the remedy for a path that is missing or not a folder", () => {
    process.env[DATA_ENV] = "/no/such/folder";
    expect(() => lessonData()).toThrow(
      /TRANSFER_LAB_DATA must be a folder holding IDX files .*got "\/no\/such\/folder" \(no such folder\) \(unset it to use the embedded 10,000 digits\)/,
    );
  });
});
