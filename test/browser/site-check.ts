// Helpers of the browser test: a static server for build/site on 127.0.0.1 (ephemeral port), a
// page of an executed notebook's own outputs (as a notebook viewer shows them), and a check of one
// page in Debian's Chromium through playwright-core — console errors, requests that left localhost
// or failed, plotly charts drawn with data traces, images decoded — plus a screenshot.
import fs from "fs";
import http from "http";
import type { AddressInfo } from "net";
import os from "os";
import path from "path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { chromiumPath, manualAptCommand } from "../../kernel-setup/ensure";
import { joinText, type Notebook } from "../../src/cli/runner/notebook";

/** $TRANSFER_LAB_CHROMIUM, else Debian's /usr/bin/chromium (what `ensure --tests` installs). */
export const CHROMIUM = chromiumPath();
/** Flags for headless Chromium on a closed-network CI machine (playwright adds --headless itself). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Milliseconds a page may take to draw every plot (each page parses a ~4.7 MB plotly bundle). */
export const DRAW_TIMEOUT_MS = 60_000;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".woff": "font/woff",
  ".otf": "font/otf",
};

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** One HTML page of an executed notebook's outputs in cell order — HTML (scripts included, so
 * the plotly bundle the runner packed must unpack and draw), PNGs, streams — with no template:
 * what a notebook viewer needs to show the lesson offline. */
export function outputsPage(nb: Notebook, title: string): string {
  const parts: string[] = [];
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const data = out.data ?? {};
      if (data["text/html"] !== undefined) parts.push(joinText(data["text/html"]));
      else if (typeof data["image/png"] === "string")
        parts.push(`<img alt="" src="data:image/png;base64,${(data["image/png"] as string).trim()}">`);
      else if (out.output_type === "stream") parts.push(`<pre>${escape(joinText(out.text))}</pre>`);
      else if (data["text/plain"] !== undefined) parts.push(`<pre>${escape(joinText(data["text/plain"]))}</pre>`);
    }
  }
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>\n${parts.join("\n")}\n</body></html>\n`;
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves `root` read-only on 127.0.0.1 at a free port. */
export function serveDir(root: string): Promise<Served> {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = path.join(base, rel);
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${rel}`);
        return;
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

/** A fresh-profile headless Chromium (never a downloaded browser); close() removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `browser test: ${CHROMIUM} not found: \`npx tsx kernel-setup/main.ts ensure --tests\` (npm's pretest) installs it as root or with passwordless sudo; else run \`${manualAptCommand(["chromium"])}\`, or set TRANSFER_LAB_CHROMIUM`,
    );
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "transfer-lab-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    offline: false,
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface PageReport {
  url: string;
  consoleErrors: string[];
  pageErrors: string[];
  /** Requests to anything but the local server (the site must work offline). */
  externalRequests: string[];
  /** Local requests that failed or answered >= 400. */
  failedRequests: string[];
  /** transfer-lab plot containers on the page. */
  plots: number;
  /** Of those, drawn by plotly with at least one data trace. */
  plotsWithTraces: number;
  /** Plot containers that stayed empty or were drawn without traces (their ids). */
  emptyPlots: string[];
  images: number;
  /** Images that did not decode (naturalWidth 0). */
  brokenImages: string[];
  screenshot: string;
}

// Browser-side code is passed as source text: the test transpiler (esbuild) would otherwise wrap
// named functions in a `__name` helper that does not exist in the page.
const PLOT_STATE_JS = `(() => {
  const sel = ".scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm, .boxlayer .trace, .imagelayer .im";
  const plots = Array.from(document.querySelectorAll(".transfer-lab-plot"));
  const empty = plots.filter((el) => !(el.querySelector(".main-svg") && el.querySelectorAll(sel).length > 0)).map((el) => el.id);
  return { total: plots.length, empty };
})()`;
const PLOTS_SETTLED_JS = `Array.from(document.querySelectorAll(".transfer-lab-plot")).every((el) => el.querySelector(".main-svg") !== null || (el.textContent || "").length > 0)`;
const MATHJAX_IDLE_JS = `!(window.MathJax && window.MathJax.Hub && window.MathJax.Hub.queue) || (window.MathJax.Hub.queue.pending === 0 && window.MathJax.Hub.queue.running === 0)`;
const IMAGES_JS = `Array.from(document.images).map((img) => ({ ok: img.complete && img.naturalWidth > 0, src: img.src.slice(0, 80) }))`;

function plotState(page: Page): Promise<{ total: number; empty: string[] }> {
  return page.evaluate(PLOT_STATE_JS) as Promise<{ total: number; empty: string[] }>;
}

/** Opens `url`, waits for every plot to draw (or DRAW_TIMEOUT_MS), and reports; saves a full-page
 * screenshot to `screenshot`. Requests outside `origin` are blocked and reported. */
export async function checkPage(context: BrowserContext, url: string, screenshot: string): Promise<PageReport> {
  const origin = new URL(url).origin;
  const page = await context.newPage();
  const report: PageReport = {
    url,
    consoleErrors: [],
    pageErrors: [],
    externalRequests: [],
    failedRequests: [],
    plots: 0,
    plotsWithTraces: 0,
    emptyPlots: [],
    images: 0,
    brokenImages: [],
    screenshot,
  };
  page.on("console", (m) => {
    if (m.type() === "error") report.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => report.pageErrors.push(e.message));
  page.on("requestfailed", (r) => {
    if (r.url().startsWith(origin)) report.failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? "failed"}`);
  });
  page.on("response", (r) => {
    if (r.url().startsWith(origin) && r.status() >= 400) report.failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
  });
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith("data:") || u.startsWith("blob:")) return route.continue();
    report.externalRequests.push(u);
    return route.abort();
  });
  try {
    await page.goto(url, { waitUntil: "load", timeout: DRAW_TIMEOUT_MS });
    await page
      .waitForFunction(PLOTS_SETTLED_JS, undefined, { timeout: DRAW_TIMEOUT_MS, polling: 250 })
      .catch(() => undefined); // reported below as empty plots
    // MathJax typesets after load; let it finish so the screenshot shows formulas.
    await page.waitForFunction(MATHJAX_IDLE_JS, undefined, { timeout: 20_000, polling: 250 }).catch(() => undefined);
    const plots = await plotState(page);
    report.plots = plots.total;
    report.emptyPlots = plots.empty;
    report.plotsWithTraces = plots.total - plots.empty.length;
    const imgs = (await page.evaluate(IMAGES_JS)) as { ok: boolean; src: string }[];
    report.images = imgs.length;
    report.brokenImages = imgs.filter((i) => !i.ok).map((i) => i.src);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await page.close();
  }
  return report;
}
