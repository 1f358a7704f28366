// Drawing plot specs offline: HTML that draws a spec with plotly.js-dist, and `showPlot`, which
// embeds the plotly bundle once per kernel session (the first plot's output carries it) and
// displays through display().
import * as fs from "fs";
import { display, escapeHtml } from "./display";
import { DEFAULT_PLOT_CONFIG, DEFAULT_PLOT_HEIGHT, type PlotSpec } from "./plot";

/** JSON that is safe inside <script>: no '<', '>' or '&' can end the element or open a comment. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** JavaScript source made safe inside <script>: '</script' and '<!--' cannot occur in it (they
 * can only appear in strings, regexes or comments, where '<\/' and '<\!' mean the same). */
export function scriptSafeSource(src: string): string {
  return src.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

let plotlySource: { path: string; version: string; text: string } | undefined;

/** plotly.js as shipped by plotly.js-dist-min when installed (4.6 MB), else plotly.js-dist (11 MB). */
export function plotlyBundle(): { path: string; version: string; text: string } {
  if (plotlySource) return plotlySource;
  for (const [pkg, file] of [
    ["plotly.js-dist-min", "plotly.min.js"],
    ["plotly.js-dist", "plotly.js"],
  ]) {
    let path: string;
    try {
      path = require.resolve(`${pkg}/${file}`);
    } catch {
      continue;
    }
    const text = fs.readFileSync(path, "utf8");
    const version = /plotly\.js v(\d+\.\d+\.\d+)/.exec(text.slice(0, 2000))?.[1] ?? "unknown";
    plotlySource = { path, version, text };
    return plotlySource;
  }
  throw new Error("plotly.js not found: install plotly.js-dist (npm install) so plots can embed it offline");
}

/** A <script> that defines window.Plotly from the embedded bundle. require.js (classic Notebook,
 * nbconvert's HTML) would take the UMD bundle as an AMD module, so `define` is hidden meanwhile;
 * a page that already has this version skips the work. */
export function plotlyBundleHtml(): string {
  const { version, text } = plotlyBundle();
  const v = JSON.stringify(version);
  return `<script type="text/javascript">/* plotly.js ${version} (MIT license), embedded once per kernel session by transfer-lab so plots render offline */
(function(){if(window.Plotly&&window.Plotly.version===${v})return;var d=window.define;window.define=undefined;try{
${scriptSafeSource(text)}
}finally{window.define=d;}if(!window.Plotly)console.error("transfer-lab: plotly.js ran but window.Plotly is not set");})();
</script>`;
}

const SESSION = Math.random().toString(36).slice(2, 8);
let plotCounter = 0;

/** A DOM id unique within this process and, through a random session part, across kernel restarts. */
export function newPlotId(): string {
  return `tl-plot-${SESSION}-${++plotCounter}`;
}

/** A <div> and a <script> that draws `spec` into it; waits up to 10 s for window.Plotly. */
export function plotHtml(spec: PlotSpec, id: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(id))
    throw new Error(
      `plotHtml: id must be letters, digits, '-' or '_' starting with a letter, got ${JSON.stringify(id)}`,
    );
  const height = typeof spec.layout.height === "number" ? spec.layout.height : DEFAULT_PLOT_HEIGHT;
  const payload = scriptSafeJson({
    data: spec.data,
    layout: spec.layout,
    config: { ...DEFAULT_PLOT_CONFIG, ...spec.config },
  });
  const missing = scriptSafeJson(
    "This plot needs plotly.js, which transfer-lab embeds in the first plot's output of a kernel session; that output is not in this page. Run embedPlotly() in a cell above, or restart the kernel and run all cells.",
  );
  return `<div id="${id}" class="transfer-lab-plot" style="width:100%;min-width:320px;height:${height}px"></div>
<script type="text/javascript">(function(){var id="${id}",s=${payload},n=0;function draw(){var el=document.getElementById(id),P=window.Plotly;if(!el||!P||!P.newPlot){if(++n<200){setTimeout(draw,50);}else if(el){el.textContent=${missing};}return;}P.newPlot(el,s.data,s.layout,s.config);}draw();})();</script>`;
}

let embedded = false;

/** Whether this process has already emitted the plotly bundle. */
export function plotlyEmbedded(): boolean {
  return embedded;
}

/** Emits the plotly bundle as its own output if this process has not yet (or when `force`, e.g.
 * after the output that carried it was cleared). Returns whether it emitted. */
export function embedPlotly(force = false): boolean {
  if (embedded && !force) return false;
  display().html(plotlyBundleHtml());
  embedded = true;
  return true;
}

/** Displays a chart; the first one of a kernel session also carries plotly.js. Returns nothing, so
 * a notebook cell ending in showPlot(...) prints no value. */
export function showPlot(spec: PlotSpec): void {
  const id = newPlotId();
  const bundle = embedded ? "" : plotlyBundleHtml() + "\n";
  display().html(bundle + plotHtml(spec, id));
  embedded = true;
}
