// `npm run lessons`: executes notebooks/NN-*.ipynb in order through the transfer-lab kernel,
// writes executed copies to build/lessons/ and the HTML site to build/site/, prints one line per
// lesson; exits 1 when any cell failed. Options: --scale, --only, --set name=value, --out,
// --timeout, --verbose, --no-site.
import { Command, InvalidArgumentError } from "commander";
import path from "path";
import { parseScale, type Scale } from "../../core/scale";
import { injectParameters, parseSetArgs } from "./inject";
import { lessonId, listLessons, readNotebook, selectLessons } from "./notebook";
import { DEFAULT_CELL_TIMEOUT_S, DEFAULT_OUT_DIR, formatResult, runLessons } from "./run";
import { buildSite } from "../site/build";

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
  scale: Scale;
  only: string[];
  set: string[];
  out: string;
  notebooks: string;
  timeout: number;
  verbose?: boolean;
  site: boolean;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("lessons")
    .description("Execute the lesson notebooks through the transfer-lab kernel")
    .option(
      "--scale <scale>",
      "smoke | default | full (sets LESSON_SCALE in the kernel)",
      scaleOption,
      "default" as Scale,
    )
    .option("--only <lessons>", "lesson numbers to run, e.g. 03 or 03,04 (repeatable)", collect, [] as string[])
    .option("--set <name=value>", "override a parameter of the `parameters` cell (repeatable)", collect, [] as string[])
    .option(
      "--out <dir>",
      "folder for executed copies",
      path.relative(process.cwd(), DEFAULT_OUT_DIR) || DEFAULT_OUT_DIR,
    )
    .option("--notebooks <dir>", "folder holding NN-*.ipynb", "notebooks")
    .option("--timeout <seconds>", "seconds one cell may run", positiveSeconds, DEFAULT_CELL_TIMEOUT_S)
    .option("--verbose", "print a line per executed cell")
    .option("--no-site", "do not rebuild the HTML site (<out>/../site, e.g. build/site)")
    .parse(argv);
  const opts = program.opts<Options>();

  const notebooks = selectLessons(listLessons(opts.notebooks), opts.only);
  if (notebooks.length === 0) throw new Error(`no lesson notebooks (NN-*.ipynb) in ${path.resolve(opts.notebooks)}`);
  const sets = parseSetArgs(opts.set);
  // Check every --set against every selected notebook before running anything.
  for (const nb of notebooks) injectParameters(readNotebook(nb), sets, lessonId(nb) ?? path.basename(nb));

  console.log(`running ${notebooks.length} lesson(s) at scale ${opts.scale} -> ${opts.out}`);
  const results = await runLessons(
    notebooks,
    {
      scale: opts.scale,
      sets,
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
      runs: results.map((r) => ({ ...r, scale: opts.scale })),
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
