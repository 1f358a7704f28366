// `npm run results`: checks the results log (<cache>/results.jsonl, which every lesson appends to)
// and names each line that is not a result record; `npm run results -- --repair` rewrites it
// atomically with only the valid records and moves the bad lines to results.jsonl.rejected-<time>.
import { Command } from "commander";
import { describeBadLines, repairResults, scanResults } from "../store/results";

async function main(argv: string[]): Promise<number> {
  const opts = new Command("results")
    .description(
      "Check the results log and name every bad line; with --repair, keep the valid records and move the bad lines to a side file",
    )
    .option("--repair", "rewrite the file with only its valid records; bad lines go to results.jsonl.rejected-<time>")
    .option("--dir <folder>", "cache folder (default: $TRANSFER_LAB_CACHE, else <project>/.transfer-lab-cache)")
    .parse(argv)
    .opts<{ repair?: boolean; dir?: string }>();
  const dir = opts.dir; // undefined: the cache folder ($TRANSFER_LAB_CACHE or the default), named as such in errors
  if (opts.repair) {
    const r = await repairResults({ dir });
    if (r.rejectedFile === null) {
      console.log(`results: ${r.file}: ${r.kept} valid record(s), no bad lines: nothing to repair`);
    } else {
      for (const b of r.bad) console.log(`  line ${b.line}: ${b.problem}`);
      console.log(
        `results: repaired ${r.file}: kept ${r.kept} valid record(s), moved ${r.rejected} bad line(s) to ${r.rejectedFile}`,
      );
    }
    return 0;
  }
  const scan = scanResults(dir);
  if (!scan.exists) {
    console.log(`results: no results file at ${scan.file} (lessons create it when they record a result)`);
    return 0;
  }
  if (scan.bad.length === 0) {
    console.log(`results: ${scan.file}: ${scan.records.length} valid record(s), no bad lines`);
    return 0;
  }
  console.log(describeBadLines(scan, "results"));
  return 1;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  },
);
