// Crash-safe files, shared by every writer in src/: writeFileAtomic replaces one file so readers see
// the old content or the new, never a part; commitWithBlob saves a manifest and its binary blob so
// that one rename commits both. A write that fails or is interrupted removes its temp file (so
// does a process that exits or dies of SIGINT/SIGTERM/SIGHUP mid-write, see `guardInFlight`);
// only a kill that runs no code (SIGKILL, power loss) leaves one, swept by later writes.
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** `.<name>.tmp-<pid>-<hex>`: hidden, so listings skip it, and naming the process that owns it. */
const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;
/** Hex digits of a blob's sha256 kept in its file name. */
const BLOB_HASH_CHARS = 16;

function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/**
 * Removes temp files in `dir` whose writer process is gone (killed mid-write), optionally only
 * those for target `name`. Temp files of live processes, this one included, are left alone: they
 * may be writes in progress. Never throws; a file it cannot remove stays hidden and harmless.
 */
export async function sweepTempFiles(dir: string, name?: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    await fs.promises.rm(path.join(dir, n), { force: true }).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await fs.promises.open(dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some filesystems refuse to fsync a folder; the rename itself is still atomic.
  }
}

/** Temp files being written by this process right now. */
const inFlight = new Set<string>();
const GUARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let exitGuard = false;

function removeInFlightSync(): void {
  for (const tmp of inFlight) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // left for the next write's sweep
    }
  }
  inFlight.clear();
}

/** Ends the process with `signal` after removing the temp files being written, when nothing else
 * listens for that signal (plain Node: Ctrl-C would otherwise end it at once and leave them). When
 * something else listens (the transfer-lab kernel counts SIGINTs and goes on running), the process
 * is not ending: the writes go on and finish or fail, removing their own temp files. */
function onSignal(signal: NodeJS.Signals): void {
  if (otherListeners(signal)) return;
  removeInFlightSync();
  unguardSignals();
  process.kill(process.pid, signal); // no listener now: the default action ends the process as it would have
}

function otherListeners(signal: NodeJS.Signals): boolean {
  return process.listeners(signal).some((l) => l !== signalHandlers[signal]);
}

const signalHandlers = Object.fromEntries(GUARDED_SIGNALS.map((s) => [s, () => onSignal(s)])) as Record<
  NodeJS.Signals,
  () => void
>;

function unguardSignals(): void {
  for (const s of GUARDED_SIGNALS) process.removeListener(s, signalHandlers[s]);
}

/** Registers a temp file as being written; while any is, an exit (process.exit, the kernel shutting
 * down) or a fatal signal removes it first. */
function guardInFlight(tmp: string): void {
  inFlight.add(tmp);
  if (!exitGuard) {
    process.on("exit", removeInFlightSync);
    exitGuard = true;
  }
  if (inFlight.size === 1) for (const s of GUARDED_SIGNALS) process.on(s, signalHandlers[s]);
}

function unguardInFlight(tmp: string): void {
  inFlight.delete(tmp);
  if (inFlight.size === 0) unguardSignals();
}

/**
 * Writes a file so readers see the old content or the new, never a part: temp file in the
 * same folder, fsync, rename over the target, fsync the folder. Whatever stops the write before
 * the rename (an error such as a full disk, an InterruptedError, process.exit, or Ctrl-C in plain
 * Node) removes the temp file; one left by a killed process (SIGKILL) is removed by the next write
 * of the same file.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = tempPath(file);
  let renamed = false;
  guardInFlight(tmp);
  try {
    const fh = await fs.promises.open(tmp, "w");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    renamed = true;
  } finally {
    unguardInFlight(tmp);
    if (!renamed) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
  }
  await syncDir(dir);
  await sweepTempFiles(dir, path.basename(file));
}

/** What `commitWithBlob` writes. */
export interface CommitWithBlobArgs {
  /** Folder of the artifact; it holds the manifest, the current blob and nothing else of ours. */
  dir: string;
  /** Manifest file name, e.g. "model.json": the commit point. */
  manifest: string;
  /** Blob names are `<blobPrefix>-<sha256 prefix>.bin`, e.g. "weights-1f3a….bin". */
  blobPrefix: string;
  /** Blob name of the older layout, removed once the new manifest is in place (e.g. "weights.bin"). */
  legacyBlob?: string;
  blob: Uint8Array;
  /** The manifest text, given the blob's file name and full sha256 to record in it. */
  manifestText: (blobFile: string, blobSha256: string) => string;
}

/**
 * Saves a manifest + blob pair so a reader (or a crash at any instant) sees the old pair or the
 * new one, never a mix. The blob goes to a new file named by its hash, then the manifest that
 * names it replaces the old manifest in one rename; only after that is the old blob deleted.
 * Two files each replaced atomically are not enough: a kill between the two renames would leave
 * the new blob beside the old manifest, and lose the previous artifact. A save that fails or is
 * interrupted before its commit removes what it wrote (temp files, and the new blob).
 */
export async function commitWithBlob(args: CommitWithBlobArgs): Promise<{ blobFile: string; blobSha256: string }> {
  const { dir, manifest, blobPrefix, legacyBlob, blob, manifestText } = args;
  const blobSha256 = createHash("sha256").update(blob).digest("hex");
  const blobFile = `${blobPrefix}-${blobSha256.slice(0, BLOB_HASH_CHARS)}.bin`;
  const blobPath = path.join(dir, blobFile);
  // The same bytes may be the committed blob already (a model saved again unchanged): never remove that one.
  const blobExisted = fs.existsSync(blobPath);
  await writeFileAtomic(blobPath, blob);
  try {
    await writeFileAtomic(path.join(dir, manifest), manifestText(blobFile, blobSha256));
  } catch (e) {
    // Not committed: the new blob is named by no manifest, so it goes, like a temp file.
    if (!blobExisted) await fs.promises.rm(blobPath, { force: true }).catch(() => undefined);
    throw e;
  }
  // Committed. What else looks like one of our blobs is superseded (or the orphan of a save killed
  // between its two renames). A reader that read the old manifest just before may now miss its blob
  // and report it missing rather than load a mix.
  const blobRe = new RegExp(`^${blobPrefix}-[0-9a-f]{${BLOB_HASH_CHARS}}\\.bin$`);
  for (const n of await fs.promises.readdir(dir)) {
    if (n !== blobFile && (blobRe.test(n) || n === legacyBlob))
      await fs.promises.rm(path.join(dir, n), { force: true });
  }
  await sweepTempFiles(dir);
  return { blobFile, blobSha256 };
}

/** Whether a blob name read from a manifest is a plain file name in the artifact's folder (so a
 * damaged or crafted manifest cannot point elsewhere). */
export function isBlobName(name: unknown): name is string {
  return typeof name === "string" && name !== "" && name === path.basename(name) && !name.startsWith(".");
}
