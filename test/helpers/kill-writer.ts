// Child process for test/cache-kill.test.ts: saves a first artifact, reports it, then starts
// saving a second, larger version of the same key and stalls half-way through one file so the
// parent can SIGKILL it at a known point. Not a test file itself.
//
//   tsx test/helpers/kill-writer.ts <model|adapter|json> <stall-suffix> <dir>
//
// The stall is test/helpers/stall-writes.ts's "slow disk": the first temp file whose target name
// ends in <stall-suffix> is written half-way, then "MIDWAY …" is printed and nothing more happens.
// The parent kills on that line, so the kill always lands inside writeFileAtomic's write of that
// file, whatever the machine's speed.
import * as tf from "@tensorflow/tfjs";
import { saveJson, saveModel } from "../../src/store/cache";
import { saveAdapter } from "../../src/adapt/lora/adapter";
import { stallWritesHalfWay } from "./stall-writes";
import { dense, lora, predictions } from "./saved-models";

const [scenario, stallSuffix, dir] = process.argv.slice(2);
const arm = stallWritesHalfWay(stallSuffix);

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  if (scenario === "model") {
    const first = dense(6, 3, 1);
    await saveModel("victim", first, { dir });
    process.stdout.write(`SAVED ${JSON.stringify(predictions(first, 6))}\n`);
    // 2048 x 2048 kernel: 16 MiB of weights, written in 64 KiB chunks up to the stall.
    const second = dense(2048, 2048, 2);
    arm();
    await saveModel("victim", second, { dir });
  } else if (scenario === "adapter") {
    const first = lora(1, 7);
    await saveAdapter(first, dir);
    process.stdout.write(`SAVED ${JSON.stringify(predictions(first, 12))}\n`);
    const second = lora(64, 8);
    arm();
    await saveAdapter(second, dir);
  } else if (scenario === "json") {
    await saveJson("victim", { version: 1 }, { dir });
    process.stdout.write(`SAVED ${JSON.stringify({ version: 1 })}\n`);
    arm();
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
