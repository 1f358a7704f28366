// Interrupts for the library's loops (src/core/interrupt.ts reads both globals).
//
// tslab answers SIGINT by abandoning the running cell's promise, but the cell's async work (a
// training loop) would go on in the background. So we count SIGINTs in a global, and run each
// cell inside an AsyncLocalStorage context holding the count at the cell's start. Everything the
// cell starts, including work still running after the cell was abandoned, sees that context, so
// a loop can tell "an interrupt arrived since my cell began" even when the interrupt landed
// between two of its fits (while an await let other work run), or after a later cell started.
"use strict";

const { AsyncLocalStorage } = require("async_hooks");

const INTERRUPTS = Symbol.for("transfer-lab.interrupts");
const CELL_CONTEXT = Symbol.for("transfer-lab.cell-context");

/** Counts SIGINTs; register before tslab's own SIGINT listener. */
function installInterruptCounter() {
  globalThis[INTERRUPTS] = 0;
  globalThis[CELL_CONTEXT] = new AsyncLocalStorage();
  process.on("SIGINT", () => {
    globalThis[INTERRUPTS] += 1;
  });
}

/** Runs a cell's execution `fn` in a context that records the interrupt count at its start. */
function runInCell(fn) {
  const context = globalThis[CELL_CONTEXT];
  if (!context) return fn();
  return context.run({ interruptsAtStart: globalThis[INTERRUPTS] ?? 0 }, fn);
}

module.exports = { installInterruptCounter, runInCell };
