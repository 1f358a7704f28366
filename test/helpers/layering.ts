// Reads the relative imports of a source tree and checks them against the layer order of src/
// (see test/layering.test.ts): one problem line per wrong-way import or cycle.
import * as fs from "fs";
import * as path from "path";

/** Library layers, lowest first: a layer may import itself and the layers before it. */
export const LAYER_ORDER = [
  "core",
  "backend",
  "data",
  "models",
  "adapt",
  "train",
  "evaluate",
  "experiments",
  "review",
] as const;
/** Service layers: used by every layer above core, importing only core (and themselves). */
export const SERVICE_LAYERS = ["show", "store"] as const;
/** Tools: import anything, imported by nothing in the library. */
export const TOOL_LAYER = "cli";

type Layer = (typeof LAYER_ORDER)[number] | (typeof SERVICE_LAYERS)[number] | typeof TOOL_LAYER;

/** The layer of a path relative to src/ (its first folder), or null for a file outside every layer. */
export function layerOf(rel: string): Layer | null {
  const top = rel.split(/[\\/]/)[0];
  const all: readonly string[] = [...LAYER_ORDER, ...SERVICE_LAYERS, TOOL_LAYER];
  return rel.includes("/") && all.includes(top) ? (top as Layer) : null;
}

/** What a layer may import. The training loop reports progress through a callback: train/ imports
 * no display or plotting code (show/), so a loop can run where nothing is shown. */
function allowed(layer: Layer): readonly Layer[] {
  if (layer === "train") return [...LAYER_ORDER.slice(0, LAYER_ORDER.indexOf("train") + 1), "store"];
  if (layer === TOOL_LAYER) return [...LAYER_ORDER, ...SERVICE_LAYERS, TOOL_LAYER];
  if ((SERVICE_LAYERS as readonly string[]).includes(layer)) return ["core", layer];
  const rank = (LAYER_ORDER as readonly string[]).indexOf(layer);
  return [...LAYER_ORDER.slice(0, rank + 1), ...(rank > 0 ? SERVICE_LAYERS : [])];
}

/** Module specifiers of a file's static imports, re-exports and dynamic imports (comments skipped). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs: string[] = [];
  const re =
    /(?:^|[\s;])(?:import|export)\s[^;"']*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;
  for (const m of code.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

function resolve(fromFile: string, spec: string): string | null {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const c of [base, `${base}.ts`, path.join(base, "index.ts")]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return null;
}

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Every wrong-way import and every cycle in the tree under `root`, as readable lines. */
export function checkLayering(root: string): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  const rel = (f: string) => path.relative(root, f).split(path.sep).join("/");
  for (const file of listTs(root).sort()) {
    const from = rel(file);
    const fromLayer = layerOf(from);
    const edges: string[] = [];
    for (const spec of importsOf(fs.readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(file, spec);
      if (target === null) {
        problems.push(`${from} imports "${spec}", which does not resolve to a .ts file`);
        continue;
      }
      const to = rel(target);
      edges.push(to);
      const toLayer = layerOf(to);
      if (fromLayer === null) continue; // src/index.ts: the public surface may re-export any layer but cli
      if (toLayer === TOOL_LAYER && fromLayer !== TOOL_LAYER) {
        problems.push(`${from} imports "${spec}" (cli): nothing in the library imports cli`);
      } else if (toLayer === null) {
        problems.push(`${from} imports "${spec}": the public surface src/index.ts is for notebooks, not the library`);
      } else if (!allowed(fromLayer).includes(toLayer)) {
        problems.push(
          `${from} imports "${spec}" (${toLayer}): ${fromLayer} may import only ${allowed(fromLayer).join(", ")}`,
        );
      }
    }
    graph.set(from, edges);
  }
  const indexImports = graph.get("index.ts") ?? [];
  for (const to of indexImports)
    if (layerOf(to) === TOOL_LAYER) problems.push(`index.ts re-exports ${to}: cli is not part of the public surface`);
  problems.push(...findCycles(graph).map((c) => `cycle: ${c.join(" → ")}`));
  return problems;
}

/** Elementary cycles found by depth-first search, each reported once from its smallest file. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]);
        const canonical = [...loop.slice(start), ...loop.slice(0, start)];
        cycles.set(canonical.join("|"), [...canonical, canonical[0]]);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}
