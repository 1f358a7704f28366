// The site in a real browser: runs every lesson at smoke scale through the kernel (or reuses the
// executed notebooks in $TRANSFER_LAB_SITE_LESSONS), builds the site with buildSite, serves it on
// 127.0.0.1 and opens every page in Debian's headless Chromium (playwright-core, executablePath):
// no console errors, nothing fetched from outside, every plotly chart drawn with data traces,
// every image decoded; a screenshot per page goes to build/screenshots/. Every page loads the one
// shared plotly.js of the site. Each executed notebook's own outputs (its plotly bundle packed by
// the runner) are opened too, so a notebook draws offline without the site.
import fs from "fs";
import path from "path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installKernelSpec, PROJECT_ROOT, requireJupyter } from "../../src/cli/jupyter";
import { listLessons, readNotebook } from "../../src/cli/runner/notebook";
import { findPlotlyBundle } from "../../src/cli/runner/plotly-bundle";
import { pageAssets } from "../../src/cli/site/export";
import { formatResult, runLessons, type LessonResult } from "../../src/cli/runner/run";
import { buildSite, type SiteResult } from "../../src/cli/site/build";
import { checkPage, launchBrowser, outputsPage, serveDir, type PageReport, type Served } from "./site-check";

const NOTEBOOKS = path.join(PROJECT_ROOT, "notebooks");
const WORK = path.join(PROJECT_ROOT, "build", "browser-test");
const SCREENSHOTS = path.join(PROJECT_ROOT, "build", "screenshots");
/** Executed notebooks to reuse (e.g. build/notebook-tests after the notebook tests); unset: run them. */
const REUSE = process.env.TRANSFER_LAB_SITE_LESSONS;
/** Every lesson at smoke on a busy 2-core CPU, kernel starts included. */
const RUN_ALL_TIMEOUT_MS = 60 * 60_000;
const CELL_TIMEOUT_S = 8 * 60;
const PAGE_TIMEOUT_MS = 3 * 60_000;
/** Sizes a smoke run stays under: an executed lesson carries plotly.js packed (~1.9 MB), a page none. */
const MAX_EXECUTED_BYTES = 3_000_000;
const MAX_PAGE_BYTES = 1_000_000;

const lessons = listLessons(NOTEBOOKS).map((f) => path.basename(f));
let runs: LessonResult[] = [];
let site: SiteResult;
let served: Served;
let lessonsDir: string;
/** The executed notebooks' own outputs, one page each (outputsPage). */
const OUTPUTS = path.join(WORK, "outputs");
let servedOutputs: Served;
let browser: { context: BrowserContext; close(): Promise<void> } | undefined;

beforeAll(async () => {
  if (REUSE) {
    lessonsDir = path.resolve(REUSE);
  } else {
    lessonsDir = path.join(WORK, "lessons");
    fs.rmSync(lessonsDir, { recursive: true, force: true });
    const python = requireJupyter().python;
    installKernelSpec(python);
    runs = await runLessons(listLessons(NOTEBOOKS), {
      scale: "smoke",
      outDir: lessonsDir,
      python,
      cellTimeoutSeconds: CELL_TIMEOUT_S,
    });
  }
  site = buildSite({
    lessonsDir,
    outDir: path.join(WORK, "site"),
    notebooksDir: NOTEBOOKS,
    runs: runs.map((r) => ({ ...r, scale: "smoke" })),
    force: true,
  });
  // Stale screenshots of earlier runs go; the playground test (playground.browser.test.ts, maybe running
  // beside this file) keeps its own.
  for (const f of fs.existsSync(SCREENSHOTS) ? fs.readdirSync(SCREENSHOTS) : []) {
    if (!f.startsWith("playground")) fs.rmSync(path.join(SCREENSHOTS, f), { recursive: true, force: true });
  }
  served = await serveDir(path.dirname(site.index));
  fs.rmSync(OUTPUTS, { recursive: true, force: true });
  fs.mkdirSync(OUTPUTS, { recursive: true });
  for (const f of lessons) {
    const executed = path.join(lessonsDir, f);
    if (fs.existsSync(executed))
      fs.writeFileSync(path.join(OUTPUTS, f.replace(/\.ipynb$/, ".html")), outputsPage(readNotebook(executed), f));
  }
  servedOutputs = await serveDir(OUTPUTS);
  browser = await launchBrowser();
}, RUN_ALL_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  await servedOutputs?.close();
});

function expectClean(r: PageReport): void {
  expect(r.pageErrors, `${r.url}: page errors`).toEqual([]);
  expect(r.consoleErrors, `${r.url}: console errors`).toEqual([]);
  expect(r.externalRequests, `${r.url}: requests outside the site (must work offline)`).toEqual([]);
  expect(r.failedRequests, `${r.url}: failed requests`).toEqual([]);
  expect(r.brokenImages, `${r.url}: images that did not load`).toEqual([]);
  expect(fs.statSync(r.screenshot).size).toBeGreaterThan(1000);
}

