// Checking a `--set` value against the type its `parameters` cell declares, before any kernel
// starts: `let freezeRatio: number = …` refuses `abc`. Conservative: only annotations built from
// number, boolean, string, null, literals, unions and arrays are checked; a name (`tl.ShiftName`)
// is expanded when the notebook imports the library as a namespace (`import * as tl from "./src"`)
// or by name, or declares the type itself, and the library defines it once as
// `export type ShiftName = …`. Anything else (objects, generics, functions) is let through:
// the kernel's compiler still checks it.
import fs from "fs";
import path from "path";
import { projectRoot } from "../../core/paths";
import { cellSource, type Notebook } from "./notebook";

export type ParamType =
  | { kind: "number" | "boolean" | "string" | "null" }
  | { kind: "literal"; value: string | number | boolean }
  | { kind: "array"; of: ParamType }
  | { kind: "union"; of: ParamType[] };

/** Type name -> its definition's text, or null when it is not one thing (ambiguous, or not found). */
export type TypeResolver = (name: string) => string | null;

const MAX_DEPTH = 8;

/** Splits at top-level `sep` (outside quotes, (), [], <>, {}). */
function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("([<{".includes(c)) depth++;
    else if (")]>}".includes(c)) depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** Whether `text` is one parenthesised group, `(…)`. */
function wrapped(text: string): boolean {
  if (!text.startsWith("(") || !text.endsWith(")")) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0 && i < text.length - 1) return false;
  }
  return true;
}

/** Parses a type annotation; null when it is not one this module can check. */
export function parseType(annotation: string, resolve: TypeResolver = () => null, depth = 0): ParamType | null {
  if (depth > MAX_DEPTH) return null;
  let text = annotation.trim().replace(/^\|/, "").trim();
  while (wrapped(text)) text = text.slice(1, -1).trim();
  if (text === "") return null;
  const parts = splitTopLevel(text, "|").filter((p) => p !== "");
  if (parts.length > 1) {
    const of = parts.map((p) => parseType(p, resolve, depth + 1));
    return of.every((t): t is ParamType => t !== null) ? { kind: "union", of } : null;
  }
  if (text.endsWith("[]")) {
    const of = parseType(text.slice(0, -2).replace(/^readonly\s+/, ""), resolve, depth + 1);
    return of ? { kind: "array", of } : null;
  }
  const generic = /^(?:Readonly)?Array\s*<(.+)>$/.exec(text) ?? /^readonly\s+(.+)\[\]$/.exec(text);
  if (generic) {
    const of = parseType(generic[1], resolve, depth + 1);
    return of ? { kind: "array", of } : null;
  }
  if (text === "number" || text === "boolean" || text === "string" || text === "null") return { kind: text };
  if (text === "true" || text === "false") return { kind: "literal", value: text === "true" };
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return { kind: "literal", value: Number(text) };
  const quoted = /^"((?:[^"\\]|\\.)*)"$|^'((?:[^'\\]|\\.)*)'$/.exec(text);
  if (quoted) {
    try {
      return { kind: "literal", value: JSON.parse(`"${(quoted[1] ?? quoted[2]).replace(/\\'/g, "'")}"`) as string };
    } catch {
      return null;
    }
  }
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)?$/.test(text)) {
    const def = resolve(text);
    return def === null ? null : parseType(def, resolve, depth + 1);
  }
  return null;
}

/** Whether a JSON value is of type `t`. */
export function matchesType(t: ParamType, value: unknown): boolean {
  switch (t.kind) {
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "null":
      return value === null;
    case "literal":
      return value === t.value;
    case "array":
      return Array.isArray(value) && value.every((v) => matchesType(t.of, v));
    case "union":
      return t.of.some((u) => matchesType(u, value));
  }
}

/** The type written out (`"none" | "mild"`, `number[]`). */
export function formatType(t: ParamType): string {
  switch (t.kind) {
    case "literal":
      return JSON.stringify(t.value);
    case "array":
      return t.of.kind === "union" ? `(${formatType(t.of)})[]` : `${formatType(t.of)}[]`;
    case "union":
      return t.of.map(formatType).join(" | ");
    default:
      return t.kind;
  }
}

