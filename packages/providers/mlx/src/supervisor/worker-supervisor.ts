/**
 * Runs the MLX worker as a child process and keeps it running: requests go over IPC, a crash (a
 * native abort, a kill, an exit) fails the requests in flight with 503 `model_crashed`, and the
 * worker is started again after a backoff, with `onRestart` restoring its state (its models).
 * A crash while restarting (while starting, or while `onRestart` reloads) is one more crash: the
 * next worker restores the state again. The orchestrator's process never runs MLX and never goes
 * down with it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { ModelCrashedError, UnavailableError } from '@fusionkit/core';
import type { WorkerEvent, WorkerRequest } from '../worker/protocol.js';
import type { WorkerEntry } from '../worker-entry.js';
import { WorkerCallError } from './worker-call-error.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request without its id (the supervisor numbers them). */
export type WorkerCommand = DistributiveOmit<Exclude<WorkerRequest, { type: 'cancel' }>, 'id'>;

export interface WorkerSupervisorOptions {
  entry: WorkerEntry;
  /** Extra environment of the worker. */
  env?: Record<string, string>;
  /** First restart delay, doubled after each crash in a row. @default 250 */
  restartDelayMs?: number;
  /** Longest restart delay. @default 10000 */
  maxRestartDelayMs?: number;
  /**
   * Called when a worker starts after a crash, before requests run again (to reload models); again
   * for the next worker when this one crashes before it is done. `call` reaches the new worker
   * directly; `WorkerSupervisor.call` would wait for this restart to finish.
   */
  onRestart?: (call: (command: WorkerCommand) => Promise<unknown>) => Promise<void>;
  /** Called when the worker dies unexpectedly, with the commands that were in flight. */
  onCrash?: (crash: WorkerCrash) => void;
  /** Extra environment of the next worker started (test hooks); read once per start. */
  nextStartEnv?: () => Record<string, string> | undefined;
}

export interface WorkerCrash {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Commands in flight when it happened. */
  inFlight: WorkerCommand[];
  /** Crashes in a row without a request succeeding in between. */
  consecutive: number;
}

export type WorkerState = 'idle' | 'starting' | 'ready' | 'restarting' | 'closed';

interface Pending {
  command: WorkerCommand;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onDelta?: (text: string) => void;
}

