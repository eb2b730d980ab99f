/**
 * Keeps the worker's memory flat while it decodes. node-mlx frees native arrays in finalizers of
 * their JavaScript wrappers; a token creates dozens of small wrappers (and views that keep the KV
 * cache from being updated in place), but V8 sees too little JavaScript garbage to collect on its
 * own, so native memory grows by tens of kilobytes a token. A young-generation collection after
 * each token (well under a millisecond) and a full one every few hundred tokens keep it flat.
 * The worker is started with `--expose-gc` for this; without it, this does nothing.
 */
type Collect = (options?: { type?: 'minor' | 'major' }) => void;

const collect = (globalThis as { gc?: Collect }).gc;

/** Tokens between two full collections. */
const FULL_EVERY = 256;

let tokens = 0;

/** Call once per decoded token. */
export function collectAfterToken(): void {
  if (!collect) return;
  tokens++;
  if (tokens % FULL_EVERY === 0) collect();
  else collect({ type: 'minor' });
}
