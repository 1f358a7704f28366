// transfer-lab's public surface: notebooks import from here (`import * as tl from "./src"`)
// and from nothing else in src/.

// Setup: backend choice, scale, where things live.
export * from "./backend/backend";
export * from "./backend/wasm-matmul";
export * from "./backend/webgpu";
export * from "./backend/matmul-timing";
export * from "./core/scale";
export * from "./core/paths";
export * from "./core/random";

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
export * from "./show/display";
export * from "./show/plot";
export * from "./show/images";
export * from "./show/progress";

// Training (interruptible from Jupyter), evaluation, artifacts and results.
export * from "./train/fit";
export * from "./core/interrupt";
export * from "./evaluate/evaluate";
export * from "./evaluate/features";
export * from "./store/cache";
export * from "./store/results";

// Lesson 01: greedy layer-wise pretraining.
export * from "./models/recipes";
export * from "./models/autoencoder";
export * from "./train/greedy";
export * from "./train/gradients";
export * from "./experiments/pretraining";

// Lessons 02-03: source model, freezing, schedules, BatchNorm, transfer experiments.
export * from "./models/mlp";
export * from "./adapt/freezing";
export * from "./adapt/batchnorm";
export * from "./adapt/schedules";
export * from "./experiments/transfer";
export * from "./experiments/transfer-sweep";
export * from "./experiments/transfer-plots";

// Lessons 04-05: LoRA and the tiny Vision Transformer.
export * from "./adapt/lora/layer";
export * from "./adapt/lora/adapter";
export * from "./models/attention";
export * from "./models/transformer";
export * from "./experiments/lora";
export * from "./experiments/vit";

// Lesson 06: review across lessons.
export * from "./review/review";
export * from "./review/queries";
export * from "./review/strategy";
export * from "./review/questions";
export * from "./review/fill";
