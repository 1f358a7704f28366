// A learner edits a parameter and re-runs: the lesson must still run to its last cell, whatever its
// claims then measure (verdicts print, only invariants throw). Runs the lessons CLI (`npm run lessons`,
// src/cli/runner/lessons.ts) at smoke with `--set freezeRatio=0.25` on lesson 03 and `--set r=2` on
// lesson 04, each with its own empty artifact cache, and checks the executed copy: the value was
// injected, every code cell ran, none raised. TRANSFER_LAB_NOTEBOOKS=<dir> points it at another folder.
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, installKernelSpec, requireJupyter } from "../../src/cli/jupyter";
import { INJECTED_TAG, cellSource, hasTag, lessonId, readNotebook } from "../../src/cli/runner/notebook";

const NOTEBOOKS = path.resolve(process.env.TRANSFER_LAB_NOTEBOOKS ?? path.join(PROJECT_ROOT, "notebooks"));
/** A whole smoke-scale lesson through the CLI, kernel start included, on a busy 2-core CPU. */
const LESSON_TIMEOUT_MS = 10 * 60_000;

const CASES: { lesson: string; set: string; injected: RegExp }[] = [
  { lesson: "03", set: "freezeRatio=0.25", injected: /\bfreezeRatio\b[^=\n]*=\s*0\.25\b/ },
  { lesson: "04", set: "r=2", injected: /\br\b[^=\n]*=\s*2\b/ },
];

const files = fs.existsSync(NOTEBOOKS) ? fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")) : [];

beforeAll(() => {
  // `npm test` installs the kernel first; this keeps `vitest run test/notebooks/edited-parameters.test.ts` standalone.
  installKernelSpec(requireJupyter().python);
}, 120_000);

/** Runs the lessons CLI on one lesson with one --set, in a fresh output folder and artifact cache. */
function runCli(lesson: string, set: string): { code: number | null; out: string; outDir: string } {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `tl-edited-${lesson}-`));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), `tl-edited-cache-${lesson}-`));
  const r = spawnSync(
    process.execPath,
    [
      path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
      "src/cli/runner/lessons.ts",
      ...["--scale", "smoke", "--only", lesson, "--set", set, "--notebooks", NOTEBOOKS, "--out", outDir, "--no-site"],
    ],
    {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, LESSON_SCALE: "", TRANSFER_LAB_CACHE: cache },
      timeout: LESSON_TIMEOUT_MS - 30_000,
    },
  );
  fs.rmSync(cache, { recursive: true, force: true });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, outDir };
}

describe(`lessons with an edited parameter run to the end (${path.relative(PROJECT_ROOT, NOTEBOOKS) || NOTEBOOKS})`, () => {
  for (const { lesson, set, injected } of CASES) {
    const file = files.find((f) => lessonId(f) === lesson);
    it(
      `lesson ${lesson}${file ? ` (${file})` : ""} runs every cell at smoke with --set ${set}`,
      () => {
        expect(file, `no lesson ${lesson} notebook in ${NOTEBOOKS}`).toBeDefined();
        const { code, out, outDir } = runCli(lesson, set);
        expect(out).toContain(`--set ${set}: lesson ${lesson}`);
        expect(code, out).toBe(0);
        const executed = readNotebook(path.join(outDir, file!));
        const params = executed.cells.filter((c) => hasTag(c, INJECTED_TAG));
        expect(params, "the runner's injected-parameters cell").toHaveLength(1);
        expect(cellSource(params[0])).toMatch(injected);
        const codeCells = executed.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.cell_type === "code");
        const notRun = codeCells.filter(({ c }) => c.execution_count == null).map(({ i }) => i);
        const errors = codeCells.flatMap(({ c, i }) =>
          (c.outputs ?? []).filter((o) => o.output_type === "error").map((o) => `cell ${i}: ${o.ename}: ${o.evalue}`),
        );
        expect(errors, "cells that raised").toEqual([]);
        expect(notRun, "code cells that did not run").toEqual([]);
        expect(codeCells.length).toBeGreaterThan(0);
        fs.rmSync(outDir, { recursive: true, force: true });
      },
      LESSON_TIMEOUT_MS,
    );
  }
});
