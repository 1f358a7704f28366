// Live training feedback that rewrites ONE output in place (newDisplay): a progress line (epoch,
// step, loss, metrics, elapsed, ETA, bar) and a live-updating chart (e.g. loss curves). Throttled;
// in headless runs only epoch ends (and the end) are drawn, so saved notebooks stay small.
import { Display, escapeHtml, inKernel, isHeadless, newDisplay } from "./display";
import { embedPlotly, linePlot, newPlotId, plotHtml, PlotSpec, LinePlotArgs } from "./plot";
import { checkPositiveInt } from "../core/validate";

export interface ProgressArgs {
  /** Name of the run, e.g. 'pretrain layer 1'. */
  label: string;
  /** Total epochs (>= 1). */
  epochs: number;
  /** Optimizer steps per epoch (>= 1). */
  stepsPerEpoch: number;
  /** Least milliseconds between two drawn updates (default DEFAULT_PROGRESS_INTERVAL_MS). */
  minIntervalMs?: number;
  /** Clock in milliseconds (default Date.now); tests inject a fake one. */
  now?: () => number;
  /** Draw only at epoch ends (default isHeadless(): runner, tests, CI). */
  headless?: boolean;
}

/** One training step's state. `epoch` is 0-based like tfjs callbacks (0..epochs-1, shown as
 * epoch+1 of epochs); `step` counts the steps completed in this epoch (1..stepsPerEpoch). */
export interface ProgressUpdate {
  epoch: number;
  step: number;
  loss: number;
  /** Extra numbers to show, e.g. {valAcc: 0.91}. */
  metrics?: Record<string, number>;
}

