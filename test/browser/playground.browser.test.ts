// The Playground page in a real browser: trains tiny models here (the source MLP on smoke-size task A,
// LoRA merged into it and a full fine-tune on a few task-B labels), exports them with
// exportPlaygroundModels, builds a site with buildSite, and opens playground.html in Debian's headless
// Chromium (playwright-core, executablePath) over a local server and from file://: a digit drawn with
// mouse events gets class probabilities from every model (summing to 1), a picked task-B test image
// gets the label the models predicted for it in Node, nothing is fetched from outside the machine.
// The screenshot goes to build/screenshots/playground.png. Skipped, saying why, without Chromium.
import * as tf from "@tensorflow/tfjs";
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLora, mergeLora } from "../../src/adapt/lora/inject";
import { PROJECT_ROOT } from "../../src/cli/jupyter";
import { buildSite, type SiteResult } from "../../src/cli/site/build";
import { PLAYGROUND_LESSON_COMMAND } from "../../src/cli/site/playground";
import { sourceTasks } from "../../src/experiments/source";
import { exportPlaygroundModels, type PlaygroundExport } from "../../src/experiments/playground";
import { buildSourceModel } from "../../src/models/mlp";
import type { PlaygroundManifest } from "../../src/store/playground";
import { fit } from "../../src/train/fit";
import { CHROMIUM, launchBrowser, serveDir, type Served } from "./site-check";

const WORK = path.join(PROJECT_ROOT, "build", "playground-test");
const SCREENSHOT = path.join(PROJECT_ROOT, "build", "screenshots", "playground.png");
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const SKIP_REASON = `skipped: no Chromium at ${CHROMIUM} (\`npx tsx kernel-setup/main.ts ensure --tests\` installs it, or set TRANSFER_LAB_CHROMIUM)`;
const READY_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 5 * 60_000;

if (!HAVE_CHROMIUM) console.warn(`playground browser test ${SKIP_REASON}`);

let exported: PlaygroundExport;
let manifest: PlaygroundManifest;
let site: SiteResult;
let emptySite: SiteResult;
let served: Served;
let browser: { context: BrowserContext; close(): Promise<void> } | undefined;

/** Pages' console errors, uncaught errors and requests that left the machine, per page. */
interface Watch {
  errors: string[];
  external: string[];
}

async function openPage(url: string, allowed: (u: string) => boolean): Promise<{ page: Page; watch: Watch }> {
  const page = await browser!.context.newPage();
  const watch: Watch = { errors: [], external: [] };
  page.on("console", (m) => {
    if (m.type() === "error") watch.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => watch.errors.push(`page: ${e.message}`));
  page.on("request", (r) => {
    if (!allowed(r.url())) watch.external.push(r.url());
  });
  await page.route("**/*", (route) => (allowed(route.request().url()) ? route.continue() : route.abort()));
  await page.goto(url, { waitUntil: "load", timeout: READY_TIMEOUT_MS });
  return { page, watch };
}

const local = (origin: string) => (u: string) => u.startsWith(origin) || u.startsWith("data:") || u.startsWith("blob:");
const fileOnly = (u: string) => u.startsWith("file:") || u.startsWith("data:") || u.startsWith("blob:");

async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector('#playground[data-state="ready"], #playground[data-state="error"]', {
    timeout: READY_TIMEOUT_MS,
  });
  const state = await page.getAttribute("#playground", "data-state");
  expect(state, (await page.textContent("#status")) ?? "").toBe("ready");
}

interface ModelView {
  id: string;
  label: string;
  text: string;
  probs: number[];
  pcts: string[];
}

async function modelViews(page: Page): Promise<ModelView[]> {
  return page.$$eval(".model", (panels) =>
    panels.map((p) => ({
      id: p.getAttribute("data-model-id") ?? "",
      label: p.querySelector(".predicted")?.getAttribute("data-label") ?? "",
      text: (p.querySelector(".predicted")?.textContent ?? "").trim(),
      probs: Array.from(p.querySelectorAll(".bar-row")).map((r) => Number(r.getAttribute("data-p"))),
      pcts: Array.from(p.querySelectorAll(".bar-row .pct")).map((s) => (s.textContent ?? "").trim()),
    })),
  );
}

/** Draws a "7" on the drawing canvas with mouse events. */
async function drawSeven(page: Page): Promise<void> {
  const box = (await page.locator("#draw").boundingBox())!;
  const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(0.3, 0.25));
  await page.mouse.down();
  await page.mouse.move(...at(0.7, 0.25), { steps: 12 });
  await page.mouse.move(...at(0.45, 0.8), { steps: 16 });
  await page.mouse.up();
}

