// The plotly.js bundle in executed notebooks. The kernel embeds it (src/show/plotly.ts) as an
// inline <script> in the first plot's output of a session, 4.7 MB of the ~5 MB of an executed
// lesson. The runner packs that script (gzip + base64, 1.9 MB) into a loader that unpacks it in
// the browser (DecompressionStream) and runs it, so an executed notebook still draws its plots
// offline wherever it is opened; the site takes the script out of every page into one shared
// file (site/export.ts). Pure functions.
import crypto from "crypto";
import zlib from "zlib";
import { joinText, type Notebook } from "./notebook";

/** The opening of the kernel's inline bundle (plotlyBundleHtml): version in group 1. */
const RAW_OPEN =
  /<script type="text\/javascript">\/\* plotly\.js (\S+) \(MIT license\), embedded once per kernel session by transfer-lab[^*]*\*\/\n/;
/** The opening of the runner's packed loader: version in group 1, gzip+base64 of the raw script in the body. */
const PACKED_OPEN = /<script type="text\/javascript">\/\* plotly\.js (\S+) \(MIT license\), packed by transfer-lab/;
const PACKED_DATA = /var b="([A-Za-z0-9+/=]+)";/;
const SCRIPT_OPEN = '<script type="text/javascript">';
const SCRIPT_CLOSE = "</script>";

/** One plotly bundle found in an HTML output. */
export interface FoundBundle {
  /** Offsets of the whole <script>…</script> element (plus one newline after it, when there). */
  start: number;
  end: number;
  version: string;
  /** Whether it is the runner's packed loader (else the kernel's inline script). */
  packed: boolean;
}

/** The first plotly bundle (inline or packed) in `html`, or null. The inline script has been made
 * safe for HTML (`</script` cannot occur in it), so its element ends at the first `</script>`. */
export function findPlotlyBundle(html: string): FoundBundle | null {
  const raw = RAW_OPEN.exec(html);
  const packed = PACKED_OPEN.exec(html);
  const m = raw && packed ? (raw.index <= packed.index ? raw : packed) : (raw ?? packed);
  if (!m) return null;
  const close = html.indexOf(SCRIPT_CLOSE, m.index);
  if (close < 0) return null;
  let end = close + SCRIPT_CLOSE.length;
  if (html[end] === "\n") end++;
  return { start: m.index, end, version: m[1], packed: m === packed };
}

/** The JavaScript the bundle runs: the kernel's inline script as it was (guard, `define` hidden,
 * plotly.js), unpacked when packed. */
export function bundleScript(html: string, found: FoundBundle): string {
  const element = html.slice(found.start, found.end).replace(/\n$/, "");
  if (!found.packed) return element.slice(SCRIPT_OPEN.length, element.length - SCRIPT_CLOSE.length);
  const data = PACKED_DATA.exec(element);
  if (!data) throw new Error(`plotly.js ${found.version} loader holds no data`);
  return zlib.gunzipSync(Buffer.from(data[1], "base64")).toString("utf8");
}

/** A <script> that unpacks `script` (gzip + base64) and runs it, once per page: the same effect
 * as the inline script, a third of its size. Plots wait for window.Plotly (plotHtml polls 10 s). */
export function packedBundleHtml(script: string, version: string): string {
  const data = zlib.gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64");
  const v = JSON.stringify(version);
  return `${SCRIPT_OPEN}/* plotly.js ${version} (MIT license), packed by transfer-lab's lesson runner (gzip+base64, unpacked in the browser) so plots render offline */
(function(){var v=${v};if(window.Plotly&&window.Plotly.version===v)return;var w=window.__transferLabPlotly=window.__transferLabPlotly||{};if(w[v])return;w[v]=1;
function fail(e){w[v]=0;console.error("transfer-lab: could not unpack plotly.js "+v+": "+e);}
if(typeof DecompressionStream!=="function"||typeof Response!=="function"){fail("this browser has no DecompressionStream");return;}
var b="${data}";
try{var s=atob(b),u=new Uint8Array(s.length);for(var i=0;i<s.length;i++)u[i]=s.charCodeAt(i);
new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function(t){var e=document.createElement("script");e.type="text/javascript";e.text=t;(document.head||document.documentElement).appendChild(e);e.parentNode.removeChild(e);},fail);}catch(e){fail(e);}})();
${SCRIPT_CLOSE}
`;
}

/** Short content hash, for a file name that changes when the bundle does. */
export function scriptHash(script: string): string {
  return crypto.createHash("sha256").update(script).digest("hex").slice(0, 12);
}

/** Calls `edit` on every text/html output that holds a plotly bundle; it returns the new html. */
export function mapBundleOutputs(nb: Notebook, edit: (html: string, found: FoundBundle) => string): number {
  let count = 0;
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const html = out.data?.["text/html"];
      if (html === undefined) continue;
      const text = joinText(html);
      const found = findPlotlyBundle(text);
      if (!found) continue;
      const next = edit(text, found);
      if (next === text) continue;
      // nbformat's layout: multi-line text as a list of lines.
      out.data!["text/html"] = next.split(/(?<=\n)/);
      count++;
    }
  }
  return count;
}

/** Packs every inline plotly bundle of an executed notebook in place; returns how many. */
export function packPlotlyBundles(nb: Notebook): number {
  return mapBundleOutputs(nb, (html, found) => {
    if (found.packed) return html;
    return (
      html.slice(0, found.start) + packedBundleHtml(bundleScript(html, found), found.version) + html.slice(found.end)
    );
  });
}
