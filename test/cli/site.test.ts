// The site builder: lesson info read from notebooks (title, goal, backend, seconds, scale, ok),
// the index page, the local MathJax copy, the plotly bundle (packed in executed notebooks by the
// runner, one shared file for the site) and shared stylesheets, and buildSite end to end on
// hand-made executed notebooks through the real nbconvert (offline template, pages kept/removed,
// run info merged, plotly and JupyterLab's CSS loaded from assets/).
import fs from "fs";
import os from "os";
import path from "path";
import { afterAll, describe, expect, it } from "vitest";
import type { Notebook, NotebookCell, NotebookOutput } from "../../src/cli/runner/notebook";
import { buildSite, MANIFEST_FILE } from "../../src/cli/site/build";
import {
  findMathJax,
  installMathJax,
  MATHJAX_PARTS,
  pageAssets,
  shareLargeStyles,
  sitePageNotebook,
} from "../../src/cli/site/export";
import {
  bundleScript,
  findPlotlyBundle,
  packedBundleHtml,
  packPlotlyBundles,
} from "../../src/cli/runner/plotly-bundle";
import { joinText } from "../../src/cli/runner/notebook";
import { newPlotId, plotHtml, plotlyBundle, plotlyBundleHtml } from "../../src/show/plotly";
import { renderIndex } from "../../src/cli/site/index-page";
import { formatSeconds } from "../../src/core/format";
import {
  executedOk,
  executionSeconds,
  lessonInfo,
  plainText,
  printedScale,
  titleAndGoal,
} from "../../src/cli/site/info";

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tl-site-"));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function md(source: string): NotebookCell {
  return { cell_type: "markdown", source, metadata: {} };
}

function code(
  source: string,
  outputs: NotebookCell["outputs"] = [],
  seconds = 1.5,
  count: number | null = 1,
): NotebookCell {
  const start = Date.parse("2026-01-01T10:00:00Z");
  return {
    cell_type: "code",
    source,
    outputs,
    execution_count: count,
    metadata:
      count === null
        ? {}
        : {
            execution: {
              "iopub.status.busy": new Date(start).toISOString(),
              "iopub.status.idle": new Date(start + seconds * 1000).toISOString(),
            },
          },
  };
}

