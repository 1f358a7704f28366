// The site's Playground (build/site/playground.html) runs the lessons' models in the browser with
// @tensorflow/tfjs: exportPlaygroundModels writes them, in the tfjs LayersModel format (model.json +
// weights), to the playground folder of the artifact cache, with a few shifted test images, their labels
// and what each model predicts for them (the page and its test compare the browser's predictions with
// these). Only standard tfjs layers can go: the browser's tfjs does not know this project's classes
// (LoraDense: merge it first with mergeLora; KerasBatchNormalization, the ViT's layers).
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import type { Dataset } from "../data/types";
import { checkDataset } from "../data/check";
import { commitWithBlob, writeFileAtomic } from "../store/atomic";
import { sha256Hex } from "../store/cache";
import {
  PLAYGROUND_FORMAT,
  PLAYGROUND_IMAGE_SIZE,
  PLAYGROUND_MANIFEST,
  PLAYGROUND_MODELS,
  playgroundDir,
  slugify,
  type PlaygroundManifest,
  type PlaygroundModelEntry,
} from "../store/playground";
import { argError, checkPositiveInt, show } from "../core/validate";
import { checkCacheWritable } from "../store/writable";

/** Images offered on the page when `count` is not given. */
export const DEFAULT_PLAYGROUND_EXAMPLES = 20;

/** Layer classes of @tensorflow/tfjs-layers 4.x (what the browser bundle tf.min.js can rebuild from
 * model.json); a model with any other class (a custom layer) cannot be exported. */
export const BROWSER_LAYER_CLASSES: ReadonlySet<string> = new Set([
  ...["InputLayer", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking"],
  ...["SpatialDropout1D", "AlphaDropout", "GaussianDropout", "GaussianNoise", "Embedding"],
  ...["ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax"],
  ...["BatchNormalization", "LayerNormalization"],
  ...["Conv1D", "Conv2D", "Conv2DTranspose", "Conv3D", "DepthwiseConv2D", "SeparableConv2D"],
  ...["Cropping2D", "UpSampling2D", "ZeroPadding2D"],
  ...["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D"],
  ...["GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"],
  ...["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply"],
  ...["SimpleRNN", "GRU", "LSTM", "Bidirectional", "TimeDistributed"],
  ...["Sequential", "Model", "Functional"],
]);

/** Options of `exportPlaygroundModels`. */
export interface ExportPlaygroundArgs {
  /** Display name → model, in the order the page shows them. Each takes one 28×28 image (784 values,
   * any shape of that size) and gives one output per class of `examples`, with standard layers only. */
  models: Record<string, tf.LayersModel>;
  /** Where the images to pick come from (usually `tasks.target.test`, the shifted task-B test set). */
  examples: Dataset;
  /** How many images, taken class by class in turn (default DEFAULT_PLAYGROUND_EXAMPLES). */
  count?: number;
  /** One line on where the models come from, shown on the page (default: the model names). */
  description?: string;
  /** Label of each class (default "0".."9"). */
  classNames?: string[];
  /** Playground folder (default <cacheRoot()>/playground, which the site builder reads). */
  dir?: string;
}

/** What `exportPlaygroundModels` wrote. */
export interface PlaygroundExport {
  /** The playground folder. */
  dir: string;
  /** Path of manifest.json. */
  manifest: string;
  models: PlaygroundModelEntry[];
  /** Number of test images written. */
  examples: number;
  /** By model id: how many of those images it predicts right. */
  correct: Record<string, number>;
}

const WHERE = "exportPlaygroundModels";

/** Every layer of the model (inside nested models too) whose class the browser's tfjs does not have. */
export function nonBrowserLayers(model: tf.LayersModel): string[] {
  const out: string[] = [];
  const walk = (layers: tf.layers.Layer[]) => {
    for (const l of layers) {
      const cls = l.getClassName();
      if (!BROWSER_LAYER_CLASSES.has(cls)) out.push(`${l.name}:${cls}`);
      const inner = (l as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(inner)) walk(inner);
    }
  };
  walk(model.layers);
  return out;
}

/** Whether the model's output layer applies a softmax (its outputs are probabilities). */
function endsInSoftmax(model: tf.LayersModel): boolean {
  const layer = model.outputs[0].sourceLayer;
  if (layer.getClassName() === "Softmax") return true;
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === "softmax";
}

function checkModel(name: string, model: tf.LayersModel, numClasses: number): void {
  const param = `models[${show(name)}]`;
  if (!model || typeof (model as { predict?: unknown }).predict !== "function" || !Array.isArray(model.layers))
    throw argError(WHERE, param, "a tf.LayersModel", show(model));
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw argError(
      WHERE,
      param,
      "a model with one input and one output",
      `${model.inputs.length} inputs, ${model.outputs.length} outputs`,
    );
  const custom = nonBrowserLayers(model);
  if (custom.length > 0) {
    const lora = custom.some((c) => c.endsWith(":LoraDense"));
    throw argError(
      WHERE,
      param,
      "a model of standard tfjs layers (the browser's @tensorflow/tfjs cannot load this project's layer classes)",
      `layers ${custom.join(", ")}`,
      lora
        ? "merge the adapters first: tl.mergeLora(model) gives plain Dense layers"
        : "export a model without them, e.g. the source MLP without batchNorm",
    );
  }
  const inShape = model.inputs[0].shape.slice(1);
  const pixels = PLAYGROUND_IMAGE_SIZE * PLAYGROUND_IMAGE_SIZE;
  if (inShape.some((d) => d === null) || (inShape as number[]).reduce((a, b) => a * b, 1) !== pixels)
    throw argError(
      WHERE,
      `${param} input`,
      `${pixels} values (one ${PLAYGROUND_IMAGE_SIZE}×${PLAYGROUND_IMAGE_SIZE} image)`,
      `shape [${model.inputs[0].shape.map((d) => d ?? "batch").join(", ")}]`,
    );
  const outShape = model.outputs[0].shape;
  if (outShape.length !== 2 || outShape[1] !== numClasses)
    throw argError(
      WHERE,
      `${param} output`,
      `[batch, ${numClasses}] (one value per class of the examples)`,
      `shape [${outShape.map((d) => d ?? "batch").join(", ")}]`,
    );
}

/** `count` rows of `ds`, class by class in turn (the first of each class, then the second…), so every
 * class shows up when count >= the number of classes. */
export function pickExampleRows(ds: Dataset, count: number): number[] {
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.n; i++) if (ds.y[i] >= 0 && ds.y[i] < ds.numClasses) byClass[ds.y[i]].push(i);
  const rows: number[] = [];
  for (let k = 0; rows.length < count && byClass.some((c) => k < c.length); k++) {
    for (const c of byClass) if (k < c.length && rows.length < count) rows.push(c[k]);
  }
  return rows;
}

