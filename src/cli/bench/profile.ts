// `npm run bench -- --profile`: where one tiny-ViT (W4) training step (or W5's masked-LM step, or any
// workload named) spends its time on a backend,
// per kernel. Every kernel registered for the backend is wrapped with a timer that keeps a stack,
// so a kernel that calls other kernels (the matmul fix's transposes, composite kernels) is charged
// only its own time ("exclusive"); what no kernel accounts for is the JS around them (layers, the
// gradient tape, tidy, the optimizer's bookkeeping, batch upload). `--ablate` adds, on WASM, W4
// timed with the kernel groups of backend/wasm-kernels.ts added one at a time, interleaved in one
// process so that every change is measured against the one before under the same load.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../data/types";
import {
  installWasmKernels,
  installedWasmKernels,
  uninstallWasmKernels,
  WASM_KERNEL_GROUPS,
  type WasmKernelGroup,
} from "../../backend/wasm-kernels";
import { median, runnerFor, timed, type StepRunner } from "./measure";
import { formatTable } from "./table";
import { workloadSteps, type WorkloadSpec } from "./workloads";

export const DEFAULT_PROFILE_STEPS = 8;
const PROFILE_WARMUP_STEPS = 2;

export interface KernelTime {
  name: string;
  /** Exclusive wall milliseconds per step (nested kernel calls subtracted). */
  ms: number;
  /** Exclusive process CPU milliseconds per step: steadier than wall time on shared cores. */
  cpuMs: number;
  /** Calls per step. */
  calls: number;
  /** ms / the step's wall milliseconds. */
  share: number;
}

export interface StepProfile {
  /** What was profiled, for the table's title. */
  label: string;
  backend: string;
  steps: number;
  batchSize: number;
  /** Wall and process CPU milliseconds per step with the timers on (a little above an untimed
   * step: each kernel call reads both clocks). */
  stepMs: number;
  stepCpuMs: number;
  /** Sum of the kernels' exclusive times per step. */
  kernelMs: number;
  kernelCpuMs: number;
  /** Kernel calls per step. */
  calls: number;
  /** Kernels by exclusive time, largest first. */
  kernels: KernelTime[];
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

interface Totals {
  ms: number;
  cpuMs: number;
  calls: number;
}

/** Wraps every kernel of the active backend with an exclusive-time timer (wall and process CPU)
 * while `body` runs, then puts the kernels back. */
export async function withKernelTimers<T>(body: () => Promise<T>): Promise<{ value: T; totals: Map<string, Totals> }> {
  const backendName = tf.getBackend();
  const configs = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, Totals>();
  // Time spent in kernels called from the kernel now running (one entry per nesting level).
  const child: { ms: number; cpuMs: number }[] = [];
  for (const c of configs) {
    const original = c.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      child.push({ ms: 0, cpuMs: 0 });
      const t0 = performance.now();
      const c0 = cpuMs();
      try {
        return original(args);
      } finally {
        const ms = performance.now() - t0;
        const cpu = cpuMs() - c0;
        const inner = child.pop()!;
        if (child.length) {
          child[child.length - 1].ms += ms;
          child[child.length - 1].cpuMs += cpu;
        }
        const e = totals.get(c.kernelName) ?? { ms: 0, cpuMs: 0, calls: 0 };
        e.ms += ms - inner.ms;
        e.cpuMs += cpu - inner.cpuMs;
        e.calls++;
        totals.set(c.kernelName, e);
      }
    };
    tf.unregisterKernel(c.kernelName, backendName);
    tf.registerKernel({ ...c, kernelFunc });
  }
  try {
    return { value: await body(), totals };
  } finally {
    for (const c of configs) {
      tf.unregisterKernel(c.kernelName, backendName);
      tf.registerKernel(c);
    }
  }
}

/** Profiles `steps` steps of the workload (training steps or forward passes, in the raw loop the
 * workload is timed with), after a warm-up of two untimed steps. */
export async function profileWorkload(
  spec: WorkloadSpec,
  data: Dataset,
  args: { steps?: number; seed?: number } = {},
): Promise<StepProfile> {
  const steps = args.steps ?? DEFAULT_PROFILE_STEPS;
  const runner = runnerFor(spec, data, args.seed ?? 0);
  try {
    runner.run(PROFILE_WARMUP_STEPS);
    await runner.finish();
    let wall = 0;
    let cpu = 0;
    const { totals } = await withKernelTimers(async () => {
      const t0 = performance.now();
      const c0 = cpuMs();
      runner.run(steps);
      await runner.finish();
      wall = performance.now() - t0;
      cpu = cpuMs() - c0;
    });
    const stepMs = wall / steps;
    const kernels = [...totals.entries()]
      .map(([name, t]) => ({
        name,
        ms: t.ms / steps,
        cpuMs: t.cpuMs / steps,
        calls: t.calls / steps,
        share: t.ms / steps / stepMs,
      }))
      .sort((a, b) => b.ms - a.ms);
    return {
      label: `${spec.name}: ${spec.title}`,
      backend: tf.getBackend(),
      steps,
      batchSize: spec.batchSize,
      stepMs,
      stepCpuMs: cpu / steps,
      kernelMs: kernels.reduce((s, k) => s + k.ms, 0),
      kernelCpuMs: kernels.reduce((s, k) => s + k.cpuMs, 0),
      calls: kernels.reduce((s, k) => s + k.calls, 0),
      kernels,
    };
  } finally {
    runner.dispose();
  }
}

