/**
 * One load in a fresh process: `node --expose-gc storage-load-child.mjs <rag module URL> <dir> <name>
 * collection|raw` prints `{ ms, cpuMs, peakMb, loadedMb, chunks, files }` as JSON (`cpuMs`: user + system
 * time of every thread of the process, the native index's reader included). `collection` opens the
 * collection through RagStore; `raw` is the baseline: hnswlib-node `readIndex` of the collection's
 * index file plus `readFile` and UTF-8 decoding of the files holding the chunk texts.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

const [moduleUrl, directory, name, mode] = process.argv.slice(2);
const lib = await import(moduleUrl);
const hnswlib = (await import('hnswlib-node')).default;
const folder = join(directory, 'rag', name);
const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
const entries = await readdir(folder);
let bytes = 0;
for (const entry of entries) bytes += (await stat(join(folder, entry))).size;
const files = `${entries.length} files, ${Math.round(bytes / 1e6)} MB`;
globalThis.gc();
const before = process.memoryUsage().rss;
const started = performance.now();
const cpuBefore = process.cpuUsage();
let keep;
let chunks;
if (mode === 'collection') {
  keep = await new lib.RagStore({ dir: directory }).getCollection(name);
  chunks = keep.info().chunks;
} else {
  const vectorFile = manifest.files.vectors;
  const dimensions = manifest.config.vector.dimensions;
  const native = new hnswlib.HierarchicalNSW('cosine', dimensions);
  await native.readIndex(join(folder, vectorFile), true);
  const textFiles = [manifest.files.store, ...(manifest.files.log ? [manifest.files.log] : [])];
  const texts = [];
  for (const file of textFiles) if (file) texts.push((await readFile(join(folder, file))).toString('utf8'));
  keep = { native, texts };
  chunks = native.getCurrentCount();
}
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
// Whatever a load leaves to just after it (a timer, an immediate) counts in the loaded size.
await new Promise((resolve) => setImmediate(resolve));
const peak = peakRss();
globalThis.gc();
const loaded = process.memoryUsage().rss;
console.log(
  JSON.stringify({
    ms,
    cpuMs,
    peakMb: (peak - before) / 1e6,
    loadedMb: (loaded - before) / 1e6,
    chunks,
    files,
    kept: typeof keep,
  }),
);

/**
 * This process's own peak RSS. On Linux, `getrusage`'s `maxRSS` keeps the peak of the image the
 * process was spawned from across `exec` (the parent's, when libuv spawns with `vfork`), so a bench
 * parent holding a gigabyte showed as this load's peak; `/proc/self/status` `VmHWM` is this image's.
 */
function peakRss() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (match) return Number(match[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}
