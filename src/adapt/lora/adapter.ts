// Adapter-only files for LoRA models: the A/B factors (and a trained head) with the settings
// needed to rebuild the LoRA model on top of the same base, as adapter.json + the data file it
// names (committed together, checked by sha256 on load), and the byte counts of an adapter save
// beside a full model save.
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { commitWithBlob, isBlobName } from "../../store/atomic";
import { sha256Hex } from "../../store/cache";
import { applyLora, loraLayers } from "./inject";

export const ADAPTER_FORMAT = "transfer-lab-lora/1";
export const ADAPTER_JSON = "adapter.json";
/** Data file of adapters saved before adapter.json named its data file (`adapter-<sha256 prefix>.bin`). */
export const ADAPTER_BIN = "adapter.bin";

/** What adapter.json holds. */
export interface LoraAdapterJson {
  format: string;
  r: number;
  alpha: number;
  dropout: number;
  /** Names of the adapted Dense layers. */
  targets: string[];
  /** Fully trained layers saved with the adapter (the head), if any. */
  trainedLayers: string[];
  /** Names `<layer>/<weight>`, shapes and dtypes of the tensors in the data file, in order. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Set by saveAdapter: the data file in the adapter's folder, its size and sha256. */
  dataFile?: string;
  dataBytes?: number;
  dataSha256?: string;
}

/** An adapter in memory: its JSON and the bytes of its tensors. */
export interface LoraAdapterArtifacts {
  json: LoraAdapterJson;
  data: ArrayBuffer;
}

function trainedPlainLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() !== "LoraDense" && l.trainable && l.trainableWeights.length > 0);
}

/** Encodes the adapter of a LoRA model (from applyLora): its A/B factors and trained head. */
export async function adapterArtifacts(model: tf.LayersModel): Promise<LoraAdapterArtifacts> {
  const lora = loraLayers(model);
  if (lora.length === 0)
    throw new Error(`adapterArtifacts: model ${model.name} has no LoraDense layer; build it with applyLora first`);
  const { r, alpha, dropout } = lora[0];
  const odd = lora.find((l) => l.r !== r || l.alpha !== alpha || l.dropout !== dropout);
  if (odd)
    throw new Error(
      `adapterArtifacts: every adapter must share r, alpha and dropout; ${odd.name} has r=${odd.r}, alpha=${odd.alpha}, dropout=${odd.dropout} vs r=${r}, alpha=${alpha}, dropout=${dropout}`,
    );
  const named: tf.NamedTensorMap = {};
  for (const l of lora) {
    named[`${l.name}/lora_A`] = l.loraA!.read();
    named[`${l.name}/lora_B`] = l.loraB!.read();
  }
  const trained = trainedPlainLayers(model);
  for (const l of trained) {
    l.weights.forEach((w, i) => (named[`${l.name}/${i}`] = w.read()));
  }
  // encodeWeights copies the values into one buffer; it creates no tensors.
  const { data, specs } = await tf.io.encodeWeights(named);
  const json: LoraAdapterJson = {
    format: ADAPTER_FORMAT,
    r,
    alpha,
    dropout,
    targets: lora.map((l) => l.name),
    trainedLayers: trained.map((l) => l.name),
    weightSpecs: specs,
  };
  return { json, data };
}

