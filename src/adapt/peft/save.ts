// Adapter-only files for PEFT models: the method's own weights (and the trained head) with the spec
// needed to rebuild the model on the same base, as peft.json + the data file it names, committed
// together (src/store/atomic commitWithBlob) and checked by size and sha256 on load.
import * as tf from "@tensorflow/tfjs";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { commitWithBlob, isBlobName } from "../../store/atomic";
import { sha256Hex } from "../../store/cache";
import { argError, show } from "../../core/validate";
import { applyPeft, methodWeights, peftInfo, PEFT_LAYER_CLASSES, rememberPeft } from "./apply";
import { ownWeightName } from "../../models/surgery";
import { checkBase, checkPeftSpec, type PeftSpec } from "./spec";

/** Version 2 adds baseSha256 (version 1 saves are refused: save again). */
export const PEFT_FORMAT = "transfer-lab-peft/2";
export const PEFT_JSON = "peft.json";

/** What peft.json holds. */
export interface PeftJson {
  format: string;
  spec: PeftSpec;
  /** The fully trained head saved with the method's weights, or null. */
  head: string | null;
  /** Names `<layer>/<weight>`, shapes and dtypes of the tensors in the data file, in order. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  dataFile: string;
  dataBytes: number;
  dataSha256: string;
  /** sha256 of the base's frozen weights (every weight the save does not hold; baseFingerprint). */
  baseSha256: string;
  /** How many weights went into baseSha256. */
  baseWeights: number;
}

/**
 * sha256 over the weights of `model` that the save does not hold (`saved`: names `<layer>/<weight>`),
 * sorted by name, each as its name, shape and float32 bytes. On a PEFT model these are exactly the
 * base's frozen weights (every method weight and the trained head are saved), so savePeft's value on
 * the PEFT model equals loadPeft's value on the base it was trained on, and differs on any other base
 * (a fine-tuned copy of the same shape included).
 */
