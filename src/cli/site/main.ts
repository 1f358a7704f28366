// `npx tsx src/cli/site/main.ts`: (re)builds build/site/ from the executed notebooks in build/lessons/
// without running anything (`npm run lessons` does this itself after running the lessons).
import { Command } from "commander";
import path from "path";
import { buildSite, DEFAULT_LESSONS_DIR, DEFAULT_NOTEBOOKS_DIR, DEFAULT_SITE_DIR } from "./build";

function main(argv: string[]): number {
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  const opts = new Command("site")
    .description("Build the browsable site of the executed lessons")
    .option("--lessons <dir>", "executed notebooks (the runner's --out)", rel(DEFAULT_LESSONS_DIR))
    .option("--out <dir>", "site folder", rel(DEFAULT_SITE_DIR))
    .option("--notebooks <dir>", "source notebooks, to list lessons not run yet", rel(DEFAULT_NOTEBOOKS_DIR))
    .option("--force", "re-export every page")
    .parse(argv)
    .opts<{ lessons: string; out: string; notebooks: string; force?: boolean }>();
  const site = buildSite({
    lessonsDir: opts.lessons,
    outDir: opts.out,
    notebooksDir: opts.notebooks,
    force: opts.force,
  });
  console.log(
    `site: ${rel(site.index)} (${site.pages.length} lesson page(s)${site.mathjax ? "" : ", no local MathJax: formulas shown as TeX"})`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv);
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
