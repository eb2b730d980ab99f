import { createRequire } from 'node:module';

/** The part of the optional `koffi` package (a C foreign function interface) used here. */
export interface KoffiLike {
  load(path: string): { func(declaration: string): (pad: number) => number };
}

/**
 * glibc's `malloc_trim(0)`, which hands the free pages inside malloc's heaps back to the system
 * (`free` only gives back the top of a heap, and thousands of finished sockets leave their free
 * blocks between live ones), or `undefined` where there is no glibc. The C call goes through the
 * optional `koffi` package, loaded at the first trim, not at start; without it, trimming does
 * nothing.
 */
export function nativeHeapTrimmer(
  load: () => KoffiLike = () => createRequire(import.meta.url)('koffi') as KoffiLike,
): (() => void) | undefined {
  if (process.platform !== 'linux') return undefined;
  let mallocTrim: ((pad: number) => number) | null | undefined;
  return () => {
    if (mallocTrim === undefined) {
      try {
        mallocTrim = load().load('libc.so.6').func('int malloc_trim(size_t pad)');
      } catch {
        // No koffi (an optional dependency), or not glibc (musl has no malloc_trim).
        mallocTrim = null;
      }
    }
    mallocTrim?.(0);
  };
}
