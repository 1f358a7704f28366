// Reader for the standard IDX files of MNIST / Fashion-MNIST (`*-idx3-ubyte` images,
// `*-idx1-ubyte` labels), raw or gzipped. Every check names the file and what is wrong.
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import type { Dataset } from "./types";

/** Magic number of an unsigned-byte IDX file with 3 dimensions: [count, rows, cols]. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an unsigned-byte IDX file with 1 dimension: [count]. */
export const IDX_LABELS_MAGIC = 0x00000801;
export const DEFAULT_IDX_NUM_CLASSES = 10;

/** One decoded IDX file. */
export interface IdxArray {
  /** File name used in messages. */
  file: string;
  magic: number;
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The unsigned-byte payload, product(dims) bytes, row-major. */
  data: Uint8Array;
}

export type IdxKind = "images" | "labels";

const hex = (m: number) => "0x" + m.toString(16).padStart(8, "0");

/** Gunzips when the bytes start with the gzip signature (whatever the file is called). */
function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return new Uint8Array(zlib.gunzipSync(bytes));
  } catch (e) {
    throw new Error(`${file}: gzip data is corrupt or truncated (${(e as Error).message}); download the file again`);
  }
}

/**
 * Decodes IDX bytes (raw or gzipped). `expect` checks the magic number: `images` needs
 * 0x00000803 ([n, rows, cols]), `labels` 0x00000801 ([n]); the payload must be exactly the
 * size the header announces.
 */