export function baseFingerprint(
  model: tf.LayersModel,
  saved: ReadonlySet<string>,
): { sha256: string; weights: number } {
  const entries: { name: string; variable: tf.LayerVariable }[] = [];
  for (const l of model.layers)
    for (const w of l.weights) {
      const name = `${l.name}/${ownWeightName(w)}`;
      if (!saved.has(name)) entries.push({ name, variable: w });
    }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hash = crypto.createHash("sha256");
  for (const { name, variable } of entries) {
    hash.update(`${name}\0${variable.shape.join("x")}\0`);
    const values = variable.read().dataSync();
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return { sha256: hash.digest("hex"), weights: entries.length };
}

function savedWeights(model: tf.LayersModel): { name: string; variable: tf.LayerVariable }[] {
  const info = peftInfo(model, "savePeft");
  const out = methodWeights(model, info);
  if (info.head !== null) {
    const head = model.getLayer(info.head);
    head.weights.forEach((w) => out.push({ name: `${head.name}/${ownWeightName(w)}`, variable: w }));
  }
  return out;
}

/** Writes peft.json and its data file into `dir` (created if needed), committed together: a save
 * killed at any point leaves the previous one loadable. Returns the bytes written. */
export async function savePeft(model: tf.LayersModel, dir: string): Promise<{ bytes: number }> {
  if (typeof dir !== "string" || dir === "") throw argError("savePeft", "dir", "a folder path", show(dir));
  const info = peftInfo(model, "savePeft");
  const named: tf.NamedTensorMap = {};
  for (const w of savedWeights(model)) named[w.name] = w.variable.read();
  const fingerprint = baseFingerprint(model, new Set(Object.keys(named)));
  // encodeWeights copies the values into one buffer; it creates no tensors.
  const { data, specs } = await tf.io.encodeWeights(named);
  await fs.promises.mkdir(dir, { recursive: true });
  let text = "";
  await commitWithBlob({
    dir,
    manifest: PEFT_JSON,
    blobPrefix: "peft",
    blob: new Uint8Array(data),
    manifestText: (dataFile, dataSha256) => {
      const json: PeftJson = {
        format: PEFT_FORMAT,
        spec: info.spec,
        head: info.head,
        weightSpecs: specs,
        dataFile,
        dataBytes: data.byteLength,
        dataSha256,
        baseSha256: fingerprint.sha256,
        baseWeights: fingerprint.weights,
      };
      text = JSON.stringify(json);
      return text;
    },
  });
  return { bytes: data.byteLength + Buffer.byteLength(text) };
}

/** Reads a folder written by savePeft, checks its data file (size, sha256) and rebuilds the PEFT
 * model on `base` (the model it was trained on) with the saved weights. */
export function loadPeft(base: tf.LayersModel, dir: string): tf.LayersModel {
  const where = "loadPeft";
  checkBase(where, base, PEFT_LAYER_CLASSES);
  if (typeof dir !== "string" || dir === "") throw argError(where, "dir", "a folder path", show(dir));
  const jsonFile = path.join(dir, PEFT_JSON);
  if (!fs.existsSync(jsonFile))
    throw new Error(`${where}: ${jsonFile} does not exist (save one with savePeft(model, ${JSON.stringify(dir)}))`);
  let json: PeftJson;
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as PeftJson;
  } catch (e) {
    throw new Error(`${where}: ${jsonFile} is not valid JSON (${(e as Error).message}); save the model again`);
  }
  if (json.format !== PEFT_FORMAT)
    throw new Error(
      `${where}: ${jsonFile} has format ${show(json.format)}, expected ${PEFT_FORMAT}; save the model again`,
    );
  if (!isBlobName(json.dataFile) || !Array.isArray(json.weightSpecs))
    throw new Error(`${where}: ${jsonFile} names no valid data file or weight list; save the model again`);
  checkPeftSpec(where, json.spec);
  const binFile = path.join(dir, json.dataFile);
  if (!fs.existsSync(binFile))
    throw new Error(`${where}: ${binFile} does not exist (the save is incomplete; save again)`);
  const buf = fs.readFileSync(binFile);
  const expected = json.weightSpecs.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (buf.byteLength !== expected || buf.byteLength !== json.dataBytes)
    throw new Error(
      `${where}: ${binFile} has ${buf.byteLength} bytes, its specs need ${expected} (the file is damaged; save the model again)`,
    );
  const sum = sha256Hex(buf);
  if (sum !== json.dataSha256)
    throw new Error(
      `${where}: ${binFile} does not match its checksum: sha256 expected ${String(json.dataSha256).slice(0, 16)}…, found ${sum.slice(0, 16)}… (the file is damaged; save the model again)`,
    );
  if (typeof json.baseSha256 !== "string")
    throw new Error(`${where}: ${jsonFile} has no base fingerprint (baseSha256); save the model again`);
  const found = baseFingerprint(base, new Set(json.weightSpecs.map((w) => w.name)));
  if (found.sha256 !== json.baseSha256)
    throw new Error(
      `${where}: base is not the model this PEFT save was trained on: sha256 of its ${found.weights} frozen weights is ${found.sha256.slice(0, 16)}…, the save expects ${json.baseSha256.slice(0, 16)}… over ${json.baseWeights} weights (load it onto the exact base it was trained from, not a fine-tuned or re-trained copy)`,
    );
  const model = applyPeft(base, json.spec, { trainHead: json.head !== null });
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(data, json.weightSpecs);
  try {
    const targets = savedWeights(model);
    const names = new Set(targets.map((t) => t.name));
    const extra = Object.keys(tensors).filter((n) => !names.has(n));
    if (extra.length)
      throw new Error(`${where}: the saved weights ${extra.join(", ")} have no place in the rebuilt model`);
    for (const { name, variable } of targets) {
      const t = tensors[name];
      if (!t) throw new Error(`${where}: the save lacks weight ${name}`);
      if (t.shape.join() !== variable.shape.join())
        throw new Error(
          `${where}: weight ${name} was saved with shape [${t.shape}] but the base needs [${variable.shape}] (was it trained on another base?)`,
        );
      variable.write(t);
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    Object.values(tensors).forEach((t) => t.dispose());
  }
  rememberPeft(model, { spec: json.spec, head: json.head });
  return model;
}
