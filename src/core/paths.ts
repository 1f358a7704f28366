// Where the project lives and where it keeps artifacts: the project root (found from this file),
// and the artifact cache (TRANSFER_LAB_CACHE, else <root>/.transfer-lab-cache).
import * as path from "path";

/** Absolute path of the project root (the folder holding package.json and src/). */
export function projectRoot(): string {
  return path.resolve(__dirname, "..", "..");
}

/** Absolute path of the artifact cache folder (created by writers, not here). */
export function cacheRoot(): string {
  const env = process.env.TRANSFER_LAB_CACHE;
  return env && env !== "" ? path.resolve(env) : path.join(projectRoot(), ".transfer-lab-cache");
}
