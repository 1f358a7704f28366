// Tensor-leak probes for lesson runs (the notebook tests use them): a cell tagged
// `tensor-probe` after the setup cell and one at the end print `tf.memory().numTensors`, and the
// runner reads both back from the executed copy. Every lesson imports tfjs as `tf` in its first
// code cell, which also picks the backend, so the first probe goes right after it (asking for
// memory before setupBackend would start tfjs's default backend). Pure functions.
import { cellSource, hasTag, type Notebook, type NotebookCell } from "./notebook";
import { outputText } from "./outputs";

export const TENSOR_PROBE_TAG = "tensor-probe";

/** Live tensors after the setup cell and after the last cell of a lesson. */
export interface TensorCounts {
  start: number;
  end: number;
}

function probeCell(where: keyof TensorCounts): NotebookCell {
  return {
    cell_type: "code",
    id: `${TENSOR_PROBE_TAG}-${where}`,
    execution_count: null,
    metadata: { tags: [TENSOR_PROBE_TAG] },
    outputs: [],
    source: `console.log(\`tensor-probe ${where}: \${tf.memory().numTensors}\`);`,
  };
}

/** A copy of `nb` with a probe after its first code cell and one at the end. */
export function injectTensorProbes(nb: Notebook, label: string): Notebook {
  const copy = structuredClone(nb);
  copy.cells = copy.cells.filter((c) => !hasTag(c, TENSOR_PROBE_TAG));
  const first = copy.cells.findIndex((c) => c.cell_type === "code");
  if (first < 0 || !/import \* as tf from "@tensorflow\/tfjs"/.test(cellSource(copy.cells[first]))) {
    throw new Error(`tensor probes: notebook ${label} does not import tfjs as \`tf\` in its first code cell`);
  }
  copy.cells.splice(first + 1, 0, probeCell("start"));
  copy.cells.push(probeCell("end"));
  return copy;
}

/** The two counts from an executed copy, or null when a probe did not run (a failed lesson). */
export function readTensorProbes(executed: Notebook): TensorCounts | null {
  const counts: Partial<TensorCounts> = {};
  for (const cell of executed.cells) {
    if (!hasTag(cell, TENSOR_PROBE_TAG)) continue;
    const m = /tensor-probe (start|end): (\d+)/.exec(outputText(cell.outputs ?? []));
    if (m) counts[m[1] as keyof TensorCounts] = Number(m[2]);
  }
  return counts.start === undefined || counts.end === undefined ? null : { start: counts.start, end: counts.end };
}
