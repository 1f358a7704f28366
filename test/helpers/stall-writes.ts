// A "slow disk" for the crash tests' child processes, put in the child, not in the library:
// fs.promises.open is wrapped so that, once armed, the first temp file (".<name>.tmp-<pid>-<hex>")
// whose target name ends in `suffix` gets half its bytes written (64 KiB chunks) and synced, then
// the line "MIDWAY <temp path> <half> <total>" on stdout, then no progress at all. The parent acts
// on that line, so its kill or signal always lands inside writeFileAtomic's write of that file.
import * as fs from "fs";
import * as path from "path";

const TEMP_RE = /^\.(.+)\.tmp-\d+-[0-9a-f]+$/;
const CHUNK = 64 * 1024;

/** Installs the wrapper; returns `arm`, which makes the next matching temp file stall. `onMidway`
 * runs once the half is on disk (e.g. to exit the process instead of waiting for a signal). */
export function stallWritesHalfWay(suffix: string, onMidway: () => void = () => undefined): () => void {
  let armed = false;
  const promises = fs.promises as { open: typeof fs.promises.open };
  const realOpen = promises.open;
  promises.open = (async (...args: Parameters<typeof fs.promises.open>) => {
    const fh = await realOpen(...args);
    const file = String(args[0]);
    const target = TEMP_RE.exec(path.basename(file))?.[1];
    if (armed && target !== undefined && target.endsWith(suffix)) {
      armed = false;
      fh.writeFile = (async (data: Uint8Array | string) => {
        const buf =
          typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        const half = Math.floor(buf.length / 2);
        for (let at = 0; at < half; at += CHUNK) await fh.write(buf, at, Math.min(CHUNK, half - at));
        await fh.sync();
        process.stdout.write(`MIDWAY ${file} ${half} ${buf.length}\n`);
        onMidway();
        setInterval(() => undefined, 1000); // keep the process alive, stuck mid-write
        await new Promise(() => undefined);
      }) as typeof fh.writeFile;
    }
    return fh;
  }) as typeof fs.promises.open;
  return () => {
    armed = true;
  };
}
