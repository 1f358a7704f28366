// The bench: its FLOP arithmetic, the raw runners' tensor hygiene, fit = raw loop numerically,
// the torch twins of the tiny ViT and of the tiny BERT's masked-LM (same parameter counts), the
// masked-LM runner (loss falls, no leak), the kernel profile, and `--quick` end to
// end (a child process per backend, JSON shape; no timing asserts).
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BENCH_BERT,
  BENCH_VIT,
  WORKLOADS,
  bertMlmMacsPerSample,
  bertMlmParamCount,
  macsPerSample,
  quickSpec,
  syntheticDataset,
  vitMacsPerSample,
  vitParamCount,
  workloadFlops,
  workloadSteps,
} from "../../src/cli/bench/workloads";
import { findTorchPython, torchBertParams, torchViTParams } from "../../src/cli/bench/torch";
import { mlmTrainRunner, syntheticWindows } from "../../src/cli/bench/mlm";
import { formatProfile, profileWorkload } from "../../src/cli/bench/profile";
import { buildViT } from "../../src/models/transformer";
import { measureWorkload, median } from "../../src/cli/bench/measure";
import { compareFitToRaw, layersModel } from "../../src/cli/bench/fitcompare";
import { modelMatmulCosts, trainFlopsPerSample, forwardFlopsPerSample } from "../../src/cli/bench/flops";
import { formatReport, formatTable, type BenchReport } from "../../src/cli/bench/report";
import { applyLora } from "../../src/adapt/lora/inject";
import { freezeRatio } from "../../src/adapt/freezing";
import { setupBackend } from "../../src/backend/backend";

const root = path.resolve(__dirname, "..", "..");

beforeAll(async () => {
  await setupBackend({ backend: "cpu" });
});

describe("workload arithmetic", () => {
  it("counts FLOPs with the stated formulas", () => {
    expect(macsPerSample([784, 256, 784])).toBe(2 * 784 * 256);
    expect(workloadSteps(WORKLOADS.W1)).toBe(3 * 32);
    // train: 3 × 2·Σ(in·out) per sample per epoch
    expect(workloadFlops(WORKLOADS.W1)).toBe(3 * 2 * (2 * 784 * 256) * 4096 * 3);
    // forward: 2·Σ(in·out) per sample per pass
    expect(workloadFlops(WORKLOADS.W3)).toBe(2 * (784 * 256 + 256 * 128 + 128 * 10) * 4096 * 10);
    expect(workloadFlops(WORKLOADS.W2, 1)).toBe(3 * 2 * (784 * 256 + 256 * 128 + 128 * 10) * 128);
    // W4: the ViT's matmuls, as flops.ts counts them from the model (forward part)
    const vit = buildViT({ ...BENCH_VIT, seed: 0 });
    const forward = modelMatmulCosts(vit).reduce((s, c) => s + c.macs, 0);
    expect(vitMacsPerSample(BENCH_VIT)).toBe(forward);
    expect(trainFlopsPerSample(modelMatmulCosts(vit))).toBeLessThanOrEqual(3 * 2 * vitMacsPerSample(BENCH_VIT));
    expect(workloadFlops(WORKLOADS.W4)).toBe(3 * 2 * vitMacsPerSample(BENCH_VIT) * 2048);
    vit.dispose();
  });

  it("median of odd and even lists, and an empty list names the problem", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/empty/);
  });

  it("costs a frozen base and a LoRA model by what trains", () => {
    const m = layersModel(WORKLOADS.W2, 0);
    const full = trainFlopsPerSample(modelMatmulCosts(m));
    // full: forward + weight grads of all three + input grads of layers 2 and 3
    const macs = [784 * 256, 256 * 128, 128 * 10];
    expect(full).toBe(2 * (3 * (macs[0] + macs[1] + macs[2]) - macs[0]));
    freezeRatio(m, 1); // head only
    expect(trainFlopsPerSample(modelMatmulCosts(m))).toBe(2 * (macs[0] + macs[1] + 2 * macs[2]));
    freezeRatio(m, 0);
    const lora = applyLora(m, { r: 4, targets: "all-dense", trainHead: true });
    const costs = modelMatmulCosts(lora);
    expect(costs).toHaveLength(2 * 3 + 1); // W, A, B per LoRA layer + the head
    expect(forwardFlopsPerSample(costs)).toBe(
      2 * (macs[0] + macs[1] + macs[2] + 784 * 4 + 4 * 256 + 256 * 4 + 4 * 128),
    );
    lora.dispose();
    m.dispose();
  });
});