/** model.json in the tfjs LayersModel format, and the weights, of one model (no training config: the
 * page only predicts, and an optimizer the browser lacks would stop the load). */
async function layersModelArtifacts(
  model: tf.LayersModel,
): Promise<{ topology: {}; weightSpecs: tf.io.WeightsManifestEntry[]; weights: Uint8Array; generatedBy?: string }> {
  let got: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      got = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (!got?.modelTopology || !got.weightSpecs)
    throw new Error(`${WHERE}: model ${model.name} gave no topology or weight specs to save`);
  const parts = got.weightData === undefined ? [] : Array.isArray(got.weightData) ? got.weightData : [got.weightData];
  const weights = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    weights.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return { topology: got.modelTopology as {}, weightSpecs: got.weightSpecs, weights, generatedBy: got.generatedBy };
}

function base64Floats(x: Float32Array): string {
  const le = new Float32Array(x); // a copy: Buffer over its own bytes (little-endian on every Node platform)
  return Buffer.from(le.buffer, le.byteOffset, le.byteLength).toString("base64");
}

/**
 * Writes the models and `count` test images (with labels, and each model's predictions on them) to the
 * playground folder of the artifact cache, for the site's playground.html (`npm run site`). Each model
 * goes to models/<id>-<content hash>/ as model.json + weights (committed together), then manifest.json
 * names them all (one atomic rename: a reader sees the previous export or this one); folders of earlier
 * exports are removed after. Checks every argument before writing anything; leaves no tensors behind.
 */
