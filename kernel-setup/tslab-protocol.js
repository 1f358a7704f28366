// The parts of the Jupyter messaging protocol tslab 1.0.22 skips or gets wrong, added by wrapping
// its exported executor, handler and server (launch-kernel.js installs this before tslab's
// main()): kernel_info_reply carries status "ok"; a cell's last value is an execute_result shown
// as util.inspect shows it, not stdout text; a failing cell (type error, throw, interrupt)
// publishes an `error` message and its execute_reply carries ename/evalue/traceback, instead of
// the error arriving as stderr text; after a failure only the execute requests already received
// are aborted (as ipykernel does), not every request of the next 200 ms; console output is sent
// in batches (stream-batcher.js) and every zeromq send waits for the one before (zmq-sends.js).
"use strict";

const fs = require("fs");
const path = require("path");
const util = require("util");
const { runInCell } = require("./interrupts");
const { memoryHint } = require("./memory");
const { StreamBatcher } = require("./stream-batcher");
const { installSerialisedSends, SERVER_SOCKETS } = require("./zmq-sends");

/** The tslab these wrappers were written against; another version is checked for shape. */
const TSLAB_VERSION = "1.0.22";
/** tslab's executor prints each TypeScript diagnostic with this format (executor.js). */
const DIAGNOSTIC_FORMAT = "%s%d:%d - %s";
/** Messages of the errors that mean "the cell was interrupted": tslab's own (SIGINT during an
 * awaited promise) and node's vm (SIGINT during synchronous code, breakOnSigint). */
const INTERRUPT_MESSAGE = "Interrupted asynchronously";
const VM_INTERRUPT_CODE = "ERR_SCRIPT_EXECUTION_INTERRUPTED";

