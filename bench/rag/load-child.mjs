/**
 * Load on start, measured in a fresh process (the bench's own heap, full of earlier runs, would
 * slow the garbage collector): `node load-child.mjs <rag module URL> <dir> <collection>` prints
 * `{ collectionLoadMs, indexLoadMs, chunks }` as JSON.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const [moduleUrl, directory, name] = process.argv.slice(2);
const lib = await import(moduleUrl);
const started = performance.now();
const collection = await new lib.RagStore({ dir: directory }).getCollection(name);
const collectionLoadMs = performance.now() - started;
const manifest = JSON.parse(await readFile(join(directory, 'rag', name, 'manifest.json'), 'utf8'));
const indexStarted = performance.now();
await lib.HnswIndex.load(join(directory, 'rag', name, manifest.files.vectors));
const indexLoadMs = performance.now() - indexStarted;
console.log(JSON.stringify({ collectionLoadMs, indexLoadMs, chunks: collection.info().chunks }));
