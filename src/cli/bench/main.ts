// `npm run bench` (tsx src/cli/bench/main.ts): W1-W5, fit vs raw and the lessons' hot paths on every
// backend available here, one child process per backend, then optionally PyTorch (--torch);
// prints the tables and writes build/bench.json. `--profile` instead profiles a step of W4 (or of
// the workloads named) per kernel (`--ablate`: and times each WASM kernel group's effect).
// `--quick` is the test suite's tiny version.
import { fork } from "child_process";
import { Command } from "commander";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeFileAtomic } from "../../store/atomic";
import { describeBackendChoice } from "../../backend/backend";
import { projectRoot } from "../../core/paths";
import { DEFAULT_BENCH_CONFIG, runBackend, specFor, type BenchConfig } from "./child";
import { MATMUL_FLOP_RULE } from "./flops";
import {
  BENCH_BACKENDS,
  REPORT_VERSION,
  computeRatios,
  formatReport,
  type BackendResult,
  type BenchBackend,
  type BenchReport,
} from "./report";
import { DEFAULT_TORCH_THREADS, runTorch } from "./torch";
import {
  FLOP_FORMULA,
  bertMlmParamCount,
  vitParamCount,
  WORKLOAD_NAMES,
  workloadFlops,
  workloadSteps,
  type WorkloadName,
} from "./workloads";

export const DEFAULT_OUT = path.join("build", "bench.json");
const CHILD_FLAG = "--bench-child";

function parseList<T extends string>(value: string, allowed: readonly T[], option: string): T[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const it of items) {
    if (!(allowed as readonly string[]).includes(it)) {
      throw new Error(`${option}: ${JSON.stringify(it)} is not one of ${allowed.join(", ")}`);
    }
  }
  return items as T[];
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${option} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function positiveNumber(value: string, option: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new Error(`${option} must be a number > 0, got ${JSON.stringify(value)}`);
  return n;
}