/** What a JSON value is, in words: `the string "abc"`, `the number 2`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array ${JSON.stringify(value)}`;
  if (typeof value === "object") return `an object ${JSON.stringify(value)}`;
  return `the ${typeof value} ${JSON.stringify(value)}`;
}

/** The type of a plain literal initializer (`0.5`, `true`, `"mild"`), for an unannotated declaration. */
export function initializerType(initializer: string | null): ParamType | null {
  const v = initializer?.trim() ?? "";
  if (/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v)) return { kind: "number" };
  if (v === "true" || v === "false") return { kind: "boolean" };
  if (/^"(?:[^"\\]|\\.)*"$|^'(?:[^'\\]|\\.)*'$/.test(v)) return { kind: "string" };
  return null;
}

/** `export type Name = …;` definitions in the .ts files under `dir`: name -> text, null when a
 * name has different definitions. */
export function typeAliasesIn(dir: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
        for (const [name, def] of typeAliasesInSource(fs.readFileSync(p, "utf8"), true)) {
          if (!out.has(name)) out.set(name, def);
          else if (out.get(name) !== def) out.set(name, null);
        }
      }
    }
  };
  walk(dir);
  return out;
}

/** Type aliases declared in source text (only exported ones when `exportedOnly`); generic aliases skipped. */
export function typeAliasesInSource(source: string, exportedOnly: boolean): [string, string][] {
  const re = exportedOnly
    ? /^[ \t]*export\s+type\s+([A-Za-z_$][\w$]*)\s*=\s*([^;]+);/gm
    : /^[ \t]*(?:export\s+)?type\s+([A-Za-z_$][\w$]*)\s*=\s*([^;]+);/gm;
  const out: [string, string][] = [];
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    out.push([
      m[1],
      m[2]
        .replace(/\/\/[^\n]*/g, "")
        .replace(/\s+/g, " ")
        .trim(),
    ]);
  }
  return out;
}

let libraryAliases: Map<string, string | null> | undefined;

/** The library's (src/) exported type aliases, read once. */
export function libraryTypeAliases(): Map<string, string | null> {
  libraryAliases ??= typeAliasesIn(path.join(projectRoot(), "src"));
  return libraryAliases;
}

const LIBRARY_SPECIFIER = /^\.{1,2}\/src(\/index(\.ts)?)?$/;

/** The resolver for a notebook's parameter types: names the notebook declares itself, and the
 * library's names reached through its `import * as tl from "./src"` or `import { X } from "./src"`. */
export function notebookTypeResolver(
  nb: Notebook,
  library: Map<string, string | null> = libraryTypeAliases(),
): TypeResolver {
  const code = nb.cells
    .filter((c) => c.cell_type === "code")
    .map(cellSource)
    .join("\n");
  const namespaces = new Set<string>();
  const named = new Map<string, string>(); // local name -> library name
  for (const m of code.matchAll(/import\s+\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s+["']([^"']+)["']/g)) {
    if (LIBRARY_SPECIFIER.test(m[2])) namespaces.add(m[1]);
  }
  for (const m of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+["']([^"']+)["']/g)) {
    if (!LIBRARY_SPECIFIER.test(m[2])) continue;
    for (const item of m[1].split(",")) {
      const im = /^\s*(?:type\s+)?([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$/.exec(item);
      if (im) named.set(im[2] ?? im[1], im[1]);
    }
  }
  const local = new Map<string, string | null>();
  for (const [name, def] of typeAliasesInSource(code, false)) {
    local.set(name, local.has(name) && local.get(name) !== def ? null : def);
  }
  return (name) => {
    const dot = name.indexOf(".");
    if (dot >= 0) return namespaces.has(name.slice(0, dot)) ? (library.get(name.slice(dot + 1)) ?? null) : null;
    if (local.has(name)) return local.get(name) ?? null;
    const imported = named.get(name);
    return imported ? (library.get(imported) ?? null) : null;
  };
}
