// Grayscale image grids (digits, reconstructions, first-layer filters) as PNG bytes via pngjs,
// shown through display(): a plain PNG, or an HTML <figure> with per-image labels, row labels
// and a caption. Images come as a flat Float32Array/number[] [n, h*w], rows number[][], or a tensor.
import { PNG } from "pngjs";
import type { Tensor } from "@tensorflow/tfjs";
import { display, escapeHtml } from "./display";

/** n images of height*width pixels: flat row-major [n, h*w], one array per image, or a tensor
 * [n, h*w] / [n, h, w] / [n, h, w, 1] (read with dataSync; not disposed). Values are intensities,
 * 0 = black, 1 = white (MNIST ink is 1). */
export type ImageBatch = Float32Array | number[] | ArrayLike<number>[] | Tensor;

export type Normalize = "none" | "minmax" | "global";

export interface ImageGridArgs {
  /** Grid rows (default: enough for the images at `cols` per row). */
  rows?: number;
  /** Grid columns (default: min(n, 10)). Only the first rows*cols images are drawn. */
  cols?: number;
  /** Image width in pixels (default 28). */
  width?: number;
  /** Image height in pixels (default 28). */
  height?: number;
  /** Each pixel drawn as scale×scale (default 2). */
  scale?: number;
  /** 'none' clamps to [0, 1] (default); 'minmax' stretches each image to its own min..max
   * (first-layer filters, normalised per filter); 'global' stretches by the min..max of all. */
  normalize?: Normalize;
  /** Pixels of grey between cells in the output (default 2). */
  padding?: number;
  /** One label per image, written under it (HTML grids only). */
  labels?: (string | number)[];
  /** One label per grid row, written on its left, e.g. ['original', 'reconstruction'] (HTML only). */
  rowLabels?: string[];
  /** Caption under the grid (HTML only). */
  caption?: string;
}

export const DEFAULT_IMAGE_SIZE = 28;
export const DEFAULT_IMAGE_SCALE = 2;
export const DEFAULT_GRID_COLS = 10;
export const DEFAULT_GRID_PADDING = 2;
const PAD_GREY = 128;

/** Images as one flat row-major [n, h*w] array. */
export interface FlatImages {
  values: ArrayLike<number>;
  n: number;
}

function isTensor(x: ImageBatch): x is Tensor {
  return typeof (x as Tensor).dataSync === "function" && Array.isArray((x as Tensor).shape);
}

/** The images as one flat [n, h*w] array, checking the sizes. */
export function flattenImages(images: ImageBatch, width = DEFAULT_IMAGE_SIZE, height = DEFAULT_IMAGE_SIZE): FlatImages {
  const dim = width * height;
  let values: ArrayLike<number>;
  if (isTensor(images)) {
    const s = images.shape;
    const perImage = s.slice(1).reduce((a, b) => a * b, 1);
    if (s.length === 1 ? s[0] !== dim : perImage !== dim) {
      throw new Error(
        `images: tensor of shape [${s.join(", ")}] does not hold ${width}×${height} images (use shape [n, ${dim}] or pass width/height)`,
      );
    }
    values = images.dataSync(); // [n, h*w] row-major whatever the rank
  } else if (images.length > 0 && typeof images[0] !== "number") {
    const rows = images as ArrayLike<number>[];
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      if (r.length !== dim)
        throw new Error(
          `images: image ${i} has ${r.length} pixels, expected ${width}×${height} = ${dim} (pass width/height)`,
        );
      flat.set(Array.from(r), i * dim);
    });
    values = flat;
  } else {
    values = images as ArrayLike<number>;
  }
  if (values.length % dim !== 0) {
    throw new Error(
      `images: ${values.length} values is not a multiple of width×height = ${dim} (pass width/height matching your images)`,
    );
  }
  return { values, n: values.length / dim };
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`imageGrid: ${name} must be an integer >= ${min}, got ${v}`);
}

interface Layout {
  rows: number;
  cols: number;
  width: number;
  height: number;
  scale: number;
  padding: number;
}

