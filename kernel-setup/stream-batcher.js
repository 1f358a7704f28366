// Coalesces a cell's console output into few stream messages.
//
// tslab sends one iopub `stream` message per process.stdout/stderr write, i.e. per console.log.
// A cell printing 20,000 lines sent 20,000 messages at once; past the iopub socket's send high
// water mark (1000 by default) zeromq's PUB socket drops messages, and each message costs a
// signature and a send. Like ipykernel's OutStream, writes are buffered and sent as one message
// per stream every FLUSH_MS (or once MAX_CHARS are buffered, so a long synchronous loop still
// sends bounded messages); the protocol wrapper flushes before anything else it publishes for a
// cell (display data, execute_result, error) and before the execute reply, so order is kept.
"use strict";

/** Longest time a write waits before it is sent, in ms. */
const FLUSH_MS = 50;
/** Buffered characters that are sent at once, without waiting for the timer. */
const MAX_CHARS = 64 * 1024;

/** One buffer for the whole kernel: a write to another stream or for another request sends what
 * is buffered first, so messages leave in the order the writes happened. */
class StreamBatcher {
  constructor({ flushMs = FLUSH_MS, maxChars = MAX_CHARS } = {}) {
    this.flushMs = flushMs;
    this.maxChars = maxChars;
    /** (name, text) => void: sends one stream message for the request that wrote. */
    this.target = null;
    this.name = null;
    this.parts = [];
    this.size = 0;
    this.timer = null;
    this.flush = this.flush.bind(this);
  }

  /** Buffers `text` for stream `name`; `send(name, text)` sends it for the writing request. */
  write(send, name, text) {
    if (typeof text !== "string" || text.length === 0) return;
    if (this.parts.length > 0 && (this.target !== send || this.name !== name)) this.flush();
    this.target = send;
    this.name = name;
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.maxChars) this.flush();
    else if (this.timer === null) this.timer = setTimeout(this.flush, this.flushMs);
  }

  /** Sends what is buffered, as one message. */
  flush() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.parts.length === 0) return;
    const send = this.target;
    const name = this.name;
    const text = this.parts.length === 1 ? this.parts[0] : this.parts.join("");
    this.parts = [];
    this.size = 0;
    send(name, text);
  }
}

module.exports = { StreamBatcher, FLUSH_MS, MAX_CHARS };