describe("the lesson site in headless Chromium", () => {
  it("has lessons to show", () => {
    expect(lessons.length, `no NN-*.ipynb in ${NOTEBOOKS}`).toBeGreaterThan(0);
  });

  it("ran every lesson at smoke scale", () => {
    for (const r of runs) expect(r.ok, formatResult(r)).toBe(true);
    const pages = site.pages.map((p) => path.basename(p, ".html"));
    for (const f of lessons) expect(pages, `no page for ${f}`).toContain(path.basename(f, ".ipynb"));
  });

  it(
    "index.html lists every lesson with its goal, backend, scale and time",
    async () => {
      const report = await checkPage(browser!.context, served.url + "index.html", path.join(SCREENSHOTS, "index.png"));
      expectClean(report);
      const page = await browser!.context.newPage();
      try {
        await page.goto(served.url + "index.html");
        const rows = (await page.$$eval("tr.lesson", (trs) =>
          trs.map((tr) => ({
            href: tr.querySelector("a")?.getAttribute("href") ?? "",
            cells: Array.from(tr.querySelectorAll("td")).map((td) => (td.textContent ?? "").trim()),
          })),
        )) as { href: string; cells: string[] }[];
        // Every executed lesson is linked; a notebook added after the run is listed as "not run".
        const linked = rows.filter((r) => r.href !== "");
        expect(linked.map((r) => r.href).sort()).toEqual(site.pages.map((p) => path.basename(p)).sort());
        for (const r of rows.filter((x) => x.href === "")) expect(r.cells[5]).toBe("not run");
        for (const r of linked) {
          const [, lesson, backend, scale, time, status] = r.cells;
          expect(lesson.length, `goal of ${r.href}`).toBeGreaterThan(20);
          expect(backend).toMatch(/^(cpu|wasm|tensorflow|tensorflow-gpu|webgpu)$/);
          if (!REUSE) expect(scale).toBe("smoke");
          expect(time).toMatch(/\d+(\.\d)? s|min/);
          expect(status).toBe("ok");
        }
      } finally {
        await page.close();
      }
    },
    PAGE_TIMEOUT_MS,
  );

  it(
    "playground.html renders offline and runs the models lesson 04 exported (or says which lesson to run)",
    async () => {
      const report = await checkPage(
        browser!.context,
        served.url + "playground.html",
        path.join(SCREENSHOTS, "playground-site.png"),
      );
      expectClean(report);
      const page = await browser!.context.newPage();
      try {
        await page.goto(served.url + "playground.html");
        if (site.playground.models.length === 0) {
          expect(await page.textContent("#playground")).toContain("No models have been exported");
          return;
        }
        await page.waitForSelector('#playground[data-state="ready"], #playground[data-state="error"]', {
          timeout: PAGE_TIMEOUT_MS,
        });
        expect(await page.getAttribute("#playground", "data-state"), (await page.textContent("#status")) ?? "").toBe(
          "ready",
        );
        await page.click('.example[data-index="0"]');
        await page.waitForSelector('#playground[data-example="0"]');
        const labels = await page.$$eval(".model .predicted", (ps) => ps.map((p) => p.getAttribute("data-label")));
        expect(labels).toHaveLength(site.playground.models.length);
        for (const l of labels) expect(l).toMatch(/^\d+$/);
      } finally {
        await page.close();
      }
    },
    PAGE_TIMEOUT_MS,
  );

  it("every page loads the same one plotly.js from assets/, and pages stay small", () => {
    const shared = new Set<string>();
    for (const p of site.pages) {
      const scripts = pageAssets(fs.readFileSync(p, "utf8")).filter((a) => a.startsWith("assets/plotly-"));
      expect(scripts, `${p}: plotly.js scripts`).toHaveLength(1);
      shared.add(scripts[0]);
      expect(fs.statSync(p).size, `${p}: bytes`).toBeLessThan(MAX_PAGE_BYTES);
    }
    expect([...shared]).toHaveLength(1);
    expect(fs.statSync(path.join(path.dirname(site.index), [...shared][0])).size).toBeGreaterThan(1_000_000);
  });

  for (const file of lessons) {
    const name = file.replace(/\.ipynb$/, "");
    it(
      `${name}: the executed notebook's own outputs draw offline (plotly.js packed in it)`,
      async () => {
        const executed = path.join(lessonsDir, file);
        if (!REUSE) {
          expect(fs.statSync(executed).size, `${file}: bytes`).toBeLessThan(MAX_EXECUTED_BYTES);
          const packed = readNotebook(executed).cells.some((c) =>
            (c.outputs ?? []).some((o) => findPlotlyBundle(String(o.data?.["text/html"] ?? "")) !== null),
          );
          expect(packed, `${file}: no plotly bundle in the outputs`).toBe(true);
        }
        const report = await checkPage(
          browser!.context,
          `${servedOutputs.url}${name}.html`,
          path.join(SCREENSHOTS, "outputs", `${name}.png`),
        );
        expectClean(report);
        expect(report.plots, `${name}: no plots in the outputs`).toBeGreaterThan(0);
        expect(report.emptyPlots, `${name}: plots without plotly SVG traces`).toEqual([]);
      },
      PAGE_TIMEOUT_MS,
    );
    it(
      `${name}.html renders offline: plots drawn with data, images shown, no errors`,
      async () => {
        const report = await checkPage(
          browser!.context,
          `${served.url}${name}.html`,
          path.join(SCREENSHOTS, `${name}.png`),
        );
        expectClean(report);
        expect(report.plots, `${name}: no plots on the page`).toBeGreaterThan(0);
        expect(report.emptyPlots, `${name}: plots without plotly SVG traces`).toEqual([]);
        expect(report.plotsWithTraces).toBe(report.plots);
      },
      PAGE_TIMEOUT_MS,
    );
  }
});
