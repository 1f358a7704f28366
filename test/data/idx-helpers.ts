// Builds small IDX files in a temp folder for the IDX reader and download tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";

/** IDX bytes: magic (type 0x08, ndims), big-endian dims, payload. */
export function idxBytes(dims: number[], payload: Uint8Array, magic = 0x0800 | dims.length): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(payload)]));
}

/** n images of side×side whose pixel p of image i is (i * 7 + p) % 256, and labels i % 10. */
export function fakeMnist(n: number, side = 28): { images: Uint8Array; labels: Uint8Array } {
  const px = new Uint8Array(n * side * side);
  for (let i = 0; i < px.length; i++) px[i] = (Math.floor(i / (side * side)) * 7 + (i % (side * side))) % 256;
  const lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) lab[i] = i % 10;
  return { images: idxBytes([n, side, side], px), labels: idxBytes([n], lab) };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeIdx(dir: string, name: string, bytes: Uint8Array, gzip = false): string {
  const file = path.join(dir, gzip ? name + ".gz" : name);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(bytes) : bytes);
  return file;
}