describe("raw runners", () => {
  it("leave no tensors behind and extrapolate when capped", async () => {
    const data = syntheticDataset(128, 784);
    const before = tf.memory().numTensors;
    for (const name of ["W1", "W2", "W3"] as const) {
      const m = await measureWorkload(quickSpec(WORKLOADS[name]), data, { runs: 1, warmupSteps: 2 });
      expect(m.tensorsAfter).toBe(m.tensorsBefore);
      expect(m.steps).toBe(m.fullSteps);
      expect(m.runSeconds).toHaveLength(1);
    }
    // A cap far below one step: one step per run, seconds scaled up to the full step count.
    const capped = await measureWorkload(quickSpec(WORKLOADS.W2), data, {
      runs: 1,
      warmupSteps: 2,
      maxRunSeconds: 1e-9,
    });
    expect(capped.steps).toBe(1);
    expect(capped.extrapolated).toBe(true);
    expect(capped.seconds).toBeCloseTo(capped.runSeconds[0] * capped.fullSteps, 9);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("W5 runs lesson 06's masked-LM step: the loss falls from about ln V on repeated windows, nothing leaks", async () => {
    const spec = { ...quickSpec(WORKLOADS.W5), samples: 16, batchSize: 16 }; // one batch, seen again each step
    const windows = syntheticWindows(4, spec.bert!, 0);
    expect(windows.length).toBe(4 * spec.bert!.seqLength);
    expect(windows[0]).toBe(2); // [CLS]
    expect(Math.min(...windows.subarray(1, spec.bert!.seqLength))).toBeGreaterThanOrEqual(4); // words only
    const before = tf.memory().numTensors;
    const runner = mlmTrainRunner(spec, 0);
    runner.run(1);
    const first = (await runner.finish())!;
    runner.run(30);
    const last = (await runner.finish())!;
    runner.dispose();
    expect(Math.abs(first - Math.log(spec.bert!.vocabSize))).toBeLessThan(1);
    expect(last).toBeLessThan(first - 0.5);
    expect(tf.memory().numTensors).toBe(before);
    const m = await measureWorkload(spec, syntheticDataset(16, 784), { runs: 1, warmupSteps: 2 });
    expect(m.tensorsAfter).toBe(m.tensorsBefore);
    expect(m.gflops).toBeGreaterThan(0);
  });

  it("fit runs exactly the raw loop's computation (same final weights)", async () => {
    const spec = { ...quickSpec(WORKLOADS.W2), samples: 96, batchSize: 32 };
    const c = await compareFitToRaw(spec, syntheticDataset(96, 784, 1), { runs: 1 });
    expect(c.maxWeightDiff).toBeLessThan(1e-6);
    expect(c.tensorsAfter).toBe(c.tensorsBefore);
    expect(Object.keys(c.seconds).sort()).toEqual(["fit", "raw-layers", "raw-ops"]);
    // Forward 3 + backward: weight grads 3, input grads of layers 2 and 3.
    expect(c.kernelsPerStep.rawOps.matmuls).toBe(8);
    expect(c.kernelsPerStep.layers.matmuls).toBeGreaterThanOrEqual(8);
  });
});

describe("the transformers' PyTorch twins", () => {
  const torch = findTorchPython();
  it("W4 builds the lesson's ViT: 138,890 parameters", () => {
    expect(vitParamCount(BENCH_VIT)).toBe(138_890);
  });

  it("W5 builds the tiny BERT's masked-LM: 458,112 parameters, counted by hand; its MACs likewise", () => {
    const { vocabSize: V, seqLength: T, width: d, depth: L } = BENCH_BERT;
    const block = 2 * 2 * d + 4 * (d * d + d) + (d * 2 * d + 2 * d) + (2 * d * d + d); // 2 LayerNorms, q k v o, mlp1, mlp2
    expect(bertMlmParamCount(BENCH_BERT)).toBe(V * d + T * d + L * block + 2 * d);
    expect(bertMlmParamCount(BENCH_BERT)).toBe(458_112);
    expect(bertMlmMacsPerSample(BENCH_BERT)).toBeCloseTo(
      L * (4 * T * d * d + 2 * T * d * 2 * d + 2 * T * T * d) + 0.15 * (T - 1) * d * V,
      6,
    );
  });

  it.skipIf("skipped" in torch)("the BERT twin has as many masked-LM parameters as buildBert, at two sizes", () => {
    const python = (torch as { python: string }).python;
    for (const b of [BENCH_BERT, { ...BENCH_BERT, vocabSize: 300, seqLength: 16, width: 24, depth: 2, numHeads: 3 }]) {
      expect(torchBertParams(python, b), JSON.stringify(b)).toBe(bertMlmParamCount(b));
    }
  });

  // Needs a Python with torch (Debian python3-torch); it times nothing.
  it.skipIf("skipped" in torch)("has as many parameters as buildViT, at two sizes", () => {
    const python = (torch as { python: string }).python;
    for (const v of [BENCH_VIT, { ...BENCH_VIT, width: 16, depth: 2, numHeads: 2, mlpRatio: 3, numClasses: 7 }]) {
      expect(torchViTParams(python, v), JSON.stringify(v)).toBe(vitParamCount(v));
    }
  });
});

describe("kernel profile", () => {
  it("accounts a training step per kernel, exclusive times adding up to at most the step", async () => {
    const spec = quickSpec(WORKLOADS.W4);
    const before = tf.memory().numTensors;
    const p = await profileWorkload(spec, syntheticDataset(128, 784), { steps: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(p.steps).toBe(2);
    expect(p.kernels.length).toBeGreaterThan(5);
    expect(p.kernels.map((k) => k.name)).toContain("BatchMatMul");
    expect(p.kernels.every((k, i) => i === 0 || k.ms <= p.kernels[i - 1].ms)).toBe(true);
    expect(p.kernelMs).toBeLessThanOrEqual(p.stepMs * 1.001);
    expect(formatProfile(p)).toMatch(/outside kernels/);
  });
});

describe("report", () => {
  it("formats aligned tables", () => {
    const t = formatTable(
      ["a", "bb"],
      [
        ["xyz", "1"],
        ["q", "22"],
      ],
    );
    expect(t.split("\n")).toEqual(["a    bb", "---  --", "xyz   1", "q    22"]);
  });
});

/** Runs `npm run bench` with these flags (writing to a temp folder) and reads its JSON report. */
function runBench(flags: string[]): { stdout: string; report: BenchReport } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-"));
  const out = path.join(dir, "bench.json");
  try {
    const stdout = execFileSync(
      process.execPath,
      [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "src/cli/bench/main.ts", ...flags, "--out", out],
      { cwd: root, encoding: "utf8", timeout: 290_000, stdio: ["ignore", "pipe", "pipe"] },
    );
    return { stdout, report: JSON.parse(fs.readFileSync(out, "utf8")) as BenchReport };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("npm run bench -- --quick", () => {
  it("writes a well-formed report with every section, skipping what is unavailable", () => {
    const { stdout, report: r } = runBench(["--quick", "--backends", "wasm,webgpu", "--torch"]);
    expect(stdout).toMatch(/workload backend/);
    expect(r.version).toBe(3);
    expect(r.quick).toBe(true);
    expect(r.workloads.map((w) => w.name)).toEqual(["W1", "W2", "W3", "W4", "W5"]);
    expect(r.vitParams!.tfjs).toBe(vitParamCount(quickSpec(WORKLOADS.W4).vit!));
    expect(r.bertParams!.tfjs).toBe(bertMlmParamCount(quickSpec(WORKLOADS.W5).bert!));
    expect(r.flopFormula.workloads).toMatch(/3 × 2·Σ\(in·out\)/);
    const wasm = r.backends.find((b) => b.backend === "wasm")!;
    expect(wasm.skipped).toBeUndefined();
    expect(wasm.name).toBe("wasm");
    for (const w of ["W1", "W2", "W3", "W4", "W5"] as const) {
      const m = wasm.workloads[w]!;
      expect(m.seconds).toBeGreaterThan(0);
      expect(m.gflops).toBeGreaterThan(0);
      expect(m.tensorsAfter).toBe(m.tensorsBefore);
      expect(m.peakRssMiB).toBeGreaterThan(0);
    }
    expect(wasm.fitVsRaw!.map((f) => f.workload)).toEqual(["W1", "W2"]);
    for (const f of wasm.fitVsRaw!) expect(f.maxWeightDiff).toBeLessThan(1e-6);
    const names = wasm.hotPaths!.map((h) => h.name);
    expect(names).toEqual([
      "greedy stage",
      "frozen vs full",
      "LoRA vs full",
      "tiny ViT",
      "tiny ViT frozen blocks vs full",
    ]);
    for (const h of wasm.hotPaths!) {
      // Each hot path either ran (timings, no leak) or says why not.
      if (h.skipped) expect(h.skipped.length).toBeGreaterThan(0);
      else {
        expect(h.timings.length).toBeGreaterThan(0);
        expect(h.tensorsAfter).toBe(h.tensorsBefore);
      }
    }
    expect(wasm.tensorsEnd).toBe(wasm.tensorsStart);
    // No GPU on CI: webgpu is skipped with setupBackend's reason.
    const webgpu = r.backends.find((b) => b.backend === "webgpu")!;
    if (webgpu.skipped) expect(webgpu.skipped).toMatch(/webgpu/i);
    expect(r.ratios.vsDefault.wasm!.W1).toBe(1);
    // torch ran (ratios present) or says why not.
    expect(r.torch).toBeDefined();
    if (r.torch!.skipped) expect(r.torch!.skipped.length).toBeGreaterThan(0);
    else {
      expect(r.torch!.blas!.name.length).toBeGreaterThan(0);
      expect(r.ratios.vsTorch.wasm!.W1).toBeGreaterThan(0);
      expect(typeof r.targets.defaultWithinTorchFactor).toBe("boolean");
      // the W4 twin reported its parameters, equal to ours, so W4 has a ratio
      expect(r.vitParams!.torch).toBe(r.vitParams!.tfjs);
      expect(r.ratios.vsTorch.wasm!.W4).toBeGreaterThan(0);
      expect(typeof r.targets.vitWithinTorchFactor).toBe("boolean");
      expect(r.bertParams!.torch).toBe(r.bertParams!.tfjs);
      expect(r.ratios.vsTorch.wasm!.W5).toBeGreaterThan(0);
      expect(typeof r.targets.mlmWithinTorchFactor).toBe("boolean");
    }
    expect(formatReport(r)).toContain("GFLOP/s");
  }, 300_000);

  it("--profile --ablate prints the kernel profile and each kernel group's effect", () => {
    const { stdout, report: r } = runBench(["--quick", "--profile", "--ablate"]);
    expect(r.backends.map((b) => b.backend)).toEqual(["wasm"]);
    const wasm = r.backends[0];
    expect(wasm.profiles!.map((p) => p.label.slice(0, 2))).toEqual(["W4"]);
    expect(wasm.profiles![0].kernels.map((k) => k.name)).toContain("TLAttention");
    const a = wasm.ablation![0];
    expect(a.stages[0].groups).toEqual([]);
    expect(a.stages.length).toBeGreaterThan(1);
    for (const s of a.stages) expect(s.seconds).toBeGreaterThan(0);
    expect(wasm.tensorsEnd).toBe(wasm.tensorsStart);
    expect(stdout).toMatch(/Profile of W4/);
    expect(stdout).toMatch(/added in turn/);
  }, 300_000);
});
