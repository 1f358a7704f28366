# PyTorch side of `npm run bench -- --torch`: the same W1-W5 workloads as src/cli/bench/workloads.ts
# (float32, synthetic data, Adam, same batching), timed the same way (warm-up, N runs, median).
# W4 is a twin of src/models/transformer.ts buildViT, W5 of src/models/bert.ts buildBert's masked-LM
# pretraining (src/cli/bench/mlm.ts): same layers, shapes and parameter counts (`--count-only` prints
# the counts alone, which test/cli/bench.test.ts compares with the tfjs models).
# Prints one JSON object on stdout; never a dependency of the project (Debian python3-torch).
import argparse
import json
import math
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


def make_block(width, hidden):
    """One pre-norm block of buildViT / buildBert: LayerNorm, q/k/v/o, LayerNorm, MLP (named as theirs)."""
    return nn.ModuleDict({
        "ln1": nn.LayerNorm(width, eps=1e-5),
        "q": nn.Linear(width, width), "k": nn.Linear(width, width), "v": nn.Linear(width, width),
        "o": nn.Linear(width, width),
        "ln2": nn.LayerNorm(width, eps=1e-5),
        "mlp1": nn.Linear(width, hidden), "mlp2": nn.Linear(hidden, width),
    })


def block_forward(blk, x, heads, bias=None):
    """x [b, T, d] through one block: multi-head softmax attention (plus an additive key bias
    [b, 1, 1, T] when given), residual; exact-GELU MLP, residual."""
    b, t, d = x.shape
    h, dh = heads, d // heads
    y = blk["ln1"](x)
    q = blk["q"](y).view(b, t, h, dh).transpose(1, 2)  # [b, h, T, dh]
    k = blk["k"](y).view(b, t, h, dh).transpose(1, 2)
    v = blk["v"](y).view(b, t, h, dh).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(dh)
    att = torch.softmax(scores if bias is None else scores + bias, dim=-1)
    a = (att @ v).transpose(1, 2).reshape(b, t, d)
    x = x + blk["o"](a)
    return x + blk["mlp2"](F.gelu(blk["mlp1"](blk["ln2"](x))))


class TinyViT(nn.Module):
    """Twin of buildViT: flat pixels -> patches (row-major) -> Linear embedding + learned position
    embedding -> pre-norm blocks (LayerNorm, q/k/v Linear, multi-head softmax attention, o Linear,
    residual; LayerNorm, Linear + exact GELU, Linear, residual) -> LayerNorm -> mean over tokens ->
    Linear head. The head returns logits: cross_entropy applies the softmax buildViT's head has."""

    def __init__(self, image=28, patch=7, width=64, depth=4, heads=4, mlp_ratio=2.0, classes=10):
        super().__init__()
        self.image, self.patch, self.heads = image, patch, heads
        self.grid = image // patch
        tokens = self.grid * self.grid
        hidden = round(mlp_ratio * width)
        self.patch_embed = nn.Linear(patch * patch, width)
        self.pos_embed = nn.Parameter(torch.randn(tokens, width) * 0.02)
        self.blocks = nn.ModuleList([make_block(width, hidden) for _ in range(depth)])
        self.final_ln = nn.LayerNorm(width, eps=1e-5)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        b, g, p = x.shape[0], self.grid, self.patch
        x = x.view(b, g, p, g, p).permute(0, 1, 3, 2, 4).reshape(b, g * g, p * p)  # [b, T, P*P]
        x = self.patch_embed(x) + self.pos_embed
        for blk in self.blocks:
            x = block_forward(blk, x, self.heads)
        return self.head(self.final_ln(x).mean(dim=1))


PAD, CLS, MASK, SPECIALS = 0, 2, 3, 4  # src/data/text.ts: [PAD], [UNK], [CLS], [MASK]


