// Lesson 10 through the real kernel at smoke scale with an EMPTY artifact cache: no lesson has
// recorded anything, so the notebook must run every lesson's experiment (and its own guide rows)
// itself, say so, and still build its table, plots, decision guide, question bank and checkpoint
// from what it measured — with paired verdicts, which at 2 seeds need not hold, never throwing.
import fs from "fs";
import os from "os";
import path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { installKernelSpec, PROJECT_ROOT, requireJupyter } from "../../src/cli/jupyter";
import { cellSource, joinText, listLessons, readNotebook } from "../../src/cli/runner/notebook";
import { formatResult, runLesson } from "../../src/cli/runner/run";
import { readResults } from "../../src/store/results";

const NOTEBOOK = listLessons(path.join(PROJECT_ROOT, "notebooks")).find((f) => path.basename(f).startsWith("10-"));
/** Kernel start, filling lessons 01-05 at smoke on the pure-JS backend, and the review itself. */
const TIMEOUT_MS = 10 * 60_000;

let python = "";
beforeAll(() => {
  python = requireJupyter().python;
  installKernelSpec(python);
}, 120_000);

describe("lesson 10 with no recorded results", () => {
  it.runIf(NOTEBOOK !== undefined)(
    "runs every missing lesson's experiment at smoke scale and says so",
    async () => {
      const cache = fs.mkdtempSync(path.join(os.tmpdir(), "tl-10-empty-cache-"));
      const out = path.join(PROJECT_ROOT, "build", "notebook-tests", "10-empty-cache");
      const result = await runLesson({
        notebook: NOTEBOOK as string,
        scale: "smoke",
        outDir: out,
        python,
        cellTimeoutSeconds: 8 * 60,
        env: { TRANSFER_LAB_CACHE: cache },
      });
      expect(result.ok, formatResult(result)).toBe(true);

      // Every lesson's experiment recorded into the empty cache, at smoke.
      const rows = readResults({ dir: cache, scale: "smoke" });
      expect([...new Set(rows.map((r) => r.lesson))].sort()).toEqual(["01", "02", "03", "04", "05", "10"]);

      // The notebook said it ran them, and its later sections used them.
      const executed = readNotebook(result.output);
      const text = executed.cells
        .flatMap((c) => c.outputs ?? [])
        .map(
          (o) =>
            joinText(o.text) + joinText(o.data?.["text/markdown"]) + joinText(o.data?.["text/html"]).slice(0, 50_000),
        )
        .join("\n");
      expect(text).toContain("so run now by this notebook");
      for (const lesson of ["01", "02", "03", "04", "05", "10"])
        expect(text).toMatch(new RegExp(`- lesson ${lesson}: .* — \\d+ results in`));
      expect(text).toMatch(/\*\*Recommendation: [a-z -]+\*\*/);
      // Verdict tables (crossover, guide, bank, checkpoint) with verdicts from the paired comparisons.
      expect(text).toMatch(/<th[^>]*>verdict<\/th>/);
      expect(text).toMatch(/(holds|not significant|contradicted)<\/td>/);
      const facts = executed.cells.find((c) => cellSource(c).includes("tl.makeFacts("));
      expect(joinText(facts?.outputs?.[0]?.data?.["text/html"])).toMatch(/lessons 01, 02, 03, 04, 05, 10/);
      fs.rmSync(cache, { recursive: true, force: true });
    },
    TIMEOUT_MS,
  );
});
