// buildSite: the browsable site of the executed lessons — build/site/index.html (lessons, one-line
// goals, backend/scale/seconds of each run) and one nbconvert HTML page per executed notebook of
// build/lessons/ (sharing one plotly.js and one JupyterLab stylesheet in assets/), plus the
// Playground page (playground.html, see playground.ts) on the models a lesson exported to the
// artifact cache. `npm run lessons` calls it after running the lessons.
import fs from "fs";
import path from "path";
import { projectRoot } from "../../core/paths";
import { lessonId, listLessons, readNotebook, type Notebook } from "../runner/notebook";
import { ASSETS_DIR, SHARED_ASSET, exportHtml, installMathJax, pageAssets } from "./export";
import { renderIndex } from "./index-page";
import { lessonInfo, type LessonInfo, type SiteRun } from "./info";
import { installPlayground, withPlaygroundLink, type PlaygroundPageResult } from "./playground";

export const DEFAULT_LESSONS_DIR = path.join(projectRoot(), "build", "lessons");
export const DEFAULT_SITE_DIR = path.join(projectRoot(), "build", "site");
export const DEFAULT_NOTEBOOKS_DIR = path.join(projectRoot(), "notebooks");
/** What the site knows of each lesson, kept between builds (a run of `--only 03` keeps the
 * backend and scale of the other lessons' earlier runs). */
export const MANIFEST_FILE = "site.json";
/** Layout of the pages; a site built with another one is re-exported in full (2: plotly.js and
 * JupyterLab's CSS are shared files in assets/ instead of a copy in every page). */
export const SITE_FORMAT = 2;

export interface BuildSiteArgs {
  /** Executed notebooks (the runner's --out); default build/lessons. */
  lessonsDir?: string;
  /** Where the site goes; default build/site. */
  outDir?: string;
  /** Source notebooks, so lessons not run yet are still listed; default notebooks/ (null: none). */
  notebooksDir?: string | null;
  /** The runner's results for the lessons it just ran (backend, seconds, ok, scale). */
  runs?: SiteRun[];
  /** Python with nbconvert; default the Jupyter Python kernel-setup finds. */
  python?: string;
  /** Re-export pages whose notebook has not changed (default false). */
  force?: boolean;
  /** Models exported for the playground (tl.exportPlaygroundModels); default <cache>/playground
   * (null: none, the page says which lesson to run). */
  playgroundDir?: string | null;
}

export interface SiteResult {
  /** Absolute path of index.html. */
  index: string;
  /** Absolute paths of the lesson pages, one per executed notebook. */
  pages: string[];
  lessons: LessonInfo[];
  /** Whether formulas render (a local MathJax was found and copied). */
  mathjax: boolean;
  /** playground.html and the models it runs. */
  playground: PlaygroundPageResult;
}

interface ManifestEntry extends LessonInfo {
  /** mtime of the executed notebook the entry describes. */
  notebookMtimeMs: number | null;
}

interface Manifest {
  /** SITE_FORMAT of the build that wrote it (absent before format 2). */
  format?: number;
  generatedAt: string;
  lessons: ManifestEntry[];
}

function readManifest(file: string): Manifest | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch {
    return null;
  }
}

/** A source notebook, or null when it does not parse (the runner reports that lesson as failed). */
function readSource(file: string): Notebook | null {
  try {
    return readNotebook(file);
  } catch {
    return null;
  }
}

function listIfExists(dir: string | null | undefined): string[] {
  return dir && fs.existsSync(dir) ? listLessons(dir) : [];
}

