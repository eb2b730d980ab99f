/**
 * Helpers for the examples' tests: run an example as a user would (its own process, its own
 * folder), wait until it is ready, stop it. The examples import `@fusionkit/*` from the workspace's
 * built `dist` (`npm test` builds every package first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ExampleProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Sends `signal` to the process group and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Environment for children: the test runner's NODE_ENV must not leak into a Next.js build. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_ENV: _ignored, ...rest } = process.env;
  return { ...rest, NEXT_TELEMETRY_DISABLED: '1', ...env };
}

/** Starts `node ...args` in `cwd`, in its own process group. */
export function runNode(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): ExampleProcess {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          child.kill(signal);
        }
      }
      return exited;
    },
  };
}

/** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
export function waitForOutput(
  example: ExampleProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(example.output());
      if (!match) return;
      cleanup();
      resolve(match);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`The example exited with ${code} before printing ${pattern}:\n${example.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`The example did not print ${pattern} within ${timeoutMs} ms:\n${example.output()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      example.child.stdout!.off('data', check);
      example.child.stderr!.off('data', check);
      example.child.off('exit', onExit);
    };
    example.child.stdout!.on('data', check);
    example.child.stderr!.on('data', check);
    example.child.once('exit', onExit);
    check();
  });
}

/** A port that was free a moment ago, for servers that cannot listen on port 0 and report it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface BehaviorProxy {
  /** Base URL to give the example instead of the mock's. */
  baseURL: string;
  /** The `x-mock-behavior` added to requests from now on. */
  behavior: string;
  close(): Promise<void>;
}

/**
 * A forwarding proxy in front of the mock upstream that adds `x-mock-behavior` to every request
 * (`slow`: 100 ms between streamed words), for examples whose provider takes no extra headers. A
 * client that goes away is passed on, so the mock still records the abort.
 */
export async function behaviorProxy(target: string, behavior: string): Promise<BehaviorProxy> {
  const server = createServer((incoming, outgoing) => {
    const forward = httpRequest(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: { ...incoming.headers, 'x-mock-behavior': proxy.behavior } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    outgoing.on('close', () => {
      if (!outgoing.writableFinished) forward.destroy();
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: BehaviorProxy = {
    behavior,
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
