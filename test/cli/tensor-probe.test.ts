// The runner's tensor-leak probes: where they go in a lesson and how counts are read back.
import { describe, expect, it } from "vitest";
import type { Notebook, NotebookCell } from "../../src/cli/runner/notebook";
import { TENSOR_PROBE_TAG, injectTensorProbes, readTensorProbes } from "../../src/cli/runner/tensor-probe";

const code = (source: string, outputs: NotebookCell["outputs"] = []): NotebookCell => ({
  cell_type: "code",
  source,
  metadata: {},
  outputs,
  execution_count: null,
});
const md = (source: string): NotebookCell => ({ cell_type: "markdown", source, metadata: {} });
const lesson = (cells: NotebookCell[]): Notebook => ({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 });
const SETUP = 'import * as tf from "@tensorflow/tfjs";\nimport * as tl from "./src";\nawait tl.setupBackend();';

describe("tensor probes", () => {
  it("go after the setup cell and at the end, once, leaving the original alone", () => {
    const nb = lesson([md("# Lesson"), code(SETUP), code("let r = 0.5;"), md("done")]);
    const probed = injectTensorProbes(injectTensorProbes(nb, "03"), "03");
    const tags = probed.cells.map(
      (c) => (c.metadata.tags as string[] | undefined)?.includes(TENSOR_PROBE_TAG) ?? false,
    );
    expect(tags).toEqual([false, false, true, false, false, true]);
    expect(probed.cells[2].source).toContain("tensor-probe start: ${tf.memory().numTensors}");
    expect(nb.cells).toHaveLength(4);
  });

  it("refuse a lesson whose first code cell does not import tfjs as tf", () => {
    expect(() => injectTensorProbes(lesson([code("const x = 1;")]), "07")).toThrow(
      /notebook 07 does not import tfjs as `tf`/,
    );
  });

  it("read both counts back, or null when a probe did not run", () => {
    const ran = injectTensorProbes(lesson([code(SETUP), code("1")]), "00");
    ran.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: "tensor-probe start: 12\n" }];
    expect(readTensorProbes(ran)).toBeNull();
    ran.cells[3].outputs = [{ output_type: "stream", name: "stdout", text: ["tensor-probe end: ", "15\n"] }];
    expect(readTensorProbes(ran)).toEqual({ start: 12, end: 15 });
  });
});
