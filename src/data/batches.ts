// Mini-batches gathered row by row from a dataset held in JS memory: each batch copies only its
// own rows ([batch, dim]), never the whole set (tfjs-wasm's Slice copies its whole source per call).
import type { Dataset } from "./types";

/** Copies the rows `idx[from..to)` of a dataset into a fresh batch (no copy of the whole set). */
export function gatherRows(
  ds: Dataset,
  idx: ArrayLike<number>,
  from = 0,
  to = idx.length,
): { x: Float32Array; y: Int32Array } {
  const b = to - from;
  const x = new Float32Array(b * ds.dim);
  const y = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const r = idx[from + i];
    x.set(ds.x.subarray(r * ds.dim, (r + 1) * ds.dim), i * ds.dim);
    y[i] = ds.y[r];
  }
  return { x, y };
}