export async function exportPlaygroundModels(args: ExportPlaygroundArgs): Promise<PlaygroundExport> {
  if (!args || typeof args !== "object") throw argError(WHERE, "args", "an object { models, examples }", show(args));
  const ex = args.examples;
  checkDataset(WHERE, "examples", ex);
  const pixels = PLAYGROUND_IMAGE_SIZE * PLAYGROUND_IMAGE_SIZE;
  if (ex.dim !== pixels)
    throw argError(WHERE, "examples.dim", `${pixels} (28×28 images)`, String(ex.dim), `dataset ${show(ex.name)}`);
  const count = args.count ?? DEFAULT_PLAYGROUND_EXAMPLES;
  checkPositiveInt(WHERE, "count", count);
  const classNames = args.classNames ?? Array.from({ length: ex.numClasses }, (_, c) => String(c));
  if (
    !Array.isArray(classNames) ||
    classNames.length !== ex.numClasses ||
    classNames.some((c) => typeof c !== "string")
  )
    throw argError(WHERE, "classNames", `${ex.numClasses} strings (one per class of the examples)`, show(classNames));
  if (!args.models || typeof args.models !== "object" || Object.keys(args.models).length === 0)
    throw argError(WHERE, "models", 'a non-empty object { "display name": model }', show(args.models));
  const named = Object.entries(args.models);
  for (const [name, model] of named) {
    if (name.trim() === "") throw argError(WHERE, "models", "display names that are not empty", show(name));
    checkModel(name, model, ex.numClasses);
  }
  const rows = pickExampleRows(ex, count);
  if (rows.length === 0) throw argError(WHERE, "examples", "a dataset with labeled images", `none in ${show(ex.name)}`);

  const dir = playgroundDir(args.dir);
  // Arguments are checked above without touching the disk; now, before any model is written,
  // an unwritable cache is refused with its cause and remedy.
  checkCacheWritable(args.dir, WHERE);
  const x = new Float32Array(rows.length * pixels);
  rows.forEach((r, i) => x.set(ex.x.subarray(r * pixels, (r + 1) * pixels), i * pixels));
  const labels = rows.map((r) => ex.y[r]);

  const ids = new Set<string>();
  const entries: PlaygroundModelEntry[] = [];
  const predictions: Record<string, number[]> = {};
  const probabilities: Record<string, number[][]> = {};
  for (const [name, model] of named) {
    let id = slugify(name);
    for (let k = 2; ids.has(id); k++) id = `${slugify(name)}-${k}`;
    ids.add(id);
    const output = endsInSoftmax(model) ? "probabilities" : "logits";
    const inputShape = model.inputs[0].shape.slice(1) as number[];
    const probs = tf.tidy(() => {
      const y = model.predict(tf.tensor(x, [rows.length, ...inputShape])) as tf.Tensor;
      return (output === "logits" ? tf.softmax(y) : y).arraySync() as number[][];
    });
    probabilities[id] = probs.map((p) => p.map((v) => Math.round(v * 1e6) / 1e6));
    predictions[id] = probs.map((p) => p.indexOf(Math.max(...p)));

    const art = await layersModelArtifacts(model);
    const weightsSha256 = sha256Hex(art.weights);
    const folder = `${PLAYGROUND_MODELS}/${id}-${sha256Hex(JSON.stringify([art.topology, art.weightSpecs, weightsSha256])).slice(0, 12)}`;
    let modelJsonText = "";
    const { blobFile } = await commitWithBlob({
      dir: path.join(dir, folder),
      manifest: "model.json",
      blobPrefix: "weights",
      blob: art.weights,
      manifestText: (weightsFile) => {
        const json: tf.io.ModelJSON = {
          format: "layers-model",
          generatedBy: art.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
          convertedBy: null,
          modelTopology: art.topology,
          weightsManifest: [{ paths: [weightsFile], weights: art.weightSpecs }],
          userDefinedMetadata: { transferLab: { name, exportedBy: WHERE } },
        };
        modelJsonText = JSON.stringify(json);
        return modelJsonText;
      },
    });
    entries.push({
      name,
      id,
      folder,
      weightsFile: blobFile,
      weightsBytes: art.weights.byteLength,
      weightsSha256,
      modelJsonSha256: sha256Hex(modelJsonText),
      inputShape,
      numClasses: ex.numClasses,
      output,
      params: model.countParams(),
      layers: model.layers.map((l) => `${l.name}:${l.getClassName()}`),
    });
  }

  const manifest: PlaygroundManifest = {
    format: PLAYGROUND_FORMAT,
    exportedAt: new Date().toISOString(),
    description: args.description ?? `models: ${named.map(([n]) => n).join(", ")}; images from ${ex.name}`,
    classNames,
    image: { width: PLAYGROUND_IMAGE_SIZE, height: PLAYGROUND_IMAGE_SIZE },
    models: entries,
    examples: {
      name: ex.name,
      count: rows.length,
      pixels: base64Floats(x),
      labels,
      rows,
      predictions,
      probabilities,
    },
  };
  const manifestFile = path.join(dir, PLAYGROUND_MANIFEST);
  await writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 1) + "\n");

  // Committed: model folders this manifest does not name belong to earlier exports.
  const keep = new Set(entries.map((e) => path.basename(e.folder)));
  const modelsDir = path.join(dir, PLAYGROUND_MODELS);
  for (const f of await fs.promises.readdir(modelsDir)) {
    if (!keep.has(f)) await fs.promises.rm(path.join(modelsDir, f), { recursive: true, force: true });
  }
  const correct = Object.fromEntries(
    entries.map((e) => [e.id, predictions[e.id].filter((p, i) => p === labels[i]).length]),
  );
  return { dir, manifest: manifestFile, models: entries, examples: rows.length, correct };
}
