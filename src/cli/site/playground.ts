// The site's Playground page: build/site/playground.html, where the browser's @tensorflow/tfjs runs
// the models a lesson exported (tl.exportPlaygroundModels, into <cache>/playground): draw a digit or
// pick a shifted task-B test image, and see each model's class probabilities side by side.
// installPlayground copies what the page needs into build/site/playground/ — tf.min.js from
// node_modules (no CDN: the site works offline), the page script, and each model's model.json and
// weights (plus model.js, the same bytes as a script, for pages opened from file://, where fetch is
// refused) — and writes the page; with nothing exported yet the page says which lesson to run.
import fs from "fs";
import path from "path";
import { projectRoot } from "../../core/paths";
import { escapeHtml } from "../../show/display";
import {
  readPlayground,
  readPlaygroundModel,
  type PlaygroundManifest,
  type PlaygroundState,
} from "../../store/playground";

export const PLAYGROUND_PAGE = "playground.html";
/** The page's asset folder in the site. */
export const PLAYGROUND_ASSETS = "playground";
/** The lesson whose last cells export the playground's models. */
export const PLAYGROUND_LESSON = "04";
export const PLAYGROUND_LESSON_COMMAND = `npm run lessons -- --only ${PLAYGROUND_LESSON}`;
/** The page script, copied beside tf.min.js. */
export const PLAYGROUND_SCRIPT = path.join(__dirname, "playground-app.js");

/** What installPlayground wrote. */
export interface PlaygroundPageResult {
  /** Absolute path of playground.html. */
  page: string;
  /** Names of the models the page runs (empty when none are exported). */
  models: string[];
  examples: number;
  /** Why the page has no models: nothing exported yet, or what is wrong with the export. */
  problem: string | null;
}

/** The browser build of TensorFlow.js that the project's own @tensorflow/tfjs ships (same version as
 * the lessons' tfjs). Throws when it is missing (npm ci installs it). */
export function tfjsBrowserBundle(): string {
  const candidates = [path.join(projectRoot(), "node_modules", "@tensorflow", "tfjs", "dist", "tf.min.js")];
  try {
    candidates.push(path.join(path.dirname(require.resolve("@tensorflow/tfjs/package.json")), "dist", "tf.min.js"));
  } catch {
    // not resolvable from here: the project path above is all we have
  }
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`site: the browser build of TensorFlow.js is missing (${candidates[0]}); run \`npm ci\``);
  return found;
}