class TinyBert(nn.Module):
    """Twin of buildBert up to final_ln, with the masked-LM output tied to the token embedding
    (bertMlmLogits): token embedding [V, d] + learned positions [T, d] -> pre-norm blocks (as TinyViT,
    attention with padded keys masked) -> LayerNorm. The classification head is not part of
    masked-LM pretraining and not counted on either side."""

    def __init__(self, vocab=5000, seq=64, width=64, depth=4, heads=4, mlp_ratio=2.0):
        super().__init__()
        self.heads = heads
        hidden = max(1, round(mlp_ratio * width))
        self.token_embed = nn.Parameter(torch.randn(vocab, width) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(seq, width) * 0.02)
        self.blocks = nn.ModuleList([make_block(width, hidden) for _ in range(depth)])
        self.final_ln = nn.LayerNorm(width, eps=1e-5)

    def mlm_loss(self, ids, positions, labels):
        """ids [b, T] (masked), positions (flat indices b·T of the masked tokens), labels [m]."""
        b, t = ids.shape
        x = F.embedding(ids, self.token_embed) + self.pos_embed[:t]
        bias = (ids == PAD).float().mul(-1e9).view(b, 1, 1, t)  # padded keys masked, as buildBert
        for blk in self.blocks:
            x = block_forward(blk, x, self.heads, bias)
        hm = self.final_ln(x).reshape(b * t, x.shape[2])[positions]  # only the masked rows
        return F.cross_entropy(hm @ self.token_embed.t(), labels)


def bert_from_args(args):
    return TinyBert(args.bert_vocab, args.bert_seq, args.bert_width, args.bert_depth, args.bert_heads,
                    args.bert_mlp_ratio)


def mask_tokens(ids, vocab, rate, g):
    """BERT masking as src/data/text.ts maskTokens: each token but [PAD] and [CLS] chosen with
    probability `rate`; of those 80 % -> [MASK], 10 % -> a random word, 10 % kept."""
    chosen = (torch.rand(ids.shape, generator=g) < rate) & (ids != PAD) & (ids != CLS)
    positions = chosen.reshape(-1).nonzero().squeeze(1)
    labels = ids.reshape(-1)[positions]
    out = ids.clone().reshape(-1)
    r = torch.rand(positions.shape, generator=g)
    out[positions[r < 0.8]] = MASK
    rand_pos = positions[(r >= 0.8) & (r < 0.9)]
    out[rand_pos] = torch.randint(SPECIALS, vocab, rand_pos.shape, generator=g)
    return out.reshape(ids.shape), positions, labels


def run_bert_mlm(args, runs, warmup_steps):
    g = torch.Generator().manual_seed(0)
    n, batch, t, vocab = args.bert_samples, args.bert_batch, args.bert_seq, args.bert_vocab
    windows = torch.randint(SPECIALS, vocab, (n, t), generator=g)
    windows[:, 0] = CLS
    model = bert_from_args(args)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(idx):
        masked, positions, labels = mask_tokens(windows[idx], vocab, args.bert_mask_rate, g)
        opt.zero_grad(set_to_none=True)
        loss = model.mlm_loss(masked, positions, labels)
        loss.backward()
        opt.step()
        return loss

    return time_epochs(step, n, batch, args.bert_epochs, runs, warmup_steps, g)


def time_epochs(step, n, batch, epochs, runs, warmup_steps, g):
    """Warm-up steps on rows 0..batch, then `runs` timed runs of `epochs` epochs over n rows in a fresh
    random order each (step(idx) trains on the rows idx); wall and CPU seconds per run, last loss."""
    for _ in range(warmup_steps):
        step(torch.arange(batch))
    times, cpu = [], []
    last = float("nan")
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for _e in range(epochs):
            perm = torch.randperm(n, generator=g)
            for s in range(0, n, batch):
                loss = step(perm[s:s + batch])
        last = float(loss)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, last


