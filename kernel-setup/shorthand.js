// Object shorthands that name an earlier cell's variable.
//
// tslab keeps earlier cells' variables on `exports` and rewrites each reference `x` to
// `exports.x` after resolving it with the type checker. In `{ x }` the identifier resolves to the
// new property, not to the variable, so it stays `x` and the cell throws `ReferenceError: x is
// not defined` (and `({ x } = obj)` assigns a global instead of the earlier `x`). Before tslab's
// converter sees a cell, we write each such shorthand out as `x: x`, whose value tslab does
// rewrite. `{ x }` and `{ x: x }` mean the same in every object literal (also as a destructuring
// assignment target, `{ x = 1 }` becoming `{ x: x = 1 }`), so a name a local declaration shadows
// is unaffected; binding patterns (`const { x } = obj`) are not shorthand properties and are
// left alone. The diagnostics of the rewritten cell are mapped back to the cell as written.
"use strict";

/** Names a `.d.ts` of earlier cells (tslab's prevDecl) declares as values. */
function declaredValueNames(ts, declText) {
  const names = new Set();
  if (!declText) return names;
  const sf = ts.createSourceFile("__prev__.d.ts", declText, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const addBinding = (name) => {
    if (!name) return;
    if (ts.isIdentifier(name)) names.add(name.text);
    else if (ts.isObjectBindingPattern(name) || ts.isArrayBindingPattern(name)) {
      for (const element of name.elements) if (ts.isBindingElement(element)) addBinding(element.name);
    }
  };
  for (const stmt of sf.statements) {
    if (ts.isVariableStatement(stmt)) {
      for (const decl of stmt.declarationList.declarations) addBinding(decl.name);
    } else if (ts.isFunctionDeclaration(stmt) || ts.isClassDeclaration(stmt) || ts.isEnumDeclaration(stmt)) {
      if (stmt.name) names.add(stmt.name.text);
    } else if (ts.isModuleDeclaration(stmt)) {
      if (ts.isIdentifier(stmt.name)) names.add(stmt.name.text);
    } else if (ts.isImportEqualsDeclaration(stmt)) {
      if (!stmt.isTypeOnly) names.add(stmt.name.text);
    } else if (ts.isImportDeclaration(stmt)) {
      const clause = stmt.importClause;
      if (!clause || clause.isTypeOnly) continue;
      if (clause.name) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      else if (bindings) for (const el of bindings.elements) if (!el.isTypeOnly) names.add(el.name.text);
    }
  }
  return names;
}

/**
 * `src` with every shorthand property `{ x }` whose name is in `names` written as `{ x: x }`,
 * and the insertions made ({ at, length }, `at` an offset in `src`, ascending); null when there
 * is none.
 */
function expandShorthands(ts, src, names, scriptKind = ts.ScriptKind.TS) {
  if (names.size === 0 || !src.includes("{")) return null;
  const sf = ts.createSourceFile("__cell__.ts", src, ts.ScriptTarget.Latest, false, scriptKind);
  const insertions = [];
  const visit = (node) => {
    if (ts.isShorthandPropertyAssignment(node) && names.has(node.name.text)) {
      insertions.push({ at: node.name.end, text: `: ${node.name.getText(sf)}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (insertions.length === 0) return null;
  insertions.sort((a, b) => a.at - b.at);
  let out = "";
  let from = 0;
  for (const { at, text } of insertions) {
    out += src.slice(from, at) + text;
    from = at;
  }
  out += src.slice(from);
  return { src: out, insertions: insertions.map(({ at, text }) => ({ at, length: text.length })) };
}

/** Maps an offset in the rewritten source back to `src` (inside inserted text: its insertion point). */
function originalOffset(offset, insertions) {
  let shift = 0;
  for (const { at, length } of insertions) {
    const start = at + shift; // the insertion's position in the rewritten text
    if (offset < start) break;
    if (offset < start + length) return at;
    shift += length;
  }
  return offset - shift;
}

/** { offset, line, character } of `offset` in `text`. */
function position(text, offset) {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { offset, line, character: offset - lineStart };
}

/** Wraps tslab's createConverter (converter.js) so convert() expands such shorthands first. */
function installShorthandFix(converterModule, ts) {
  const createConverter = converterModule.createConverter;
  if (typeof createConverter !== "function") throw new Error("tslab's converter.js exports no createConverter");
  converterModule.createConverter = function (options) {
    const converter = createConverter(options);
    const convert = converter.convert;
    const scriptKind = options && options.isJS ? ts.ScriptKind.JS : ts.ScriptKind.TS;
    let namesFor = null; // { decl, names }: names of the last prevDecl seen
    converter.convert = function (prevDecl, src) {
      if (!src.includes("{")) return convert.call(this, prevDecl, src);
      if (!namesFor || namesFor.decl !== prevDecl)
        namesFor = { decl: prevDecl, names: declaredValueNames(ts, prevDecl) };
      const expanded = expandShorthands(ts, src, namesFor.names, scriptKind);
      if (!expanded) return convert.call(this, prevDecl, src);
      const result = convert.call(this, prevDecl, expanded.src);
      return { ...result, diagnostics: mapDiagnostics(result.diagnostics, src, expanded.insertions) };
    };
    return converter;
  };
}

/** The cell's diagnostics (no fileName) with positions in `src`. tslab gives a message chain's
 * entries the position objects of its head (and drops their fileName), so positions are mapped
 * per object, and only those of heads in the cell. */
function mapDiagnostics(diagnostics, src, insertions) {
  if (!diagnostics || diagnostics.length === 0) return diagnostics;
  const elsewhere = new Set();
  for (const d of diagnostics) if (d.fileName) elsewhere.add(d.start).add(d.end);
  const mapped = new Map();
  const map = (pos) => {
    if (!pos || elsewhere.has(pos) || typeof pos.offset !== "number") return pos;
    if (!mapped.has(pos)) mapped.set(pos, position(src, originalOffset(pos.offset, insertions)));
    return mapped.get(pos);
  };
  return diagnostics.map((d) => (d.fileName ? d : { ...d, start: map(d.start), end: map(d.end) }));
}

module.exports = { installShorthandFix, expandShorthands, declaredValueNames, originalOffset, mapDiagnostics };
