// Child process for test/results-concurrent.test.ts: appends `n` result records tagged `proc`
// (one letter) to the results file in `dir`, starting when `goFile` appears so that two such processes
// append at the same time. Every fifth record carries a ~6 KB field, above the 4 KiB a pipe
// writes atomically, so that whole-record appends cannot pass by luck. Not a test file itself.
//
//   tsx test/helpers/append-results.ts <dir> <proc> <n> <goFile>
import * as fs from "fs";
import { recordResult } from "../../src/store/results";

const [dir, proc, n, goFile] = process.argv.slice(2);
const BIG = 6000;

process.stdout.write("READY\n");
while (!fs.existsSync(goFile)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
for (let i = 0; i < Number(n); i++) {
  const pad = proc.repeat(i % 5 === 0 ? BIG : 1);
  recordResult(
    {
      lesson: "03",
      method: `m-${proc}`,
      task: "mild",
      labelsPerClass: 5,
      accuracy: 0.5,
      backend: "cpu",
      scale: "smoke",
      seed: i,
      extra: { proc, i, pad },
    },
    dir,
  );
}
process.stdout.write("DONE\n");