def vit_from_args(args):
    return TinyViT(args.vit_image, args.vit_patch, args.vit_width, args.vit_depth, args.vit_heads, args.vit_mlp_ratio,
                   args.vit_classes)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def run_vit_train(args, runs, warmup_steps):
    g = torch.Generator().manual_seed(0)
    n, batch = args.vit_samples, args.vit_batch
    x = torch.rand(n, args.vit_image * args.vit_image, generator=g)
    y = torch.randint(0, args.vit_classes, (n,), generator=g)
    model = vit_from_args(args)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(idx):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        return loss

    return time_epochs(step, n, batch, args.vit_epochs, runs, warmup_steps, g)


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

    def step(idx):
        xb = x[idx]
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = F.mse_loss(out, xb) if workload == "W1" else F.cross_entropy(out, y[idx])
        loss.backward()
        opt.step()
        return loss

    return time_epochs(step, samples, batch, epochs, runs, warmup_steps, g)


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
    ap.add_argument("--workloads", default="W1,W2,W3,W4", help="comma list of the workloads to time")
    ap.add_argument("--vit-samples", type=int, default=2048)
    ap.add_argument("--vit-epochs", type=int, default=1)
    ap.add_argument("--vit-batch", type=int, default=128)
    ap.add_argument("--vit-image", type=int, default=28)
    ap.add_argument("--vit-patch", type=int, default=7)
    ap.add_argument("--vit-width", type=int, default=64)
    ap.add_argument("--vit-depth", type=int, default=4)
    ap.add_argument("--vit-heads", type=int, default=4)
    ap.add_argument("--vit-mlp-ratio", type=float, default=2.0)
    ap.add_argument("--vit-classes", type=int, default=10)
    ap.add_argument("--bert-samples", type=int, default=2048)
    ap.add_argument("--bert-epochs", type=int, default=1)
    ap.add_argument("--bert-batch", type=int, default=64)
    ap.add_argument("--bert-vocab", type=int, default=5000)
    ap.add_argument("--bert-seq", type=int, default=64)
    ap.add_argument("--bert-width", type=int, default=64)
    ap.add_argument("--bert-depth", type=int, default=4)
    ap.add_argument("--bert-heads", type=int, default=4)
    ap.add_argument("--bert-mlp-ratio", type=float, default=2.0)
    ap.add_argument("--bert-mask-rate", type=float, default=0.15)
    ap.add_argument("--count-only", action="store_true", help="print the W4 and W5 twins' parameter counts and exit")
    args = ap.parse_args()
    if args.count_only:
        print(json.dumps({"vitParams": count_params(vit_from_args(args)), "bertParams": count_params(bert_from_args(args))}))
        return
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
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
            if w not in workloads:
                continue
            times, cpu, loss = run_train(w, args.samples, args.epochs, args.batch, args.runs, warmup_steps=5)
            cfg["workloads"][w] = {"runs": times, "median": statistics.median(times), "cpuMedian": statistics.median(cpu), "finalLoss": loss}
        if "W3" in workloads:
            times, cpu = run_forward(args.samples, args.forward_batch, args.forward_passes, args.runs)
            cfg["workloads"]["W3"] = {"runs": times, "median": statistics.median(times), "cpuMedian": statistics.median(cpu)}
        if "W4" in workloads:
            times, cpu, loss = run_vit_train(args, args.runs, warmup_steps=3)
            cfg["workloads"]["W4"] = {"runs": times, "median": statistics.median(times), "cpuMedian": statistics.median(cpu), "finalLoss": loss}
        if "W5" in workloads:
            times, cpu, loss = run_bert_mlm(args, args.runs, warmup_steps=3)
            cfg["workloads"]["W5"] = {"runs": times, "median": statistics.median(times), "cpuMedian": statistics.median(cpu), "finalLoss": loss}
        out["configs"].append(cfg)
    out["vitParams"] = count_params(vit_from_args(args))
    out["bertParams"] = count_params(bert_from_args(args))
    out["blas"] = blas_in_use()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
