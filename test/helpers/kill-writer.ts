// Child process for test/cache-kill.test.ts: saves a first artifact, reports it, then starts
// saving a second, larger version of the same key and stalls half-way through one file so the
// parent can SIGKILL it at a known point. Not a test file itself.
//
//   tsx test/helpers/kill-writer.ts <model|adapter|json> <stall-suffix> <dir>
//
// The stall is a "slow disk" put in here, not in the library: fs.promises.open is wrapped so
// that the first temp file (".<name>.tmp-<pid>-<hex>") whose target name ends in <stall-suffix>
// gets half its bytes written and synced, then the line "MIDWAY <temp path> <half> <total>" on
// stdout, then no progress at all. The parent kills on that line, so the kill always lands
// inside writeFileAtomic's write of that file, whatever the machine's speed.
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { saveJson, saveModel } from "../../src/store/cache";
import { saveAdapter } from "../../src/adapt/lora/adapter";
import { dense, lora, predictions } from "./saved-models";

const [scenario, stallSuffix, dir] = process.argv.slice(2);
const TEMP_RE = /^\.(.+)\.tmp-\d+-[0-9a-f]+$/;
const CHUNK = 64 * 1024;
let armed = false;

const promises = fs.promises as { open: typeof fs.promises.open };
const realOpen = promises.open;
promises.open = (async (...args: Parameters<typeof fs.promises.open>) => {
  const fh = await realOpen(...args);
  const file = String(args[0]);
  const target = TEMP_RE.exec(path.basename(file))?.[1];
  if (armed && target !== undefined && target.endsWith(stallSuffix)) {
    armed = false;
    fh.writeFile = (async (data: Uint8Array | string) => {
      const buf =
        typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const half = Math.floor(buf.length / 2);
      for (let at = 0; at < half; at += CHUNK) await fh.write(buf, at, Math.min(CHUNK, half - at));
      await fh.sync();
      process.stdout.write(`MIDWAY ${file} ${half} ${buf.length}\n`);
      setInterval(() => undefined, 1000); // keep the process alive, stuck mid-write, until killed
      await new Promise(() => undefined);
    }) as typeof fh.writeFile;
  }
  return fh;
}) as typeof fs.promises.open;

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  if (scenario === "model") {
    const first = dense(6, 3, 1);
    await saveModel("victim", first, { dir });
    process.stdout.write(`SAVED ${JSON.stringify(predictions(first, 6))}\n`);
    // 2048 x 2048 kernel: 16 MiB of weights, written in 64 KiB chunks up to the stall.
    const second = dense(2048, 2048, 2);
    armed = true;
    await saveModel("victim", second, { dir });
  } else if (scenario === "adapter") {
    const first = lora(1, 7);
    await saveAdapter(first, dir);
    process.stdout.write(`SAVED ${JSON.stringify(predictions(first, 12))}\n`);
    const second = lora(64, 8);
    armed = true;
    await saveAdapter(second, dir);
  } else if (scenario === "json") {
    await saveJson("victim", { version: 1 }, { dir });
    process.stdout.write(`SAVED ${JSON.stringify({ version: 1 })}\n`);
    armed = true;
    await saveJson("victim", { version: 2, rows: Array.from({ length: 200_000 }, (_, i) => i) }, { dir });
  } else {
    throw new Error(`kill-writer: scenario must be model, adapter or json, got ${JSON.stringify(scenario)}`);
  }
  process.stdout.write("FINISHED\n"); // only reached when the stall never triggered
}

main().catch((e) => {
  process.stderr.write(`kill-writer: ${(e as Error).stack}\n`);
  process.exit(1);
});
