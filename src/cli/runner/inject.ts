// Parameter injection, papermill style: `--set name=value` becomes a cell tagged
// `injected-parameters` right after the `parameters` cell that redeclares each name with its
// original keyword and type annotation (`let freezeRatio: number = 0.25;`). Pure functions.
import { INJECTED_TAG, PARAMETERS_TAG, cellSource, hasTag, type Notebook, type NotebookCell } from "./notebook";

/** One `--set name=value`, the value already as a TypeScript literal. */
export interface ParameterSet {
  name: string;
  /** TypeScript source of the value: `0.25`, `true`, `[1,5]`, `"mild"`. */
  literal: string;
}

/** One declaration found in a `parameters` cell. */
export interface ParameterDecl {
  name: string;
  keyword: "let" | "const" | "var";
  /** The type annotation as written (`number`, `Shift`), or null. */
  annotation: string | null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Value text to a TS literal: JSON numbers, booleans, null, arrays and objects stay as JSON;
 * anything else becomes a string literal (`mild` -> `"mild"`, `"mild"` -> `"mild"`). */
export function valueLiteral(text: string): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return JSON.stringify(text);
  }
  // 1e999 parses to Infinity, which JSON would print as null: keep what was typed as a string.
  if (typeof v === "number" && !Number.isFinite(v)) return JSON.stringify(text);
  return JSON.stringify(v);
}

/** Parses `name=value` (the value may contain `=`). */
export function parseSetArg(arg: string): ParameterSet {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new Error(`--set: expected name=value, got ${JSON.stringify(arg)}`);
  const name = arg.slice(0, eq).trim();
  if (!IDENTIFIER.test(name))
    throw new Error(`--set: ${JSON.stringify(name)} is not a TypeScript identifier (in ${JSON.stringify(arg)})`);
  return { name, literal: valueLiteral(arg.slice(eq + 1)) };
}

/** Parses every `--set`; a later value for the same name wins. */
export function parseSetArgs(args: string[]): ParameterSet[] {
  const byName = new Map<string, ParameterSet>();
  for (const a of args) {
    const s = parseSetArg(a);
    byName.delete(s.name);
    byName.set(s.name, s);
  }
  return [...byName.values()];
}

/** Top-level declarations of a parameters cell, one per statement start:
 * `let a = 1;`, `const shift: Shift = "mild";`, `export let b: (x: number) => number = f;`. */
export function declaredParameters(source: string): ParameterDecl[] {
  const re = /^[ \t]*(?:export\s+)?(let|const|var)\s+([A-Za-z_$][\w$]*)[ \t]*(?::[ \t]*(.+?))?[ \t]*(?:=(?!>)|;|$)/gm;
  const out: ParameterDecl[] = [];
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    out.push({ keyword: m[1] as ParameterDecl["keyword"], name: m[2], annotation: m[3]?.trim() || null });
  }
  return out;
}

/** The statement that redeclares one parameter with a new value. */
export function declarationFor(decl: ParameterDecl, set: ParameterSet): string {
  const type = decl.annotation ? `: ${decl.annotation}` : "";
  return `${decl.keyword} ${decl.name}${type} = ${set.literal};`;
}

/** Index of the code cell tagged `parameters`, or -1. */
export function parametersCellIndex(nb: Notebook): number {
  return nb.cells.findIndex((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
}

/** A copy of `nb` with an `injected-parameters` cell after its `parameters` cell (replacing an
 * earlier injected cell). `label` names the notebook in errors ("03"). No sets: a plain copy. */
export function injectParameters(nb: Notebook, sets: ParameterSet[], label: string): Notebook {
  const copy = structuredClone(nb);
  if (sets.length === 0) return copy;
  copy.cells = copy.cells.filter((c) => !hasTag(c, INJECTED_TAG));
  const at = parametersCellIndex(copy);
  if (at < 0) {
    throw new Error(
      `--set ${sets[0].name}: notebook ${label} has no code cell tagged "${PARAMETERS_TAG}" (add the tag in Jupyter: View > Cell Toolbar > Tags)`,
    );
  }
  const decls = declaredParameters(cellSource(copy.cells[at]));
  const lines = sets.map((s) => {
    const decl = decls.find((d) => d.name === s.name);
    if (!decl) {
      throw new Error(
        `--set ${s.name}: notebook ${label} has no parameter ${s.name} (has: ${decls.map((d) => d.name).join(", ") || "none"})`,
      );
    }
    return declarationFor(decl, s);
  });
  const cell: NotebookCell = {
    cell_type: "code",
    execution_count: null,
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    source: [
      "// Parameters injected by the lesson runner (--set)\n",
      ...lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l)),
    ],
  };
  if (copy.nbformat > 4 || copy.nbformat_minor >= 5) cell.id = INJECTED_TAG;
  copy.cells.splice(at + 1, 0, cell);
  return copy;
}
