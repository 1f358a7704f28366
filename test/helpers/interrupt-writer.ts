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
import { saveModel } from "../../src/store/cache";
import { stallWritesHalfWay } from "./stall-writes";
import { dense, predictions } from "./saved-models";

const [dir, how] = process.argv.slice(2);
const arm = stallWritesHalfWay(".bin", how === "exit" ? () => setTimeout(() => process.exit(130), 50) : undefined);

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  const first = dense(6, 3, 1);
  await saveModel("victim", first, { dir });
  process.stdout.write(`SAVED ${JSON.stringify(predictions(first, 6))}\n`);
  arm();
  await saveModel("victim", dense(2048, 2048, 2), { dir });
  process.stdout.write("FINISHED\n"); // only reached when the stall never triggered
}

main().catch((e) => {
  process.stderr.write(`interrupt-writer: ${(e as Error).stack}\n`);
  process.exit(1);
});
