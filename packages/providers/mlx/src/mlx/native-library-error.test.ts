import { describe, expect, it } from 'vitest';
import { mapWorkerError } from '../provider/map-worker-error.js';
import { WorkerCallError } from '../supervisor/worker-call-error.js';
import { NATIVE_LIBRARY_MISSING, nativeLibraryError } from './native-library-error.js';

describe('nativeLibraryError', () => {
  it('names the Debian package and the command for a library node-mlx links', () => {
    const error = nativeLibraryError(
      new Error('liblapack.so.3: cannot open shared object file: No such file or directory'),
    );
    expect(error?.code).toBe(NATIVE_LIBRARY_MISSING);
    expect(error?.status).toBe(503);
    expect(error?.message).toContain('liblapack.so.3');
    expect(error?.message).toContain('apt-get install liblapack3 libblas3 libgfortran5 libopenblas0-pthread');
  });

  it('still says what to install for a library it does not know', () => {
    const error = nativeLibraryError(new Error('libfoo.so.7: cannot open shared object file: No such file'));
    expect(error?.message).toContain('libfoo.so.7');
    expect(error?.message).toContain('apt-get install liblapack3');
  });

  it('leaves other failures alone', () => {
    expect(nativeLibraryError(new Error('Cannot find module @frost-beta/mlx'))).toBeUndefined();
  });

  it('reaches the orchestrator as a 503 that a retry cannot fix', () => {
    const failure = nativeLibraryError(new Error('libblas.so.3: cannot open shared object file'))!;
    const mapped = mapWorkerError(
      new WorkerCallError(failure.code, failure.message, failure.status),
      'mlx/tiny',
    );
    expect(mapped).toMatchObject({ code: NATIVE_LIBRARY_MISSING, status: 503, isRetryable: false });
    expect(mapped.message).toContain('apt-get install libblas3');
  });
});