/** A stack line of the kernel's own machinery rather than of the cell or the code it called. */
const KERNEL_FRAME =
  /^\s+at .*(\(node:vm:|node_modules\/tslab\/dist\/|kernel-setup\/tslab-protocol\.js|sigintHandlersWrap)/;

/** What the running cell's executor reported; one per executor. */
const CELL = Symbol("transfer-lab.cell");
/** On an execute_request's content: publishes one iopub message with that request as parent. */
const PUBLISH = Symbol("transfer-lab.publish");
/** On the ZmqServer: its StreamBatcher. */
const STREAMS = Symbol("transfer-lab.streams");
/** How long a failed cell's reply waits for requests already sent to be read, in ms. */
const ABORT_DRAIN_MS = 10;

/** ename, evalue and traceback of a failed cell, from what the executor passed to console.error. */
function describeFailure(errorCalls, thrownOutside) {
  const diagnostics = errorCalls.filter((args) => args[0] === DIAGNOSTIC_FORMAT).map((args) => util.format(...args));
  if (diagnostics.length > 0) {
    return { ename: "CompileError", evalue: diagnostics.join("\n"), traceback: diagnostics };
  }
  // tslab reports a thrown value as console.error(value); without one, tslab itself failed.
  const thrown = errorCalls.find((args) => args.length === 1);
  const value = thrown ? thrown[0] : thrownOutside;
  if (value instanceof Error || (value && typeof value === "object" && typeof value.message === "string")) {
    if (value.message === INTERRUPT_MESSAGE || value.code === VM_INTERRUPT_CODE) {
      return { ename: "Interrupted", evalue: value.message, traceback: [`Interrupted: ${value.message}`] };
    }
    // util.inspect gives the stack plus extra fields (`code`, ...), as tslab's console.error
    // did, less the frames of the kernel itself (vm, tslab, this file) under the cell's own.
    const traceback = util
      .inspect(value)
      .split("\n")
      .filter((line) => !KERNEL_FRAME.test(line));
    const hint = memoryHint(value);
    if (hint) traceback.push(hint);
    return {
      ename: String(value.name || "Error"),
      evalue: hint ? `${value.message}: ${hint}` : value.message,
      traceback,
    };
  }
  const shown = util.inspect(value);
  return { ename: "Uncaught", evalue: shown, traceback: [`Uncaught ${shown}`] };
}

/** Throws, naming what is missing, when tslab's internals are not the ones wrapped here. */
function checkShape(tslabDist, executorModule, jupyter) {
  const problems = [];
  if (typeof executorModule.createExecutor !== "function") problems.push("executor.js exports no createExecutor");
  const executorSource = fs.readFileSync(path.join(tslabDist, "executor.js"), "utf8");
  // The console passed to createExecutor must be what prints the last value and the errors.
  if (!executorSource.includes("console.log(ret)"))
    problems.push("executor.js no longer prints the last value with console.log(ret)");
  if (!executorSource.includes(JSON.stringify(DIAGNOSTIC_FORMAT)))
    problems.push(`executor.js no longer prints diagnostics as ${DIAGNOSTIC_FORMAT}`);
  const handler = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
  for (const m of ["handleKernel", "handleExecute", "handleExecuteImpl"]) {
    if (!handler || typeof handler[m] !== "function") problems.push(`jupyter.js JupyterHandlerImpl has no ${m}`);
  }
  const server = jupyter.ZmqServer && jupyter.ZmqServer.prototype;
  if (!server || typeof server.handleExecute !== "function") problems.push("jupyter.js ZmqServer has no handleExecute");
  const jupyterSource = fs.readFileSync(path.join(tslabDist, "jupyter.js"), "utf8");
  // The server's handleExecute below is replaced, so tslab's dispatch must still go through it.
  if (!jupyterSource.includes("await this.handleExecute(sock, msg)"))
    problems.push("jupyter.js handleShellMessage no longer calls this.handleExecute(sock, msg)");
  // zmq-sends.js registers the sockets ZmqServer.init assigns to these properties.
  for (const name of SERVER_SOCKETS) {
    if (!new RegExp(`this\\.${name} = new zmq\\.\\w+\\(\\)`).test(jupyterSource))
      problems.push(`jupyter.js ZmqServer.init no longer assigns this.${name} = new zmq.<Socket>()`);
  }
  if (problems.length > 0) {
    throw new Error(
      `tslab's internals are not the ones kernel-setup/tslab-protocol.js wraps (written for tslab ${TSLAB_VERSION}): ` +
        `${problems.join("; ")}. Install tslab ${TSLAB_VERSION} (\`npm install\`) or update tslab-protocol.js.`,
    );
  }
}

/** Installs the wrappers on tslab's modules under `tslabDist`; call before tslab's main(). */
function installProtocolFixes(tslabDist) {
  const version = JSON.parse(fs.readFileSync(path.join(tslabDist, "..", "package.json"), "utf8")).version;
  const executorModule = require(path.join(tslabDist, "executor.js"));
  const jupyter = require(path.join(tslabDist, "jupyter.js"));
  checkShape(tslabDist, executorModule, jupyter);
  if (version !== TSLAB_VERSION) {
    console.error(
      `transfer-lab kernel: tslab ${version} found, tslab-protocol.js was written for ${TSLAB_VERSION}; its shape checks passed.`,
    );
  }

  // tslab's startKernel passes the global console, so the last value and errors were printed
  // as stdout/stderr text. The executor uses that console for nothing else (user code's
  // console.log is the global one), so ours records them for the handler instead.
  const createExecutor = executorModule.createExecutor;
  executorModule.createExecutor = function (rootDir, convs) {
    const cell = { values: [], errorCalls: [] };
    const executor = createExecutor(rootDir, convs, {
      log: (value) => cell.values.push(value),
      error: (...args) => cell.errorCalls.push(args),
    });
    executor[CELL] = cell;
    return executor;
  };

  // Every send on the kernel's sockets waits for the one before it (zeromq 6 rejects a send
  // while another is in progress, and tslab never waits).
  installSerialisedSends(jupyter.ZmqServer, require(require.resolve("zeromq", { paths: [tslabDist] })));

  // tslab's server publishes only stream and display_data for a cell, one stream message per
  // console write. Ours batches the stream text (one buffer per kernel, flushed before anything
  // else is published and before the reply) and gives the handler a publisher for the other
  // iopub messages, parented to the request like tslab's own.
  jupyter.ZmqServer.prototype.handleExecute = async function (sock, msg) {
    const key = this.connInfo.key;
    const send = (socket, msgType, content) => {
      const out = msg.createReply();
      out.header.msg_type = msgType;
      out.content = content;
      out.signAndSend(key, socket);
    };
    const streams = this[STREAMS] || (this[STREAMS] = new StreamBatcher());
    const sendStream = (name, text) => send(this.iopub, "stream", { name, text });
    const writeStream = (name, text) => streams.write(sendStream, name, text);
    const publish = (msgType, content) => {
      streams.flush();
      send(this.iopub, msgType, content);
    };
    const writeDisplayData = (data, update) => publish(update ? "update_display_data" : "display_data", data);
    Object.defineProperty(msg.content, PUBLISH, { value: publish });
    let content;
    try {
      content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
    } finally {
      streams.flush();
    }
    send(sock, "execute_reply", content);
  };

  const Base = jupyter.JupyterHandlerImpl;
  class ProtocolHandler extends Base {
    constructor(executor, isJs) {
      super(executor, isJs);
      /** Execute requests received so far; each request is numbered by its arrival. */
      this.executeRequests = 0;
      /** Requests numbered up to this one are answered "aborted" (queued behind a failed cell). */
      this.abortThrough = 0;
      /** The requests run one at a time, in arrival order; this never rejects. */
      this.cellQueue = Promise.resolve();
    }

    handleKernel() {
      return { status: "ok", ...super.handleKernel() };
    }

    // Replaces tslab's handleExecute: its queue, once a cell failed, cancelled every request
    // that arrived in the next 200 ms (TaskQueue.reset(200)), so a learner re-running a fixed
    // cell right after an error lost it. ipykernel aborts only the requests already waiting.
    handleExecute(req, writeStream, writeDisplayData) {
      const number = ++this.executeRequests;
      const reply = this.cellQueue.then(() => this.runRequest(number, req, writeStream, writeDisplayData));
      this.cellQueue = reply.then(noop, noop);
      return reply;
    }

    /** Runs one execute request and returns its execute_reply content. */
    async runRequest(number, req, writeStream, writeDisplayData) {
      if (number <= this.abortThrough) return { status: "aborted" };
      const cell = this.executor[CELL];
      cell.values = [];
      cell.errorCalls = [];
      let count;
      try {
        // The cell's code, and all it starts, runs knowing the interrupt count at its start.
        // tslab's handleExecuteImpl resolves to its ExecutionCount, or throws it if the cell failed.
        count = await runInCell(() => this.handleExecuteImpl(req, writeStream, writeDisplayData));
      } catch (thrown) {
        const failure = describeFailure(cell.errorCalls, thrown);
        req[PUBLISH]("error", failure);
        // With stop_on_error false (nbclient for a `raises-exception` cell) the requests queued
        // behind it run.
        if (req.stop_on_error !== false) await this.abortWaitingRequests();
        const executionCount = thrown && typeof thrown.count === "number" ? thrown.count : this.execCount;
        return { status: "error", execution_count: executionCount, ...failure };
      }
      // A `//%module` cell's diagnostics do not fail it; they stay stderr text, as in tslab.
      for (const args of cell.errorCalls) writeStream("stderr", util.format(...args) + "\n");
      for (const value of cell.values) {
        // As Node's REPL and util.inspect show a value: strings quoted, objects expanded.
        req[PUBLISH]("execute_result", {
          execution_count: this.execCount,
          data: { "text/plain": util.inspect(value) },
          metadata: {},
        });
      }
      return { status: "ok", execution_count: count.count };
    }

    /** After a failed cell: the execute requests received until now are answered "aborted",
     * later ones run. Requests already on the shell socket may not have been read yet (the
     * kernel was busy running the cell), so the shell loop gets ABORT_DRAIN_MS to read them.
     * The error reply goes out after that, so a request sent after the reply arrived runs. */
    async abortWaitingRequests() {
      await new Promise((resolve) => setTimeout(resolve, ABORT_DRAIN_MS));
      this.abortThrough = this.executeRequests;
    }
  }
  jupyter.JupyterHandlerImpl = ProtocolHandler;
}

function noop() {}

module.exports = { installProtocolFixes, describeFailure, TSLAB_VERSION };