/** Builds (or updates) the site; returns what it wrote. Throws when nbconvert fails. */
export function buildSite(args: BuildSiteArgs = {}): SiteResult {
  const lessonsDir = path.resolve(args.lessonsDir ?? DEFAULT_LESSONS_DIR);
  const outDir = path.resolve(args.outDir ?? DEFAULT_SITE_DIR);
  const notebooksDir = args.notebooksDir === undefined ? DEFAULT_NOTEBOOKS_DIR : args.notebooksDir;
  fs.mkdirSync(outDir, { recursive: true });

  const executed = listIfExists(lessonsDir);
  const sources = listIfExists(notebooksDir);
  const previous = readManifest(path.join(outDir, MANIFEST_FILE));
  const runs = new Map((args.runs ?? []).map((r) => [path.basename(r.name), r]));

  // Every lesson by file name: executed copies, plus source notebooks that have not run.
  const files = [...new Set([...executed, ...sources].map((f) => path.basename(f)))].sort();
  const entries: ManifestEntry[] = files.map((file) => {
    const exe = executed.find((f) => path.basename(f) === file) ?? null;
    const src = sources.find((f) => path.basename(f) === file) ?? null;
    const mtime = exe ? fs.statSync(exe).mtimeMs : null;
    // lessonInfo reads the source notebook only for a lesson that has not run; one that does not
    // parse is listed by its file name (and as failed when this run tried it).
    const info = lessonInfo(file, src && !exe ? readSource(src) : null, exe ? readNotebook(exe) : null, runs.get(file));
    const before = previous?.lessons.find((l) => l.file === file && l.notebookMtimeMs === mtime);
    // The runner's numbers of an earlier build of this same executed copy beat inference.
    const merged: LessonInfo =
      exe && !runs.has(file) && before
        ? {
            ...info,
            backend: before.backend ?? info.backend,
            scale: before.scale ?? info.scale,
            seconds: before.seconds ?? info.seconds,
            ok: before.ok ?? info.ok,
          }
        : info;
    return { ...merged, notebookMtimeMs: mtime };
  });

  // Pages: export the notebooks that changed since their page was written (all of them after a
  // change of page layout, and any whose shared files are gone).
  const relayout = previous?.format !== SITE_FORMAT;
  const stale = executed.filter((nb) => {
    const page = path.join(outDir, path.basename(nb).replace(/\.ipynb$/, ".html"));
    if (args.force || relayout || !fs.existsSync(page) || fs.statSync(page).mtimeMs < fs.statSync(nb).mtimeMs)
      return true;
    return pageAssets(fs.readFileSync(page, "utf8")).some((s) => !fs.existsSync(path.join(outDir, s)));
  });
  const mathjaxUrl = installMathJax(outDir);
  exportHtml({ notebooks: stale, outDir, mathjaxUrl, python: args.python });
  // A page whose executed notebook is gone would be listed nowhere: remove it.
  const keep = new Set(executed.map((f) => path.basename(f).replace(/\.ipynb$/, ".html")));
  for (const f of fs.readdirSync(outDir)) {
    if (f.endsWith(".html") && lessonId(f.replace(/\.html$/, ".ipynb")) !== null && !keep.has(f))
      fs.rmSync(path.join(outDir, f));
  }

  // Shared files no page loads any more (an older plotly, another nbconvert's CSS): remove them.
  const used = new Set(
    [...keep]
      .filter((f) => fs.existsSync(path.join(outDir, f)))
      .flatMap((f) => pageAssets(fs.readFileSync(path.join(outDir, f), "utf8"))),
  );
  const assets = path.join(outDir, ASSETS_DIR);
  for (const f of fs.existsSync(assets) ? fs.readdirSync(assets) : []) {
    if (SHARED_ASSET.test(f) && !used.has(`${ASSETS_DIR}/${f}`)) fs.rmSync(path.join(assets, f));
  }

  const generatedAt = new Date().toISOString();
  const indexFile = path.join(outDir, "index.html");
  const lessons: LessonInfo[] = entries.map(({ notebookMtimeMs: _mtime, ...l }) => l);
  const playground = installPlayground({ outDir, playgroundDir: args.playgroundDir });
  fs.writeFileSync(indexFile, withPlaygroundLink(renderIndex({ lessons, generatedAt }), playground));
  fs.writeFileSync(
    path.join(outDir, MANIFEST_FILE),
    JSON.stringify({ format: SITE_FORMAT, generatedAt, lessons: entries } satisfies Manifest, null, 1) + "\n",
  );
  return {
    index: indexFile,
    pages: executed.map((nb) => path.join(outDir, path.basename(nb).replace(/\.ipynb$/, ".html"))),
    lessons,
    mathjax: mathjaxUrl !== "none",
    playground,
  };
}
