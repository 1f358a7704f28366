// Live training feedback that rewrites ONE output in place (newDisplay): a progress line (epoch,
// step, loss, metrics, elapsed, ETA, bar). Throttled; in headless runs only epoch ends (and the
// end) are drawn, so saved notebooks stay small. `progressLine(label)` is what fit() is given.
import { Display, escapeHtml, inKernel, isHeadless, newDisplay } from "./display";
import type { Progress, ProgressReporter, ProgressUpdate } from "../core/progress";
import { formatDuration, formatNumber } from "../core/format";
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

export const DEFAULT_PROGRESS_INTERVAL_MS = 250;
const BAR_WIDTH = 20;

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
      d.html(
        `<div class="transfer-lab-progress" style="font-family:monospace;white-space:pre">${escapeHtml(line)}</div>`,
      );
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

  const metricsText = (u: ProgressUpdate) =>
    [
      `loss ${formatNumber(u.loss, 4)}`,
      ...Object.entries(u.metrics ?? {}).map(([k, v]) => `${k} ${formatNumber(v, 4)}`),
    ].join("  ");
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
        throw new Error(
          `progress '${label}': epoch must be an integer in [0, ${epochs - 1}] (0-based like tfjs), got ${u.epoch}`,
        );
      }
      if (!Number.isInteger(u.step) || u.step < 0 || u.step > S) {
        throw new Error(
          `progress '${label}': step must be an integer in [0, ${S}] (steps done in this epoch), got ${u.step}`,
        );
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
      const parts = [
        `${label}  done  ${last ? `epoch ${last.epoch + 1}/${epochs}  step ${last.step}/${S}` : "no steps"}`,
        bar(ran / total),
        last ? metricsText(last) : "",
        `${formatDuration(elapsed)}${perEpoch}`,
        summary ?? "",
      ];
      sink.show(parts.filter((p) => p !== "").join("  "));
      lastDrawn = t;
    },
  };
}

/** A reporter for fit() and the loops built on it: each run draws its own line, labelled
 * `label` (and the run's stage, e.g. "pretrain 2/5"). */
export function progressLine(
  label: string,
  args: Omit<ProgressArgs, "label" | "epochs" | "stepsPerEpoch"> = {},
): ProgressReporter {
  return (run) =>
    createProgress({
      ...args,
      label: run.stage ? `${label} ${run.stage}` : label,
      epochs: run.epochs,
      stepsPerEpoch: run.stepsPerEpoch,
    });
}
