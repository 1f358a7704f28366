#!/usr/bin/env node
// Starts the tslab kernel for transfer-lab. tslab compiles cells with rootDir = cwd, so a
// notebook in notebooks/ could not import ../src; we run the kernel from the project root
// instead (notebooks then `import * as tl from "./src"`) and keep the notebook's own folder in
// TRANSFER_LAB_NOTEBOOK_DIR. argv stays tslab's: `kernel --config-path <connection file>`.
"use strict";

const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const tslabDist = path.join(root, "node_modules", "tslab", "dist");
const tslabMain = path.join(tslabDist, "main.js");

if (!fs.existsSync(tslabMain)) {
  console.error(
    `transfer-lab kernel: ${tslabMain} is missing; run \`npm install\` in ${root}, then restart the kernel.`,
  );
  process.exit(1);
}

function isFolderWithIndex(p) {
  try {
    return (
      fs.statSync(p).isDirectory() && ["index.ts", "index.tsx", "index.js"].some((f) => fs.existsSync(path.join(p, f)))
    );
  } catch {
    return false;
  }
}

// tslab (1.0.22) runs a compiled local import from memory under `<joined path>.js`, so
// `import ... from "./src"` type-checks but fails at run time (MODULE_NOT_FOUND src.js): it
// never tries the folder's index. Its executor builds that path with tspath.normalizeJoin
// (dirname, id); for a relative id naming a folder with an index we return `<folder>/index`.
// tslab's other calls of normalizeJoin join file names, which this leaves unchanged.
const tspath = require(path.join(tslabDist, "tspath.js"));
if (typeof tspath.normalizeJoin === "function") {
  const normalizeJoin = tspath.normalizeJoin;
  tspath.normalizeJoin = function (...parts) {
    const joined = normalizeJoin(...parts);
    const id = parts[parts.length - 1];
    if (parts.length === 2 && typeof id === "string" && id.startsWith(".") && isFolderWithIndex(joined)) {
      return `${joined}/index`;
    }
    return joined;
  };
} else {
  console.error(
    'transfer-lab kernel: tslab/dist/tspath.js has no normalizeJoin; `import ... from "./src"` may fail, use "./src/index".',
  );
}

// tslab keeps one slot for the compiler's debounce timer and throws "Unexpected pending
// rebuildTimer" when a second one is asked for. TypeScript's directory watchers (on every
// folder where an import lookup failed: the project root, src/) ask for one whenever a file
// is created there, so a cell that writes a cache file under the root broke every later cell.
// We switch directory watching off; edits to imported files are still seen (file watchers),
// a module created after a failed import needs a kernel restart.
const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDist] }));
ts.sys.watchDirectory = () => ({ close() {} });

// tslab rewrites a reference to an earlier cell's variable `x` as `exports.x`, but not the `x`
// of an object shorthand `{ x }`, which then threw `ReferenceError: x is not defined`.
// shorthand.js writes such shorthands out as `x: x` before tslab's converter sees the cell.
require("./shorthand").installShorthandFix(require(path.join(tslabDist, "converter.js")), ts);

// Interrupts: tslab answers SIGINT by abandoning the running cell's promise, but the cell's
// async work (a training loop) would go on in the background. interrupts.js counts SIGINTs and
// gives each cell a context with the count at its start; the library's loops poll both
// (src/core/interrupt.ts) and stop at their next batch. Registered before tslab's own listener.
require("./interrupts").installInterruptCounter();

// Jupyter protocol: tslab sends a cell's value and errors as stream text, leaves `status` out
// of kernel_info_reply, aborts every request of the 200 ms after a failed cell, and sends one
// message per console write without waiting for the socket (zeromq 6 then fails with EBUSY);
// tslab-protocol.js wraps its executor, handler and server to send execute_result (as
// util.inspect shows the value), `error` messages and full replies, to abort only the requests
// already waiting, and to batch output and send one message at a time per socket.
try {
  require("./tslab-protocol").installProtocolFixes(tslabDist);
} catch (e) {
  console.error(`transfer-lab kernel: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

// Memory: a kernel whose heap fills up dies without a word in the notebook; warn on its log first
// (memory.js; the lesson runner shows the log of a kernel that died).
require("./memory").installHeapWatch();

process.env.TRANSFER_LAB_NOTEBOOK_DIR = process.cwd();
process.chdir(root);
require(tslabMain).main();
