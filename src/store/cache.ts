// Artifact cache: models and JSON results saved under one folder, keyed by a stable hash of
// config + scale + seed, so a later lesson reuses an earlier lesson's trained model. Every
// write is atomic (src/store/atomic.ts: temp file, fsync, rename; a model's weights and model.json
// commit together); every load checks sizes and sha256 checksums, of the weights and of the model's
// description (its layers), so a hand-edited model.json is rebuilt, not loaded. Every entry that
// writes first checks that the cache folder is writable (src/store/writable.ts), before any training.
import * as tf from "@tensorflow/tfjs";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { commitWithBlob, isBlobName, writeFileAtomic } from "./atomic";
import { checkCacheWritable } from "./writable";
import { cacheRoot } from "../core/paths";

export { writeFileAtomic };
export { checkCacheWritable, FolderNotWritableError } from "./writable";

/** Format tag written into every cached model.json. */
export const MODEL_FORMAT = "transfer-lab-model/1";
/** Hex digits of the config hash kept in a key. */
const KEY_HASH_CHARS = 12;

/** The cache folder: an explicit argument, else cacheRoot() ($TRANSFER_LAB_CACHE, else
 * <project root>/.transfer-lab-cache). */
export function cacheDir(dir?: string): string {
  return dir !== undefined && dir !== "" ? path.resolve(dir) : cacheRoot();
}

/** JSON with object keys sorted at every level, so equal configs give equal text. Rejects
 * values JSON would silently change (NaN, Infinity, functions, Maps…), naming their path. */
export function canonicalJson(value: unknown): string {
  const walk = (v: unknown, at: string): string => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new Error(`canonicalJson: ${at} must be a finite number, got ${v}`);
      return JSON.stringify(Object.is(v, -0) ? 0 : v);
    }
    if (Array.isArray(v)) return "[" + v.map((e, i) => walk(e, `${at}[${i}]`)).join(",") + "]";
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return walk(Array.from(v as unknown as ArrayLike<number>), at);
    }
    const proto = typeof v === "object" ? Object.getPrototypeOf(v) : undefined;
    if (proto === Object.prototype || proto === null) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + walk(o[k], `${at}.${k}`)).join(",") + "}";
    }
    const kind = typeof v === "object" ? ((v as object).constructor?.name ?? "object") : typeof v;
    throw new Error(
      `canonicalJson: ${at} is a ${kind}, which has no stable JSON form (use plain objects, arrays, numbers, strings)`,
    );
  };
  return walk(value, "config");
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of the canonical JSON of a value. */
export function stableHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** What identifies one cached artifact. */
export interface CacheKeyArgs {
  /** Readable prefix, e.g. "lesson01-stack" (letters, digits, `.`, `_`, `-`). */
  name: string;
  /** Everything that changes the artifact: architecture, recipe, data sizes, epochs… */
  config: unknown;
  /** Lesson scale ("smoke" | "default" | "full"). */
  scale: string;
  seed: number;
}

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkKey(key: string, where: string): void {
  if (!KEY_RE.test(key) || key.includes("..")) {
    throw new Error(
      `${where}: key must be letters, digits, '.', '_' or '-' (make one with cacheKey), got ${JSON.stringify(key)}`,
    );
  }
}

/** `<name>-<scale>-s<seed>-<hash>`: readable, and different whenever any config field differs. */
export function cacheKey(args: CacheKeyArgs): string {
  const { name, config, scale, seed } = args;
  checkKey(name, "cacheKey");
  if (!Number.isFinite(seed)) throw new Error(`cacheKey: seed must be a finite number, got ${seed}`);
  const hash = stableHash({ name, config, scale, seed }).slice(0, KEY_HASH_CHARS);
  const key = `${name}-${scale}-s${seed}-${hash}`;
  checkKey(key, "cacheKey");
  return key;
}

/** Why a cached artifact could not be used. */
export type CacheProblem = "missing" | "truncated" | "size" | "checksum" | "corrupt";

export class CacheError extends Error {
  constructor(
    message: string,
    readonly key: string,
    readonly problem: CacheProblem,
  ) {
    super(message);
    this.name = "CacheError";
  }
}

