// Executes every notebooks/*.ipynb at smoke scale through the real transfer-lab kernel (the
// lesson runner's runLesson, Jupyter's nbclient), plus 03 with freezeRatio=0.25 and 04 with
// r=2 when those lessons exist, and checks each notebook is committed clean. Cases come from
// the directory listing, so a lesson that is missing has no case rather than a green skip.
// TRANSFER_LAB_NOTEBOOKS=<dir> points the suite at another folder (to try it on scratch notebooks).
import fs from "fs";
import path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, installKernelSpec, requireJupyter } from "../../src/cli/jupyter";
import { parseSetArgs } from "../../src/cli/runner/inject";
import { hygieneProblems, lessonId, readNotebook } from "../../src/cli/runner/notebook";
import { formatResult, runLesson } from "../../src/cli/runner/run";

const NOTEBOOKS = path.resolve(process.env.TRANSFER_LAB_NOTEBOOKS ?? path.join(PROJECT_ROOT, "notebooks"));
const OUT = path.join(PROJECT_ROOT, "build", "notebook-tests");
/** A whole smoke-scale lesson, kernel start included, on a busy 2-core CPU. */
const NOTEBOOK_TIMEOUT_MS = 10 * 60_000;
const CELL_TIMEOUT_S = 8 * 60;
/** Live tensors a lesson may hold at its end beyond those it had after its setup cell. Lessons
 * dispose the models they built when they are done with them; what stays is tfjs's own. */
const TENSOR_LEAK_BOUND = 0;

/** Parameter runs on top of the plain smoke run, for the lessons that exist. */
const EXTRA_CASES: { lesson: string; set: string[] }[] = [
  { lesson: "03", set: ["freezeRatio=0.25"] },
  { lesson: "04", set: ["r=2"] },
];

const files = fs.existsSync(NOTEBOOKS)
  ? fs
      .readdirSync(NOTEBOOKS)
      .filter((f) => f.endsWith(".ipynb"))
      .sort()
  : [];
const extraCases = EXTRA_CASES.flatMap(({ lesson, set }) =>
  files.filter((f) => lessonId(f) === lesson).map((file) => ({ file, set })),
);

let python = "";
beforeAll(() => {
  // `npm test` runs `kernel-setup/main.ts ensure` first; this keeps `vitest run test/notebooks` standalone.
  python = requireJupyter().python;
  installKernelSpec(python);
}, 120_000);

async function runAtSmoke(file: string, set: string[], outDir: string) {
  const result = await runLesson({
    notebook: path.join(NOTEBOOKS, file),
    scale: "smoke",
    sets: parseSetArgs(set),
    outDir,
    cellTimeoutSeconds: CELL_TIMEOUT_S,
    python,
    measureTensors: true,
  });
  expect(result.ok, formatResult(result)).toBe(true);
  expect(result.cells).toBeGreaterThan(0);
  const tensors = result.tensors;
  expect(tensors, "the tensor probes did not both run").toBeTruthy();
  console.log(
    `${file}${set.length ? ` --set ${set.join(",")}` : ""}: ${tensors!.start} live tensors after setup, ${tensors!.end} at the end`,
  );
  expect(tensors!.end - tensors!.start).toBeLessThanOrEqual(TENSOR_LEAK_BOUND);
}

describe(`lesson notebooks in ${path.relative(PROJECT_ROOT, NOTEBOOKS) || NOTEBOOKS}`, () => {
  it("has notebooks to run", () => {
    expect(files, `no .ipynb in ${NOTEBOOKS}`).not.toEqual([]);
  });

  for (const file of files) {
    it(`${file} is committed clean (no outputs, transfer-lab kernel, a parameters cell)`, () => {
      expect(hygieneProblems(readNotebook(path.join(NOTEBOOKS, file)))).toEqual([]);
    });
  }

  for (const file of files) {
    it(`${file} runs at smoke scale`, () => runAtSmoke(file, [], OUT), NOTEBOOK_TIMEOUT_MS);
  }

  for (const { file, set } of extraCases) {
    const tag = set.join(",");
    it(
      `${file} runs at smoke scale with --set ${tag}`,
      () => runAtSmoke(file, set, path.join(OUT, tag)),
      NOTEBOOK_TIMEOUT_MS,
    );
  }
});
