// Reader for the standard IDX files of MNIST / Fashion-MNIST (`*-idx3-ubyte` images,
// `*-idx1-ubyte` labels), raw or gzipped. Every check names the file and what is wrong: an HTML
// page saved in place of the data (a failed download) is named as such, and a file whose header
// announces more data than this process can hold is refused from its header, before any of it is
// read or allocated.
import { constants as bufferConstants } from "buffer";
import * as fs from "fs";
import * as os from "os";
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

/** Whether bytes look like an HTML (or XML) page: what a failed download (an error or login page)
 * saves in place of the data. */
export function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024))
    .toString("latin1")
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, "")
    .trimStart()
    .toLowerCase();
  return head.startsWith("<") && /<!doctype html|<html|<head|<body|<\?xml|<title/.test(head);
}

/** The error for an HTML page read as IDX: keeps the magic number it was read as. */
function htmlPageError(file: string, bytes: Uint8Array, magic: number | null): Error {
  const start = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 40))
    .toString("latin1")
    .replace(/\s+/g, " ")
    .trim();
  const gz = file.endsWith(".gz") ? " (despite its .gz name it is not gzip data)" : "";
  const read =
    magic === null
      ? ""
      : `; read as IDX: magic number ${hex(magic)}, expected ${hex(IDX_IMAGES_MAGIC)} or ${hex(IDX_LABELS_MAGIC)}`;
  return new Error(
    `${file}: looks like an HTML page, not IDX data (it starts with ${JSON.stringify(start + "…")}${read}): probably a download that failed and saved an error page instead${gz}; download the file again (downloadIdxFiles checks each file's sha256)`,
  );
}

/** Bytes per value once loaded: pixels become float32, labels int32. */
const LOADED_BYTES_PER_VALUE = 4;

function formatBytes(n: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Throws when `values` one-byte values (the payload an IDX header announces) cannot be loaded: more
 * than one buffer or typed array can hold, or, with the bytes of the file and the float32 copy,
 * more than the machine's memory. Without this check such a file fails deep inside with
 * "RangeError: Invalid typed array length" or an allocation failure.
 */
export function checkIdxFitsInMemory(file: string, dims: number[], values: number): void {
  const need = values * (1 + LOADED_BYTES_PER_VALUE);
  const maxValues = bufferConstants.MAX_LENGTH;
  const total = os.totalmem();
  let limit: string | null = null;
  if (values > maxValues) limit = `the ${maxValues} values one buffer or typed array can hold in this Node.js`;
  else if (need > total) limit = `this machine's ${formatBytes(total)} of memory`;
  if (limit === null) return;
  throw new Error(
    `${file}: too large for memory: its header says ${dims.join("×")} = ${values} values, which need ${formatBytes(need)} to load (${formatBytes(values)} of file data + ${formatBytes(values * LOADED_BYTES_PER_VALUE)} as 32-bit numbers), more than ${limit}; use a smaller file (fewer images)`,
  );
}

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
    if (looksLikeHtml(buf)) throw htmlPageError(file, buf, magic);
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

/** Bytes read from the start of a file to find its header (a gzip stream is inflated that far). */
const PEEK_BYTES = 64 * 1024;

/** The dims an IDX header announces, from the first bytes of a file (raw or gzipped), or null when
 * they do not start a valid unsigned-byte IDX header (the full parse then names the problem). */
function peekIdxHeader(head: Uint8Array): { dims: number[]; gz: boolean } | null {
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  let buf = head;
  if (gz) {
    try {
      buf = new Uint8Array(zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    } catch {
      return null;
    }
  }
  if (buf.length < 4) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const ndims = magic & 0xff;
  if (magic >>> 16 !== 0 || ((magic >>> 8) & 0xff) !== 0x08 || ndims < 1 || buf.length < 4 + 4 * ndims) return null;
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { dims, gz };
}

/** Reads a whole file into one buffer, in chunks (fs.readFileSync stops at 2 GiB). */
function readWhole(fd: number, size: number): Uint8Array {
  const out = Buffer.allocUnsafe(size);
  const CHUNK = 1 << 30;
  let at = 0;
  while (at < size) {
    const n = fs.readSync(fd, out, at, Math.min(CHUNK, size - at), at);
    if (n === 0) break;
    at += n;
  }
  return at === size ? out : out.subarray(0, at);
}

/** Reads and decodes one IDX file from disk (raw or `.gz`). */
export function readIdxFile(file: string, expect?: IdxKind): IdxArray {
  const name = path.basename(file);
  const io = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new Error(
        `${file}: cannot read: ${(e as Error).message} (file must be an existing, readable IDX file, raw or .gz; fetch MNIST with downloadIdxFiles)`,
      );
    }
  };
  const fd = io(() => fs.openSync(file, "r"));
  try {
    const size = io(() => fs.fstatSync(fd).size);
    const head = Buffer.alloc(Math.min(size, PEEK_BYTES));
    io(() => fs.readSync(fd, head, 0, head.length, 0));
    checkIdxHead(name, head, size);
    if (size > bufferConstants.MAX_LENGTH) {
      throw new Error(
        `${name}: too large for memory: the file holds ${formatBytes(size)}, more than one buffer can hold in this Node.js (${formatBytes(bufferConstants.MAX_LENGTH)}); use a smaller file`,
      );
    }
    return parseIdx(
      io(() => readWhole(fd, size)),
      name,
      expect,
    );
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks the first bytes of a file of `size` bytes: an HTML page, or a header announcing more data
 * than can be loaded, is refused before the rest is read. Returns the header's dims when valid. A raw
 * file shorter than its header announces is left to parseIdx, which says it is truncated. */
function checkIdxHead(name: string, head: Uint8Array, size: number): number[] | null {
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (!gz && looksLikeHtml(head))
    throw htmlPageError(name, head, head.length >= 4 ? Buffer.from(head).readUInt32BE(0) : null);
  const header = peekIdxHeader(head);
  if (header === null) return null;
  const values = header.dims.reduce((a, b) => a * b, 1);
  if (header.gz || size >= 4 + 4 * header.dims.length + values) checkIdxFitsInMemory(name, header.dims, values);
  return header.dims;
}

/** The dims in the header of an IDX file (raw or .gz), read from its first bytes; null when it has
 * no valid header (reading it names the problem). */
export function readIdxDims(file: string): number[] | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(PEEK_BYTES);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return peekIdxHeader(head.subarray(0, n))?.dims ?? null;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
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
  checkIdxFitsInMemory(img.file, img.dims, img.data.length);
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
  const trainFiles = findIdxFiles(source, "train");
  const testFiles = findIdxFiles(source, "test");
  // Train and test rows end up in one array: the two files together must fit too (checked from
  // their headers, before either is read).
  const trainDims = readIdxDims(trainFiles.images);
  const testDims = readIdxDims(testFiles.images);
  if (trainDims !== null && testDims !== null && trainDims.length === 3 && testDims.length === 3) {
    const values = (trainDims[0] + testDims[0]) * trainDims[1] * trainDims[2];
    checkIdxFitsInMemory(
      `${path.basename(trainFiles.images)} + ${path.basename(testFiles.images)}`,
      [trainDims[0] + testDims[0], trainDims[1], trainDims[2]],
      values,
    );
  }
  const train = loadPair(trainFiles, numClasses, name);
  const test = loadPair(testFiles, numClasses, name);
  return concatDatasets([train, test], name);
}
