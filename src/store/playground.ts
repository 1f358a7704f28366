// The playground folder of the artifact cache (<cache>/playground): models a lesson exported for the
// site's Playground page, each in the tfjs LayersModel format the browser's @tensorflow/tfjs loads
// (models/<id>-<hash>/model.json + the weights file it names), and manifest.json, which names them and
// holds a few shifted test images with their labels and the models' predictions on them. The manifest
// is written last and is the commit point: a model folder it does not name is an older export's (or an
// unfinished one's). experiments/playground.ts writes the folder; the site builder reads it here.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { cacheRoot } from "../core/paths";

/** Format tag of manifest.json. */
export const PLAYGROUND_FORMAT = "transfer-lab-playground/1";
/** The playground's folder name in the artifact cache. */
export const PLAYGROUND_FOLDER = "playground";
export const PLAYGROUND_MANIFEST = "manifest.json";
/** Subfolder of the model folders. */
export const PLAYGROUND_MODELS = "models";
/** Side of the square images the models take (MNIST: 28×28 = 784 inputs). */
export const PLAYGROUND_IMAGE_SIZE = 28;

/** The playground folder: `dir` when given, else <cacheRoot()>/playground. */
export function playgroundDir(dir?: string): string {
  return dir !== undefined && dir !== "" ? path.resolve(dir) : path.join(cacheRoot(), PLAYGROUND_FOLDER);
}

/** One exported model, as manifest.json lists it. Paths are relative to the playground folder. */
export interface PlaygroundModelEntry {
  /** Display name, as the lesson passed it, e.g. "LoRA r=4, merged". */
  name: string;
  /** Unique slug of the name ("lora-r-4-merged"): the model's folder name in the site. */
  id: string;
  /** Folder of model.json and its weights file, e.g. "models/lora-r-4-merged-1a2b3c4d5e6f". */
  folder: string;
  /** The weights file model.json names (`weights-<sha256 prefix>.bin`). */
  weightsFile: string;
  weightsBytes: number;
  weightsSha256: string;
  /** sha256 of model.json's text. */
  modelJsonSha256: string;
  /** Input shape without the batch dimension; its product is 784. */
  inputShape: number[];
  numClasses: number;
  /** Whether the output layer ends in a softmax ("probabilities") or the page must apply one ("logits"). */
  output: "probabilities" | "logits";
  params: number;
  /** `name:Class` of every layer, for the page and for messages. */
  layers: string[];
}

/** The test images the page offers to pick, with what each model predicted for them in Node. */
export interface PlaygroundExamples {
  /** Name of the dataset they come from, e.g. "target(mild)/test". */
  name: string;
  count: number;
  /** base64 of float32 little-endian pixels, [count, 784], values in [0, 1], white ink on black. */
  pixels: string;
  labels: number[];
  /** Row of each image in that dataset. */
  rows: number[];
  /** By model id: the predicted class of each image. */
  predictions: Record<string, number[]>;
  /** By model id: the class probabilities of each image (rounded to 6 decimals). */
  probabilities: Record<string, number[][]>;
}

/** manifest.json of the playground folder. */
export interface PlaygroundManifest {
  format: string;
  exportedAt: string;
  /** One line on where the models come from (shown on the page). */
  description: string;
  /** Label of each class, index = class (default "0".."9"). */
  classNames: string[];
  image: { width: number; height: number };
  models: PlaygroundModelEntry[];
  examples: PlaygroundExamples;
}

/** What a playground folder holds: nothing exported yet, a usable export, or a damaged one. */
export type PlaygroundState =
  | { kind: "none"; dir: string }
  | { kind: "ok"; dir: string; manifest: PlaygroundManifest }
  | { kind: "broken"; dir: string; problem: string };

function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A name as a folder/URL-safe slug: lower case, runs of other characters as "-". */
export function slugify(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s === "" ? "model" : s;
}

const SAFE_RELATIVE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

function isSafeRelative(p: unknown): p is string {
  return typeof p === "string" && SAFE_RELATIVE.test(p) && !p.split("/").includes("..");
}