/** What the models were given (the 28×28 preview canvas): ink's bounding box and centre of mass. */
const SEEN_JS = `(() => {
  const c = document.getElementById("input28");
  const d = c.getContext("2d").getImageData(0, 0, 28, 28).data;
  let x0 = 28, y0 = 28, x1 = -1, y1 = -1, m = 0, sx = 0, sy = 0;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const v = d[4 * (y * 28 + x)] / 255;
    if (v > 0.02) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    m += v; sx += v * (x + 0.5); sy += v * (y + 0.5);
  }
  return { w: x1 - x0 + 1, h: y1 - y0 + 1, cx: sx / m, cy: sy / m, mass: m };
})()`;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  await tf.setBackend("cpu");
  fs.rmSync(WORK, { recursive: true, force: true });
  const playgroundDir = path.join(WORK, "cache", "playground");
  // Tiny models at smoke sizes: what lesson 04 exports, in miniature.
  const tasks = sourceTasks({ scale: "smoke", seed: 0 });
  const hiddenUnits = [32, 16];
  const source = buildSourceModel({ seed: 0, hiddenUnits });
  await fit(source, tasks.source.train, { epochs: 4, batchSize: 32, learningRate: 3e-3, seed: 0, progress: false });
  const trainB = tasks.targetLabels(5, 0);
  const lora = applyLora(source, { r: 2, targets: ["hidden1", "hidden2"], trainHead: true, seed: 0 });
  await fit(lora, trainB, { epochs: 8, batchSize: 16, learningRate: 3e-3, seed: 0, progress: false });
  const merged = mergeLora(lora);
  const full = buildSourceModel({ seed: 0, hiddenUnits });
  full.setWeights(source.getWeights());
  await fit(full, trainB, { epochs: 8, batchSize: 16, learningRate: 1e-3, seed: 0, progress: false });
  exported = await exportPlaygroundModels({
    models: { "source (task A)": source, "LoRA r=2, merged": merged, "full fine-tuning": full },
    examples: tasks.target.test,
    count: 20,
    dir: playgroundDir,
    description: `browser test: tiny models at smoke size, task B = ${tasks.transformName}`,
  });
  for (const model of [source, lora, merged, full]) model.dispose();
  manifest = JSON.parse(fs.readFileSync(exported.manifest, "utf8")) as PlaygroundManifest;

  const noLessons = path.join(WORK, "lessons");
  fs.mkdirSync(noLessons, { recursive: true });
  site = buildSite({ lessonsDir: noLessons, outDir: path.join(WORK, "site"), notebooksDir: null, playgroundDir });
  emptySite = buildSite({
    lessonsDir: noLessons,
    outDir: path.join(WORK, "site-empty"),
    notebooksDir: null,
    playgroundDir: path.join(WORK, "cache", "nothing-exported"),
  });
  served = await serveDir(path.join(WORK));
  browser = await launchBrowser();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe.skipIf(!HAVE_CHROMIUM)(
  `the playground page in headless Chromium${HAVE_CHROMIUM ? "" : ` (${SKIP_REASON})`}`,
  () => {
    it("the site builder copied tf.min.js, the page script and every exported model", () => {
      const assets = path.join(path.dirname(site.index), "playground");
      expect(site.playground.models).toEqual(["source (task A)", "LoRA r=2, merged", "full fine-tuning"]);
      expect(site.playground.problem).toBeNull();
      expect(site.playground.examples).toBe(exported.examples);
      expect(exported.examples).toBe(20);
      expect(fs.statSync(path.join(assets, "tf.min.js")).size).toBeGreaterThan(500_000);
      for (const m of manifest.models) {
        expect(fs.existsSync(path.join(assets, "models", m.id, "model.json")), m.id).toBe(true);
        expect(fs.statSync(path.join(assets, "models", m.id, m.weightsFile)).size).toBe(m.weightsBytes);
      }
      const index = fs.readFileSync(site.index, "utf8");
      expect(index).toContain('href="playground.html"');
    });

    it(
      "over a local server: a drawn digit and a picked task-B image get every model's probabilities",
      async () => {
        const url = `${served.url}site/playground.html`;
        const { page, watch } = await openPage(url, local(new URL(served.url).origin));
        try {
          await waitReady(page);
          expect(await page.getAttribute("#playground", "data-backend")).toMatch(/^(webgl|cpu|wasm|webgpu)$/);
          const views0 = await modelViews(page);
          expect(views0.map((v) => v.id)).toEqual(manifest.models.map((m) => m.id));
          for (const v of views0) expect(v.label, "nothing predicted before any input").toBe("");

          // Draw: every model shows 10 probabilities that sum to 1, and a predicted class.
          await drawSeven(page);
          await page.waitForFunction(
            `Array.from(document.querySelectorAll(".model .predicted")).every((p) => p.getAttribute("data-label") !== "")`,
            undefined,
            { timeout: READY_TIMEOUT_MS },
          );
          expect(await page.getAttribute("#playground", "data-input")).toBe("draw");
          const drawn = await modelViews(page);
          for (const v of drawn) {
            expect(v.probs, v.id).toHaveLength(10);
            for (const p of v.probs) expect(p >= 0 && p <= 1, `${v.id}: ${p}`).toBe(true);
            expect(Math.abs(v.probs.reduce((a, b) => a + b, 0) - 1), `${v.id}: sum`).toBeLessThan(1e-3);
            const top = v.probs.indexOf(Math.max(...v.probs));
            expect(v.label).toBe(String(top));
            expect(v.text).toContain(`predicted ${top}`);
            for (const t of v.pcts) expect(t).toMatch(/^\d+\.\d %$/);
            const shown = v.pcts.reduce((a, t) => a + Number(t.replace(" %", "")), 0);
            expect(Math.abs(shown - 100), `${v.id}: shown percentages`).toBeLessThan(0.6);
          }
          // What the models saw: MNIST's framing (box at most 20×20, mass centred in 28×28).
          const seen = (await page.evaluate(SEEN_JS)) as { w: number; h: number; cx: number; cy: number; mass: number };
          expect(seen.mass).toBeGreaterThan(5);
          expect(Math.max(seen.w, seen.h)).toBeLessThanOrEqual(20);
          expect(Math.max(seen.w, seen.h)).toBeGreaterThanOrEqual(18);
          expect(Math.abs(seen.cx - 14)).toBeLessThan(1.5);
          expect(Math.abs(seen.cy - 14)).toBeLessThan(1.5);
          fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
          await page.screenshot({ path: SCREENSHOT, fullPage: true });

          // Pick a test image: each model shows the label it predicted for that image in Node.
          for (const i of [3, 0]) {
            await page.click(`.example[data-index="${i}"]`);
            await page.waitForSelector(`#playground[data-example="${i}"]`);
            const truth = manifest.examples.labels[i];
            expect(await page.textContent("#input-info")).toContain(`true label ${truth}`);
            for (const v of await modelViews(page)) {
              const nodeProbs = manifest.examples.probabilities[v.id][i];
              const browserTop = Number(v.label);
              // Same label as in Node, unless the two best classes are within rounding of each other.
              const sorted = [...nodeProbs].sort((a, b) => b - a);
              if (sorted[0] - sorted[1] > 1e-3)
                expect(browserTop, `${v.id} on image ${i}`).toBe(manifest.examples.predictions[v.id][i]);
              for (let c = 0; c < 10; c++)
                expect(Math.abs(v.probs[c] - nodeProbs[c]), `${v.id} class ${c}`).toBeLessThan(2e-3);
              expect(v.text).toContain(browserTop === truth ? "✓" : "✗");
            }
          }
          await page.click("#clear");
          for (const v of await modelViews(page)) expect(v.label).toBe("");

          expect(watch.errors).toEqual([]);
          expect(watch.external, "requests that left the machine").toEqual([]);
          expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
          console.log(`playground screenshot: ${path.relative(PROJECT_ROOT, SCREENSHOT)}`);
        } finally {
          await page.close();
        }
      },
      3 * 60_000,
    );

    it(
      "from file:// (no server): the models load from scripts and predict",
      async () => {
        const url = pathToFileURL(site.playground.page).href;
        const { page, watch } = await openPage(url, fileOnly);
        try {
          await waitReady(page);
          expect(await page.textContent("#status")).toContain("file://");
          await page.click('.example[data-index="5"]');
          await page.waitForSelector('#playground[data-example="5"]');
          const views = await modelViews(page);
          expect(views.map((v) => v.id)).toEqual(manifest.models.map((m) => m.id));
          for (const v of views) {
            expect(Math.abs(v.probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-3);
            expect(v.label).not.toBe("");
          }
          expect(watch.errors).toEqual([]);
          expect(watch.external).toEqual([]);
        } finally {
          await page.close();
        }
      },
      2 * 60_000,
    );

    it("with nothing exported, the page says which lesson to run", async () => {
      expect(emptySite.playground.models).toEqual([]);
      expect(fs.existsSync(path.join(path.dirname(emptySite.index), "playground"))).toBe(false);
      const { page, watch } = await openPage(
        `${served.url}site-empty/playground.html`,
        local(new URL(served.url).origin),
      );
      try {
        const text = (await page.textContent("#playground")) ?? "";
        expect(text).toContain("No models have been exported");
        expect(text).toContain(PLAYGROUND_LESSON_COMMAND);
        expect(await page.$("#draw")).toBeNull();
        expect(watch.errors).toEqual([]);
        expect(watch.external).toEqual([]);
        const index = fs.readFileSync(emptySite.index, "utf8");
        expect(index).toContain('href="playground.html"');
        expect(index).toContain("no models exported yet");
      } finally {
        await page.close();
      }
    }, 60_000);
  },
);
