// Parameter injection, papermill style: `--set name=value` becomes a cell tagged
// `injected-parameters` right after the `parameters` cell that redeclares each name with its
// original keyword and type annotation (`let freezeRatio: number = 0.25;`), after checking the
// value against that type (param-types.ts). planSets decides which lessons of a run get which
// `--set`: those that declare the parameter. Pure functions (the type check reads src/'s type
// aliases once).
import { INJECTED_TAG, PARAMETERS_TAG, cellSource, hasTag, type Notebook, type NotebookCell } from "./notebook";
import {
  describeValue,
  formatType,
  initializerType,
  matchesType,
  notebookTypeResolver,
  parseType,
  type ParamType,
  type TypeResolver,
} from "./param-types";

/** One `--set name=value`, the value already as a TypeScript literal. */
export interface ParameterSet {
  name: string;
  /** TypeScript source of the value: `0.25`, `true`, `[1,5]`, `"mild"` (always JSON). */
  literal: string;
  /** The value as typed after `=`; a parameter declared `string` takes it as text (`label=5` -> `"5"`). */
  text?: string;
}

/** One declaration found in a `parameters` cell. */
export interface ParameterDecl {
  name: string;
  keyword: "let" | "const" | "var";
  /** The type annotation as written (`number`, `Shift`), or null. */
  annotation: string | null;
  /** The initial value's source up to `;` or a line comment (`settings.freezeRatio`, `0`), or null. */
  initializer?: string | null;
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
  const text = arg.slice(eq + 1);
  return { name, literal: valueLiteral(text), text };
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
    const decl: ParameterDecl = {
      keyword: m[1] as ParameterDecl["keyword"],
      name: m[2],
      annotation: m[3]?.trim() || null,
    };
    if (m[0].endsWith("=")) {
      const rest = source.slice(m.index + m[0].length).split("\n")[0];
      decl.initializer =
        rest
          .replace(/\/\/.*$/, "")
          .replace(/;\s*$/, "")
          .trim() || null;
    }
    out.push(decl);
  }
  return out;
}

/** The type a declaration's value must have: its annotation, else the type of a plain literal
 * initializer (`let seed = 0` -> number); null when it cannot be checked here. */
export function declaredType(decl: ParameterDecl, resolve: TypeResolver = () => null): ParamType | null {
  if (decl.annotation) return parseType(decl.annotation, resolve);
  return decl.keyword === "const" ? null : initializerType(decl.initializer ?? null);
}

/** `set` as a value of `decl`'s type: the same set, a string-typed parameter's text as a string
 * literal, or an error naming the parameter, the value and the declared type. */
export function checkSetType(
  decl: ParameterDecl,
  set: ParameterSet,
  label: string,
  resolve: TypeResolver = () => null,
): ParameterSet {
  const type = declaredType(decl, resolve);
  if (!type) return set;
  const value: unknown = JSON.parse(set.literal);
  if (matchesType(type, value)) return set;
  if (set.text !== undefined && matchesType(type, set.text)) return { ...set, literal: JSON.stringify(set.text) };
  const declared = decl.annotation ?? formatType(type);
  const expanded = formatType(type);
  const shown = declared === expanded ? declared : `${declared} (${expanded})`;
  throw new Error(
    `--set ${set.name}=${set.text ?? set.literal}: lesson ${label} declares ${set.name} as ${shown}, got ${describeValue(value)}`,
  );
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

/** The parameters a notebook's `parameters` cell declares; null when it has no such cell. */
export function notebookParameters(nb: Notebook): ParameterDecl[] | null {
  const at = parametersCellIndex(nb);
  return at < 0 ? null : declaredParameters(cellSource(nb.cells[at]));
}

/** A copy of `nb` with an `injected-parameters` cell after its `parameters` cell (replacing an
 * earlier injected cell). `label` names the notebook in errors ("03"). Every set must name a
 * declared parameter and have its type (checkSetType; `resolve` expands type names, by default
 * through the notebook's imports of src/). No sets: a plain copy. */
export function injectParameters(nb: Notebook, sets: ParameterSet[], label: string, resolve?: TypeResolver): Notebook {
  const copy = structuredClone(nb);
  if (sets.length === 0) return copy;
  const resolveType = resolve ?? notebookTypeResolver(nb);
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
    return declarationFor(decl, checkSetType(decl, s, label, resolveType));
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

/** One lesson of a run, for planSets: its label ("03") and parsed notebook. */
export interface PlannedLesson {
  label: string;
  nb: Notebook;
}

export interface SetPlan {
  /** Label -> the sets that lesson declares (and gets). */
  perLesson: Map<string, ParameterSet[]>;
  /** Per set: the lessons it applies to and those it skips (they do not declare it). */
  report: { set: ParameterSet; applied: string[]; skipped: string[] }[];
}

/** Which lessons get which `--set`: each set goes to the lessons that declare the parameter and
 * skips the others; throws when no lesson declares it, or when a value does not have the
 * declared type (checked in every lesson it goes to, before anything runs). */
export function planSets(lessons: PlannedLesson[], sets: ParameterSet[]): SetPlan {
  const perLesson = new Map<string, ParameterSet[]>(lessons.map((l) => [l.label, []]));
  const report: SetPlan["report"] = [];
  const declared = lessons.map((l) => ({ ...l, decls: notebookParameters(l.nb) ?? [] }));
  for (const set of sets) {
    const applied = declared.filter((l) => l.decls.some((d) => d.name === set.name));
    if (applied.length === 0) {
      if (lessons.length === 1) {
        const only = declared[0];
        if (notebookParameters(only.nb) === null) injectParameters(only.nb, [set], only.label); // names the missing tag
        throw new Error(
          `--set ${set.name}: notebook ${only.label} has no parameter ${set.name} (has: ${only.decls.map((d) => d.name).join(", ") || "none"})`,
        );
      }
      throw new Error(
        `--set ${set.name}: none of the selected lessons (${lessons.map((l) => l.label).join(", ") || "none"}) has a parameter ${set.name}`,
      );
    }
    for (const l of applied) {
      const decl = l.decls.find((d) => d.name === set.name)!;
      perLesson.get(l.label)!.push(checkSetType(decl, set, l.label, notebookTypeResolver(l.nb)));
    }
    report.push({
      set,
      applied: applied.map((l) => l.label),
      skipped: declared.filter((l) => !applied.includes(l)).map((l) => l.label),
    });
  }
  return { perLesson, report };
}

/** The run's line for one set: `--set freezeRatio=0.25: lesson 03; skipped 00, 01 (no parameter freezeRatio)`. */
export function describeSetPlan(entry: SetPlan["report"][number]): string {
  const head = `--set ${entry.set.name}=${entry.set.text ?? entry.set.literal}: lesson${entry.applied.length > 1 ? "s" : ""} ${entry.applied.join(", ")}`;
  return entry.skipped.length === 0
    ? head
    : `${head}; skipped ${entry.skipped.join(", ")} (no parameter ${entry.set.name})`;
}
