// The code is kept in one format (prettier, line width 120: .prettierrc.json) so diffs show changes,
// not reflowed lines. Run `npx prettier --write src test kernel-setup` to fix what this finds.
import * as fs from "fs";
import * as path from "path";
import * as prettier from "prettier";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const FOLDERS = ["src", "test", "kernel-setup"];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

describe("formatting", () => {
  it("every .ts and .js file of src/, test/ and kernel-setup/ is formatted as prettier writes it", async () => {
    const unformatted: string[] = [];
    for (const file of FOLDERS.flatMap((f) => sources(path.join(ROOT, f)))) {
      const options = await prettier.resolveConfig(file);
      expect(options?.printWidth, `${file} must take .prettierrc.json`).toBe(120);
      const text = fs.readFileSync(file, "utf8");
      if (!(await prettier.check(text, { ...options, filepath: file }))) unformatted.push(path.relative(ROOT, file));
    }
    expect(unformatted, "run: npx prettier --write src test kernel-setup").toEqual([]);
  });
});
