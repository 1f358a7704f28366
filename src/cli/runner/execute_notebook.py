# Executes one notebook with Jupyter's own executor (nbclient) for the lesson runner
# (src/cli/runner/run.ts). Prints one JSON line per executed code cell, always writes the executed
# notebook (also after a failure) and a JSON result file saying which cell failed and why.
import argparse
import json
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--input", required=True, help="notebook to execute")
    ap.add_argument("--output", required=True, help="where the executed notebook is written")
    ap.add_argument("--result", required=True, help="where the JSON result is written")
    ap.add_argument("--cwd", required=True, help="kernel working directory (resources path)")
    ap.add_argument("--kernel", required=True, help="kernelspec name")
    ap.add_argument("--timeout", type=int, required=True, help="seconds per cell")
    ap.add_argument("--startup-timeout", type=int, required=True, help="seconds for the kernel to start")
    return ap.parse_args(argv)


def first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def main(argv):
    args = parse_args(argv)
    nb = nbformat.read(args.input, as_version=4)
    state = {"index": None, "started": time.monotonic()}

    def on_cell_execute(cell, cell_index):
        state["index"] = cell_index
        state["started"] = time.monotonic()

    def on_cell_executed(cell, cell_index, execute_reply):
        print(json.dumps({
            "event": "cell",
            "index": cell_index,
            "seconds": time.monotonic() - state["started"],
            "status": execute_reply["content"].get("status"),
        }), flush=True)

    result = {"ok": False, "failedCell": None, "errorType": None, "message": None, "ename": None, "evalue": None, "seconds": None}
    t0 = time.monotonic()
    try:
        client = NotebookClient(
            nb,
            timeout=args.timeout,
            startup_timeout=args.startup_timeout,
            kernel_name=args.kernel,
            resources={"metadata": {"path": args.cwd}},
            on_cell_execute=on_cell_execute,
            on_cell_executed=on_cell_executed,
        )
        client.execute()
        result["ok"] = True
    except CellTimeoutError as e:
        result.update(failedCell=state["index"], errorType="timeout", message=first_line(e))
    except DeadKernelError as e:
        result.update(failedCell=state["index"], errorType="dead-kernel", message=first_line(e))
    except CellExecutionError as e:  # the kernel's error reply: ename/evalue as the kernel sent them
        result.update(failedCell=state["index"], errorType="cell-error", message="%s: %s" % (e.ename, e.evalue), ename=e.ename, evalue=e.evalue)
    except Exception as e:  # kernel start failures (NoSuchKernel, RuntimeError, zmq errors, ...)
        result.update(failedCell=state["index"], errorType=type(e).__name__, message=first_line(e))
    finally:
        result["seconds"] = time.monotonic() - t0
        nbformat.write(nb, args.output)
        with open(args.result, "w") as f:
            json.dump(result, f)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
