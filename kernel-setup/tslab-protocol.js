// The parts of the Jupyter messaging protocol tslab 1.0.22 skips, added by wrapping its exported
// executor, handler and server (launch-kernel.js installs this before tslab's main()):
// kernel_info_reply carries status "ok"; a cell's last value is an execute_result, not stdout
// text; a failing cell (type error, throw, interrupt) publishes an `error` message and its
// execute_reply carries ename/evalue/traceback, instead of the error arriving as stderr text.
"use strict";

const fs = require("fs");
const path = require("path");
const util = require("util");
const { runInCell } = require("./interrupts");

/** The tslab these wrappers were written against; another version is checked for shape. */
const TSLAB_VERSION = "1.0.22";
/** tslab's executor prints each TypeScript diagnostic with this format (executor.js). */
const DIAGNOSTIC_FORMAT = "%s%d:%d - %s";
/** Messages of the errors that mean "the cell was interrupted": tslab's own (SIGINT during an
 * awaited promise) and node's vm (SIGINT during synchronous code, breakOnSigint). */
const INTERRUPT_MESSAGE = "Interrupted asynchronously";
const VM_INTERRUPT_CODE = "ERR_SCRIPT_EXECUTION_INTERRUPTED";

/** A stack line of the kernel's own machinery rather than of the cell or the code it called. */
const KERNEL_FRAME = /^\s+at .*(\(node:vm:|node_modules\/tslab\/dist\/|kernel-setup\/tslab-protocol\.js|sigintHandlersWrap)/;

/** What the running cell's executor reported; one per executor. */
const CELL = Symbol("transfer-lab.cell");
/** On an execute_request's content: publishes one iopub message with that request as parent. */
const PUBLISH = Symbol("transfer-lab.publish");

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
    const traceback = util.inspect(value).split("\n").filter((line) => !KERNEL_FRAME.test(line));
    return { ename: String(value.name || "Error"), evalue: value.message, traceback };
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
  if (!executorSource.includes("console.log(ret)")) problems.push("executor.js no longer prints the last value with console.log(ret)");
  if (!executorSource.includes(JSON.stringify(DIAGNOSTIC_FORMAT))) problems.push(`executor.js no longer prints diagnostics as ${DIAGNOSTIC_FORMAT}`);
  const handler = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
  for (const m of ["handleKernel", "handleExecute", "handleExecuteImpl"]) {
    if (!handler || typeof handler[m] !== "function") problems.push(`jupyter.js JupyterHandlerImpl has no ${m}`);
  }
  const server = jupyter.ZmqServer && jupyter.ZmqServer.prototype;
  if (!server || typeof server.handleExecute !== "function") problems.push("jupyter.js ZmqServer has no handleExecute");
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
    console.error(`transfer-lab kernel: tslab ${version} found, tslab-protocol.js was written for ${TSLAB_VERSION}; its shape checks passed.`);
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

  // tslab's server publishes only stream and display_data for a cell; the handler gets a
  // publisher for the other iopub messages, parented to the request like tslab's own.
  const serverHandleExecute = jupyter.ZmqServer.prototype.handleExecute;
  jupyter.ZmqServer.prototype.handleExecute = function (sock, msg) {
    const publish = (msgType, content) => {
      const out = msg.createReply();
      out.header.msg_type = msgType;
      out.content = content;
      out.signAndSend(this.connInfo.key, this.iopub);
    };
    Object.defineProperty(msg.content, PUBLISH, { value: publish });
    return serverHandleExecute.call(this, sock, msg);
  };

  const Base = jupyter.JupyterHandlerImpl;
  class ProtocolHandler extends Base {
    constructor(executor, isJs) {
      super(executor, isJs);
      /** execute request -> the ename/evalue/traceback of its failure, for the reply. */
      this.failures = new WeakMap();
    }

    handleKernel() {
      return { status: "ok", ...super.handleKernel() };
    }

    // Runs inside tslab's execution queue, one cell at a time, so one `cell` record suffices.
    async handleExecuteImpl(req, writeStream, writeDisplayData) {
      const cell = this.executor[CELL];
      cell.values = [];
      cell.errorCalls = [];
      let count;
      try {
        // The cell's code, and all it starts, runs knowing the interrupt count at its start.
        count = await runInCell(() => super.handleExecuteImpl(req, writeStream, writeDisplayData));
      } catch (thrown) {
        const failure = describeFailure(cell.errorCalls, thrown);
        this.failures.set(req, failure);
        req[PUBLISH]("error", failure);
        // tslab throws its ExecutionCount when the cell failed, which aborts the requests queued
        // behind it (and those arriving in the next 200 ms). With stop_on_error false (nbclient
        // for a `raises-exception` cell) they must run: the cell resolves, and handleExecute
        // below turns its ok reply into the error reply.
        if (req.stop_on_error === false && thrown && typeof thrown.count === "number") return thrown;
        throw thrown;
      }
      // A `//%module` cell's diagnostics do not fail it; they stay stderr text, as in tslab.
      for (const args of cell.errorCalls) writeStream("stderr", util.format(...args) + "\n");
      for (const value of cell.values) {
        // util.format is what tslab's console.log(ret) printed: strings raw, others inspected.
        req[PUBLISH]("execute_result", { execution_count: this.execCount, data: { "text/plain": util.format(value) }, metadata: {} });
      }
      return count;
    }

    async handleExecute(req, writeStream, writeDisplayData) {
      const reply = await super.handleExecute(req, writeStream, writeDisplayData);
      const failure = this.failures.get(req);
      if (reply.status === "ok" && failure) return { ...reply, status: "error", ...failure };
      if (reply.status !== "error") return reply;
      return { ...reply, ...(failure ?? describeFailure([], new Error("tslab failed to run the cell; see the kernel's stderr"))) };
    }
  }
  jupyter.JupyterHandlerImpl = ProtocolHandler;
}

module.exports = { installProtocolFixes, describeFailure, TSLAB_VERSION };
