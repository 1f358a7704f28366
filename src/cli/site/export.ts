// Exports executed lesson notebooks to HTML pages with Jupyter's own nbconvert HTML exporter
// (JupyterLab look, through our offline template in template/); takes the plotly.js bundle the
// kernel embeds in each notebook out into one shared file, assets/plotly-<version>-<hash>.js,
// that every page loads; and copies the part of a local MathJax 2 that the pages need, so
// formulas render with no network.
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { requireJupyter } from "../jupyter";
import { projectRoot } from "../../core/paths";
import { plotlyBundleHtml } from "../../show/plotly";
import { joinText, readNotebook, writeNotebook, type Notebook } from "../runner/notebook";
import { bundleScript, findPlotlyBundle, mapBundleOutputs, scriptHash } from "../runner/plotly-bundle";

/** nbconvert template: lab's, minus require.js and CDN MathJax, plus links to the index. */
export const TEMPLATE_FILE = path.join(__dirname, "template", "transfer-lab.html.j2");
/** Where a MathJax 2.7 may be installed (Debian's libjs-mathjax, or the npm package). */
export const MATHJAX_SOURCES = ["/usr/share/javascript/mathjax", path.join(projectRoot(), "node_modules", "mathjax")];
/** The MathJax files nbconvert's configuration (TeX-AMS_CHTML-full, Safe) loads, ~1.5 MB. */
export const MATHJAX_PARTS = [
  "MathJax.js",
  "config/TeX-AMS_CHTML-full.js",
  "config/Safe.js",
  "extensions",
  "jax/element",
  "jax/input/TeX",
  "jax/output/CommonHTML",
  "localization/en",
  "fonts/HTML-CSS/TeX/woff",
];
/** The site folder the MathJax copy goes to, and the query nbconvert uses. */
export const MATHJAX_DIR = path.join("assets", "mathjax");
export const MATHJAX_QUERY = "?config=TeX-AMS_CHTML-full,Safe";
/** The site folder of the shared plotly.js file(s). */
export const ASSETS_DIR = "assets";
/** Where the template finds the page's scripts: nb.metadata.transfer_lab.site_scripts. */
export const SITE_METADATA_KEY = "transfer_lab";
/** Names of the files the pages share in assets/: plotly-<version>-<hash>.js, style-<hash>.css. */
export const SHARED_ASSET = /^(plotly-[\w.-]+|style)-[0-9a-f]{12}\.(js|css)$/;
/** Inline stylesheets at least this big (JupyterLab's 536 kB index.css) become one shared file. */
export const SHARED_STYLE_MIN_CHARS = 32 * 1024;
/** Seconds nbconvert may take for all pages. */
export const DEFAULT_EXPORT_TIMEOUT_S = 600;

/** The first folder of `sources` that holds a MathJax 2 with every part the pages need, or null. */
export function findMathJax(sources: string[] = MATHJAX_SOURCES): string | null {
  for (const dir of sources) {
    if (MATHJAX_PARTS.every((p) => fs.existsSync(path.join(dir, p)))) return dir;
  }
  return null;
}

/** Copies MathJax's needed parts into `<siteDir>/assets/mathjax` (once: an existing copy is kept)
 * and returns the page-relative script URL, or "none" when no local MathJax exists — formulas
 * then stay as written (`$W' = W + BA$`) instead of pulling MathJax from a CDN. */
export function installMathJax(siteDir: string, sources: string[] = MATHJAX_SOURCES): string {
  const url = `${MATHJAX_DIR.split(path.sep).join("/")}/MathJax.js${MATHJAX_QUERY}`;
  const dest = path.join(siteDir, MATHJAX_DIR);
  if (MATHJAX_PARTS.every((p) => fs.existsSync(path.join(dest, p)))) return url;
  const src = findMathJax(sources);
  if (!src) return "none";
  for (const part of MATHJAX_PARTS) {
    fs.mkdirSync(path.dirname(path.join(dest, part)), { recursive: true });
    // dereference: Debian links the fonts in from fonts-mathjax.
    fs.cpSync(path.join(src, part), path.join(dest, part), { recursive: true, dereference: true });
  }
  return url;
}

/** A copy of an executed notebook for its site page: every plotly bundle taken out of the outputs
 * (inline or packed by the runner) and written once to `<siteDir>/assets/plotly-<version>-<hash>.js`,
 * which the page loads in its head (named in metadata for the template). A notebook with plots
 * but no bundle (its bundle output was cleared) gets the installed plotly.js. Returns the copy and
 * the page-relative script URLs. */