export interface Progress {
  update(u: ProgressUpdate): void;
  /** Draws the final state (with an optional summary); further updates are errors. */
  done(summary?: string): void;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 250;
const BAR_WIDTH = 20;

/** 12.3s, 2m 05s, 1h 02m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}

function bar(fraction: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return "█".repeat(full) + "░".repeat(BAR_WIDTH - full);
}

/** Where progress goes: the display (kernel or recording sink), plus stdout lines outside the
 * kernel when TRANSFER_LAB_PROGRESS=stdout. */
function progressSink(): { show(line: string): void } {
  const d: Display = newDisplay();
  const stdout = !inKernel() && process.env.TRANSFER_LAB_PROGRESS === "stdout";
  return {
    show(line: string) {
      d.html(`<div class="transfer-lab-progress" style="font-family:monospace;white-space:pre">${escapeHtml(line)}</div>`);
      if (stdout) process.stdout.write(line + "\n");
    },
  };
}

/** A progress line for one training run, rewritten in place. */
export function createProgress(args: ProgressArgs): Progress {
  checkPositiveInt("createProgress", "epochs", args.epochs);
  checkPositiveInt("createProgress", "stepsPerEpoch", args.stepsPerEpoch);
  const now = args.now ?? Date.now;
  const interval = args.minIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const headless = args.headless ?? isHeadless();
  const { epochs, stepsPerEpoch: S, label } = args;
  const total = epochs * S;
  const start = now();
  const sink = progressSink();
  let last: ProgressUpdate | undefined;
  let lastDrawn = -Infinity;
  let finished = false;

  const metricsText = (u: ProgressUpdate) => [`loss ${num(u.loss)}`, ...Object.entries(u.metrics ?? {}).map(([k, v]) => `${k} ${num(v)}`)].join("  ");
  const line = (u: ProgressUpdate | undefined, t: number): string => {
    const doneSteps = u ? u.epoch * S + u.step : 0;
    const elapsed = t - start;
    const eta = doneSteps > 0 ? (elapsed / doneSteps) * (total - doneSteps) : NaN;
    const where = u ? `epoch ${u.epoch + 1}/${epochs}  step ${u.step}/${S}` : `epoch 0/${epochs}  step 0/${S}`;
    const pct = `${Math.floor((100 * doneSteps) / total)}%`.padStart(4);
    return `${label}  ${where}  ${bar(doneSteps / total)} ${pct}  ${u ? metricsText(u) + "  " : ""}elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(eta)}`;
  };
  const draw = (t: number) => {
    sink.show(line(last, t));
    lastDrawn = t;
  };

  draw(start);
  return {
    update(u: ProgressUpdate) {
      if (finished) throw new Error(`progress '${label}': update() after done() (create a new progress per run)`);
      if (!Number.isInteger(u.epoch) || u.epoch < 0 || u.epoch >= epochs) {
        throw new Error(`progress '${label}': epoch must be an integer in [0, ${epochs - 1}] (0-based like tfjs), got ${u.epoch}`);
      }
      if (!Number.isInteger(u.step) || u.step < 0 || u.step > S) {
        throw new Error(`progress '${label}': step must be an integer in [0, ${S}] (steps done in this epoch), got ${u.step}`);
      }
      last = u;
      const t = now();
      const epochEnd = u.step === S;
      const final = epochEnd && u.epoch === epochs - 1;
      const due = t - lastDrawn >= interval;
      if (final || (due && (!headless || epochEnd))) draw(t);
    },
    done(summary?: string) {
      if (finished) return;
      finished = true;
      const t = now();
      const elapsed = t - start;
      const ran = last ? last.epoch * S + last.step : 0;
      const perEpoch = ran > 0 ? ` (${formatDuration((elapsed * S) / ran)}/epoch)` : "";
      const parts = [`${label}  done  ${last ? `epoch ${last.epoch + 1}/${epochs}  step ${last.step}/${S}` : "no steps"}`,
        bar(ran / total), last ? metricsText(last) : "", `${formatDuration(elapsed)}${perEpoch}`, summary ?? ""];
      sink.show(parts.filter((p) => p !== "").join("  "));
      lastDrawn = t;
    },
  };
}

export interface LivePlotArgs extends Omit<LinePlotArgs, "series"> {
  /** Least milliseconds between two redraws while a person watches (default 500). */
  minIntervalMs?: number;
  /** Least milliseconds between redraws in headless runs (default 10000); done() always draws. */
  headlessIntervalMs?: number;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
  /** Default isHeadless(). */
  headless?: boolean;
}

export interface LivePlot {
  /** Adds the point (x, y) to the named series, creating it on first use. */
  append(series: string, x: number, y: number): void;
  /** Draws any spec instead of the appended series, until the next append. */
  set(spec: PlotSpec): void;
  /** The chart as drawn now (e.g. to show again later with showPlot). */
  spec(): PlotSpec;
  /** Draws the final chart (always, also when headless). */
  done(): void;
}

export const DEFAULT_LIVE_PLOT_INTERVAL_MS = 500;
export const DEFAULT_LIVE_PLOT_HEADLESS_INTERVAL_MS = 10000;

/** A line chart redrawn in place as points arrive, e.g. train/validation loss per epoch. */
export function livePlot(args: LivePlotArgs = {}): LivePlot {
  const now = args.now ?? Date.now;
  const headless = args.headless ?? isHeadless();
  const interval = headless ? args.headlessIntervalMs ?? DEFAULT_LIVE_PLOT_HEADLESS_INTERVAL_MS : args.minIntervalMs ?? DEFAULT_LIVE_PLOT_INTERVAL_MS;
  // The bundle goes in its own output: the live output below is replaced on every redraw.
  embedPlotly();
  const d = newDisplay();
  const base = newPlotId();
  const series = new Map<string, { x: number[]; y: number[] }>();
  let custom: PlotSpec | undefined;
  let version = 0;
  let lastDrawn = -Infinity;

  const current = (): PlotSpec => custom ?? (series.size === 0 ? { data: [], layout: {} }
    : linePlot({ ...args, series: Array.from(series, ([name, s]) => ({ name, x: s.x, y: s.y })) }));
  const draw = () => {
    if (!custom && series.size === 0) return;
    d.html(plotHtml(current(), `${base}-${++version}`));
    lastDrawn = now();
  };
  return {
    append(name: string, x: number, y: number) {
      const s = series.get(name) ?? { x: [], y: [] };
      s.x.push(x);
      s.y.push(y);
      series.set(name, s);
      custom = undefined;
      if (now() - lastDrawn >= interval) draw();
    },
    set(next: PlotSpec) {
      custom = next;
      if (now() - lastDrawn >= interval) draw();
    },
    spec: current,
    done() {
      draw();
    },
  };
}
