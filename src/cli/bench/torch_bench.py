# PyTorch side of `npm run bench -- --torch`: the same W1-W3 workloads as src/cli/bench/workloads.ts
# (float32, synthetic data, Adam, same batching), timed the same way (warm-up, N runs, median).
# Prints one JSON object on stdout; never a dependency of the project (Debian python3-torch).
import argparse
import json
import os
import re
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_THREADS = 2
DEFAULT_RUNS = 3


def layer_dims(workload):
    """(in, out) of each Dense layer; must match workloads.ts."""
    if workload == "W1":
        return [(784, 256), (256, 784)]
    return [(784, 256), (256, 128), (128, 10)]


def make_model(workload, dims):
    layers = []
    for i, (a, b) in enumerate(dims):
        layers.append(nn.Linear(a, b))
        last = i == len(dims) - 1
        if workload == "W1":
            layers.append(nn.Sigmoid())  # both layers sigmoid in the autoencoder
        elif not last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def blas_in_use():
    """Which libblas the process really mapped (after a matmul ran), and torch's build info."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.strip().split(" ")[-1]
                base = os.path.basename(path)
                if "blas" in base or "mkl" in base:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    cfg = torch.__config__.show()
    info = re.findall(r"\bBLAS_INFO=([^,\s]+)", cfg)
    mapped = sorted(libs)
    if any("openblas" in p for p in mapped):
        name = "OpenBLAS (" + ("openmp" if any("openmp" in p for p in mapped) else "pthread" if any("pthread" in p for p in mapped) else "serial") + ")"
    elif any("mkl" in p for p in mapped):
        name = "MKL"
    elif any("/blas/libblas" in p for p in mapped):
        name = "reference BLAS (Debian libblas3, netlib; slow)"
    else:
        name = "unknown"
    return {"name": name, "mapped": mapped, "buildBlasInfo": info[0] if info else None}


def run_train(workload, samples, epochs, batch, runs, warmup_steps):
    dims = layer_dims(workload)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(samples, 784, generator=g)
    y = torch.randint(0, 10, (samples,), generator=g)
    model = make_model(workload, dims)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = F.mse_loss(out, xb) if workload == "W1" else F.cross_entropy(out, yb)
        loss.backward()
        opt.step()
        return loss

    for i in range(warmup_steps):
        step(x[:batch], y[:batch])
    times, cpu = [], []
    last = float("nan")
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for e in range(epochs):
            perm = torch.randperm(samples, generator=g)
            for s in range(0, samples, batch):
                idx = perm[s:s + batch]
                loss = step(x[idx], y[idx])
        last = float(loss)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, last


def run_forward(samples, batch, passes, runs):
    dims = layer_dims("W3")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(samples, 784, generator=g)
    model = make_model("W3", dims).eval()
    with torch.no_grad():
        model(x[:batch])
        times, cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            for _p in range(passes):
                for s in range(0, samples, batch):
                    model(x[s:s + batch])
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return times, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", default=str(DEFAULT_THREADS), help="comma list: one set of runs per thread count")
    ap.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--forward-batch", type=int, default=512)
    ap.add_argument("--forward-passes", type=int, default=10)
    args = ap.parse_args()
    try:
        thread_counts = [int(t) for t in args.threads.split(",")]
    except ValueError:
        sys.exit(f"torch_bench: --threads must be a comma list of integers, got {args.threads!r}")
    if min(thread_counts) < 1 or args.runs < 1:
        sys.exit(f"torch_bench: thread counts and --runs must be >= 1, got {args.threads}, {args.runs}")
    out = {"torch": torch.__version__, "configs": []}
    for threads in thread_counts:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        cfg = {"threads": torch.get_num_threads(), "workloads": {}}
        for w in ("W1", "W2"):
            times, cpu, loss = run_train(w, args.samples, args.epochs, args.batch, args.runs, warmup_steps=5)
            cfg["workloads"][w] = {"runs": times, "median": statistics.median(times), "cpuMedian": statistics.median(cpu), "finalLoss": loss}
        times, cpu = run_forward(args.samples, args.forward_batch, args.forward_passes, args.runs)
        cfg["workloads"]["W3"] = {"runs": times, "median": statistics.median(times), "cpuMedian": statistics.median(cpu)}
        out["configs"].append(cfg)
    out["blas"] = blas_in_use()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
