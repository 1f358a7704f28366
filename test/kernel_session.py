# Runs cells in a fresh kernel through jupyter_client and prints what the kernel sent for each:
# the execute_reply content and the iopub messages (stream, display_data, execute_result,
# error). For the kernel tests (test/helpers/kernel.ts). Reads JSON from stdin:
#   {"kernel": name, "timeout": seconds,
#    "cells": [{"code": str, "stopOnError": bool (default true), "interruptAfterOutput": seconds?,
#               "delayBefore": seconds?, "pipelined": bool?}]}
# and prints one JSON line {"cells": [{"reply": {...}, "outputs": [{"msg_type", "content"}]}]}.
# A cell is sent once the cell before it has replied and gone idle, delayBefore seconds after
# that; a `pipelined` cell is sent right after the cell before it, without waiting for it (as
# "run all" does), so it waits in the kernel's queue.
# interruptAfterOutput interrupts the kernel (SIGINT, as Jupyter does) that many seconds after
# the cell first printed something, so the signal arrives while the cell awaits, not before.
import json
import os
import sys
import time
from queue import Empty

from jupyter_client.manager import start_new_kernel

STARTUP_TIMEOUT_S = 120


def run_group(km, kc, group, timeout):
    """Sends the cells of `group` one right after another, then collects each one's iopub
    messages until its idle status, and its reply."""
    ids = []
    for cell in group:
        if cell.get("delayBefore"):
            time.sleep(cell["delayBefore"])
        ids.append(kc.execute(cell["code"], stop_on_error=cell.get("stopOnError", True)))
    outputs = {msg_id: [] for msg_id in ids}
    interrupt_after = {msg_id: cell.get("interruptAfterOutput") for msg_id, cell in zip(ids, group)}
    idle = set()
    deadline = time.monotonic() + timeout * len(ids)
    while len(idle) < len(ids):
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Empty:
            waiting = [cell["code"] for msg_id, cell in zip(ids, group) if msg_id not in idle]
            if not km.is_alive():
                raise RuntimeError("the kernel died while running %r (its stderr is above)" % (waiting,))
            if time.monotonic() > deadline:
                raise TimeoutError("no idle status for %r within %s s" % (waiting, timeout))
            continue
        msg_id = msg["parent_header"].get("msg_id")
        if msg_id not in outputs:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            idle.add(msg_id)
            continue
        if kind not in ("status", "execute_input"):
            outputs[msg_id].append({"msg_type": kind, "content": msg["content"]})
        if interrupt_after[msg_id] is not None and kind == "stream":
            time.sleep(interrupt_after[msg_id])
            km.interrupt_kernel()
            interrupt_after[msg_id] = None
    replies = {}
    while len(replies) < len(ids):
        reply = kc.get_shell_msg(timeout=timeout)
        msg_id = reply["parent_header"].get("msg_id")
        if msg_id in outputs:
            replies[msg_id] = reply["content"]
    return [{"reply": replies[msg_id], "outputs": outputs[msg_id]} for msg_id in ids]


def groups(cells):
    """The cells split where a cell is not pipelined behind the one before it."""
    out = []
    for cell in cells:
        if out and cell.get("pipelined"):
            out[-1].append(cell)
        else:
            out.append([cell])
    return out


def main():
    request = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name=request["kernel"], startup_timeout=STARTUP_TIMEOUT_S)
    try:
        cells = [run for group in groups(request["cells"]) for run in run_group(km, kc, group, request["timeout"])]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        del kc  # dropping it here keeps its __del__ from logging during interpreter exit
    # The kernel (node) shares this stdout pipe and made it non-blocking; a large result would
    # then be cut off at the pipe's capacity.
    os.set_blocking(sys.stdout.fileno(), True)
    sys.stdout.write(json.dumps({"cells": cells}, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
