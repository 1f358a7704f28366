// The tree shows the architecture: src/ is organised by layer and imports point one way,
//   core ← backend ← data ← models ← adapt ← train ← evaluate ← experiments ← review,
// with show/ and store/ serving every layer above core (they import only core; the training loop
// reports progress through a callback and imports no show/), and cli/ (runner,
// site, bench) importing anything while nothing in the library imports it. This test reads every
// import of src/ and fails on one against that order, or on a cycle, naming the file and the import.
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { checkLayering, importsOf, LAYER_ORDER, layerOf } from "./helpers/layering";

const SRC = path.resolve(__dirname, "..", "src");

describe("src/ layering", () => {
  it("every file lives in a layer folder (or is the public surface src/index.ts)", () => {
    const stray = listTs(SRC)
      .map((f) => path.relative(SRC, f))
      .filter((f) => f !== "index.ts" && layerOf(f) === null);
    expect(stray).toEqual([]);
  });

  it(`imports point one way (${LAYER_ORDER.join(" ← ")}; show and store import only core; nothing imports cli) and form no cycle`, () => {
    expect(checkLayering(SRC)).toEqual([]);
  });

  it("the check catches a wrong-way import and a cycle (so the test above can fail)", () => {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "layering-"));
    try {
      const write = (f: string, body: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), body);
      };
      write("core/a.ts", 'import { fit } from "../train/fit";\nexport const a = 1;\n');
      write("train/fit.ts", 'import type { b } from "./loop";\nexport const fit = 1;\n');
      write("train/loop.ts", 'export { fit } from "./fit";\nexport const b = 2;\n');
      write("show/plot.ts", 'import { x } from "../data/x";\n');
      write("data/x.ts", 'import { run } from "../cli/runner/run";\nexport const x = 1;\n');
      write("cli/runner/run.ts", "export const run = 1;\n");
      const problems = checkLayering(dir);
      expect(problems).toContain('core/a.ts imports "../train/fit" (train): core may import only core');
      expect(problems).toContain('show/plot.ts imports "../data/x" (data): show may import only core, show');
      expect(problems).toContain('data/x.ts imports "../cli/runner/run" (cli): nothing in the library imports cli');
      expect(problems).toContain("cycle: train/fit.ts → train/loop.ts → train/fit.ts");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads static, type-only, re-export and dynamic imports", () => {
    const text = [
      'import * as tf from "@tensorflow/tfjs";',
      'import type { A } from "./a";',
      "import {",
      "  b,",
      '} from "../b";',
      'export * from "./c";',
      'const d = await import("./d");',
      '// import { e } from "./e";',
    ].join("\n");
    expect(importsOf(text)).toEqual(["@tensorflow/tfjs", "./a", "../b", "./c", "./d"]);
  });
});

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}
