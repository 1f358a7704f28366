// Running out of memory, said in words. A cell that asks for an impossible array gets
// `RangeError: Invalid typed array length` from V8 — the hint below says it is too large for
// memory; a kernel whose JavaScript heap fills up is killed by V8 with nothing in the notebook —
// the watch below warns on the kernel's log (the runner shows it) while there is still room.
"use strict";
const v8 = require("v8");

/** Messages of V8 and WebAssembly when an allocation is refused. */
const ALLOCATION_FAILED =
  /Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid string length|WebAssembly\.Memory\(\): could not allocate|Out of memory/i;

/** Share of the heap limit at which the watch warns. */
const HEAP_WARN_SHARE = 0.85;
/** How often the watch looks, in ms. */
const HEAP_WATCH_MS = 1000;

function mb(bytes) {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}

/** A sentence to add to an error that is a refused allocation, or null. */
function memoryHint(error) {
  if (!error || typeof error.message !== "string" || !ALLOCATION_FAILED.test(error.message)) return null;
  const heap = v8.getHeapStatistics();
  return (
    `too large for memory: an array or tensor bigger than this process can allocate was asked for ` +
    `(JavaScript heap ${mb(heap.used_heap_size)} used of ${mb(heap.heap_size_limit)}; typed arrays and the WASM ` +
    `backend's memory are limited too). Use smaller sizes or a smaller scale, dispose tensors you no longer need, ` +
    `or raise Node's heap limit with NODE_OPTIONS=--max-old-space-size=<MB> before starting Jupyter`
  );
}

/** Writes a warning to the kernel's log (its stderr) when the heap passes HEAP_WARN_SHARE of its
 * limit, once per crossing; a kernel that then dies leaves that line for the runner to show. */
function installHeapWatch(write = (line) => process.stderr.write(line + "\n")) {
  let warned = false;
  const timer = setInterval(() => {
    const heap = v8.getHeapStatistics();
    const share = heap.used_heap_size / heap.heap_size_limit;
    if (share >= HEAP_WARN_SHARE && !warned) {
      warned = true;
      write(
        `transfer-lab kernel: low on memory: JavaScript heap ${mb(heap.used_heap_size)} of ${mb(heap.heap_size_limit)} ` +
          `(${Math.round(100 * share)} %); the kernel dies when it is full (raise the limit with NODE_OPTIONS=--max-old-space-size=<MB>)`,
      );
    } else if (share < HEAP_WARN_SHARE * 0.9) {
      warned = false;
    }
  }, HEAP_WATCH_MS);
  timer.unref();
  return timer;
}

module.exports = { memoryHint, installHeapWatch, ALLOCATION_FAILED };
