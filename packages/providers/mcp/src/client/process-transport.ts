import { type ChildProcess, spawn } from 'node:child_process';
import {
  deserializeMessage,
  type JSONRPCMessage,
  serializeMessage,
  type Transport,
} from '@modelcontextprotocol/client';

/** Where and how to start a stdio MCP server. */
export interface ProcessTransportOptions {
  command: string;
  args?: string[];
  /** The whole environment of the process. */
  env?: Record<string, string>;
  cwd?: string;
  /** Time allowed to exit after stdin closes and after SIGTERM, before SIGKILL, ms. @default 2000 */
  killGraceMs?: number;
}

/** The server wrote something to stdout that is not an MCP message. */
export class InvalidServerOutputError extends Error {
  constructor(readonly line: string) {
    super(`wrote output that is not an MCP message: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = 'InvalidServerOutputError';
  }
}

/** Process groups still running, killed when this process exits so none outlives it. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    // The server runs in a process group of its own: `npx` and the node it starts both get the signal.
    if (process.platform !== 'win32') process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    child.kill(signal);
  }
}

/** Ends what is left of a server's process group (processes it started), once the server itself is gone. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || process.platform === 'win32') return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {}
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) killTree(child, 'SIGKILL');
  });
}

/**
 * A stdio transport for a spawned MCP server, strict where the SDK's is lenient: a line on stdout
 * that is not a JSON-RPC message is reported as {@link InvalidServerOutputError} (the connection
 * then treats the server as broken), the last lines of stderr are kept for error messages, and the
 * server runs in its own process group, which `close` ends (SIGTERM, then SIGKILL) so that no
 * process it started lingers.
 */
export class ProcessTransport implements Transport {
  /** Called once when the connection is closed: by `close`, or because the server exited. */
  onclose?: () => void;
  /** Called on an error of the connection (a broken line on stdout, a failed write). */
  onerror?: (error: Error) => void;
  /** Called with each JSON-RPC message the server writes on stdout. */
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #options: ProcessTransportOptions;
  #child: ChildProcess | undefined;
  #buffer = '';
  #stderr = '';
  #exited: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: ProcessTransportOptions) {
    this.#options = options;
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last kilobytes the server wrote to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Spawns the server; the MCP client calls it when it connects. */
  start(): Promise<void> {
    installExitHook();
    const child = spawn(this.#options.command, this.#options.args ?? [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
      ...(this.#options.env ? { env: this.#options.env } : {}),
      ...(this.#options.cwd ? { cwd: this.#options.cwd } : {}),
    });
    this.#child = child;
    running.add(child);
    this.#exited = new Promise((resolve) => {
      child.once('close', () => {
        running.delete(child);
        killGroup(child.pid);
        resolve();
        if (!this.#closed) {
          this.#closed = true;
          this.onclose?.();
        }
      });
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (data: string) => this.#read(data));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (data: string) => {
      this.#stderr = (this.#stderr + data).slice(-4096);
    });
    // A server gone before it read what we sent makes writes fail; the exit reports it.
    child.stdin!.on('error', () => {});
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) => {
        running.delete(child);
        reject(error);
        this.onerror?.(error);
      });
    });
  }

  #read(data: string): void {
    this.#buffer += data;
    let newline = this.#buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(newline + 1);
      newline = this.#buffer.indexOf('\n');
      if (line.trim() === '') continue;
      let message: JSONRPCMessage;
      try {
        message = deserializeMessage(line);
      } catch {
        this.onerror?.(new InvalidServerOutputError(line));
        continue;
      }
      this.onmessage?.(message);
    }
    if (this.#buffer.length > 16 * 1024 * 1024) {
      this.onerror?.(new InvalidServerOutputError(this.#buffer.slice(0, 200)));
      this.#buffer = '';
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed || this.#closed) throw new Error('The MCP server is not running.');
    await new Promise<void>((resolve, reject) => {
      stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const grace = this.#options.killGraceMs ?? 2000;
    const exited = (ms: number) =>
      Promise.race([
        this.#exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
      ]);
    child.stdin?.end();
    if (!(await exited(grace))) {
      killTree(child, 'SIGTERM');
      if (!(await exited(grace))) {
        killTree(child, 'SIGKILL');
        await exited(grace);
      }
    }
    killGroup(child.pid);
  }
}
