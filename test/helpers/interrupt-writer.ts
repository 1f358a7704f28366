// Child process for test/store/save-failure.test.ts: saves a model, then starts saving a 16 MiB
// version of it and stalls half-way through the weights' temp file (as test/helpers/kill-writer.ts
// does), printing "MIDWAY <temp path> <half> <total>". Then the process ends the way an interrupt
// ends it, and must take its temp file with it:
//
//   tsx test/helpers/interrupt-writer.ts <dir> signal   the parent sends SIGINT (Ctrl-C in plain Node)
//   tsx test/helpers/interrupt-writer.ts <dir> exit     the child calls process.exit(130), as a
//                                                       kernel shutting down does
//
// Not a test file itself.
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { saveModel } from "../../src/store/cache";
import { dense, predictions } from "./saved-models";

const [dir, how] = process.argv.slice(2);
const TEMP_RE = /^\.(.+)\.tmp-\d+-[0-9a-f]+$/;
const CHUNK = 64 * 1024;
let armed = false;

const promises = fs.promises as { open: typeof fs.promises.open };
const realOpen = promises.open;
promises.open = (async (...args: Parameters<typeof fs.promises.open>) => {
  const fh = await realOpen(...args);
  const file = String(args[0]);
  const target = TEMP_RE.exec(path.basename(file))?.[1];
  if (armed && target !== undefined && target.endsWith(".bin")) {
    armed = false;
    fh.writeFile = (async (data: Uint8Array | string) => {
      const buf =
        typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const half = Math.floor(buf.length / 2);
      for (let at = 0; at < half; at += CHUNK) await fh.write(buf, at, Math.min(CHUNK, half - at));
      await fh.sync();
      process.stdout.write(`MIDWAY ${file} ${half} ${buf.length}\n`);
      if (how === "exit") setTimeout(() => process.exit(130), 50);
      setInterval(() => undefined, 1000); // stuck mid-write until the signal or the exit
      await new Promise(() => undefined);
    }) as typeof fh.writeFile;
  }
  return fh;
}) as typeof fs.promises.open;

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  const first = dense(6, 3, 1);
  await saveModel("victim", first, { dir });
  process.stdout.write(`SAVED ${JSON.stringify(predictions(first, 6))}\n`);
  armed = true;
  await saveModel("victim", dense(2048, 2048, 2), { dir });
  process.stdout.write("FINISHED\n"); // only reached when the stall never triggered
}

main().catch((e) => {
  process.stderr.write(`interrupt-writer: ${(e as Error).stack}\n`);
  process.exit(1);
});
