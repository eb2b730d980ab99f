/**
 * Preloaded into the gateway by `callgrind.mjs` (`node --expose-gc --import …`): a full garbage
 * collection on SIGUSR2, then `collected` on stderr. Each measured stretch then begins and ends on a
 * collected heap, so that whether a major GC happened to fall inside it does not swing its count.
 */
process.on('SIGUSR2', () => {
  globalThis.gc();
  process.stderr.write('collected\n');
});
