// Stopping long work when the user presses "interrupt" in Jupyter.
//
// Jupyter interrupts a kernel with SIGINT. tslab answers it by abandoning the running cell's
// promise, so the cell ends at once, but the cell's async work (a training loop) would go on in
// the background and hold its tensors. The transfer-lab kernel (kernel-setup/interrupts.js)
// therefore counts SIGINTs in a global, and runs each cell in an AsyncLocalStorage context
// holding the count at the cell's start. A loop (`interruptCheck`) compares the count with
// that start, so it stops for an interrupt that arrived anywhere in its cell's run, also
// between two fits of an experiment. It polls once per batch; a poll also yields to the event
// loop every YIELD_MS, because a SIGINT handler can only run when the loop lets it: without the
// yield a pure-compute loop on the CPU/WASM backends would never see the interrupt.
//
// Outside the kernel (plain Node: `npm run lessons`, benches, tests) nobody counts, the count
// stays 0, there is no cell context (a check then starts from the count at its own creation),
// polls only yield, and Ctrl-C keeps Node's default behaviour.
import type { AsyncLocalStorage } from "async_hooks";

const INTERRUPTS = Symbol.for("transfer-lab.interrupts");
const CELL_CONTEXT = Symbol.for("transfer-lab.cell-context");

interface CellContext {
  interruptsAtStart: number;
}

/** Longest stretch a polling loop runs without yielding to the event loop. */
export const YIELD_MS = 50;

/** Thrown by a loop that stopped because the kernel was interrupted. */
export class InterruptedError extends Error {
  constructor(what: string) {
    super(
      `${what}: interrupted (kernel interrupt); its tensors were released, the model keeps the weights of the last finished step`,
    );
    this.name = "InterruptedError";
  }
}

/** How many interrupts the kernel has received so far (0 outside the transfer-lab kernel). */
export function interruptCount(): number {
  const n = (globalThis as Record<symbol, unknown>)[INTERRUPTS];
  return typeof n === "number" ? n : 0;
}

/** Test hook and programmatic stop: behaves exactly like a kernel interrupt. */
export function requestInterrupt(): void {
  (globalThis as Record<symbol, unknown>)[INTERRUPTS] = interruptCount() + 1;
}

/** The interrupt count when the running cell started, or null outside a kernel cell. */
function cellStartCount(): number | null {
  const context = (globalThis as Record<symbol, unknown>)[CELL_CONTEXT] as AsyncLocalStorage<CellContext> | undefined;
  const start = context?.getStore()?.interruptsAtStart;
  return typeof start === "number" ? start : null;
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface InterruptCheck {
  /** Yields to the event loop if YIELD_MS passed since the last yield, then throws
   * InterruptedError if an interrupt arrived since the check was created. */
  poll(): Promise<void>;
  /** True once an interrupt arrived since the check was created (no yield). */
  readonly interrupted: boolean;
}

/** Starts watching for interrupts on behalf of `what` (named in the error, e.g. "fit"): those
 * since the start of the kernel cell this runs in, or outside a cell, since now. */
export function interruptCheck(what: string): InterruptCheck {
  const start = cellStartCount() ?? interruptCount();
  let lastYield = performance.now();
  return {
    get interrupted() {
      return interruptCount() !== start;
    },
    async poll() {
      if (performance.now() - lastYield >= YIELD_MS) {
        await nextMacrotask();
        lastYield = performance.now();
      }
      if (interruptCount() !== start) throw new InterruptedError(what);
    },
  };
}
