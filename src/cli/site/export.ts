// Exports executed lesson notebooks to HTML pages with Jupyter's own nbconvert HTML exporter
// (JupyterLab look, through our offline template in template/), and copies the part of a local
// MathJax 2 that those pages need, so formulas render with no network.
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { requireJupyter } from "../jupyter";
import { projectRoot } from "../../core/paths";

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
/** Seconds nbconvert may take for all pages (the plotly bundle makes each page ~12 MB). */
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

/** Runs nbconvert once for all notebooks; returns the page path of each, in order. */
export function exportHtml(args: ExportHtmlArgs): string[] {
  if (args.notebooks.length === 0) return [];
  const python = args.python ?? requireJupyter().python;
  fs.mkdirSync(args.outDir, { recursive: true });
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
    ...args.notebooks.map((n) => path.resolve(n)),
  ];
  const res = spawnSync(python, argv, {
    encoding: "utf8",
    timeout: (args.timeoutSeconds ?? DEFAULT_EXPORT_TIMEOUT_S) * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
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
  return pages;
}
