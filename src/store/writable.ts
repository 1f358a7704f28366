// Fail early, and clearly, when the artifact cache cannot be written. Every library entry that will
// write to the cache (cachedModel/cachedJson before they build, saveModel, saveJson, recordResult,
// the results repair, downloads) first calls checkCacheWritable: it creates the folder if needed
// and writes and removes a small temp file there, so a read-only file system, a path that is a
// file, or a folder without permission is reported before any training, naming the folder, where
// it came from (TRANSFER_LAB_CACHE, the default, or a dir argument), the cause and the remedy.
// Success is remembered per folder, so a process pays one probe per folder.
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CACHE_ENV, cacheRootInfo } from "../core/paths";

/** Where a cache folder came from: TRANSFER_LAB_CACHE, the default under the project root, or an
 * explicit argument (a `dir` option). */
export type FolderOrigin = "env" | "default" | "argument";

/** The cache (or another output folder) cannot be written. */
export class FolderNotWritableError extends Error {
  constructor(
    message: string,
    readonly folder: string,
    readonly origin: FolderOrigin,
    /** errno code of the failure (EROFS, EACCES, ENOTDIR…), when there was one. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "FolderNotWritableError";
  }
}

/** Folders that passed the probe in this process. */
const writableFolders = new Set<string>();

/** The cache folder a call with `dir` uses (as cacheDir in cache.ts), and where it came from. */
export function resolveCacheFolder(dir?: string): { folder: string; origin: FolderOrigin } {
  if (dir !== undefined && dir !== "") return { folder: path.resolve(dir), origin: "argument" };
  const root = cacheRootInfo();
  return { folder: root.path, origin: root.fromEnv ? "env" : "default" };
}

/** The first of `p` and its parents that exists, with its stat (undefined when none does). */
function nearestExisting(p: string): { at: string; stat?: fs.Stats } {
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return { at, stat: fs.statSync(at) };
    } catch {
      if (path.dirname(at) === at) return { at };
    }
  }
}

/**
 * Why `folder` could not be written, in words, given the error of the failed mkdir or probe write.
 * mkdir -p on a read-only file system may report ENOENT rather than EROFS, so the cause is
 * looked up on the nearest folder that exists.
 */
export function describeWriteFailure(folder: string, err: unknown): { cause: string; code: string | undefined } {
  const e = err as NodeJS.ErrnoException;
  const near = nearestExisting(folder);
  if (near.stat && !near.stat.isDirectory()) {
    return near.at === folder
      ? { cause: `${folder} is a file, not a folder`, code: "ENOTDIR" }
      : { cause: `${near.at} is a file, not a folder, so nothing can be created under it`, code: "ENOTDIR" };
  }
  let code = e?.code;
  if (near.stat && (code === "ENOENT" || code === "EEXIST" || code === undefined)) {
    try {
      fs.accessSync(near.at, fs.constants.W_OK);
    } catch (e2) {
      code = (e2 as NodeJS.ErrnoException).code ?? code;
    }
  }
  const where = near.at === folder ? "" : ` (at ${near.at})`;
  switch (code) {
    case "EROFS":
      return { cause: `it is on a read-only file system (EROFS)${where}`, code };
    case "EACCES":
    case "EPERM":
      return { cause: `permission denied (${code})${where}: this user may not write there`, code };
    case "ENOSPC":
      return { cause: `the disk is full (ENOSPC)`, code };
    case "EDQUOT":
      return { cause: `the disk quota is exceeded (EDQUOT)`, code };
    case "ENOTDIR":
      return { cause: `a part of the path is not a folder (ENOTDIR)`, code };
    default:
      return { cause: e instanceof Error ? e.message : String(err), code };
  }
}

const ENV_EXAMPLE = `in a shell: export ${CACHE_ENV}=$HOME/transfer-lab-cache; in a notebook cell: process.env.${CACHE_ENV} = "/path/to/folder"`;

function originText(origin: FolderOrigin, param: string): string {
  if (origin === "env") return `set by ${CACHE_ENV}`;
  if (origin === "default") return `the default; ${CACHE_ENV} is not set`;
  return `passed as ${param}`;
}

function remedy(origin: FolderOrigin, noun: string, param: string): string {
  if (origin === "env") return `point ${CACHE_ENV} at a writable folder (${ENV_EXAMPLE})`;
  if (origin === "default") return `make it writable, or point ${CACHE_ENV} at a writable folder (${ENV_EXAMPLE})`;
  return `pass a writable ${noun} as ${param}`;
}

/** Creates `folder` if needed and writes (then removes) a temp file in it; undefined when that
 * worked, else the error. The temp name is the one writeFileAtomic uses, so a probe left by a
 * killed process is swept by later writes there. */
function probe(folder: string): unknown {
  try {
    fs.mkdirSync(folder, { recursive: true });
  } catch (e) {
    return e;
  }
  const tmp = path.join(folder, `.write-probe.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    const fd = fs.openSync(tmp, "wx");
    try {
      fs.writeSync(fd, "ok");
    } finally {
      fs.closeSync(fd);
    }
    return undefined;
  } catch (e) {
    return e;
  } finally {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // not created, or gone: nothing to clean
    }
  }
}

/** Options of `checkFolderWritable`. */
export interface CheckWritableArgs {
  /** Who asks, named first in the error, e.g. "cachedModel". */
  what: string;
  origin: FolderOrigin;
  /** What the folder is, in the error; default "cache folder". */
  noun?: string;
  /** The argument that gave the folder (origin "argument"), in the error; default "dir". */
  param?: string;
}

/** Throws a FolderNotWritableError unless `folder` exists (or can be created) and a file can be
 * written in it. One probe per folder and process: success is remembered. */
export function checkFolderWritable(folder: string, args: CheckWritableArgs): void {
  const abs = path.resolve(folder);
  if (writableFolders.has(abs)) return;
  const err = probe(abs);
  if (err === undefined) {
    writableFolders.add(abs);
    return;
  }
  const noun = args.noun ?? "cache folder";
  const param = args.param ?? "dir";
  const { cause, code } = describeWriteFailure(abs, err);
  throw new FolderNotWritableError(
    `${args.what}: the ${noun} ${abs} (${originText(args.origin, param)}) is not writable: ${cause}; ${remedy(args.origin, noun, param)}`,
    abs,
    args.origin,
    code,
  );
}

/** Checks that the cache folder a call with `dir` would use (dir, else $TRANSFER_LAB_CACHE, else
 * <root>/.transfer-lab-cache) can be written, creating it if needed; returns it. Call it at the
 * start of anything that will write there, before any expensive work. */
export function checkCacheWritable(dir?: string, what = "cache"): string {
  const { folder, origin } = resolveCacheFolder(dir);
  checkFolderWritable(folder, { what, origin });
  return folder;
}