/** Where a cache call reads and writes. */
export interface CacheArgs {
  /** Cache folder; default `cacheDir()` ($TRANSFER_LAB_CACHE or <root>/.transfer-lab-cache). */
  dir?: string;
}

/** Where a cached model lives: model.json names its weights file, `weights-<sha256 prefix>.bin`. */
export interface ModelPaths {
  folder: string;
  modelJson: string;
}

/** Weights file of caches written before model.json named its weights file. */
const LEGACY_WEIGHTS = "weights.bin";

export function modelPaths(key: string, args: CacheArgs = {}): ModelPaths {
  checkKey(key, "modelPaths");
  const folder = path.join(cacheDir(args.dir), "models", key);
  return { folder, modelJson: path.join(folder, "model.json") };
}

/** The cached model.json: tfjs artifacts plus the name, size and checksum of the weights file. */
interface StoredModel {
  format: string;
  key: string;
  savedAt: string;
  modelTopology: {};
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Absent in caches of the older layout, whose weights are in weights.bin. */
  weightsFile?: string;
  weightsBytes: number;
  weightsSha256: string;
  /** sha256 of the model's description (modelTopology and weightSpecs, see descriptionSha256);
   * absent in caches written before it was recorded, which load unchecked. */
  descriptionSha256?: string;
}

/** sha256 of a model's description: its topology (layers, activations, shapes) and weight specs.
 * JSON text is stable through a save and a load (key order and numbers survive JSON.parse). */
function descriptionSha256(modelTopology: {}, weightSpecs: tf.io.WeightsManifestEntry[]): string {
  return sha256Hex(JSON.stringify({ modelTopology, weightSpecs }));
}

function joinWeights(w: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (w === undefined) return new Uint8Array(0);
  const parts = Array.isArray(w) ? w : [w];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out;
}

/** Saves a LayersModel as model.json + its weights file, committed together (see commitWithBlob):
 * a save killed at any point leaves the previous model loadable. Returns the bytes of the weights. */
export async function saveModel(
  key: string,
  model: tf.LayersModel,
  args: CacheArgs = {},
): Promise<{ weightsBytes: number; folder: string }> {
  const p = modelPaths(key, args);
  checkCacheWritable(args.dir, "saveModel");
  let weightsBytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts: tf.io.ModelArtifacts) => {
      if (artifacts.modelTopology === undefined || artifacts.weightSpecs === undefined) {
        throw new Error(`saveModel: model ${model.name} gave no topology or weight specs to save`);
      }
      const weights = joinWeights(artifacts.weightData);
      weightsBytes = weights.byteLength;
      const modelTopology = artifacts.modelTopology as {};
      const weightSpecs = artifacts.weightSpecs;
      await commitWithBlob({
        dir: p.folder,
        manifest: path.basename(p.modelJson),
        blobPrefix: "weights",
        legacyBlob: LEGACY_WEIGHTS,
        blob: weights,
        manifestText: (weightsFile, weightsSha256) => {
          const stored: StoredModel = {
            format: MODEL_FORMAT,
            key,
            savedAt: new Date().toISOString(),
            modelTopology,
            weightSpecs,
            weightsFile,
            weightsBytes,
            weightsSha256,
            descriptionSha256: descriptionSha256(modelTopology, weightSpecs),
          };
          return JSON.stringify(stored);
        },
      });
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weightsBytes },
      };
    }),
  );
  return { weightsBytes, folder: p.folder };
}

const REMEDY = "delete it or call with retrain";

