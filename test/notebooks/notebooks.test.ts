// Executes every notebooks/*.ipynb at smoke scale through the real transfer-lab kernel (the
// lesson runner's runLesson, Jupyter's nbclient), plus 03 with freezeRatio=0.25 and 04 with
// r=2 when those lessons exist, and checks each notebook is committed clean. Cases come from
// the directory listing, so a lesson that is missing has no case rather than a green skip.
// TRANSFER_LAB_NOTEBOOKS=<dir> points the suite at another folder (to try it on scratch notebooks).
// Every lesson ends with 3-5 exercises (a markdown question, then a collapsed code cell tagged
// `solution`), after its interview checkpoint and before its clean-up; each smoke run checks that
// every solution ran, printed what it measured and raised no error.
import fs from "fs";
import path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, installKernelSpec, requireJupyter } from "../../src/cli/jupyter";
import { parseSetArgs } from "../../src/cli/runner/inject";
import {
  cellSource,
  hasTag,
  hygieneProblems,
  lessonId,
  readNotebook,
  type Notebook,
  type NotebookCell,
} from "../../src/cli/runner/notebook";
import { formatResult, runLesson } from "../../src/cli/runner/run";

const NOTEBOOKS = path.resolve(process.env.TRANSFER_LAB_NOTEBOOKS ?? path.join(PROJECT_ROOT, "notebooks"));
const OUT = path.join(PROJECT_ROOT, "build", "notebook-tests");
/** A whole smoke-scale lesson, kernel start included, on a busy 2-core CPU. */
const NOTEBOOK_TIMEOUT_MS = 10 * 60_000;
const CELL_TIMEOUT_S = 8 * 60;
/** Live tensors a lesson may hold at its end beyond those it had after its setup cell. Lessons
 * dispose the models they built when they are done with them; what stays is tfjs's own. */
const TENSOR_LEAK_BOUND = 0;

/** Exercises: a markdown cell (the question, what to predict) followed by its solution, a code
 * cell with this tag, collapsed (`jupyter.source_hidden`). */
const SOLUTION_TAG = "solution";
const EXERCISES_PER_LESSON = { min: 3, max: 5 };
const INTERVIEW_HEADING = /^#+ .*Interview checkpoint/m;
const CLEAN_UP_HEADING = /^#+ Clean up/m;

function isSolution(cell: NotebookCell): boolean {
  return cell.cell_type === "code" && hasTag(cell, SOLUTION_TAG);
}

function exerciseCount(nb: Notebook): number {
  return nb.cells.filter(isSolution).length;
}

function headingIndex(nb: Notebook, heading: RegExp): number {
  return nb.cells.findIndex((c) => c.cell_type === "markdown" && heading.test(cellSource(c)));
}

/** What is wrong with a committed lesson's exercises; empty when it has 3-5 well-formed ones. */
function exerciseProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  const solutions = nb.cells.flatMap((c, i) => (isSolution(c) ? [i] : []));
  const { min, max } = EXERCISES_PER_LESSON;
  if (solutions.length < min || solutions.length > max)
    problems.push(`expected ${min}-${max} exercises (code cells tagged "${SOLUTION_TAG}"), found ${solutions.length}`);
  const interview = headingIndex(nb, INTERVIEW_HEADING);
  const cleanUp = headingIndex(nb, CLEAN_UP_HEADING);
  if (interview < 0) problems.push("no interview checkpoint heading to place the exercises after");
  for (const i of solutions) {
    const question = nb.cells[i - 1];
    if (!question || question.cell_type !== "markdown" || cellSource(question).trim() === "" || i - 1 === interview)
      problems.push(`solution cell ${i} does not follow a markdown cell with its question`);
    const jupyter = nb.cells[i].metadata.jupyter as { source_hidden?: unknown } | undefined;
    if (jupyter?.source_hidden !== true)
      problems.push(`solution cell ${i} is not collapsed (metadata.jupyter.source_hidden)`);
    if (cellSource(nb.cells[i]).trim() === "") problems.push(`solution cell ${i} is empty`);
    if (interview >= 0 && i < interview)
      problems.push(`solution cell ${i} comes before the interview checkpoint (cell ${interview})`);
    if (cleanUp >= 0 && i > cleanUp) problems.push(`solution cell ${i} comes after the clean-up (cell ${cleanUp})`);
  }
  return problems;
}

/** What is wrong with the solutions of an executed copy: each must have run, shown output and
 * raised no error. Returns the problems and the number of solution cells. */
function executedSolutionProblems(nb: Notebook): { problems: string[]; solutions: number } {
  const problems: string[] = [];
  let solutions = 0;
  nb.cells.forEach((cell, i) => {
    if (!isSolution(cell)) return;
    solutions++;
    const outputs = cell.outputs ?? [];
    const errors = outputs.filter((o) => o.output_type === "error");
    if (cell.execution_count == null) problems.push(`solution cell ${i} did not run`);
    if (errors.length)
      problems.push(`solution cell ${i} raised ${errors.map((e) => `${e.ename}: ${e.evalue}`).join("; ")}`);
    else if (outputs.length === 0)
      problems.push(`solution cell ${i} ran but showed nothing (a solution prints what it measured)`);
  });
  return { problems, solutions };
}

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
  if (lessonId(file) !== null) {
    const executed = executedSolutionProblems(readNotebook(result.output));
    expect(executed.problems, `exercise solutions in ${result.output}`).toEqual([]);
    expect(executed.solutions, "solution cells in the executed copy").toBe(
      exerciseCount(readNotebook(path.join(NOTEBOOKS, file))),
    );
  }
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

  for (const file of files.filter((f) => lessonId(f) !== null)) {
    it(`${file} ends with ${EXERCISES_PER_LESSON.min}-${EXERCISES_PER_LESSON.max} exercises, each a question and a collapsed solution`, () => {
      expect(exerciseProblems(readNotebook(path.join(NOTEBOOKS, file)))).toEqual([]);
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