export interface CallOptions {
  /** Receives streamed text (generation). */
  onDelta?: (text: string) => void;
  /** Cancels the command in the worker; the call still settles when the worker answers. */
  signal?: AbortSignal;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGABRT') return 'aborted (SIGABRT, a native error in MLX)';
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code}`;
}

export class WorkerSupervisor {
  readonly #options: WorkerSupervisorOptions;
  #child: ChildProcess | undefined;
  #ready: Promise<void> | undefined;
  #state: WorkerState = 'idle';
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #consecutiveCrashes = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  /** A crash happened and no worker since has finished `onRestart`. */
  #needsRestore = false;
  /** Restarts since creation. */
  restarts = 0;
  /** Idle workers stopped on purpose (see {@link recycle}). */
  recycles = 0;
  /** Why the last crash happened, for health reports. */
  lastCrash: string | undefined;

  constructor(options: WorkerSupervisorOptions) {
    this.#options = options;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** The worker's process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the worker if needed and waits until it (and any restart work) is ready. */
  async ready(): Promise<void> {
    if (this.#state === 'closed') throw new UnavailableError('The MLX provider is closed.');
    if (!this.#ready) this.#ready = this.#start(false);
    return this.#ready;
  }

  /** Sends a command and resolves with the worker's result. */
  async call<T = unknown>(command: WorkerCommand, options: CallOptions = {}): Promise<T> {
    // A worker that crashes again while restarting leaves `ready()` to the next restart.
    for (let attempt = 0; attempt < 4; attempt++) {
      await this.ready();
      if (this.#child && this.#state === 'ready') return this.#callNow<T>(command, options);
    }
    const model = 'model' in command ? ` while serving '${command.model}'` : '';
    throw new ModelCrashedError(
      `The MLX worker keeps crashing${model}: ${this.lastCrash ?? 'unknown cause'}`,
      {
        retryAfterMs: this.#restartDelay(),
      },
    );
  }

  /**
   * Stops an idle worker so that the next command starts a fresh one: native memory a process
   * once held is not given back to the system, so a worker that loaded and unloaded models keeps
   * it. Returns false (and does nothing) while commands run or a (re)start is under way.
   */
  recycle(): boolean {
    const child = this.#child;
    if (!child || this.#state !== 'ready' || this.#pending.size > 0) return false;
    // Detached first: its exit is not a crash.
    this.#child = undefined;
    this.#ready = undefined;
    this.#state = 'idle';
    this.recycles++;
    child.kill('SIGTERM');
    return true;
  }

  #callNow<T>(command: WorkerCommand, options: CallOptions = {}): Promise<T> {
    // Reached only through `onRestart`'s `call`, after the worker it restores has died.
    if (!this.#child) return Promise.reject(new ModelCrashedError('The MLX worker died while restarting.'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.#send({ type: 'cancel', id });
      const settle = () => options.signal?.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        command,
        resolve: (value) => {
          settle();
          resolve(value as T);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        ...(options.onDelta ? { onDelta: options.onDelta } : {}),
      });
      this.#refresh();
      this.#send({ ...command, id } as WorkerRequest);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops the worker; calls in flight fail with 503 `unavailable`. */
  async close(): Promise<void> {
    this.#state = 'closed';
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    this.#child = undefined;
    this.#failAll(() => new UnavailableError('The MLX provider was closed.'));
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  }

  #send(message: WorkerRequest): void {
    const child = this.#child;
    if (!child?.connected) return;
    // Errors of a channel that is closing show up as the child's exit, handled there.
    child.send(message, (error) => {
      if (error) this.lastCrash ??= error.message;
    });
  }

  async #start(restart: boolean): Promise<void> {
    // A start after a crash restores state even when no restart timer began it (a restart failed).
    const restore = restart || this.#needsRestore;
    this.#state = restore ? 'restarting' : 'starting';
    const { entry, env } = this.#options;
    const child = fork(entry.file, [], {
      // `--expose-gc`: the worker collects after each token to keep native memory flat.
      execArgv: [...entry.execArgv, '--expose-gc'],
      env: { ...process.env, ...env, ...this.#options.nextStartEnv?.() },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new UnavailableError(`The MLX worker ${describeExit(code, signal)} while starting.`));
      child.once('exit', onExit);
      child.once('error', reject);
      child.on('message', (message: WorkerEvent) => {
        if (message.type === 'ready') {
          child.off('exit', onExit);
          child.off('error', reject);
          resolve();
        } else this.#onEvent(message);
      });
    }).catch((error: unknown) => {
      this.#child = undefined;
      if (restore && this.#state !== 'closed') {
        // Dying while starting after a crash is another crash: back off and restore again.
        this.#consecutiveCrashes++;
        this.restarts++;
        this.lastCrash = error instanceof Error ? error.message : String(error);
        this.#scheduleRestart();
        // Callers waiting on this start go on to wait for the next (`call` gives up after a few).
        return;
      }
      this.#ready = undefined;
      if (this.#state !== 'closed') this.#state = 'idle';
      throw error;
    });
    if (this.#child !== child) return;
    child.on('error', () => {
      // Send failures on a dying channel; the exit handler reports the crash.
    });
    child.once('exit', (code, signal) => this.#onExit(child, code, signal));
    this.#refresh();
    if (restore && this.#options.onRestart) {
      // Requests wait (in `ready()`) until the worker holds its models again.
      this.#state = 'restarting';
      await this.#options.onRestart((command) => this.#callNow(command)).catch(() => {});
    }
    if (this.#child !== child) {
      if (this.state === 'closed') throw new UnavailableError('The MLX provider was closed.');
      // A crash meanwhile has scheduled the next restart, which restores again.
      return;
    }
    this.#needsRestore = false;
    this.#state = 'ready';
  }

  #onEvent(event: WorkerEvent): void {
    if (event.type === 'ready') return;
    const pending = this.#pending.get(event.id);
    if (!pending) return;
    if (event.type === 'delta') {
      pending.onDelta?.(event.text);
      return;
    }
    this.#pending.delete(event.id);
    this.#refresh();
    if (event.type === 'result') {
      this.#consecutiveCrashes = 0;
      pending.resolve(event.value);
    } else {
      pending.reject(new WorkerCallError(event.code, event.message, event.status ?? 500));
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child || this.#state === 'closed') return;
    this.#child = undefined;
    this.#consecutiveCrashes++;
    this.restarts++;
    const description = describeExit(code, signal);
    this.lastCrash = `The MLX worker ${description}.`;
    const inFlight = [...this.#pending.values()].map((pending) => pending.command);
    this.#failAll((command) => {
      const model = 'model' in command ? ` while serving '${command.model}'` : '';
      return new ModelCrashedError(`The MLX worker ${description}${model}; it is restarting.`, {
        retryAfterMs: this.#restartDelay(),
      });
    });
    this.#needsRestore = true;
    this.#options.onCrash?.({ code, signal, inFlight, consecutive: this.#consecutiveCrashes });
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    this.#state = 'restarting';
    // Requests arriving meanwhile wait on this promise until the new worker is ready.
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#restartTimer = setTimeout(() => {
        if (this.#state === 'closed') return reject(new UnavailableError('The MLX provider was closed.'));
        this.#start(true).then(resolve, reject);
      }, this.#restartDelay());
    });
    this.#ready.catch(() => {
      // A failed restart leaves the next `ready()` to try again.
    });
  }

  #restartDelay(): number {
    const initial = this.#options.restartDelayMs ?? 250;
    const max = this.#options.maxRestartDelayMs ?? 10_000;
    return Math.min(max, initial * 2 ** Math.max(0, this.#consecutiveCrashes - 1));
  }

  #failAll(error: (command: WorkerCommand) => Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) entry.reject(error(entry.command));
    this.#refresh();
  }

  /** An idle worker does not keep the orchestrator's process alive; one with work does. */
  #refresh(): void {
    const child = this.#child;
    if (!child) return;
    const channel = child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.#pending.size > 0) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }
}