export function parseIdx(bytes: Uint8Array, file: string, expect?: IdxKind): IdxArray {
  const buf = maybeGunzip(bytes, file);
  if (buf.length < 4) throw new Error(`${file}: truncated: ${buf.length} bytes, too short for an IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const typeCode = (magic >>> 8) & 0xff;
  const ndims = magic & 0xff;
  if (magic >>> 16 !== 0 || typeCode !== 0x08 || ndims < 1) {
    throw new Error(
      `${file}: not an unsigned-byte IDX file: magic number ${hex(magic)} (expected ${hex(IDX_IMAGES_MAGIC)} or ${hex(IDX_LABELS_MAGIC)})`,
    );
  }
  if (expect !== undefined) {
    const want = expect === "images" ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
    if (magic !== want) {
      const other =
        magic === IDX_LABELS_MAGIC ? " (a labels file?)" : magic === IDX_IMAGES_MAGIC ? " (an images file?)" : "";
      throw new Error(`${file}: wrong magic number ${hex(magic)}${other}, expected ${hex(want)} for ${expect}`);
    }
  }
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) {
    throw new Error(
      `${file}: truncated: header needs ${headerBytes} bytes for ${ndims} dimensions, file has ${buf.length}`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const have = buf.length - headerBytes;
  const what = expect === "labels" ? "labels" : expect === "images" ? "pixels" : "data";
  if (have < expected) {
    throw new Error(
      `${file}: truncated: header says ${dims.join("×")} = ${expected} bytes of ${what}, file has ${have}`,
    );
  }
  if (have > expected) {
    throw new Error(
      `${file}: ${have - expected} unexpected bytes after the ${dims.join("×")} = ${expected} bytes of ${what} the header announces`,
    );
  }
  return { file, magic, dims, data: buf.subarray(headerBytes) };
}

/** Reads and decodes one IDX file from disk (raw or `.gz`). */
export function readIdxFile(file: string, expect?: IdxKind): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(
      `${file}: cannot read: ${(e as Error).message} (file must be an existing, readable IDX file, raw or .gz; fetch MNIST with downloadIdxFiles)`,
    );
  }
  return parseIdx(bytes, path.basename(file), expect);
}

/** Paths of one images file and its labels file. */
export interface IdxFiles {
  images: string;
  labels: string;
}

/** Options of `loadIdxDataset`. */
export interface LoadIdxArgs {
  /** With a folder: `train` (train-*), `test` (t10k-*), or `all` = train then test rows. */
  split?: "train" | "test" | "all";
  /** Label range 0..numClasses-1 checked on load. */
  numClasses?: number;
  /** Dataset name; defaults to `idx:<folder or images file>/<split>`. */
  name?: string;
}
export const DEFAULT_IDX_SPLIT = "all";

const PREFIX = { train: "train", test: "t10k" } as const;

/** Finds `<prefix>-<kind>-idxN-ubyte[.gz]` (or the `<prefix>-<kind>.idxN-ubyte` spelling). */
export function findIdxFiles(dir: string, split: "train" | "test"): IdxFiles {
  const find = (kind: "images" | "labels", n: number) => {
    const stems = [`${PREFIX[split]}-${kind}-idx${n}-ubyte`, `${PREFIX[split]}-${kind}.idx${n}-ubyte`];
    const tried = stems.flatMap((s) => [s, s + ".gz"]);
    for (const t of tried) {
      const p = path.join(dir, t);
      if (fs.existsSync(p)) return p;
    }
    throw new Error(`loadIdxDataset: no ${split} ${kind} file in ${dir} (tried ${tried.join(", ")})`);
  };
  return { images: find("images", 3), labels: find("labels", 1) };
}

/** Decodes one images/labels pair into a Dataset with pixels scaled to [0, 1]. */
function loadPair(files: IdxFiles, numClasses: number, name: string): Dataset {
  const img = readIdxFile(files.images, "images");
  const lab = readIdxFile(files.labels, "labels");
  const [n, rows, cols] = img.dims;
  if (rows === 0 || cols === 0)
    throw new Error(`${img.file}: image size must be positive, header says ${rows}×${cols}`);
  if (lab.dims[0] !== n) {
    throw new Error(
      `loadIdxDataset: ${img.file} holds ${n} images but ${lab.file} holds ${lab.dims[0]} labels (use the matching labels file)`,
    );
  }
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = lab.data[i];
    if (c >= numClasses) {
      throw new Error(
        `${lab.file}: label ${c} at index ${i} is outside 0..${numClasses - 1} (pass numClasses to loadIdxDataset)`,
      );
    }
    y[i] = c;
  }
  const x = new Float32Array(img.data.length);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  return { x, y, n, dim: rows * cols, numClasses, name };
}

/** Stacks datasets of the same dim and class count, rows in argument order. */
function concatDatasets(parts: Dataset[], name: string): Dataset {
  const n = parts.reduce((a, d) => a + d.n, 0);
  const { dim, numClasses } = parts[0];
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  let row = 0;
  for (const d of parts) {
    if (d.dim !== dim)
      throw new Error(`loadIdxDataset: ${d.name} has ${d.dim} pixels per image, ${parts[0].name} has ${dim}`);
    x.set(d.x, row * dim);
    y.set(d.y, row);
    row += d.n;
  }
  return { x, y, n, dim, numClasses, name };
}

/**
 * Full MNIST or Fashion-MNIST from IDX files: a folder holding the standard names
 * (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…), or an explicit
 * `{images, labels}` pair. With a folder the default split `all` gives the 60k train rows
 * followed by the 10k test rows; the lessons draw their own seeded held-out split from it.
 */
export function loadIdxDataset(source: string | IdxFiles, args: LoadIdxArgs = {}): Dataset {
  const numClasses = args.numClasses ?? DEFAULT_IDX_NUM_CLASSES;
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new Error(`loadIdxDataset: numClasses must be an integer in 1..256, got ${numClasses}`);
  }
  if (typeof source !== "string") {
    if (
      source === null ||
      typeof source !== "object" ||
      typeof source.images !== "string" ||
      typeof source.labels !== "string"
    ) {
      throw new Error(
        `loadIdxDataset: source must be a folder path or {images, labels} file paths, got ${JSON.stringify(source)}`,
      );
    }
    return loadPair(source, numClasses, args.name ?? `idx:${path.basename(source.images)}`);
  }
  if (!fs.existsSync(source) || !fs.statSync(source).isDirectory()) {
    throw new Error(`loadIdxDataset: ${source} is not a folder (pass a folder of IDX files or {images, labels})`);
  }
  const split = args.split ?? DEFAULT_IDX_SPLIT;
  if (split !== "train" && split !== "test" && split !== "all") {
    throw new Error(`loadIdxDataset: split must be train, test or all, got ${JSON.stringify(split)}`);
  }
  const name = args.name ?? `idx:${path.basename(path.resolve(source))}/${split}`;
  if (split !== "all") return loadPair(findIdxFiles(source, split), numClasses, name);
  const train = loadPair(findIdxFiles(source, "train"), numClasses, name);
  const test = loadPair(findIdxFiles(source, "test"), numClasses, name);
  return concatDatasets([train, test], name);
}
