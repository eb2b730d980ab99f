/**
 * Runs the built `fusion` command (packages/cli/dist/bin.js, as `npm start` does) in a child process
 * and waits until it listens. `npm test` builds every package before the tests run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

export interface RunningCli {
  url: string;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnCli(
  args: string[],
  env: Record<string, string>,
  cwd?: string,
  /** How long it may take to listen (a busy machine starts slowly). */
  startTimeoutMs = 15_000,
): Promise<RunningCli> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    env: { ...process.env, FUSION_PORT: '0', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fusion did not start within ${startTimeoutMs / 1000} s:\n${output}`));
    }, startTimeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]!,
          child,
          output: () => output,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fusion exited with ${code} before listening:\n${output}`));
    });
  });
}

/** What a `fusion` command that ends printed, and its exit code. */
export interface FinishedCli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `fusion` command to its end (a command that fails at start, a `--help`), with no
 * `FUSION_*` variable of the test's own environment. Kills it after `timeoutMs`.
 */
export function runCliToEnd(
  args: string[],
  env: Record<string, string>,
  cwd?: string,
  timeoutMs = 15_000,
): Promise<FinishedCli> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('FUSION_')),
  );
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    env: { ...base, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