function gridLayout(n: number, a: ImageGridArgs): Layout {
  const width = a.width ?? DEFAULT_IMAGE_SIZE,
    height = a.height ?? DEFAULT_IMAGE_SIZE;
  const cols = a.cols ?? (a.rows ? Math.ceil(n / a.rows) : Math.min(n, DEFAULT_GRID_COLS));
  const rows = a.rows ?? Math.ceil(n / Math.max(cols, 1));
  const scale = a.scale ?? DEFAULT_IMAGE_SCALE,
    padding = a.padding ?? DEFAULT_GRID_PADDING;
  checkInt("width", width, 1);
  checkInt("height", height, 1);
  checkInt("cols", cols, 1);
  checkInt("rows", rows, 1);
  checkInt("scale", scale, 1);
  checkInt("padding", padding, 0);
  return { rows, cols, width, height, scale, padding };
}

/** 8-bit grey levels for image i after normalisation. */
function toBytes(f: FlatImages, i: number, dim: number, mode: Normalize, global: [number, number]): Uint8Array {
  let lo = 0,
    hi = 1;
  if (mode === "global") [lo, hi] = global;
  if (mode === "minmax") [lo, hi] = range(f.values, i * dim, (i + 1) * dim);
  const span = hi - lo > 1e-12 ? hi - lo : 1;
  const out = new Uint8Array(dim);
  for (let p = 0; p < dim; p++) {
    const v = (f.values[i * dim + p] - lo) / span;
    out[p] = Number.isFinite(v) ? Math.round(Math.min(1, Math.max(0, v)) * 255) : 0;
  }
  return out;
}