/** Rebuilds the LoRA model from `base` (the model the adapter was trained on) and an adapter. */
export function applyAdapter(base: tf.LayersModel, adapter: LoraAdapterArtifacts): tf.LayersModel {
  const { json } = adapter;
  if (json.format !== ADAPTER_FORMAT)
    throw new Error(`loadAdapter: format must be ${ADAPTER_FORMAT}, got ${JSON.stringify(json.format)}`);
  if (json.trainedLayers.length > 1)
    throw new Error(`loadAdapter: at most one trained head is supported, got ${json.trainedLayers.join(", ")}`);
  const model = applyLora(base, {
    r: json.r,
    alpha: json.alpha,
    dropout: json.dropout,
    targets: json.targets,
    trainHead: json.trainedLayers[0] ?? false,
  });
  const tensors = tf.io.decodeWeights(adapter.data, json.weightSpecs);
  try {
    for (const l of loraLayers(model)) {
      const a = tensors[`${l.name}/lora_A`];
      const b = tensors[`${l.name}/lora_B`];
      if (!a || !b) throw new Error(`loadAdapter: the adapter has no factors for layer ${l.name}`);
      if (a.shape.join() !== l.loraA!.shape.join() || b.shape.join() !== l.loraB!.shape.join()) {
        throw new Error(
          `loadAdapter: factor shapes for ${l.name} are A [${a.shape}], B [${b.shape}] but the base needs A [${l.loraA!.shape}], B [${l.loraB!.shape}] (was the adapter trained on another base?)`,
        );
      }
      l.loraA!.write(a);
      l.loraB!.write(b);
    }
    for (const name of json.trainedLayers) {
      const layer = model.getLayer(name);
      layer.setWeights(
        layer.weights.map((_, i) => {
          const t = tensors[`${name}/${i}`];
          if (!t) throw new Error(`loadAdapter: the adapter lacks weight ${i} of trained layer ${name}`);
          return t;
        }),
      );
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    Object.values(tensors).forEach((t) => t.dispose());
  }
  return model;
}

/** Writes adapter.json and its data file into `dir`, committed together (see commitWithBlob): a
 * save killed at any point leaves the previous adapter loadable. Returns the bytes written. */
export async function saveAdapter(
  model: tf.LayersModel,
  dir: string,
): Promise<{ bytes: number; dataBytes: number; folder: string }> {
  const { json, data } = await adapterArtifacts(model);
  let text = "";
  await commitWithBlob({
    dir,
    manifest: ADAPTER_JSON,
    blobPrefix: "adapter",
    legacyBlob: ADAPTER_BIN,
    blob: new Uint8Array(data),
    manifestText: (dataFile, dataSha256) => {
      text = JSON.stringify({ ...json, dataFile, dataBytes: data.byteLength, dataSha256 });
      return text;
    },
  });
  return { bytes: data.byteLength + Buffer.byteLength(text), dataBytes: data.byteLength, folder: path.resolve(dir) };
}

/** Reads an adapter folder written by saveAdapter, checks its data file (size, sha256) and applies
 * it to `base`. */
export function loadAdapter(base: tf.LayersModel, dir: string): tf.LayersModel {
  const jsonFile = path.join(dir, ADAPTER_JSON);
  const missing = (f: string) =>
    new Error(`loadAdapter: ${f} does not exist (save one with saveAdapter(model, ${JSON.stringify(dir)}))`);
  if (!fs.existsSync(jsonFile)) throw missing(jsonFile);
  let json: LoraAdapterJson;
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as LoraAdapterJson;
  } catch (e) {
    throw new Error(`loadAdapter: ${jsonFile} is not valid JSON (${(e as Error).message}); save the adapter again`);
  }
  const dataFile = json.dataFile ?? ADAPTER_BIN;
  if (!isBlobName(dataFile) || !Array.isArray(json.weightSpecs)) {
    throw new Error(
      `loadAdapter: ${jsonFile} is not a ${ADAPTER_FORMAT} file (data file ${JSON.stringify(dataFile)}, weightSpecs ${typeof json.weightSpecs}); save the adapter again`,
    );
  }
  const binFile = path.join(dir, dataFile);
  if (!fs.existsSync(binFile)) throw missing(binFile);
  const buf = fs.readFileSync(binFile);
  const expected = json.weightSpecs.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (buf.byteLength !== expected)
    throw new Error(
      `loadAdapter: ${binFile} has ${buf.byteLength} bytes, its specs need ${expected} (the file is damaged; save the adapter again)`,
    );
  // Adapters saved before adapter.json recorded a checksum have only the size check above.
  const sum = json.dataSha256 === undefined ? undefined : sha256Hex(buf);
  if (sum !== json.dataSha256) {
    throw new Error(
      `loadAdapter: ${binFile} does not match its checksum: sha256 expected ${json.dataSha256!.slice(0, 16)}…, found ${sum!.slice(0, 16)}… (the file is damaged; save the adapter again)`,
    );
  }
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return applyAdapter(base, { json, data });
}

/** Bytes of a full tfjs save of a model: weights and model.json topology. */
export async function savedModelBytes(
  model: tf.LayersModel,
): Promise<{ weightsBytes: number; topologyBytes: number; total: number }> {
  let weightsBytes = 0;
  let topologyBytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (a: tf.io.ModelArtifacts) => {
      const w = a.weightData;
      weightsBytes = w === undefined ? 0 : (Array.isArray(w) ? w : [w]).reduce((s, p) => s + p.byteLength, 0);
      topologyBytes = Buffer.byteLength(
        JSON.stringify({
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return { weightsBytes, topologyBytes, total: weightsBytes + topologyBytes };
}

/** Bytes of an adapter-only save of a LoRA model (adapter.bin + adapter.json). */
export async function adapterBytes(
  model: tf.LayersModel,
): Promise<{ dataBytes: number; jsonBytes: number; total: number }> {
  const { json, data } = await adapterArtifacts(model);
  const jsonBytes = Buffer.byteLength(JSON.stringify(json));
  return { dataBytes: data.byteLength, jsonBytes, total: data.byteLength + jsonBytes };
}
