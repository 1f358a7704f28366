// Where the project lives and where it keeps artifacts: the project root (found from this file),
// and the artifact cache (TRANSFER_LAB_CACHE, else <root>/.transfer-lab-cache).
import * as path from "path";

/** The environment variable that moves the artifact cache. */
export const CACHE_ENV = "TRANSFER_LAB_CACHE";

/** Absolute path of the project root (the folder holding package.json and src/). */
export function projectRoot(): string {
  return path.resolve(__dirname, "..", "..");
}

/** Absolute path of the artifact cache folder (created by writers, not here). */
export function cacheRoot(): string {
  return cacheRootInfo().path;
}

/** The cache folder and where it came from: TRANSFER_LAB_CACHE, or the default under the project root
 * (messages about an unusable cache name the variable to change). */
export function cacheRootInfo(): { path: string; fromEnv: boolean } {
  const env = process.env[CACHE_ENV];
  return env && env !== ""
    ? { path: path.resolve(env), fromEnv: true }
    : { path: path.join(projectRoot(), ".transfer-lab-cache"), fromEnv: false };
}
