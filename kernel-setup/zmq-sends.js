// One zeromq send at a time per kernel socket.
//
// zeromq 6 allows one send in progress per socket: a second send() while the first is pending
// rejects with EBUSY ("Socket is busy writing; only one send operation may be in progress at
// any time"). tslab 1.0.22 never awaits its sends (ZmqMessage.signAndSend), so a cell printing
// many lines sent stream messages on top of each other on the iopub socket. The rejections went
// to tslab's unhandledRejection handler (whose console.error is itself a stream send): output
// stopped near 500 lines and the cell never went idle; with the WASM backend loaded (its
// emscripten runtime rethrows uncaught errors) the kernel process died. Here every send on the
// kernel's own sockets waits for the one before it on the same socket; sockets created by cell
// code are untouched. (Sending one message per line is still too many: stream-batcher.js.)
"use strict";

const fs = require("fs");

/** The socket properties ZmqServer.init assigns (tslab 1.0.22 jupyter.js). */
const SERVER_SOCKETS = ["iopub", "shell", "control", "stdin", "hb"];
/** Set on zeromq's Socket.prototype once its send is wrapped. */
const WRAPPED = Symbol.for("transfer-lab.serialised-send");

/** Kernel socket -> { pending: sends not yet settled, tail: the promise of the last one (never rejects) }. */
const queues = new WeakMap();

/** Reports a failed send on the kernel's real stderr: process.stderr is a stream message while a
 * cell runs, which would queue another send behind the failed one. */
function reportSendError(error) {
  try {
    fs.writeSync(
      2,
      `transfer-lab kernel: a zeromq send failed: ${error instanceof Error ? error.stack || error.message : String(error)}\n`,
    );
  } catch {
    // stderr is gone too; nothing left to tell.
  }
}

/** Wraps zeromq's Socket.prototype.send: a registered socket's sends run one after another, each
 * started when the one before it has settled (at once when none is in progress, so a reply sent
 * just before tslab closes the sockets on shutdown still goes out). The returned promise always
 * resolves (a failure is reported on stderr), as tslab does not handle it. Sends queued behind
 * the socket's close are dropped. */
function wrapSocketSend(zmq) {
  const proto = zmq.Socket && zmq.Socket.prototype;
  if (!proto || typeof proto.send !== "function") throw new Error("zeromq exports no Socket with send()");
  if (proto[WRAPPED]) return;
  const send = proto.send;
  Object.defineProperty(proto, "send", {
    configurable: true,
    writable: false,
    enumerable: false,
    value: function serialisedSend(message) {
      const queue = queues.get(this);
      if (queue === undefined) return send.call(this, message);
      const start = () => (this.closed ? undefined : send.call(this, message));
      let sent;
      if (queue.pending === 0) {
        try {
          sent = Promise.resolve(start());
        } catch (e) {
          sent = Promise.reject(e);
        }
      } else {
        sent = queue.tail.then(start);
      }
      queue.pending += 1;
      queue.tail = sent.then(noop, reportSendError).then(() => {
        queue.pending -= 1;
      });
      return queue.tail;
    },
  });
  Object.defineProperty(proto, WRAPPED, { value: true });
}

function noop() {}

/** Registers `socket`: its sends go through its queue from now on. */
function serialiseSends(socket) {
  if (socket && typeof socket === "object" && !queues.has(socket))
    queues.set(socket, { pending: 0, tail: Promise.resolve() });
  return socket;
}

/** Makes the sockets a ZmqServer assigns to itself (this.iopub = new zmq.Publisher(), ...) send
 * one message at a time. zeromq sockets are sealed, so the wrapping is on Socket.prototype.send,
 * for the sockets registered by accessors on ZmqServer.prototype that tslab's init assigns. */
function installSerialisedSends(ZmqServer, zmq) {
  wrapSocketSend(zmq);
  for (const name of SERVER_SOCKETS) {
    Object.defineProperty(ZmqServer.prototype, name, {
      configurable: true,
      get() {
        return undefined;
      },
      set(socket) {
        Object.defineProperty(this, name, {
          value: serialiseSends(socket),
          writable: true,
          configurable: true,
          enumerable: true,
        });
      },
    });
  }
}

module.exports = { installSerialisedSends, serialiseSends, wrapSocketSend, SERVER_SOCKETS };
