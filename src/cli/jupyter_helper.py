# Jupyter-side half of kernel-setup: probe an interpreter, read/install/remove the kernelspec
# and start the kernel once. Run with the Python that has jupyter_client; each command prints
# one JSON object as its last stdout line (src/cli/jupyter.ts parses it).
import json
import sys

KERNEL_NAME = "transfer-lab"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def module_version(name):
    try:
        module = __import__(name)
    except Exception:
        return None
    return str(getattr(module, "__version__", "unknown"))


def probe():
    emit({
        "python": sys.executable,
        "pythonVersion": "%d.%d.%d" % sys.version_info[:3],
        "jupyterClient": module_version("jupyter_client"),
        "jupyterCore": module_version("jupyter_core"),
        "nbclient": module_version("nbclient"),
        "nbformat": module_version("nbformat"),
        "jupyterKernelTest": module_version("jupyter_kernel_test"),
    })


def get_spec(name):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_core.paths import jupyter_data_dir
    manager = KernelSpecManager()
    user_dir = jupyter_data_dir() + "/kernels"
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        emit({"found": False, "userKernelsDir": user_dir})
        return
    emit({
        "found": True,
        "userKernelsDir": user_dir,
        "resourceDir": spec.resource_dir,
        "spec": spec.to_dict(),
    })


def install(source_dir, name):
    from jupyter_client.kernelspec import KernelSpecManager
    dest = KernelSpecManager().install_kernel_spec(source_dir, kernel_name=name, user=True)
    emit({"installed": dest})


def remove(name):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        path = KernelSpecManager().remove_kernel_spec(name)
    except (NoSuchKernel, KeyError):
        emit({"removed": None})
        return
    emit({"removed": path})


def smoke(name, cwd, timeout):
    """Starts the kernel, runs `1+1`, returns the text/plain of its execute_result (the
    launcher makes tslab send one; plain tslab printed the value on stdout)."""
    from jupyter_client.manager import start_new_kernel
    result = {"status": None, "text": None, "error": None}

    def hook(msg):
        kind = msg["msg_type"]
        if kind == "execute_result":
            result["text"] = msg["content"]["data"].get("text/plain")
        elif kind == "error":
            result["error"] = "%s: %s" % (msg["content"]["ename"], msg["content"]["evalue"])

    try:
        km, kc = start_new_kernel(kernel_name=name, startup_timeout=timeout, cwd=cwd)
    except Exception as e:  # startup failures come in many exception types
        emit({"status": "start-failed", "text": None, "error": "%s: %s" % (type(e).__name__, e)})
        return
    try:
        reply = kc.execute_interactive("1+1", timeout=timeout, output_hook=hook)
        result["status"] = reply["content"]["status"]
    except Exception as e:  # a timeout or a dead kernel
        result["status"] = "failed"
        result["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        del kc  # dropping it here keeps its __del__ from logging during interpreter exit
    emit(result)


def main(argv):
    command = argv[0] if argv else ""
    if command == "probe":
        probe()
    elif command == "get":
        get_spec(argv[1] if len(argv) > 1 else KERNEL_NAME)
    elif command == "install":
        install(argv[1], argv[2] if len(argv) > 2 else KERNEL_NAME)
    elif command == "remove":
        remove(argv[1] if len(argv) > 1 else KERNEL_NAME)
    elif command == "smoke":
        smoke(argv[1], argv[2], float(argv[3]))
    else:
        sys.stderr.write("usage: jupyter_helper.py probe|get|install|remove|smoke ...\n")
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
