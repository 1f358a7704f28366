// What a training loop tells whoever shows its progress: one update per step or epoch, then done.
// The loop (train/) calls a ProgressReporter it was given; show/progress.ts draws one, so the loop
// itself imports no display code and runs the same where nothing is shown.

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

/** The shape of one training run, given to a reporter when the run starts. */
export interface ProgressRun {
  epochs: number;
  stepsPerEpoch: number;
  /** Part of a larger job, e.g. "2/5" for the second of five greedy stages. */
  stage?: string;
}

/** Starts the progress of one run; `fit({ progress })` takes one (show/progress.ts: progressLine). */
export type ProgressReporter = (run: ProgressRun) => Progress;