function range(v: ArrayLike<number>, start: number, end: number): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let p = start; p < end; p++) {
    if (v[p] < lo) lo = v[p];
    if (v[p] > hi) hi = v[p];
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

function encodeGray(gray: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(gray.buffer, gray.byteOffset, gray.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

/** Draws images [first, first + rows*cols) into one grey canvas. */
function drawGrid(f: FlatImages, a: ImageGridArgs, L: Layout, first = 0): { gray: Uint8Array; w: number; h: number } {
  const dim = L.width * L.height,
    mode = a.normalize ?? "none";
  if (!["none", "minmax", "global"].includes(mode))
    throw new Error(`imageGrid: normalize must be 'none', 'minmax' or 'global', got ${JSON.stringify(mode)}`);
  const cellW = L.width * L.scale,
    cellH = L.height * L.scale;
  const w = L.cols * cellW + (L.cols - 1) * L.padding,
    h = L.rows * cellH + (L.rows - 1) * L.padding;
  const gray = new Uint8Array(w * h).fill(PAD_GREY);
  const count = Math.min(f.n - first, L.rows * L.cols);
  const global = mode === "global" ? range(f.values, first * dim, (first + count) * dim) : ([0, 1] as [number, number]);
  for (let k = 0; k < L.rows * L.cols; k++) {
    const r = Math.floor(k / L.cols),
      c = k % L.cols,
      x0 = c * (cellW + L.padding),
      y0 = r * (cellH + L.padding);
    const img = k < count ? toBytes(f, first + k, dim, mode, global) : new Uint8Array(dim); // empty cells black
    for (let y = 0; y < cellH; y++) {
      const src = Math.floor(y / L.scale) * L.width,
        dst = (y0 + y) * w + x0;
      for (let x = 0; x < cellW; x++) gray[dst + x] = img[src + Math.floor(x / L.scale)];
    }
  }
  return { gray, w, h };
}

/** The first rows*cols images as one grayscale PNG grid (grey lines between cells). */
export function imageGrid(images: ImageBatch, args: ImageGridArgs = {}): Uint8Array {
  const f = flattenImages(images, args.width, args.height);
  if (f.n === 0) throw new Error("imageGrid: images is empty (pass at least one image)");
  const L = gridLayout(f.n, args);
  const { gray, w, h } = drawGrid(f, args, L);
  return encodeGray(gray, w, h);
}

/** A data: URI for PNG bytes, for <img src>. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}

/** An HTML <figure> of the grid: one <img> per image with its label when `labels` or
 * `rowLabels` are given, else the whole grid as one <img>; `caption` as <figcaption>. */
export function imageGridHtml(images: ImageBatch, args: ImageGridArgs = {}): string {
  const f = flattenImages(images, args.width, args.height);
  if (f.n === 0) throw new Error("imageGridHtml: images is empty (pass at least one image)");
  const L = gridLayout(f.n, args);
  const caption = args.caption
    ? `<figcaption style="font:12px sans-serif;margin-top:4px">${escapeHtml(args.caption)}</figcaption>`
    : "";
  const style = "margin:4px 0;display:inline-block";
  if (!args.labels && !args.rowLabels) {
    const { gray, w, h } = drawGrid(f, args, L);
    const png = encodeGray(gray, w, h);
    return `<figure class="transfer-lab-images" style="${style}"><img src="${pngDataUri(png)}" width="${w}" height="${h}" alt="${escapeHtml(args.caption ?? "image grid")}">${caption}</figure>`;
  }
  if (args.rowLabels && args.rowLabels.length !== L.rows) {
    throw new Error(`imageGridHtml: rowLabels has ${args.rowLabels.length} labels for ${L.rows} rows (one per row)`);
  }
  // Whole-grid normalisation must see every image, so cells are cut from one drawn grid.
  const one: Layout = { ...L, padding: 0 };
  const { gray, w } = drawGrid(f, args, one);
  const cw = L.width * L.scale,
    ch = L.height * L.scale;
  const cells: string[] = [];
  for (let r = 0; r < L.rows; r++) {
    if (args.rowLabels)
      cells.push(
        `<div style="font:12px sans-serif;text-align:right;padding-right:6px">${escapeHtml(args.rowLabels[r])}</div>`,
      );
    for (let c = 0; c < L.cols; c++) {
      const k = r * L.cols + c;
      const cell = new Uint8Array(cw * ch);
      for (let y = 0; y < ch; y++)
        cell.set(gray.subarray((r * ch + y) * w + c * cw, (r * ch + y) * w + c * cw + cw), y * cw);
      const label = args.labels?.[k] !== undefined ? escapeHtml(String(args.labels[k])) : "";
      cells.push(
        `<div style="text-align:center"><img src="${pngDataUri(encodeGray(cell, cw, ch))}" width="${cw}" height="${ch}" alt="${label || "image " + k}" style="display:block">` +
          (args.labels ? `<div style="font:11px monospace">${label}</div>` : "") +
          "</div>",
      );
    }
  }
  const columns = `${args.rowLabels ? "auto " : ""}repeat(${L.cols}, ${cw}px)`;
  return `<figure class="transfer-lab-images" style="${style}"><div style="display:grid;grid-template-columns:${columns};gap:${L.padding}px;align-items:center">${cells.join("")}</div>${caption}</figure>`;
}

/** Shows an image grid: a PNG, or an HTML figure when labels, rowLabels or a caption are given. */
export function showImageGrid(images: ImageBatch, args: ImageGridArgs = {}): void {
  if (args.labels || args.rowLabels || args.caption) display().html(imageGridHtml(images, args));
  else display().png(imageGrid(images, args));
}

/** One labelled row of images for `showImageRows`. */
export interface ImageRow {
  label: string;
  images: ImageBatch;
}

/** Shows rows of images side by side, e.g. [{label: 'original', images: x}, {label:
 * 'reconstruction', images: xHat}]: the first `cols` images of each row (default 10). */
export function showImageRows(rows: ImageRow[], args: Omit<ImageGridArgs, "rows" | "rowLabels"> = {}): void {
  if (rows.length === 0) throw new Error("showImageRows: rows must hold at least one row, got none");
  const dim = (args.width ?? DEFAULT_IMAGE_SIZE) * (args.height ?? DEFAULT_IMAGE_SIZE);
  const flats = rows.map((r) => flattenImages(r.images, args.width, args.height));
  const cols = args.cols ?? Math.min(DEFAULT_GRID_COLS, ...flats.map((f) => f.n));
  checkInt("cols", cols, 1);
  const all = new Float32Array(rows.length * cols * dim); // [rows*cols, h*w], missing images stay black
  flats.forEach((f, r) => {
    const take = Math.min(cols, f.n) * dim;
    for (let p = 0; p < take; p++) all[r * cols * dim + p] = f.values[p];
  });
  showImageGrid(all, { ...args, rows: rows.length, cols, rowLabels: rows.map((r) => r.label) });
}
