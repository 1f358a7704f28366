# Runs cells one after another in a fresh kernel through jupyter_client and prints what the
# kernel sent for each: the execute_reply content and the iopub messages (stream, display_data,
# execute_result, error). For test/kernel-conformance.test.ts. Reads JSON from stdin:
#   {"kernel": name, "timeout": seconds,
#    "cells": [{"code": str, "stopOnError": bool (default true), "interruptAfterOutput": seconds?}]}
# and prints one JSON line {"cells": [{"reply": {...}, "outputs": [{"msg_type", "content"}]}]}.
# interruptAfterOutput interrupts the kernel (SIGINT, as Jupyter does) that many seconds after
# the cell first printed something, so the signal arrives while the cell awaits, not before.
import json
import sys
import time
from queue import Empty

from jupyter_client.manager import start_new_kernel

STARTUP_TIMEOUT_S = 120


def run_cell(km, kc, cell, timeout):
    msg_id = kc.execute(cell["code"], stop_on_error=cell.get("stopOnError", True))
    interrupt_after = cell.get("interruptAfterOutput")
    outputs = []
    deadline = time.monotonic() + timeout
    while True:  # iopub until this request's idle status
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except Empty:
            raise TimeoutError("no idle status for %r within %s s" % (cell["code"], timeout))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
        if kind not in ("status", "execute_input"):
            outputs.append({"msg_type": kind, "content": msg["content"]})
        if interrupt_after is not None and kind == "stream":
            time.sleep(interrupt_after)
            km.interrupt_kernel()
            interrupt_after = None
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return {"reply": reply["content"], "outputs": outputs}


def main():
    request = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name=request["kernel"], startup_timeout=STARTUP_TIMEOUT_S)
    try:
        cells = [run_cell(km, kc, cell, request["timeout"]) for cell in request["cells"]]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        del kc  # dropping it here keeps its __del__ from logging during interpreter exit
    sys.stdout.write(json.dumps({"cells": cells}, default=str) + "\n")


if __name__ == "__main__":
    main()
