// `npm run lessons`: executes notebooks/NN-*.ipynb in order through the transfer-lab kernel,
// writes executed copies to build/lessons/ and the HTML site to build/site/, prints one line per
// lesson; exits 1 when any cell failed or a notebook does not parse (the other lessons still
// run). Options: --scale (default: LESSON_SCALE, else default), --only, --set name=value (given
// to the lessons that declare the parameter, type-checked before any kernel starts), --out,
// --timeout, --verbose, --no-site.
import { Command, InvalidArgumentError } from "commander";
import path from "path";
import { parseScale, type Scale } from "../../core/scale";
import { describeSetPlan, parseSetArgs, planSets } from "./inject";
import { listLessons, selectLessons } from "./notebook";
import { readLessons, resolveScale, scaleSource } from "./options";
import { DEFAULT_CELL_TIMEOUT_S, DEFAULT_OUT_DIR, formatResult, runLessons } from "./run";
import { buildSite } from "../site/build";
import { DATA_ENV, lessonDataSource } from "../../data/lesson-data";

const collect = (value: string, previous: string[]) => [...previous, value];

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected seconds > 0, got ${JSON.stringify(value)}`);
  return n;
}

function scaleOption(value: string): Scale {
  try {
    return parseScale(value, "--scale");
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

interface Options {
  /** Unset: LESSON_SCALE, else default (resolveScale). */
  scale?: Scale;
  only: string[];
  set: string[];
  out: string;
  notebooks: string;
  timeout: number;
  data?: string;
  verbose?: boolean;
  site: boolean;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("lessons")
    .description("Execute the lesson notebooks through the transfer-lab kernel")
    .option(
      "--scale <scale>",
      "smoke | default | full (sets LESSON_SCALE in the kernel; default: $LESSON_SCALE, else default)",
      scaleOption,
    )
    .option("--only <lessons>", "lesson numbers to run, e.g. 03 or 03,04 (repeatable)", collect, [] as string[])
    .option("--set <name=value>", "override a parameter of the `parameters` cell (repeatable)", collect, [] as string[])
    .option(
      "--out <dir>",
      "folder for executed copies",
      path.relative(process.cwd(), DEFAULT_OUT_DIR) || DEFAULT_OUT_DIR,
    )
    .option("--notebooks <dir>", "folder holding NN-*.ipynb", "notebooks")
    .option(
      "--data <dir>",
      `folder of IDX files (full MNIST or Fashion-MNIST) the lessons run on instead of the embedded digits (sets ${DATA_ENV})`,
    )
    .option("--timeout <seconds>", "seconds one cell may run", positiveSeconds, DEFAULT_CELL_TIMEOUT_S)
    .option("--verbose", "print a line per executed cell")
    .option("--no-site", "do not rebuild the HTML site (<out>/../site, e.g. build/site)")
    .parse(argv);
  const opts = program.opts<Options>();

  const notebooks = selectLessons(listLessons(opts.notebooks), opts.only);
  if (notebooks.length === 0) throw new Error(`no lesson notebooks (NN-*.ipynb) in ${path.resolve(opts.notebooks)}`);
  const scale = resolveScale(opts.scale);
  // Checked here, before any kernel starts: the option, else the variable, must name a folder.
  const dataEnv: Record<string, string> = opts.data !== undefined ? { [DATA_ENV]: path.resolve(opts.data) } : {};
  const data = lessonDataSource({ ...process.env, ...dataEnv });
  const sets = parseSetArgs(opts.set);
  // Plan every --set over the notebooks that parse before running anything: each goes to the
  // lessons that declare it, with a value of the declared type. A notebook that does not parse
  // is run (and reported failed) like the others.
  const { readable, unreadable } = readLessons(notebooks);
  const plan = sets.length > 0 && readable.length > 0 ? planSets(readable, sets) : null;
  const byFile = new Map(readable.map((l) => [l.file, plan?.perLesson.get(l.label) ?? []]));

  console.log(`running ${notebooks.length} lesson(s) at scale ${scale} (${scaleSource(opts.scale)}) -> ${opts.out}`);
  if (data !== "embedded") console.log(`data: the IDX files in ${data}`);
  for (const u of unreadable) console.log(`not runnable, reported as failed: ${u.error.message}`);
  for (const entry of plan?.report ?? []) console.log(describeSetPlan(entry));
  const results = await runLessons(
    notebooks,
    {
      scale,
      env: dataEnv,
      setsFor: (nb) => byFile.get(nb) ?? [],
      outDir: opts.out,
      cellTimeoutSeconds: opts.timeout,
      onCell: opts.verbose
        ? (c) => console.log(`  cell ${c.index}: ${c.status} in ${c.seconds.toFixed(1)} s`)
        : undefined,
    },
    (r) => console.log(formatResult(r)),
  );
  if (opts.site) {
    const outDir = path.join(path.dirname(path.resolve(opts.out)), "site");
    const site = buildSite({
      lessonsDir: opts.out,
      outDir,
      notebooksDir: opts.notebooks,
      runs: results.map((r) => ({ ...r, scale })),
    });
    console.log(`site: ${path.relative(process.cwd(), site.index)} (${site.pages.length} lesson page(s))`);
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    console.error(`${failed.length} of ${results.length} lesson(s) failed: ${failed.map((r) => r.name).join(", ")}`);
    return 1;
  }
  return 0;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  },
);
