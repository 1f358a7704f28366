// The in-memory dataset every lesson passes around: images as one row-major Float32Array in
// JS memory, labels as Int32Array. Batches are gathered rows uploaded per step.

export interface Dataset {
  /** Images, [n, dim] row-major, values in [0, 1]. */
  x: Float32Array;
  /** Integer class labels, [n]. */
  y: Int32Array;
  n: number;
  /** Features per example (784 for 28×28 digits). */
  dim: number;
  numClasses: number;
  /** Human-readable provenance, e.g. "mnist-embedded/train" or "target(mild)/k=5". */
  name: string;
}
