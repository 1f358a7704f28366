// IDX files that are not what they claim. An HTML page saved in place of the data (a failed
// download, often under a .gz name) used to give "not an unsigned-byte IDX file: magic number
// 0x3c21444f"; it is now named as an HTML page with the remedy, download the file again. A file
// whose header announces more data than can be loaded used to fail deep inside with "RangeError:
// Invalid typed array length"; it is now refused from its header, before the rest is read, naming
// the file, the header's dimensions and the bytes needed.
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIdxFitsInMemory, loadIdxDataset, looksLikeHtml, readIdxFile } from "../../src/data/idx";
import { fakeMnist, idxBytes, tempDir, writeIdx } from "./idx-helpers";

const PAGE = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n";

let dir = "";
beforeAll(() => {
  dir = tempDir("idx-robust-");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("an HTML page instead of IDX data", () => {
  it("is named as a failed download, with the remedy, also under a .gz name", () => {
    const gz = path.join(dir, "train-images-idx3-ubyte.gz");
    fs.writeFileSync(gz, PAGE);
    expect(() => readIdxFile(gz, "images")).toThrow(
      'train-images-idx3-ubyte.gz: looks like an HTML page, not IDX data (it starts with "<!DOCTYPE html> <html><head><title>404 N…"; read as IDX: magic number 0x3c21444f, expected 0x00000803 or 0x00000801): probably a download that failed and saved an error page instead (despite its .gz name it is not gzip data); download the file again (downloadIdxFiles checks each file\'s sha256)',
    );
  });

  it("is named when a folder's file is one, and when only the bytes are given", () => {
    const folder = path.join(dir, "folder");
    fs.mkdirSync(folder);
    const { labels } = fakeMnist(3);
    fs.writeFileSync(path.join(folder, "t10k-images-idx3-ubyte"), "\n  " + PAGE.toUpperCase());
    writeIdx(folder, "t10k-labels-idx1-ubyte", labels);
    expect(() => loadIdxDataset(folder, { split: "test" })).toThrow(
      /^t10k-images-idx3-ubyte: looks like an HTML page, not IDX data .*download the file again/,
    );
    expect(looksLikeHtml(new TextEncoder().encode("\uFEFF<html lang=en>"))).toBe(true);
    expect(looksLikeHtml(new TextEncoder().encode("<notes>"))).toBe(false);
    expect(looksLikeHtml(fakeMnist(1).images)).toBe(false);
  });
});

describe("a file too large for memory", () => {
  const tooLarge = (file: string, dims: string) =>
    new RegExp(
      `^${file}: too large for memory: its header says ${dims} = \\d+ values, which need [\\d.]+ [KMGT]B to load \\([\\d.]+ [KMGT]B of file data \\+ [\\d.]+ [KMGT]B as 32-bit numbers\\), more than .*; use a smaller file \\(fewer images\\)$`,
    );

  it("is refused from a gzipped file's header, without inflating the rest", () => {
    // 10^12 pixels announced; the file holds the header and a few of them.
    const file = path.join(dir, "huge-images-idx3-ubyte.gz");
    fs.writeFileSync(file, zlib.gzipSync(idxBytes([1_000_000, 1000, 1000], new Uint8Array(100))));
    expect(() => readIdxFile(file, "images")).toThrow(tooLarge("huge-images-idx3-ubyte.gz", "1000000×1000×1000"));
    expect(() => readIdxFile(file, "images")).toThrow(/which need 5\.0 TB to load/);
  });

  it("is refused from a raw file's header before the file is read", () => {
    // A sparse file as long as its header says (160 GB of zeros that take no disk space): reading
    // it would take minutes, refusing it takes a header read.
    const file = path.join(dir, "big-images-idx3-ubyte");
    const head = idxBytes([100, 40000, 40000], new Uint8Array(0));
    fs.writeFileSync(file, head);
    fs.truncateSync(file, head.length + 100 * 40000 * 40000);
    const t0 = performance.now();
    expect(() => readIdxFile(file, "images")).toThrow(tooLarge("big-images-idx3-ubyte", "100×40000×40000"));
    expect(performance.now() - t0).toBeLessThan(1000);
    fs.rmSync(file);
  });

  it("a raw file shorter than its header says is still called truncated", () => {
    const file = path.join(dir, "short-images-idx3-ubyte");
    fs.writeFileSync(file, idxBytes([100, 40000, 40000], new Uint8Array(10)));
    expect(() => readIdxFile(file, "images")).toThrow(
      "short-images-idx3-ubyte: truncated: header says 100×40000×40000 = 160000000000 bytes of pixels, file has 10",
    );
  });

  it("the check passes data that fits", () => {
    expect(() => checkIdxFitsInMemory("f", [60000, 28, 28], 60000 * 28 * 28)).not.toThrow();
    expect(() => checkIdxFitsInMemory("f", [2 ** 33], 2 ** 33 * 1e4)).toThrow(/^f: too large for memory/);
  });
});