function notebook(cells: NotebookCell[]): Notebook {
  return {
    cells,
    metadata: {
      kernelspec: { name: "transfer-lab", display_name: "TypeScript (transfer-lab)", language: "typescript" },
      language_info: { name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 4,
  };
}

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/** A display_data output as nbformat wants it (with its metadata). */
function display(data: Record<string, string>): NotebookOutput {
  return { output_type: "display_data", data, metadata: {} } as NotebookOutput;
}

/** An executed lesson: a title with a goal, the backend line, a plot-like HTML output and a PNG. */
function executedLesson(id: string, title: string): Notebook {
  return notebook([
    md(
      `# ${id} — ${title}\n\n**Goal.** Show that ${title.toLowerCase()} works. More text.\n\nYou will learn:\n- one thing`,
    ),
    code("setup", [{ output_type: "stream", name: "stdout", text: "backend: cpu\n  why: test\n" }], 2),
    code(
      "plot",
      [display({ "text/html": `<div class="transfer-lab-plot" id="p${id}">plot ${id}</div>`, "text/plain": "" })],
      3,
    ),
    code("img", [display({ "image/png": PNG_1PX, "text/plain": "<image>" })], 0.5),
    md("Formula $W' = W + BA$."),
  ]);
}

function writeNb(dir: string, file: string, nb: Notebook): string {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, file);
  fs.writeFileSync(p, JSON.stringify(nb, null, 1));
  return p;
}

describe("lesson info from notebooks", () => {
  it("reads the title and the goal sentence, in the lessons' formats", () => {
    expect(titleAndGoal(executedLesson("03", "Fine-tuning"), "x")).toEqual({
      title: "03 — Fine-tuning",
      goal: "Show that fine-tuning works. More text.",
    });
    expect(
      titleAndGoal(
        notebook([md("# 01 — Greedy\n\nGoal: reproduce the *2006* problem of deep sigmoid networks. Then fix it.")]),
        "x",
      ).goal,
    ).toBe("reproduce the 2006 problem of deep sigmoid networks.");
    expect(
      titleAndGoal(
        notebook([md("# 03\n\n**Goal.** Lesson 02 froze the base. Here every layer may move, and you pick which.")]),
        "x",
      ).goal,
    ).toBe("Lesson 02 froze the base. Here every layer may move, and you pick which.");
    expect(plainText("a matrix $W$ and $\\Delta W = \\frac{\\alpha}{r} BA$")).toBe("a matrix W and ΔW = α/r BA");
    expect(
      titleAndGoal(
        notebook([md("# T\n\nA first paragraph without any label at all, long enough. Second sentence.")]),
        "x",
      ).goal,
    ).toBe("A first paragraph without any label at all, long enough.");
    expect(titleAndGoal(notebook([]), "fallback")).toEqual({ title: "fallback", goal: "" });
    expect(plainText("**bold** and `code` and [link](http://x)")).toBe("bold and code and link");
  });

  it("reads seconds from nbclient's timing, success, and a printed scale", () => {
    const nb = executedLesson("02", "Features");
    expect(executionSeconds(nb)).toBeCloseTo(5.5, 6);
    expect(executedOk(nb)).toBe(true);
    expect(printedScale(nb)).toBeNull();
    nb.cells.push(code("console.log(scale)", [{ output_type: "stream", name: "stdout", text: "scale: smoke\n" }]));
    expect(printedScale(nb)).toBe("smoke");
    // An error where the lesson expects one (tagged raises-exception) is not a failure; elsewhere it is.
    const error = { output_type: "error" as const, ename: "RangeError", evalue: "freezeRatio: got 1.5", traceback: [] };
    const expected = code("tl.freezeRatio(model, 1.5)", [error]);
    expected.metadata.tags = ["raises-exception"];
    nb.cells.push(expected);
    expect(executedOk(nb)).toBe(true);
    nb.cells.push(code("oops()", [error]));
    expect(executedOk(nb)).toBe(false);
    nb.cells.pop();
    nb.cells.push(code("not run", [], 0, null));
    expect(executedOk(nb)).toBe(false);
    expect(executionSeconds(notebook([code("x", [], 1, null)]))).toBeNull();
  });

  it("prefers the runner's numbers, and lists a lesson that did not run", () => {
    const exe = executedLesson("02", "Features");
    const info = lessonInfo("02-features.ipynb", null, exe, {
      name: "02-features.ipynb",
      seconds: 42,
      backend: "wasm",
      ok: true,
      scale: "default",
    });
    expect(info).toMatchObject({
      id: "02",
      page: "02-features.html",
      backend: "wasm",
      scale: "default",
      seconds: 42,
      ok: true,
    });
    expect(lessonInfo("02-features.ipynb", null, exe)).toMatchObject({
      backend: "cpu",
      seconds: 5.5,
      ok: true,
      scale: null,
    });
    expect(lessonInfo("05-vit.ipynb", executedLesson("05", "ViT"), null)).toMatchObject({
      page: null,
      ok: null,
      title: "05 — ViT",
    });
  });
});

describe("index page", () => {
  it("links executed lessons, escapes text and shows run info", () => {
    const html = renderIndex({
      generatedAt: "2026-01-01T00:00:00Z",
      lessons: [
        {
          file: "01-a.ipynb",
          id: "01",
          title: "01 — A <b>",
          goal: "Goal & more",
          page: "01-a.html",
          backend: "cpu",
          scale: "smoke",
          seconds: 75,
          ok: true,
          executedAt: null,
        },
        {
          file: "02-b.ipynb",
          id: "02",
          title: "02 — B",
          goal: "g",
          page: null,
          backend: null,
          scale: null,
          seconds: null,
          ok: null,
          executedAt: null,
        },
        {
          file: "03-c.ipynb",
          id: "03",
          title: "03 — C",
          goal: "g",
          page: "03-c.html",
          backend: "wasm",
          scale: "default",
          seconds: 5,
          ok: false,
          executedAt: null,
        },
      ],
    });
    expect(html).toContain('<a href="01-a.html">01 — A &lt;b&gt;</a>');
    expect(html).toContain("Goal &amp; more");
    expect(html).toContain("1 min 15 s");
    expect(html).toContain("not run");
    expect(html).toContain('<span class="fail">failed</span>');
    expect(html).toContain("2 of 3 lessons executed, 1 min 20 s in all");
    expect(html).not.toContain("<script");
    expect(formatSeconds(12.34)).toBe("12.3 s");
    expect(formatSeconds(3725)).toBe("1 h 02 min");
  });
});

describe("local MathJax", () => {
  it("copies the needed parts once, or returns 'none' when there is no local MathJax", () => {
    const src = tmp();
    for (const part of MATHJAX_PARTS) {
      const p = path.join(src, part);
      if (path.extname(part)) {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, "// js");
      } else {
        fs.mkdirSync(p, { recursive: true });
        fs.writeFileSync(path.join(p, "a.js"), "// js");
      }
    }
    expect(findMathJax([tmp(), src])).toBe(src);
    const site = tmp();
    expect(installMathJax(site, [src])).toBe("assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe");
    expect(fs.existsSync(path.join(site, "assets/mathjax/jax/input/TeX/a.js"))).toBe(true);
    expect(installMathJax(tmp(), [tmp()])).toBe("none");
  });
});