export function sitePageNotebook(nb: Notebook, siteDir: string): { nb: Notebook; scripts: string[] } {
  const copy = structuredClone(nb);
  const scripts: string[] = [];
  const share = (script: string, version: string) => {
    const url = writeShared(siteDir, `plotly-${version.replace(/[^\w.-]/g, "_")}-${scriptHash(script)}.js`, script);
    if (!scripts.includes(url)) scripts.push(url);
  };
  mapBundleOutputs(copy, (html, found) => {
    share(bundleScript(html, found), found.version);
    return html.slice(0, found.start) + html.slice(found.end);
  });
  const hasPlots = copy.cells.some((c) =>
    (c.outputs ?? []).some((o) => joinText(o.data?.["text/html"]).includes('class="transfer-lab-plot"')),
  );
  if (scripts.length === 0 && hasPlots) {
    const html = plotlyBundleHtml();
    const found = findPlotlyBundle(html);
    if (found) share(bundleScript(html, found), found.version);
  }
  if (scripts.length > 0) {
    const meta = (copy.metadata[SITE_METADATA_KEY] ?? {}) as Record<string, unknown>;
    copy.metadata[SITE_METADATA_KEY] = { ...meta, site_scripts: scripts };
  }
  return { nb: copy, scripts };
}

/** The shared files (assets/plotly-…js, assets/style-…css) a page loads. */
export function pageAssets(pageHtml: string): string[] {
  const re =
    /<script type="text\/javascript" src="(assets\/[^"]+)"><\/script>|<link rel="stylesheet" href="(assets\/[^"]+)">/g;
  return [...pageHtml.matchAll(re)].map((m) => m[1] ?? m[2]);
}

/** Writes `text` to `<siteDir>/assets/<name>` unless it is there (names carry a content hash). */
function writeShared(siteDir: string, name: string, text: string): string {
  const dest = path.join(siteDir, ASSETS_DIR, name);
  if (!fs.existsSync(dest)) {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, dest);
  }
  return `${ASSETS_DIR}/${name}`;
}

/** A page with each big inline stylesheet (nbconvert inlines JupyterLab's CSS, 550 kB, in every
 * page) replaced, in place, by a link to one shared copy in assets/. Only stylesheets whose url()s
 * are all data: URIs move (a relative url would change meaning). */
export function shareLargeStyles(pageHtml: string, siteDir: string): string {
  return pageHtml.replace(/<style type="text\/css">([\s\S]*?)<\/style>/g, (whole, css: string) => {
    if (css.length < SHARED_STYLE_MIN_CHARS) return whole;
    const urls = [...css.matchAll(/url\(\s*["']?([^"')\s]*)/g)].map((m) => m[1]);
    if (urls.some((u) => !u.startsWith("data:"))) return whole;
    return `<link rel="stylesheet" href="${writeShared(siteDir, `style-${scriptHash(css)}.css`, css)}">`;
  });
}

export interface ExportHtmlArgs {
  /** Executed notebooks to export. */
  notebooks: string[];
  /** Folder the pages are written to (`<name>.html` per notebook). */
  outDir: string;
  /** MathJax script URL relative to the pages, or "none" (see installMathJax). */
  mathjaxUrl: string;
  /** Python with nbconvert; default the Jupyter Python kernel-setup finds. */
  python?: string;
  /** Seconds nbconvert may run (default DEFAULT_EXPORT_TIMEOUT_S). */
  timeoutSeconds?: number;
}

/** Runs nbconvert once for all notebooks (on site copies: sitePageNotebook); returns the page
 * path of each, in order. */
export function exportHtml(args: ExportHtmlArgs): string[] {
  if (args.notebooks.length === 0) return [];
  const python = args.python ?? requireJupyter().python;
  fs.mkdirSync(args.outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "transfer-lab-site-"));
  let res: ReturnType<typeof spawnSync>;
  try {
    const copies = args.notebooks.map((n) => {
      const copy = path.join(tmp, path.basename(n));
      writeNotebook(copy, sitePageNotebook(readNotebook(n), path.resolve(args.outDir)).nb);
      return copy;
    });
    const argv = [
      "-m",
      "nbconvert",
      "--to",
      "html",
      "--template-file",
      TEMPLATE_FILE,
      "--output-dir",
      path.resolve(args.outDir),
      `--HTMLExporter.mathjax_url=${args.mathjaxUrl}`,
      ...copies,
    ];
    res = spawnSync(python, argv, {
      encoding: "utf8",
      timeout: (args.timeoutSeconds ?? DEFAULT_EXPORT_TIMEOUT_S) * 1000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const tail = `${res.stderr ?? ""}`.trim().split("\n").slice(-12).join("\n");
  if (res.error) throw new Error(`exportHtml: could not run ${python} -m nbconvert: ${res.error.message}`);
  if (res.status !== 0) {
    const remedy = /No module named nbconvert/.test(tail)
      ? " (install it: sudo apt-get install -y --no-install-recommends jupyter-nbconvert, or pip install nbconvert)"
      : "";
    throw new Error(`exportHtml: nbconvert exited with ${res.status}${remedy}:\n${tail}`);
  }
  const pages = args.notebooks.map((n) => path.join(args.outDir, path.basename(n).replace(/\.ipynb$/, ".html")));
  const missing = pages.filter((p) => !fs.existsSync(p));
  if (missing.length > 0) throw new Error(`exportHtml: nbconvert wrote no page for ${missing.join(", ")}:\n${tail}`);
  for (const page of pages) {
    const html = fs.readFileSync(page, "utf8");
    const shared = shareLargeStyles(html, path.resolve(args.outDir));
    if (shared !== html) fs.writeFileSync(page, shared);
  }
  return pages;
}
