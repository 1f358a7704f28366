// transfer-lab's public surface: notebooks import from here (`import * as tl from "./src"`)
// and from nothing else in src/.

// Setup: backend choice, scale, where things live.
export * from "./backend";
export * from "./wasm-matmul";
export * from "./webgpu";
export * from "./matmul-timing";
export * from "./scale";
export * from "./paths";
export * from "./random";

// Data: embedded MNIST, IDX files, shifts, tasks, budgets, batching.
export * from "./data/types";
export * from "./data/mnist";
export * from "./data/idx";
export * from "./data/download";
export * from "./data/transforms";
export * from "./data/subset";
export * from "./data/tasks";
export * from "./data/batches";
export * from "./data/summary";

// Output: display channel, plots, image grids, live progress.
export * from "./display";
export * from "./plot";
export * from "./images";
export * from "./progress";

// Training (interruptible from Jupyter), evaluation, artifacts and results.
export * from "./train";
export * from "./interrupt";
export * from "./evaluate";
export * from "./features";
export * from "./cache";
export * from "./results";

// Lesson 01: greedy layer-wise pretraining.
export * from "./recipes";
export * from "./autoencoder";
export * from "./greedy";
export * from "./gradients";
export * from "./experiments/pretraining";

// Lessons 02-03: source model, freezing, schedules, BatchNorm, transfer experiments.
export * from "./source-model";
export * from "./freezing";
export * from "./batchnorm";
export * from "./schedules";
export * from "./experiments/transfer";
export * from "./experiments/transfer-sweep";
export * from "./experiments/transfer-plots";

// Lessons 04-05: LoRA and the tiny Vision Transformer.
export * from "./lora";
export * from "./lora-adapter";
export * from "./attention";
export * from "./transformer";
export * from "./experiments/lora";
export * from "./experiments/vit";

// Lesson 06: review across lessons.
export * from "./review";
export * from "./review-queries";
export * from "./review-strategy";
export * from "./review-questions";
export * from "./experiments/review";