describe("buildSite", () => {
  it("exports one offline page per executed lesson and an index of all lessons", () => {
    const root = tmp();
    const lessons = path.join(root, "lessons");
    const sources = path.join(root, "notebooks");
    const out = path.join(root, "site");
    for (const [id, t] of [
      ["01", "Greedy"],
      ["02", "Features"],
      ["03", "Freezing"],
    ])
      writeNb(sources, `${id}-${t.toLowerCase()}.ipynb`, executedLesson(id, t));
    writeNb(lessons, "01-greedy.ipynb", executedLesson("01", "Greedy"));
    writeNb(lessons, "02-features.ipynb", executedLesson("02", "Features"));

    const site = buildSite({
      lessonsDir: lessons,
      outDir: out,
      notebooksDir: sources,
      runs: [{ name: "01-greedy.ipynb", seconds: 12, backend: "wasm", ok: true, scale: "default" }],
    });
    expect(site.pages.map((p) => path.basename(p))).toEqual(["01-greedy.html", "02-features.html"]);
    expect(site.lessons.map((l) => [l.id, l.ok, l.scale])).toEqual([
      ["01", true, "default"],
      ["02", true, null],
      ["03", null, null],
    ]);

    const page = fs.readFileSync(site.pages[0], "utf8");
    expect(page).toContain('class="transfer-lab-plot" id="p01"');
    expect(page).toContain("data:image/png;base64,");
    expect(page).toContain('<a href="index.html">');
    expect(page).not.toMatch(/require\.min\.js|cdnjs|cdn\.jsdelivr|unpkg/);
    if (findMathJax()) expect(page).toContain('src="assets/mathjax/MathJax.js');
    else expect(page).not.toContain("MathJax.js");
    // plotly.js and JupyterLab's stylesheet: one shared copy each, loaded by every page
    const assets = pageAssets(page);
    expect(assets.map((a) => a.replace(/-[0-9a-f]{12}\./, "-#."))).toEqual([
      `assets/plotly-${plotlyBundle().version}-#.js`,
      "assets/style-#.css",
    ]);
    expect(pageAssets(fs.readFileSync(site.pages[1], "utf8"))).toEqual(assets);
    for (const a of assets) expect(fs.existsSync(path.join(out, a))).toBe(true);
    expect(fs.statSync(site.pages[0]).size).toBeLessThan(400_000);
    expect(page).not.toContain(plotlyBundle().text.slice(0, 200));

    const index = fs.readFileSync(site.index, "utf8");
    expect(index).toContain('<a href="01-greedy.html">01 — Greedy</a>');
    expect(index).toContain("Show that features works. More text.");
    expect(index).toMatch(/not run/);

    // A later build for lesson 02 only keeps lesson 01's scale from the manifest, and drops the
    // page of a lesson whose executed copy is gone.
    fs.rmSync(path.join(lessons, "02-features.ipynb"));
    const again = buildSite({ lessonsDir: lessons, outDir: out, notebooksDir: sources });
    expect(again.lessons.find((l) => l.id === "01")).toMatchObject({ scale: "default", backend: "wasm", seconds: 12 });
    expect(fs.existsSync(path.join(out, "02-features.html"))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(out, MANIFEST_FILE), "utf8")).lessons).toHaveLength(3);
    // A page whose shared file is gone is exported again; a shared file no page loads is removed.
    fs.rmSync(path.join(out, assets[0]));
    fs.writeFileSync(path.join(out, "assets", "plotly-0.0.1-0123456789ab.js"), "old");
    buildSite({ lessonsDir: lessons, outDir: out, notebooksDir: sources });
    expect(fs.existsSync(path.join(out, assets[0]))).toBe(true);
    expect(fs.existsSync(path.join(out, "assets", "plotly-0.0.1-0123456789ab.js"))).toBe(false);
  }, 120_000);
});

/** An executed lesson as the kernel leaves it: the first plot's output carries plotly.js. */
function lessonWithBundle(): Notebook {
  const spec = { data: [{ type: "scatter", x: [1, 2], y: [3, 4] }], layout: {}, config: {} };
  const first = plotlyBundleHtml() + "\n" + plotHtml(spec as never, newPlotId());
  return notebook([
    md("# 09 — Bundle\n\n**Goal.** Plots that draw offline."),
    code("plot", [display({ "text/html": first, "text/plain": "" })]),
    code("plot2", [display({ "text/html": plotHtml(spec as never, newPlotId()), "text/plain": "" })]),
  ]);
}
const htmlOf = (nb: Notebook, cell: number) => joinText(nb.cells[cell].outputs![0].data!["text/html"]);

