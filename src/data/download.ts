// Optional download of IDX files into the artifact cache, each checked against its sha256
// before it is written (atomically). Never called by default: lessons use embedded MNIST. The
// destination is checked writable before anything is fetched; a server that answers with an HTML
// page (an error or login page) instead of the file is named as such.
import * as fs from "fs";
import * as path from "path";
import { cacheDir, sha256Hex, writeFileAtomic } from "../store/cache";
import { checkCacheWritable, checkFolderWritable } from "../store/writable";
import { looksLikeHtml } from "./idx";

/** Where one IDX data set can be downloaded from, with the sha256 of every file. */
export interface IdxSource {
  /** Folder name under <cache>/idx/. */
  name: string;
  /** URL the file names are appended to (ends with '/'). */
  baseUrl: string;
  /** File name -> expected sha256 (hex); these files are fetched. */
  sha256: Record<string, string>;
}

/** Known sources. Checksums are the published ones (TFDS/Keras/torchvision agree on them). */
export const IDX_SOURCES: Record<"mnist" | "fashion-mnist", IdxSource> = {
  mnist: {
    name: "mnist",
    baseUrl: "https://storage.googleapis.com/cvdf-datasets/mnist/",
    sha256: {
      "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
      "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
      "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
      "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    baseUrl: "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    sha256: {
      "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
      "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
      "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
      "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
  },
};

export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;

/** Options of `downloadFile`. */
export interface DownloadFileArgs {
  url: string;
  /** Destination path; written only after the checksum matched. */
  dest: string;
  /** Expected sha256 of the bytes, hex. */
  sha256: string;
  /** Abort after this long. */
  timeoutMs?: number;
}

/** Fetches `url` into `dest` unless `dest` already holds bytes with the expected sha256.
 * A mismatch throws and writes nothing. */
export async function downloadFile(args: DownloadFileArgs): Promise<{ bytes: number; downloaded: boolean }> {
  const { url, dest } = args;
  const want = args.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(want)) {
    throw new Error(
      `downloadFile: sha256 for ${url} must be 64 hex digits, got ${JSON.stringify(args.sha256)} (compute it with sha256sum)`,
    );
  }
  if (fs.existsSync(dest)) {
    const have = fs.readFileSync(dest);
    if (sha256Hex(have) === want) return { bytes: have.byteLength, downloaded: false };
  }
  checkFolderWritable(path.dirname(path.resolve(dest)), {
    what: "downloadFile",
    origin: "argument",
    noun: "destination folder",
    param: "dest",
  });
  const timeoutMs = args.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let body: Uint8Array;
  try {
    const res = await fetch(url, { signal: ctrl.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    body = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    const why = ctrl.signal.aborted ? `no answer within ${timeoutMs} ms (raise timeoutMs)` : (e as Error).message;
    throw new Error(`download: ${url}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  const got = sha256Hex(body);
  if (got !== want) {
    const html = looksLikeHtml(body)
      ? "; the server sent an HTML page (an error or login page?), not the file — check the URL, or download again later"
      : "";
    throw new Error(
      `download: ${url}: sha256 mismatch: expected ${want}, got ${got} (${body.byteLength} bytes); nothing was saved — check the URL or the checksum${html}`,
    );
  }
  await writeFileAtomic(dest, body);
  return { bytes: body.byteLength, downloaded: true };
}

/** Options of `downloadIdxFiles`. */
export interface DownloadIdxArgs {
  /** A known source or your own {name, baseUrl, sha256}; default `mnist`. */
  source?: keyof typeof IDX_SOURCES | IdxSource;
  /** Another mirror for the same files (their checksums still apply). */
  baseUrl?: string;
  /** Destination folder; default <cache>/idx/<source name>. */
  dir?: string;
  /** Cache folder used for the default destination (see cacheDir). */
  cacheDir?: string;
  timeoutMs?: number;
  /** Progress lines; default console.log; false for silence. */
  log?: ((message: string) => void) | false;
}

/**
 * Downloads (or finds already verified) every file of an IDX source and returns the folder,
 * ready for `loadIdxDataset(folder)`. Never needed by default.
 */
export async function downloadIdxFiles(args: DownloadIdxArgs = {}): Promise<string> {
  const src = typeof args.source === "object" ? args.source : IDX_SOURCES[args.source ?? "mnist"];
  if (src === undefined) {
    throw new Error(
      `downloadIdxFiles: source must be one of ${Object.keys(IDX_SOURCES).join(", ")} or {name, baseUrl, sha256}, got ${JSON.stringify(args.source)}`,
    );
  }
  const files = Object.keys(src.sha256);
  if (files.length === 0) throw new Error(`downloadIdxFiles: source ${src.name} lists no files in sha256`);
  let base = args.baseUrl ?? src.baseUrl;
  if (!base.endsWith("/")) base += "/";
  // Before any download: the destination (a dir argument, else the cache) must be writable.
  if (args.dir !== undefined) {
    checkFolderWritable(args.dir, { what: "downloadIdxFiles", origin: "argument", noun: "destination folder" });
  } else checkCacheWritable(args.cacheDir, "downloadIdxFiles");
  const dir = args.dir ?? path.join(cacheDir(args.cacheDir), "idx", src.name);
  const log = args.log === false ? () => undefined : (args.log ?? console.log);
  for (const f of files) {
    const r = await downloadFile({
      url: base + f,
      dest: path.join(dir, f),
      sha256: src.sha256[f],
      timeoutMs: args.timeoutMs,
    });
    log(
      r.downloaded
        ? `download: ${f}: ${r.bytes} bytes from ${base}, sha256 ok`
        : `download: ${f}: already in ${dir}, sha256 ok`,
    );
  }
  return dir;
}
