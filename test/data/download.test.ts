import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import * as zlib from "zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadFile, downloadIdxFiles } from "../../src/data/download";
import { loadIdxDataset } from "../../src/data/idx";
import { fakeMnist, tempDir } from "./idx-helpers";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

// Files the test serves from 127.0.0.1 on an ephemeral port.
const tr = fakeMnist(20);
const te = fakeMnist(6);
const files: Record<string, Uint8Array> = {
  "train-images-idx3-ubyte.gz": new Uint8Array(zlib.gzipSync(tr.images)),
  "train-labels-idx1-ubyte.gz": new Uint8Array(zlib.gzipSync(tr.labels)),
  "t10k-images-idx3-ubyte.gz": new Uint8Array(zlib.gzipSync(te.images)),
  "t10k-labels-idx1-ubyte.gz": new Uint8Array(zlib.gzipSync(te.labels)),
};
const checksums = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha(v)]));
/** What a server behind a login or error page answers, with status 200. */
const HTML_PAGE = new TextEncoder().encode("<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>");
const LOGIN_PATH = "behind-login/train-labels-idx1-ubyte.gz";
let server: http.Server;
let base = "";
let requests = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    const name = (req.url ?? "").replace(/^\/data\//, "");
    const body = name === LOGIN_PATH ? HTML_PAGE : files[name];
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from(body));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe("downloadIdxFiles", () => {
  it("downloads, verifies and then reuses the files; loadIdxDataset reads them", async () => {
    const cache = tempDir("dl-");
    const lines: string[] = [];
    const dir = await downloadIdxFiles({
      source: { name: "fake", baseUrl: base, sha256: checksums },
      cacheDir: cache,
      log: (m) => lines.push(m),
    });
    expect(dir).toBe(path.join(cache, "idx", "fake"));
    expect(fs.readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    const ds = loadIdxDataset(dir);
    expect(ds.n).toBe(26);
    const before = requests;
    await downloadIdxFiles({
      source: { name: "fake", baseUrl: base, sha256: checksums },
      cacheDir: cache,
      log: (m) => lines.push(m),
    });
    expect(requests).toBe(before);
    expect(lines.filter((l) => l.includes("already in")).length).toBe(4);
  });

  it("rejects a checksum mismatch and writes nothing", async () => {
    const dir = tempDir("dl-");
    const dest = path.join(dir, "train-labels-idx1-ubyte.gz");
    const wrong = "0".repeat(64);
    await expect(downloadFile({ url: base + "train-labels-idx1-ubyte.gz", dest, sha256: wrong })).rejects.toThrow(
      /train-labels-idx1-ubyte.gz: sha256 mismatch: expected 0{64}, got [0-9a-f]{64} \(\d+ bytes\); nothing was saved/,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("replaces a damaged cached file, and reports HTTP errors and bad checksums", async () => {
    const dir = tempDir("dl-");
    const dest = path.join(dir, "t10k-labels-idx1-ubyte.gz");
    fs.writeFileSync(dest, "damaged");
    const r = await downloadFile({
      url: base + "t10k-labels-idx1-ubyte.gz",
      dest,
      sha256: checksums["t10k-labels-idx1-ubyte.gz"],
    });
    expect(r.downloaded).toBe(true);
    expect(sha(fs.readFileSync(dest))).toBe(checksums["t10k-labels-idx1-ubyte.gz"]);
    await expect(
      downloadFile({ url: base + "missing", dest: path.join(dir, "m"), sha256: "a".repeat(64) }),
    ).rejects.toThrow(/missing: HTTP 404/);
    await expect(downloadFile({ url: base + "x", dest: path.join(dir, "x"), sha256: "abc" })).rejects.toThrow(
      /sha256 for .* must be 64 hex digits/,
    );
    expect(fs.readdirSync(dir)).toEqual(["t10k-labels-idx1-ubyte.gz"]);
  });

  it("says when the server sent an HTML page instead of the file, and saves nothing", async () => {
    const dir = tempDir("dl-");
    const dest = path.join(dir, "train-labels-idx1-ubyte.gz");
    await expect(
      downloadFile({
        url: base + LOGIN_PATH,
        dest,
        sha256: checksums["train-labels-idx1-ubyte.gz"],
      }),
    ).rejects.toThrow(
      /sha256 mismatch: .*nothing was saved — check the URL or the checksum; the server sent an HTML page \(an error or login page\?\), not the file/,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("lets a mirror URL replace a preset's, keeping its checksums", async () => {
    const dir = tempDir("dl-");
    await expect(downloadIdxFiles({ source: "mnist", baseUrl: base, dir, log: false })).rejects.toThrow(
      /sha256 mismatch/,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