/** Runs one backend in a child process (same tsx loader) and returns what it measured. */
function runChild(backend: BenchBackend, cfg: BenchConfig): Promise<BackendResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const out = path.join(tmp, "result.json");
  return new Promise((resolve) => {
    const child = fork(__filename, [CHILD_FLAG, backend, out, JSON.stringify(cfg)], { stdio: "inherit" });
    child.on("exit", (code, signal) => {
      try {
        resolve(JSON.parse(fs.readFileSync(out, "utf8")) as BackendResult);
      } catch {
        resolve({
          backend,
          skipped: `its bench process ended (exit ${code}${signal ? `, ${signal}` : ""}) without a result`,
          workloads: {},
        });
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}

async function childMain(argv: string[]): Promise<void> {
  const [backend, out, cfgJson] = argv;
  const result = await runBackend(backend as BenchBackend, JSON.parse(cfgJson) as BenchConfig);
  await writeFileAtomic(out, JSON.stringify(result)); // a killed child leaves no half result to parse
}

/** Backends worth a process: those describeBackendChoice does not rule out (cheap checks). */
async function precheck(backend: BenchBackend): Promise<string | undefined> {
  const d = await describeBackendChoice({ backend: backend === "wasm-stock" ? "wasm" : backend });
  return d.error;
}

export async function runBench(
  cfg: BenchConfig,
  backends: BenchBackend[],
  torch: { on: boolean; threads: number[] },
  outFile: string,
): Promise<BenchReport> {
  const report: BenchReport = {
    version: REPORT_VERSION,
    date: new Date().toISOString(),
    quick: cfg.quick,
    runs: cfg.runs,
    host: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      loadavgStart: os.loadavg(),
      loadavgEnd: [],
      totalMemGiB: os.totalmem() / 2 ** 30,
    },
    flopFormula: { workloads: FLOP_FORMULA, hotPaths: MATMUL_FLOP_RULE },
    workloads: cfg.workloads.map((w) => {
      const s = specFor(w, cfg.quick);
      return {
        name: w,
        title: s.title,
        samples: s.samples,
        epochs: s.epochs,
        batchSize: s.batchSize,
        steps: workloadSteps(s),
        flops: workloadFlops(s),
      };
    }),
    backends: [],
    ratios: { vsDefault: {}, vsTorch: {} },
    targets: {
      defaultWithinTorchFactor: null,
      vitWithinTorchFactor: null,
      mlmWithinTorchFactor: null,
      fitWithinOverhead: null,
    },
    warnings: [],
  };
  const vitSpec = specFor("W4", cfg.quick);
  if (cfg.workloads.includes("W4") && !cfg.profile) report.vitParams = { tfjs: vitParamCount(vitSpec.vit!) };
  const bertSpec = specFor("W5", cfg.quick);
  if (cfg.workloads.includes("W5") && !cfg.profile) report.bertParams = { tfjs: bertMlmParamCount(bertSpec.bert!) };
  for (const b of backends) {
    const why = await precheck(b);
    report.backends.push(why ? { backend: b, skipped: why, workloads: {} } : await runChild(b, cfg));
  }
  if (torch.on && !cfg.profile) {
    process.stderr.write(
      `[bench torch] running ${cfg.workloads.join(", ")} in PyTorch (threads: ${torch.threads.join(", ")})\n`,
    );
    report.torch = runTorch(
      specFor("W1", cfg.quick),
      specFor("W3", cfg.quick),
      vitSpec,
      bertSpec,
      cfg.runs,
      torch.threads,
      cfg.workloads,
    );
    for (const [w, ours, theirs, builder] of [
      ["W4", report.vitParams, report.torch.vitParams, "buildViT"],
      ["W5", report.bertParams, report.torch.bertParams, "buildBert (without its head)"],
    ] as const) {
      if (!ours || theirs === undefined) continue;
      ours.torch = theirs;
      if (theirs !== ours.tfjs)
        report.warnings.push(
          `torch_bench.py's ${w} twin has ${theirs} parameters, ${builder} ${ours.tfjs}: not the same model, no ${w} ratio`,
        );
    }
    const [two, one] = [2, 1].map((n) => report.torch?.configs?.find((c) => c.threads === n)?.workloads.W1?.median);
    if (two !== undefined && one !== undefined && two > one) {
      report.warnings.push(
        `torch W1 took ${two.toFixed(2)} s with 2 threads but ${one.toFixed(2)} s with 1: the cores were shared, and OpenMP's 2-thread barriers stall when a thread is descheduled; ratios use the faster configuration`,
      );
    }
    const oneThread = report.torch.configs?.find((c) => c.threads === 1);
    const busy = Object.values(oneThread?.workloads ?? {}).map((t) => t!.cpuMedian / t!.median);
    if (busy.length && Math.max(...busy) > 1.5) {
      report.warnings.push(
        `torch's 1-thread configuration kept up to ${Math.max(...busy).toFixed(1)} cores busy (cpu s / s): its BLAS (${report.torch.blas?.name ?? "?"}) runs its own threads, so the peer of "vs torch" used more than one core; tfjs-backend-wasm runs one thread in Node`,
      );
    }
    if (report.torch.blas && !/openblas|mkl/i.test(report.torch.blas.name)) {
      report.warnings.push(
        `torch used ${report.torch.blas.name}: Debian's reference BLAS is many times slower than OpenBLAS; apt-get install libopenblas0-openmp (update-alternatives then points libblas.so.3 at it) for a fair peer`,
      );
    }
  }
  report.host.loadavgEnd = os.loadavg();
  const busy = Math.max(report.host.loadavgStart[0], report.host.loadavgEnd[0]);
  if (busy > report.host.cpus) {
    report.warnings.push(
      `load average ${busy.toFixed(1)} exceeds the ${report.host.cpus} CPUs: other processes shared the cores, wall times are inflated (compare the cpu-time columns)`,
    );
  }
  computeRatios(report);
  await writeFileAtomic(outFile, JSON.stringify(report, null, 2) + "\n"); // keeps the last report whole if killed
  return report;
}

async function main(): Promise<void> {
  const program = new Command()
    .name("bench")
    .description("W1-W3, fit vs raw and the lessons' hot paths on every available tfjs backend; optional PyTorch peer")
    .option("--quick", "tiny sizes and one run (test suite; numbers meaningless)", false)
    .option("--runs <n>", "timed runs per measurement (median reported)", String(DEFAULT_BENCH_CONFIG.runs))
    .option("--backends <list>", `comma list of ${BENCH_BACKENDS.join(", ")}`, BENCH_BACKENDS.join(","))
    .option("--workloads <list>", `comma list of ${WORKLOAD_NAMES.join(", ")}`, WORKLOAD_NAMES.join(","))
    .option(
      "--fit-backends <list>",
      "backends on which fit() is timed against the raw loop ('' for none)",
      DEFAULT_BENCH_CONFIG.fitBackends.join(","),
    )
    .option("--no-hot", "skip the lessons' hot paths")
    .option("--hot-only <list>", "only hot paths whose names contain one of these words (e.g. lora,vit)", "")
    .option("--hot-samples <n>", "samples per hot-path epoch", String(DEFAULT_BENCH_CONFIG.hotSamples))
    .option(
      "--max-run-seconds <s>",
      "cap on one timed run; slower backends time fewer steps and extrapolate",
      String(DEFAULT_BENCH_CONFIG.maxRunSeconds),
    )
    .option("--torch", "also run the workloads in PyTorch (Debian python3-torch) and print tfjs/torch ratios", false)
    .option(
      "--profile",
      "only profile one step per kernel, of W4 (tiny ViT) unless --workloads names others, on wasm unless --backends does",
      false,
    )
    .option(
      "--ablate",
      "with --profile: also time the training workloads on wasm with each kernel group added in turn",
      false,
    )
    .option("--profile-steps <n>", "training steps the profile averages", String(DEFAULT_BENCH_CONFIG.profileSteps))
    .option(
      "--torch-threads <list>",
      "PyTorch thread counts, one set of runs each; ratios use the fastest",
      DEFAULT_TORCH_THREADS.join(","),
    )
    .option("--out <file>", "JSON report path (relative to the project root)", DEFAULT_OUT)
    .parse(process.argv);
  const o = program.opts<{
    quick: boolean;
    runs: string;
    backends: string;
    workloads: string;
    fitBackends: string;
    hot: boolean;
    hotOnly: string;
    hotSamples: string;
    maxRunSeconds: string;
    torch: boolean;
    torchThreads: string;
    profile: boolean;
    ablate: boolean;
    profileSteps: string;
    out: string;
  }>();
  const workloadList = o.profile && program.getOptionValueSource("workloads") === "default" ? "W4" : o.workloads;
  const cfg: BenchConfig = {
    ...DEFAULT_BENCH_CONFIG,
    quick: o.quick,
    runs: o.quick ? 1 : positiveInt(o.runs, "--runs"),
    workloads: parseList<WorkloadName>(workloadList, WORKLOAD_NAMES, "--workloads"),
    fitBackends: parseList<BenchBackend>(o.fitBackends, BENCH_BACKENDS, "--fit-backends"),
    hot: o.hot,
    hotOnly: o.hotOnly
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    hotSamples: positiveInt(o.hotSamples, "--hot-samples"),
    maxRunSeconds: positiveNumber(o.maxRunSeconds, "--max-run-seconds"),
    profile: o.profile,
    ablate: o.ablate,
    profileSteps: positiveInt(o.profileSteps, "--profile-steps"),
  };
  if (o.ablate && !o.profile) throw new Error("--ablate goes with --profile");
  const backendList = o.profile && program.getOptionValueSource("backends") === "default" ? "wasm" : o.backends;
  const backends = parseList<BenchBackend>(backendList, BENCH_BACKENDS, "--backends");
  const outFile = path.resolve(projectRoot(), o.out);
  const threads = o.torchThreads.split(",").map((t) => positiveInt(t.trim(), "--torch-threads"));
  const report = await runBench(cfg, backends, { on: o.torch, threads }, outFile);
  console.log(formatReport(report));
  console.log(`\nwrote ${path.relative(process.cwd(), outFile) || outFile}`);
}

if (require.main === module) {
  const entry = process.argv[2] === CHILD_FLAG ? childMain(process.argv.slice(3)) : main();
  entry.catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
