// Image grids: PNG bytes decode back (pngjs) to the expected size and pixel values; tensors are
// read without leaking; labelled grids become an HTML figure with data: URIs.
import { describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import * as tf from "@tensorflow/tfjs";
import { takeRecorded } from "../../src/show/display";
import { imageGrid, imageGridHtml, showImageGrid, showImageRows } from "../../src/show/images";

function decode(png: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(png));
}

/** Grey level at (x, y) of a decoded PNG (pngjs decodes to RGBA). */
function at(p: PNG, x: number, y: number): number {
  return p.data[(y * p.width + x) * 4];
}

/** n images of w*h where image i has value (i+1)/n at pixel 0 and 0 elsewhere, except pixel 1 = 1. */
function images(n: number, w: number, h: number): Float32Array {
  const a = new Float32Array(n * w * h);
  for (let i = 0; i < n; i++) {
    a[i * w * h] = (i + 1) / n;
    a[i * w * h + 1] = 1;
  }
  return a;
}

describe("imageGrid", () => {
  it("decodes to rows×cols cells of width·scale plus padding, with the right pixels", () => {
    const png = imageGrid(images(6, 4, 3), { rows: 2, cols: 3, width: 4, height: 3, scale: 2, padding: 1 });
    const p = decode(png);
    expect(p.width).toBe(3 * 4 * 2 + 2);
    expect(p.height).toBe(2 * 3 * 2 + 1);
    // image 4 (row 1, col 1): origin at (1*(8+1), 1*(6+1)) = (9, 7); pixel 0 = 5/6, scaled 2x2.
    const v = Math.round(Math.fround(5 / 6) * 255); // stored as float32
    expect([at(p, 9, 7), at(p, 10, 8)]).toEqual([v, v]);
    expect(at(p, 11, 7)).toBe(255); // pixel 1 = 1
    expect(at(p, 13, 9)).toBe(0);
    expect(at(p, 8, 0)).toBe(128); // padding column
  });

  it("default 28×28 at scale 2, at most 10 columns; minmax stretches each image", () => {
    const a = new Float32Array(12 * 784).fill(0.2);
    for (let i = 0; i < 12; i++) a[i * 784] = 0.4;
    const p = decode(imageGrid(a, { normalize: "minmax" }));
    expect(p.width).toBe(10 * 56 + 9 * 2);
    expect(p.height).toBe(2 * 56 + 2);
    expect(at(p, 0, 0)).toBe(255);
    expect(at(p, 5, 5)).toBe(0);
    const none = decode(imageGrid(a, { cols: 1, rows: 1 }));
    expect(at(none, 0, 0)).toBe(Math.round(Math.fround(0.4) * 255));
    expect(at(none, 5, 5)).toBe(Math.round(Math.fround(0.2) * 255));
  });

  it("accepts number[][] and a tensor [n, 784] without leaking or disposing it", () => {
    const rows = [Array(784).fill(1), Array(784).fill(0)];
    expect(decode(imageGrid(rows, { scale: 1, padding: 0 })).width).toBe(56);
    const t = tf.tensor2d(images(3, 28, 28), [3, 784]);
    const before = tf.memory().numTensors;
    const p = decode(imageGrid(t, { scale: 1, padding: 0 }));
    expect(tf.memory().numTensors).toBe(before);
    expect(t.isDisposed).toBe(false);
    expect(p.width).toBe(84);
    expect(at(p, 28, 0)).toBe(Math.round(Math.fround(2 / 3) * 255));
    t.dispose();
  });

  it("names the mismatch when sizes do not fit", () => {
    expect(() => imageGrid(new Float32Array(100))).toThrow(/100 values is not a multiple of width×height = 784/);
    expect(() => imageGrid([[1, 2, 3]])).toThrow(/image 0 has 3 pixels, expected 28×28 = 784/);
    expect(() => imageGrid(new Float32Array(784), { scale: 0 })).toThrow(/scale must be an integer >= 1, got 0/);
    const t = tf.zeros([2, 10]);
    expect(() => imageGrid(t as tf.Tensor)).toThrow(/shape \[2, 10\] does not hold 28×28 images/);
    t.dispose();
  });
});

describe("shown grids", () => {
  it("showImageGrid without labels displays one PNG", () => {
    takeRecorded();
    showImageGrid(images(4, 28, 28));
    const [out] = takeRecorded();
    expect(out.mime).toBe("image/png");
    expect(decode(out.data as Uint8Array).width).toBe(4 * 56 + 3 * 2);
  });

  it("labelled grids are an HTML figure of data: URI images with captions", () => {
    const html = imageGridHtml(images(4, 28, 28), {
      cols: 2,
      labels: ["7", "2", "<1>", "0"],
      caption: "digits & labels",
    });
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(4);
    expect(html).toContain("&lt;1&gt;");
    expect(html).toContain("<figcaption");
    expect(html).toContain("digits &amp; labels");
    const first = /base64,([A-Za-z0-9+/=]+)"/.exec(html)![1];
    const p = decode(Buffer.from(first, "base64"));
    expect([p.width, p.height]).toEqual([56, 56]);
    expect(at(p, 0, 0)).toBe(Math.round(0.25 * 255));
  });

  it("showImageRows puts labelled rows (original vs reconstruction) in one figure", () => {
    takeRecorded();
    showImageRows(
      [
        { label: "original", images: images(12, 28, 28) },
        { label: "reconstruction", images: [Array(784).fill(0.5)] },
      ],
      { cols: 3 },
    );
    const [out] = takeRecorded();
    expect(out.mime).toBe("text/html");
    const html = out.data as string;
    expect(html).toContain(">original<");
    expect(html).toContain(">reconstruction<");
    expect(html.match(/<img /g)).toHaveLength(6);
  });
});
