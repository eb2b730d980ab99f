import { WorkerError } from '../worker/worker-error.js';

/** Debian packages that provide the shared libraries node-mlx links (see `.ci/run`, `scripts/`). */
const DEBIAN_PACKAGE_OF: Record<string, string> = {
  'liblapack.so.3': 'liblapack3',
  'libblas.so.3': 'libblas3',
  'libgfortran.so.5': 'libgfortran5',
  'libopenblas.so.0': 'libopenblas0-pthread',
};

/** Every package node-mlx needs on Debian/Ubuntu; OpenBLAS makes CPU prefill ~15x faster. */
export const MLX_DEBIAN_PACKAGES = ['liblapack3', 'libblas3', 'libgfortran5', 'libopenblas0-pthread'];

/** The error code of a missing shared library, as the provider reports it. */
export const NATIVE_LIBRARY_MISSING = 'mlx_native_library_missing';

/**
 * The error to raise when loading node-mlx failed, or `undefined` when the failure is not a missing
 * shared library. The dynamic loader's message (`liblapack.so.3: cannot open shared object file`)
 * names a file, not what to install: this one names the package and the command.
 */
export function nativeLibraryError(error: unknown): WorkerError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const match = /([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file/.exec(message);
  if (!match) return undefined;
  const library = match[1]!;
  const wanted = DEBIAN_PACKAGE_OF[library];
  const packages = wanted
    ? [wanted, ...MLX_DEBIAN_PACKAGES.filter((name) => name !== wanted)]
    : MLX_DEBIAN_PACKAGES;
  return new WorkerError(
    NATIVE_LIBRARY_MISSING,
    `In-process MLX cannot start: the shared library ${library} is missing. ` +
      `On Debian or Ubuntu install it with: apt-get install ${packages.join(' ')}` +
      (wanted
        ? ''
        : ` (${library} is not one of node-mlx's usual dependencies: check \`ldd\` on its binary)`),
    503,
  );
}
