import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { describe, expect, it } from "vitest";
import { findIdxFiles, loadIdxDataset, parseIdx, readIdxFile } from "../../src/data/idx";
import { fakeMnist, idxBytes, tempDir, writeIdx } from "./idx-helpers";

describe("parseIdx", () => {
  it("decodes images and labels with their dims", () => {
    const { images, labels } = fakeMnist(3);
    const img = parseIdx(images, "a", "images");
    expect(img.dims).toEqual([3, 28, 28]);
    expect(img.data.length).toBe(3 * 784);
    expect(img.data[784 + 5]).toBe((7 + 5) % 256);
    expect(parseIdx(labels, "b", "labels").dims).toEqual([3]);
  });

  it("reads gzipped bytes whatever the name", () => {
    const { labels } = fakeMnist(12);
    const lab = parseIdx(new Uint8Array(zlib.gzipSync(labels)), "x", "labels");
    expect(Array.from(lab.data)).toEqual(Array.from({ length: 12 }, (_, i) => i % 10));
  });

  it("names the file and the byte counts when truncated", () => {
    const { images } = fakeMnist(2);
    const cut = images.subarray(0, 16 + 1000);
    expect(() => parseIdx(new Uint8Array(zlib.gzipSync(cut)), "train-images-idx3-ubyte.gz", "images")).toThrow(
      "train-images-idx3-ubyte.gz: truncated: header says 2×28×28 = 1568 bytes of pixels, file has 1000",
    );
    expect(() => parseIdx(images.subarray(0, 10), "f", "images")).toThrow(/f: truncated: header needs 16 bytes/);
    expect(() => parseIdx(images.subarray(0, 2), "f")).toThrow(/f: truncated: 2 bytes/);
  });

  it("rejects extra bytes, wrong magic, non-IDX data and corrupt gzip", () => {
    const { images, labels } = fakeMnist(2);
    const longer = new Uint8Array(images.length + 5);
    longer.set(images);
    expect(() => parseIdx(longer, "f", "images")).toThrow(/f: 5 unexpected bytes after the 2×28×28 = 1568 bytes/);
    expect(() => parseIdx(labels, "t10k-labels", "images")).toThrow(
      "t10k-labels: wrong magic number 0x00000801 (a labels file?), expected 0x00000803 for images",
    );
    expect(() => parseIdx(images, "img", "labels")).toThrow(
      /img: wrong magic number 0x00000803 \(an images file\?\), expected 0x00000801/,
    );
    expect(() => parseIdx(new TextEncoder().encode("<html>not found</html>"), "page", "images")).toThrow(
      /^page: looks like an HTML page, not IDX data .*download the file again/,
    );
    expect(() => parseIdx(new TextEncoder().encode("hello, not a page"), "text")).toThrow(
      /text: not an unsigned-byte IDX file: magic number 0x68656c6c/,
    );
    expect(() => parseIdx(idxBytes([2], new Uint8Array(8), 0x00000d01), "floats")).toThrow(
      /not an unsigned-byte IDX file: magic number 0x00000d01/,
    );
    const gz = new Uint8Array(zlib.gzipSync(images));
    expect(() => parseIdx(gz.subarray(0, gz.length - 20), "g.gz")).toThrow(/g.gz: gzip data is corrupt or truncated/);
  });
});

describe("loadIdxDataset", () => {
  it("loads a folder of raw and .gz files, train then test", () => {
    const dir = tempDir("idx-");
    const tr = fakeMnist(30);
    const te = fakeMnist(10);
    writeIdx(dir, "train-images-idx3-ubyte", tr.images, true);
    writeIdx(dir, "train-labels-idx1-ubyte", tr.labels);
    writeIdx(dir, "t10k-images-idx3-ubyte", te.images);
    writeIdx(dir, "t10k-labels-idx1-ubyte", te.labels, true);
    const all = loadIdxDataset(dir);
    expect(all.n).toBe(40);
    expect(all.dim).toBe(784);
    expect(all.numClasses).toBe(10);
    expect(all.y[30]).toBe(0);
    expect(all.x[784 + 5]).toBeCloseTo(12 / 255, 6);
    expect(Math.max(...all.x)).toBeLessThanOrEqual(1);
    expect(loadIdxDataset(dir, { split: "test" }).n).toBe(10);
    expect(loadIdxDataset(dir, { split: "train" }).name).toMatch(/^idx:idx-.*\/train$/);
    expect(findIdxFiles(dir, "train").images).toBe(path.join(dir, "train-images-idx3-ubyte.gz"));
  });

  it("loads an explicit {images, labels} pair", () => {
    const dir = tempDir("idx-");
    const { images, labels } = fakeMnist(5);
    const ds = loadIdxDataset({ images: writeIdx(dir, "a-idx3", images), labels: writeIdx(dir, "b-idx1", labels) });
    expect(ds.n).toBe(5);
    expect(Array.from(ds.y)).toEqual([0, 1, 2, 3, 4]);
  });

  it("names both files when the counts differ, and out-of-range labels", () => {
    const dir = tempDir("idx-");
    const images = writeIdx(dir, "train-images-idx3-ubyte", fakeMnist(5).images);
    const labels = writeIdx(dir, "train-labels-idx1-ubyte", fakeMnist(4).labels);
    expect(() => loadIdxDataset({ images, labels })).toThrow(
      "loadIdxDataset: train-images-idx3-ubyte holds 5 images but train-labels-idx1-ubyte holds 4 labels (use the matching labels file)",
    );
    const bad = writeIdx(dir, "bad-labels", idxBytes([5], new Uint8Array([0, 1, 12, 3, 4])));
    expect(() => loadIdxDataset({ images, labels: bad })).toThrow(/bad-labels: label 12 at index 2 is outside 0..9/);
    expect(loadIdxDataset({ images, labels: bad }, { numClasses: 13 }).numClasses).toBe(13);
  });

  it("says which files it looked for, and rejects a missing folder", () => {
    const dir = tempDir("idx-");
    expect(() => loadIdxDataset(dir, { split: "train" })).toThrow(
      /no train images file in .* \(tried train-images-idx3-ubyte, train-images-idx3-ubyte.gz/,
    );
    expect(() => loadIdxDataset(path.join(dir, "nope"))).toThrow(/is not a folder/);
    expect(() => readIdxFile(path.join(dir, "nope"))).toThrow(/nope: cannot read/);
    fs.rmSync(dir, { recursive: true });
  });
});