/** JSON for a <script type="application/json"> block: `<` escaped so no `</script>` can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

function notExportedText(state: PlaygroundState): string {
  const run = `Run lesson ${PLAYGROUND_LESSON} (<code>${escapeHtml(PLAYGROUND_LESSON_COMMAND)}</code>, or the lesson in Jupyter): its
playground cell calls <code>tl.exportPlaygroundModels</code>, which writes the source model and the merged LoRA model to
<code>${escapeHtml(state.dir)}</code>. Then rebuild the site (<code>npm run site</code>; <code>npm run lessons</code> does it itself).`;
  if (state.kind === "broken")
    return `<p class="problem">The exported models cannot be used: ${escapeHtml(state.problem)}.</p>\n<p>${run}</p>`;
  return `<p class="problem">No models have been exported for the playground yet.</p>\n<p>${run}</p>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 80em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 0.2em 0 0.5em; }
h3 { font-size: 1em; margin: 0 0 0.2em; }
p.meta, .model-meta, #status { color: #666; }
a { color: #1f77b4; }
.problem { color: #d62728; font-weight: 600; }
#playground { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
section.input { flex: 0 0 300px; }
section.outputs { flex: 1 1 30em; }
#draw { width: 280px; height: 280px; background: #000; border: 2px solid #444; border-radius: 4px; touch-action: none; cursor: crosshair; display: block; }
.buttons { margin: 0.5em 0; display: flex; gap: 0.5em; align-items: center; }
button { font: inherit; }
.seen { display: flex; gap: 0.7em; align-items: center; margin: 0.5em 0 1em; }
#input28 { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #999; background: #000; }
#examples { display: flex; flex-wrap: wrap; gap: 4px; }
.example { padding: 2px; border: 2px solid #ccc; border-radius: 4px; background: #fff; cursor: pointer; display: flex; flex-direction: column; align-items: center; }
.example canvas { width: 42px; height: 42px; image-rendering: pixelated; }
.example span { font-size: 0.8em; color: #444; }
.example.picked { border-color: #1f77b4; }
#models { display: flex; flex-wrap: wrap; gap: 1.2em; }
.model { flex: 1 1 16em; max-width: 24em; border: 1px solid #ddd; border-radius: 6px; padding: 0.7em 0.9em; }
.model.right { border-color: #2ca02c; }
.model.wrong { border-color: #d62728; }
.predicted { font-size: 1.2em; font-weight: 600; margin: 0.3em 0 0.5em; }
.bar-row { display: grid; grid-template-columns: 1.5em 1fr 4.2em; gap: 0.4em; align-items: center; font-size: 0.9em; line-height: 1.5; }
.track { background: #f0f2f4; height: 0.9em; border-radius: 2px; overflow: hidden; }
.bar { display: block; height: 100%; width: 0; background: #9ecae1; }
.bar-row.top .bar { background: #1f77b4; }
.pct { text-align: right; font-variant-numeric: tabular-nums; color: #444; }
`;

/** playground.html: the page, with the manifest inline when models were exported, else what to run. */
export function renderPlaygroundPage(state: PlaygroundState, generatedAt: string): string {
  const manifest: PlaygroundManifest | null = state.kind === "ok" ? state.manifest : null;
  const head = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>transfer-lab — playground</title>
<style>${STYLE}</style>
</head>
<body>
<p><a href="index.html">← all lessons</a></p>
<h1>Playground: the source model and the fine-tuned models, side by side</h1>
`;
  if (manifest === null) {
    return `${head}<div id="playground" data-state="empty">
${notExportedText(state)}
</div>
<p class="meta">Built ${escapeHtml(generatedAt)}.</p>
</body>
</html>
`;
  }
  return `${head}<p class="meta">Draw a digit (white ink on black, as MNIST) or pick one of the shifted task-B test images — the same digits,
"scanned by a new machine" — and compare what each model thinks it is. The models run in this browser with TensorFlow.js; a
drawing is scaled and centred like MNIST first (bounding box into 20×20, centre of mass at the centre of 28×28).<br>
${escapeHtml(manifest.description)}; exported ${escapeHtml(manifest.exportedAt)}.</p>
<div id="playground" data-state="loading">
<section class="input">
<h2>Input</h2>
<canvas id="draw" width="280" height="280" aria-label="drawing area"></canvas>
<div class="buttons"><button id="clear" type="button">Clear</button><span>draw with the mouse or a finger</span></div>
<div class="seen"><canvas id="input28" width="28" height="28" aria-label="what the models see"></canvas><span id="input-info">Loading…</span></div>
<h2>Or pick a task-B test image</h2>
<div id="examples"></div>
</section>
<section class="outputs">
<h2>Class probabilities</h2>
<div id="models"></div>
</section>
</div>
<p id="status">Loading TensorFlow.js…</p>
<p class="meta">Built ${escapeHtml(generatedAt)}.</p>
<script id="playground-manifest" type="application/json">${scriptJson(manifest)}</script>
<script src="${PLAYGROUND_ASSETS}/tf.min.js"></script>
<script src="${PLAYGROUND_ASSETS}/playground-app.js"></script>
<script>
TransferLabPlayground.start({
  manifest: JSON.parse(document.getElementById("playground-manifest").textContent),
  base: "${PLAYGROUND_ASSETS}/",
});
</script>
</body>
</html>
`;
}

/**
 * Writes playground.html into the site folder `outDir` and its assets into outDir/playground/ (removed
 * and rewritten on every build), from the playground folder `playgroundDir` (default
 * <cache>/playground; null: none, the page says what to run). Files are checked against the manifest
 * (sizes, sha256) before they are copied.
 */
export function installPlayground(args: { outDir: string; playgroundDir?: string | null }): PlaygroundPageResult {
  const outDir = path.resolve(args.outDir);
  const assets = path.join(outDir, PLAYGROUND_ASSETS);
  fs.rmSync(assets, { recursive: true, force: true });
  let state: PlaygroundState =
    args.playgroundDir === null ? { kind: "none", dir: "(no playground folder)" } : readPlayground(args.playgroundDir);
  const page = path.join(outDir, PLAYGROUND_PAGE);
  if (state.kind === "ok") {
    const manifest = state.manifest;
    try {
      fs.mkdirSync(path.join(assets, "models"), { recursive: true });
      fs.copyFileSync(tfjsBrowserBundle(), path.join(assets, "tf.min.js"));
      fs.copyFileSync(PLAYGROUND_SCRIPT, path.join(assets, "playground-app.js"));
      for (const e of manifest.models) {
        const { modelJson, weights } = readPlaygroundModel(state.dir, e);
        const folder = path.join(assets, "models", e.id);
        fs.mkdirSync(folder, { recursive: true });
        fs.writeFileSync(path.join(folder, "model.json"), modelJson);
        fs.writeFileSync(path.join(folder, e.weightsFile), weights);
        const script = `window.TRANSFER_LAB_PLAYGROUND_MODELS = window.TRANSFER_LAB_PLAYGROUND_MODELS || {};
window.TRANSFER_LAB_PLAYGROUND_MODELS[${JSON.stringify(e.id)}] = { modelJson: ${modelJson}, weights: "${weights.toString("base64")}" };
`;
        fs.writeFileSync(path.join(folder, "model.js"), script);
      }
      fs.writeFileSync(path.join(assets, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
    } catch (e) {
      fs.rmSync(assets, { recursive: true, force: true });
      state = { kind: "broken", dir: state.dir, problem: (e as Error).message };
    }
  }
  fs.writeFileSync(page, renderPlaygroundPage(state, new Date().toISOString()));
  return {
    page,
    models: state.kind === "ok" ? state.manifest.models.map((m) => m.name) : [],
    examples: state.kind === "ok" ? state.manifest.examples.count : 0,
    problem:
      state.kind === "ok"
        ? null
        : state.kind === "broken"
          ? state.problem
          : `no models exported yet (run lesson ${PLAYGROUND_LESSON})`,
  };
}

/** The index page's line about the playground, inserted before its lesson table. */
export function playgroundLinkHtml(result: PlaygroundPageResult): string {
  const what =
    result.models.length > 0
      ? `draw a digit or pick a shifted test image and compare ${result.models.map((m) => escapeHtml(m)).join(", ")} in your browser`
      : `no models exported yet: run lesson ${PLAYGROUND_LESSON} (<code>${escapeHtml(PLAYGROUND_LESSON_COMMAND)}</code>)`;
  return `<p class="playground"><a href="${PLAYGROUND_PAGE}"><b>Playground</b></a>: ${what}.</p>`;
}

/** The index page with the playground line before its first table (or at the end of its body). */
export function withPlaygroundLink(indexHtml: string, result: PlaygroundPageResult): string {
  const line = playgroundLinkHtml(result) + "\n";
  const at = indexHtml.indexOf("<table>");
  if (at >= 0) return indexHtml.slice(0, at) + line + indexHtml.slice(at);
  return indexHtml.replace("</body>", line + "</body>");
}