/** Why the manifest's shape is wrong, or null when it is usable. */
function manifestProblem(m: PlaygroundManifest): string | null {
  if (m.format !== PLAYGROUND_FORMAT) return `format ${JSON.stringify(m.format)}, expected ${PLAYGROUND_FORMAT}`;
  if (!Array.isArray(m.models) || m.models.length === 0) return "it lists no models";
  if (!Array.isArray(m.classNames) || m.classNames.length < 2) return "it has no class names";
  const ex = m.examples;
  if (!ex || !Array.isArray(ex.labels) || typeof ex.pixels !== "string" || ex.labels.length !== ex.count)
    return "its examples are incomplete";
  const ids = new Set<string>();
  for (const e of m.models) {
    if (!e || typeof e.name !== "string" || typeof e.id !== "string" || !isSafeRelative(e.id))
      return `a model entry has no usable name or id (${JSON.stringify(e?.id)})`;
    if (ids.has(e.id)) return `model id ${e.id} appears twice`;
    ids.add(e.id);
    if (!isSafeRelative(e.folder) || !isSafeRelative(e.weightsFile) || e.weightsFile.includes("/"))
      return `model ${e.id}: its folder or weights file is not a plain relative path`;
    if (!Array.isArray(e.inputShape) || e.inputShape.reduce((a, b) => a * b, 1) !== m.image.width * m.image.height)
      return `model ${e.id}: input shape ${JSON.stringify(e.inputShape)} does not take ${m.image.width}×${m.image.height} images`;
    if (e.numClasses !== m.classNames.length)
      return `model ${e.id}: ${e.numClasses} outputs for ${m.classNames.length} classes`;
    if (!ex.predictions?.[e.id] || !ex.probabilities?.[e.id]) return `model ${e.id}: no predictions on the examples`;
  }
  return null;
}

/** The files of one model, checked against the manifest (sizes and sha256); throws naming the problem. */
export function readPlaygroundModel(dir: string, e: PlaygroundModelEntry): { modelJson: string; weights: Buffer } {
  const folder = path.join(dir, e.folder);
  let modelJson: string;
  let weights: Buffer;
  try {
    modelJson = fs.readFileSync(path.join(folder, "model.json"), "utf8");
    weights = fs.readFileSync(path.join(folder, e.weightsFile));
  } catch (err) {
    throw new Error(`model ${e.id}: ${(err as Error).message}`);
  }
  if (sha256Hex(modelJson) !== e.modelJsonSha256)
    throw new Error(`model ${e.id}: model.json does not match its checksum`);
  if (weights.byteLength !== e.weightsBytes)
    throw new Error(`model ${e.id}: ${e.weightsFile} has ${weights.byteLength} bytes, expected ${e.weightsBytes}`);
  if (sha256Hex(weights) !== e.weightsSha256)
    throw new Error(`model ${e.id}: ${e.weightsFile} does not match its checksum`);
  return { modelJson, weights };
}

/** Reads and checks the playground folder (`dir`, default <cacheRoot()>/playground): its manifest
 * and every model's files (sizes and checksums). Never throws: a damaged export is "broken", with why. */
export function readPlayground(dir?: string): PlaygroundState {
  const folder = playgroundDir(dir);
  const file = path.join(folder, PLAYGROUND_MANIFEST);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return { kind: "none", dir: folder };
  }
  let manifest: PlaygroundManifest;
  try {
    manifest = JSON.parse(text) as PlaygroundManifest;
  } catch (e) {
    return { kind: "broken", dir: folder, problem: `${file} is not valid JSON (${(e as Error).message})` };
  }
  const problem = manifestProblem(manifest);
  if (problem !== null) return { kind: "broken", dir: folder, problem: `${file}: ${problem}` };
  try {
    for (const e of manifest.models) readPlaygroundModel(folder, e);
  } catch (e) {
    return { kind: "broken", dir: folder, problem: `${folder}: ${(e as Error).message}` };
  }
  return { kind: "ok", dir: folder, manifest };
}
