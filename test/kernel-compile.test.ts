// The library as the notebook kernel compiles it. tslab type-checks every file a cell imports
// with its own TypeScript and options (ES lib only: no DOM, no WebAssembly value), so code that
// is clean under `tsc -p .` can still fail in every lesson's first cell. This compiles
// src/index.ts the way tslab does, in seconds, without starting a kernel.
import * as path from "path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

describe("src/ under the kernel's compiler", () => {
  it("src/index.ts and everything it imports compile with tslab's TypeScript and options", () => {
    const tslabDist = path.dirname(require.resolve("tslab/dist/converter.js", { paths: [ROOT] }));
    // tslab's own TypeScript build, not the project's.
    const ts = require(
      require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDist] }),
    ) as typeof import("typescript");
    // The options of tslab 1.0.22's converter.js (createWatchCompilerHost), for Node >= 18 (ES2022).
    const options: import("typescript").CompilerOptions = {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      declaration: true,
      experimentalDecorators: true,
      resolveJsonModule: true,
      allowJs: true,
      checkJs: true,
      skipLibCheck: true,
      noEmit: true,
      typeRoots: [path.join(ROOT, "node_modules", "@types")],
    };
    const program = ts.createProgram([path.join(ROOT, "src", "index.ts")], options);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && !d.file.fileName.includes("node_modules"))
      .map((d) => {
        const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
        return `${path.relative(ROOT, d.file!.fileName)} ${line + 1}:${character + 1} - ${text}`;
      });
    expect(problems).toEqual([]);
  }, 120_000);
});