/** Reads and checks model.json and the weights file it names, throwing a CacheError that names the problem. */
async function readStoredModel(key: string, p: ModelPaths): Promise<{ stored: StoredModel; weights: Uint8Array }> {
  let text: string;
  try {
    text = await fs.promises.readFile(p.modelJson, "utf8");
  } catch {
    throw new CacheError(`cache: no model for key ${key} (looked for ${p.modelJson})`, key, "missing");
  }
  let stored: StoredModel;
  try {
    stored = JSON.parse(text);
  } catch (e) {
    throw new CacheError(
      `cache: model.json for key ${key} is not valid JSON (${(e as Error).message}); ${REMEDY}`,
      key,
      "corrupt",
    );
  }
  if (
    stored.format !== MODEL_FORMAT ||
    typeof stored.weightsBytes !== "number" ||
    typeof stored.weightsSha256 !== "string"
  ) {
    throw new CacheError(
      `cache: model.json for key ${key} is not a ${MODEL_FORMAT} file (format ${JSON.stringify(stored.format)}); ${REMEDY}`,
      key,
      "corrupt",
    );
  }
  const name = stored.weightsFile ?? LEGACY_WEIGHTS;
  if (!isBlobName(name)) {
    throw new CacheError(
      `cache: model.json for key ${key} names weights file ${JSON.stringify(name)}, not a plain file name; ${REMEDY}`,
      key,
      "corrupt",
    );
  }
  const file = path.join(p.folder, name);
  let weights: Uint8Array;
  try {
    weights = await fs.promises.readFile(file);
  } catch {
    throw new CacheError(
      `cache: ${name} for key ${key} is missing (expected ${stored.weightsBytes} bytes at ${file}); ${REMEDY}`,
      key,
      "truncated",
    );
  }
  if (weights.byteLength < stored.weightsBytes) {
    throw new CacheError(
      `cache: ${name} for key ${key} is truncated: expected ${stored.weightsBytes} bytes, found ${weights.byteLength}; ${REMEDY}`,
      key,
      "truncated",
    );
  }
  if (weights.byteLength > stored.weightsBytes) {
    throw new CacheError(
      `cache: ${name} for key ${key} is the wrong size: expected ${stored.weightsBytes} bytes, found ${weights.byteLength}; ${REMEDY}`,
      key,
      "size",
    );
  }
  const sum = sha256Hex(weights);
  if (sum !== stored.weightsSha256) {
    throw new CacheError(
      `cache: ${name} for key ${key} does not match its checksum: sha256 expected ${stored.weightsSha256.slice(0, 16)}…, found ${sum.slice(0, 16)}…; ${REMEDY}`,
      key,
      "checksum",
    );
  }
  if (stored.descriptionSha256 !== undefined) {
    const described = descriptionSha256(stored.modelTopology, stored.weightSpecs);
    if (described !== stored.descriptionSha256) {
      throw new CacheError(
        `cache: model.json for key ${key}: the model's description (layers, activations, weight specs) does not match its checksum: sha256 expected ${String(stored.descriptionSha256).slice(0, 16)}…, found ${described.slice(0, 16)}… (edited after it was saved?); ${REMEDY}`,
        key,
        "checksum",
      );
    }
  }
  return { stored, weights };
}

/** True when a model is stored under the key (not checked; loadModel checks). */
export function hasModel(key: string, args: CacheArgs = {}): boolean {
  return fs.existsSync(modelPaths(key, args).modelJson);
}

/** Loads a cached LayersModel after checking size and checksum. Custom layers load when
 * their classes are registered (tf.serialization.registerClass) before the call. */
export async function loadModel(key: string, args: CacheArgs = {}): Promise<tf.LayersModel> {
  const { stored, weights } = await readStoredModel(key, modelPaths(key, args));
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  // A load that fails half-way (e.g. an unregistered layer class) has already created the
  // weights of the layers before it; dispose those so a failed load leaks nothing. (Assumes no
  // other code creates variables while this load awaits, as in a notebook's one-cell-at-a-time.)
  const varsBefore = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: stored.modelTopology, weightSpecs: stored.weightSpecs, weightData }),
    );
  } catch (e) {
    const vars = tf.engine().registeredVariables;
    for (const name of Object.keys(vars)) if (!varsBefore.has(name)) vars[name].dispose();
    throw new CacheError(
      `cache: model for key ${key} does not load (${(e as Error).message}); register its custom layers first, or ${REMEDY}`,
      key,
      "corrupt",
    );
  }
}

/** Options of `cachedModel` / `cachedJson`. */
export interface CachedArgs extends CacheArgs {
  /** Ignore any cached copy: build again and overwrite it. */
  retrain?: boolean;
  /** Where the one-line report goes; default console.log; false for silence. */
  log?: ((message: string) => void) | false;
}