describe("the plotly bundle in executed notebooks", () => {
  it("finds the bundle the kernel embeds, and only the bundle", () => {
    const html = htmlOf(lessonWithBundle(), 1);
    const found = findPlotlyBundle(html)!;
    expect(found).toMatchObject({ start: 0, version: plotlyBundle().version, packed: false });
    expect(html.slice(found.end)).toMatch(/^<div id="tl-plot-/);
    expect(bundleScript(html, found)).toContain(plotlyBundle().text.slice(0, 200));
    expect(findPlotlyBundle(htmlOf(lessonWithBundle(), 2))).toBeNull();
  });
  it("packs it (gzip+base64) to under half its size; unpacking gives the same script", () => {
    const nb = lessonWithBundle();
    const before = JSON.stringify(nb).length;
    const script = bundleScript(htmlOf(nb, 1), findPlotlyBundle(htmlOf(nb, 1))!);
    expect(packPlotlyBundles(nb)).toBe(1);
    expect(packPlotlyBundles(nb)).toBe(0); // already packed
    const after = JSON.stringify(nb).length;
    expect(after).toBeLessThan(before * 0.45);
    const html = htmlOf(nb, 1);
    const found = findPlotlyBundle(html)!;
    expect(found.packed).toBe(true);
    expect(bundleScript(html, found)).toBe(script);
    expect(html).toContain("DecompressionStream");
    expect(html.slice(found.end)).toMatch(/^<div id="tl-plot-/);
    // nbformat's layout: a list of lines
    expect(Array.isArray(nb.cells[1].outputs![0].data!["text/html"])).toBe(true);
    expect(packedBundleHtml("1;", "x")).toMatch(/^<script type="text\/javascript">\/\* plotly\.js x /);
  });
});

describe("site pages share one plotly.js and the big stylesheets", () => {
  it("takes the bundle (inline or packed) out of the outputs into assets/, once", () => {
    const site = tmp();
    const raw = lessonWithBundle();
    const packed = lessonWithBundle();
    packPlotlyBundles(packed);
    const a = sitePageNotebook(raw, site);
    const b = sitePageNotebook(packed, site);
    expect(a.scripts).toHaveLength(1);
    expect(b.scripts).toEqual(a.scripts);
    expect(a.scripts[0]).toMatch(/^assets\/plotly-\d+\.\d+\.\d+-[0-9a-f]{12}\.js$/);
    expect(fs.readdirSync(path.join(site, "assets"))).toEqual([path.basename(a.scripts[0])]);
    expect(fs.readFileSync(path.join(site, a.scripts[0]), "utf8")).toContain(plotlyBundle().text.slice(0, 200));
    for (const page of [a.nb, b.nb]) {
      expect(htmlOf(page, 1)).toMatch(/^<div id="tl-plot-/);
      expect(page.metadata.transfer_lab).toEqual({ site_scripts: a.scripts });
    }
    expect(findPlotlyBundle(htmlOf(raw, 1))).not.toBeNull(); // the input is left alone
  });
  it("gives a page with plots but no bundle the installed plotly.js, and a page without plots none", () => {
    const site = tmp();
    const cleared = lessonWithBundle();
    cleared.cells.splice(1, 1);
    expect(sitePageNotebook(cleared, site).scripts[0]).toMatch(/^assets\/plotly-/);
    expect(sitePageNotebook(notebook([md("# T")]), site).scripts).toEqual([]);
  });
  it("moves big inline stylesheets with only data: URLs to one shared file", () => {
    const site = tmp();
    const big = `.a{background:url(data:image/png;base64,AAAA)}${" ".repeat(40_000)}`;
    const page = `<head><style type="text/css">${big}</style><style type="text/css">.small{}</style><style type="text/css">.r{background:url(img.png)}${" ".repeat(40_000)}</style></head>`;
    const out = shareLargeStyles(page, site);
    const assets = pageAssets(out);
    expect(assets).toHaveLength(1);
    expect(assets[0]).toMatch(/^assets\/style-[0-9a-f]{12}\.css$/);
    expect(fs.readFileSync(path.join(site, assets[0]), "utf8")).toBe(big);
    expect(out).toContain('<style type="text/css">.small{}</style>');
    expect(out).toContain("url(img.png)"); // a relative url would change meaning: kept inline
    expect(shareLargeStyles(page, site)).toBe(out);
  });
});

describe("a lesson whose notebook did not parse", () => {
  it("is listed as failed, by its file name, when the run tried it", () => {
    const info = lessonInfo("07-broken.ipynb", null, null, {
      name: "07-broken.ipynb",
      seconds: 0,
      backend: null,
      ok: false,
      scale: "smoke",
    });
    expect(info).toMatchObject({ id: "07", title: "07-broken", page: null, ok: false, scale: "smoke" });
    expect(info.goal).toContain("could not be read");
    expect(lessonInfo("07-broken.ipynb", null, null).ok).toBeNull();
  });
});