/** One configuration of the ablation: the kernel groups installed. */
export interface AblationStage {
  label: string;
  groups: WasmKernelGroup[];
  /** Median wall and CPU seconds of the whole workload (one epoch of W4). */
  seconds: number;
  cpuSeconds: number;
  runSeconds: number[];
  /** seconds of the stage before / seconds of this one (wall, CPU); 1 for the first. */
  speedup: number;
  cpuSpeedup: number;
}

export interface AblationResult {
  workload: string;
  runs: number;
  stages: AblationStage[];
}

/** Times the workload with no kernel group, then each group of WASM_KERNEL_GROUPS added in turn,
 * round-robin (order rotated each round) so that all stages share the same load; leaves every
 * group installed as before. One model and optimizer per stage, set up before the timed rounds. */
export async function runAblation(
  spec: WorkloadSpec,
  data: Dataset,
  args: { runs: number; log?: (message: string) => void },
): Promise<AblationResult> {
  const before = installedWasmKernels();
  const plan = [
    { label: "matmul fix only", groups: [] as WasmKernelGroup[] },
    ...WASM_KERNEL_GROUPS.map((g, i) => ({ label: `+ ${g}`, groups: WASM_KERNEL_GROUPS.slice(0, i + 1) })),
  ];
  const use = (groups: WasmKernelGroup[]) => {
    uninstallWasmKernels(WASM_KERNEL_GROUPS.filter((g) => !groups.includes(g)));
    installWasmKernels(groups);
  };
  const runners: StepRunner[] = [];
  const wall: number[][] = plan.map(() => []);
  const cpu: number[][] = plan.map(() => []);
  const steps = workloadSteps(spec);
  try {
    for (const stage of plan) {
      use(stage.groups);
      const r = runnerFor(spec, data, 0);
      runners.push(r);
      r.run(PROFILE_WARMUP_STEPS);
      await r.finish();
    }
    for (let round = 0; round < args.runs; round++) {
      for (let k = 0; k < plan.length; k++) {
        const i = (k + round) % plan.length;
        use(plan[i].groups);
        const t = await timed(() => {
          runners[i].run(steps);
          return runners[i].finish();
        });
        wall[i].push(t.wall);
        cpu[i].push(t.cpu);
      }
      args.log?.(
        `ablation round ${round + 1}/${args.runs}: ${wall.map((w) => w[w.length - 1].toFixed(2)).join(", ")} s`,
      );
    }
  } finally {
    runners.forEach((r) => r.dispose());
    use(before);
  }
  const stages = plan.map((p, i) => ({
    ...p,
    seconds: median(wall[i]),
    cpuSeconds: median(cpu[i]),
    runSeconds: wall[i],
    speedup: 1,
    cpuSpeedup: 1,
  }));
  for (let i = 1; i < stages.length; i++) {
    stages[i].speedup = stages[i - 1].seconds / stages[i].seconds;
    stages[i].cpuSpeedup = stages[i - 1].cpuSeconds / stages[i].cpuSeconds;
  }
  return { workload: spec.name, runs: args.runs, stages };
}

const f = (x: number, d = 2) => x.toFixed(d);

/** The profile as text: the top `top` kernels, the rest summed, and the time outside kernels. */
export function formatProfile(p: StepProfile, top = 15): string {
  const pct = (ms: number) => `${f((100 * ms) / p.stepMs, 1)} %`;
  const rows = p.kernels
    .slice(0, top)
    .map((k) => [k.name, f(k.ms), pct(k.ms), f(k.cpuMs), f(k.calls, 0), f((1000 * k.ms) / k.calls, 1)]);
  const rest = p.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, k) => s + k.ms, 0);
    const cpu = rest.reduce((s, k) => s + k.cpuMs, 0);
    const calls = rest.reduce((s, k) => s + k.calls, 0);
    rows.push([`${rest.length} other kernels`, f(ms), pct(ms), f(cpu), f(calls, 0), ""]);
  }
  const outside = p.stepMs - p.kernelMs;
  rows.push(["(outside kernels: JS, tape, tidy)", f(outside), pct(outside), f(p.stepCpuMs - p.kernelCpuMs), "", ""]);
  rows.push(["step", f(p.stepMs), "100.0 %", f(p.stepCpuMs), f(p.calls, 0), ""]);
  return [
    `Profile of ${p.label} on ${p.backend}: one step (batch ${p.batchSize}; mean of ${p.steps} steps; time per kernel exclusive of the kernels it calls; share of the step's wall time):`,
    formatTable(["kernel", "ms/step", "share", "cpu ms/step", "calls/step", "µs/call"], rows),
  ].join("\n");
}

/** The ablation as text: each configuration, its time, and its effect against the one before. */
export function formatAblation(a: AblationResult): string {
  const rows = a.stages.map((s) => [
    s.label,
    s.groups.join(", ") || "(none)",
    f(s.seconds, 3),
    f(s.cpuSeconds, 3),
    `${f(s.speedup, 2)}×`,
    `${f(s.cpuSpeedup, 2)}×`,
  ]);
  return [
    `Each kernel group of backend/wasm-kernels.ts added in turn (${a.workload}, one epoch; medians of ${a.runs} interleaved round(s) in one process; speed-up = the row above / this row):`,
    formatTable(["stage", "groups installed", "seconds", "cpu s", "speed-up", "cpu speed-up"], rows, 2),
  ].join("\n");
}