/** What `cachedModel` did. */
export interface CachedModel {
  model: tf.LayersModel;
  /** True when loaded from the cache, false when built (and saved) now. */
  fromCache: boolean;
  key: string;
  /** The report line: loaded, built, or why the cached copy was rejected. */
  message: string;
}

function report(args: CachedArgs, message: string): void {
  if (args.log === false) return;
  (args.log ?? console.log)(message);
}

/** Loads the model cached under `key` if it is intact; otherwise (missing, truncated, checksum
 * mismatch of the weights or of the model's description, or `retrain`) checks that the cache can
 * be written, then calls `build`, saves its result and returns it. An unwritable cache throws a
 * FolderNotWritableError before `build` runs. */
export async function cachedModel(
  key: string,
  build: () => Promise<tf.LayersModel>,
  args: CachedArgs = {},
): Promise<CachedModel> {
  let why = "retrain requested";
  if (!args.retrain) {
    try {
      const model = await loadModel(key, args);
      const message = `cache: loaded model ${key} from ${modelPaths(key, args).folder}`;
      report(args, message);
      return { model, fromCache: true, key, message };
    } catch (e) {
      if (!(e instanceof CacheError)) throw e;
      why = e.problem === "missing" ? "not cached yet" : e.message;
    }
  }
  checkCacheWritable(args.dir, "cachedModel"); // before build: never train what cannot be saved
  const model = await build();
  let saved: { weightsBytes: number; folder: string };
  try {
    saved = await saveModel(key, model, args);
  } catch (e) {
    model.dispose(); // nobody else holds it: a failed save must not leak its tensors
    throw e;
  }
  const { weightsBytes, folder } = saved;
  const message = `cache: built model ${key} (${why}); saved ${weightsBytes} bytes of weights to ${folder}`;
  report(args, message);
  return { model, fromCache: false, key, message };
}

export function jsonPath(key: string, args: CacheArgs = {}): string {
  checkKey(key, "jsonPath");
  return path.join(cacheDir(args.dir), "json", `${key}.json`);
}

/** Saves a JSON-able value atomically (canonical form, so equal values give equal files). */
export async function saveJson(key: string, value: unknown, args: CacheArgs = {}): Promise<string> {
  const file = jsonPath(key, args);
  checkCacheWritable(args.dir, "saveJson");
  await writeFileAtomic(file, canonicalJson(value) + "\n");
  return file;
}

/** The value saved under `key`, or undefined when none is; a damaged file throws a CacheError. */
export async function loadJson<T = unknown>(key: string, args: CacheArgs = {}): Promise<T | undefined> {
  const file = jsonPath(key, args);
  let text: string;
  try {
    text = await fs.promises.readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CacheError(
      `cache: ${file} for key ${key} is not valid JSON (${(e as Error).message}); ${REMEDY}`,
      key,
      "corrupt",
    );
  }
}

/** All JSON keys in the cache whose name starts with `prefix` (lesson 10 reads results this way). */
export async function listJsonKeys(prefix = "", args: CacheArgs = {}): Promise<string[]> {
  const dir = path.join(cacheDir(args.dir), "json");
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".json") && !n.startsWith(".") && n.startsWith(prefix))
    .map((n) => n.slice(0, -5))
    .sort();
}

/** Returns the JSON cached under `key`, or computes, saves and returns it (checking first that the
 * cache can be written: an unwritable cache throws before `compute` runs). */
export async function cachedJson<T>(
  key: string,
  compute: () => Promise<T> | T,
  args: CachedArgs = {},
): Promise<{ value: T; fromCache: boolean }> {
  if (!args.retrain) {
    let value: T | undefined;
    try {
      value = await loadJson<T>(key, args);
    } catch (e) {
      if (!(e instanceof CacheError)) throw e;
      report(args, `${e.message}; recomputing`);
    }
    if (value !== undefined) return { value, fromCache: true };
  }
  checkCacheWritable(args.dir, "cachedJson"); // before compute: never compute what cannot be saved
  const value = await compute();
  await saveJson(key, value, args);
  return { value, fromCache: false };
}
