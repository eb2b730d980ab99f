/**
 * Where the worker's entry file is: `worker.js` next to the built bundle, or `worker.ts` next to
 * this source file when the package runs from source (tests), started through tsx.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerEntry {
  /** The file to fork. */
  file: string;
  /** Node options the child needs. */
  execArgv: string[];
}

export function resolveWorkerEntry(): WorkerEntry {
  const built = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(built)) return { file: built, execArgv: [] };
  const source = fileURLToPath(new URL('./worker.ts', import.meta.url));
  if (existsSync(source)) {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return { file: source, execArgv: ['--import', pathToFileURL(tsx).href] };
  }
  throw new Error(`The MLX worker entry is missing (looked for ${built}).`);
}
