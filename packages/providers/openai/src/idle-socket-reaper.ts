import type { Agent } from 'node:http';
import type { Socket } from 'node:net';

/** node:http's own margin under a server's announced keep-alive timeout (`HTTP_AGENT_KEEP_ALIVE_TIMEOUT_BUFFER`). */
const SERVER_HINT_MARGIN_MS = 1000;

/**
 * Closes the pooled keep-alive connections of an agent before they have idled `idleMs`, or before the
 * shorter keep-alive a server announced (`Keep-Alive: timeout=N`, less node:http's 1 s margin, as
 * node:http honours it), with one timer for the whole pool while some connection idles.
 *
 * The agent's own `timeout` option does this with a timer per connection re-armed each time it goes
 * back to the pool, plus a `once('timeout')` listener node:http adds to each request and removes at
 * its end: measured on Node 20 through `fusion serve`, ~0.8 KB allocated and three timer operations
 * per call. Here a call costs a `WeakMap` entry.
 *
 * A connection is closed once it has idled three quarters of its limit: the point is to close it
 * before the server does, which would fail the next request sent on it.
 */
export class IdleSocketReaper {
  readonly #agent: Agent;
  readonly #idleMs: number;
  /** Least time between two checks of the pool. */
  readonly #gapMs: number;
  /** When each pooled connection is to be closed (one in use is not in the pool, and not looked at). */
  readonly #closeAt = new WeakMap<Socket, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires. */
  #due = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(agent: Agent, idleMs: number) {
    this.#agent = agent;
    this.#idleMs = idleMs;
    this.#gapMs = Math.min(10, idleMs / 8);
    // Called by the agent when a response has ended and its connection may go back to the pool: the
    // request is still on the socket, with the server's keep-alive hint. It answers whether the
    // connection may be kept (typed `void` in @types/node, a boolean in node:http since v13).
    const keepSocketAlive = agent.keepSocketAlive as unknown as (this: Agent, socket: Socket) => boolean;
    const wrapped = (socket: Socket): boolean => {
      const pooled = keepSocketAlive.call(agent, socket);
      if (pooled && !this.#closed) this.#idled(socket);
      return pooled;
    };
    agent.keepSocketAlive = wrapped as unknown as Agent['keepSocketAlive'];
  }

  /** Stops checking (the agent is being destroyed). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #idled(socket: Socket): void {
    let limit = this.#idleMs;
    const hint = (socket as { _httpMessage?: { res?: { headers: Record<string, unknown> } } })._httpMessage
      ?.res?.headers['keep-alive'];
    if (typeof hint === 'string') {
      const seconds = /^timeout=(\d+)/.exec(hint)?.[1];
      if (seconds !== undefined) limit = Math.min(limit, Number(seconds) * 1000 - SERVER_HINT_MARGIN_MS);
    }
    const closeAt = performance.now() + (limit * 3) / 4;
    this.#closeAt.set(socket, closeAt);
    // Usually a timer is armed for an earlier connection already.
    if (closeAt < this.#due) this.#arm(closeAt);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    const now = performance.now();
    const delay = Math.max(this.#gapMs, at - now);
    this.#due = now + delay;
    this.#timer = setTimeout(this.#check, delay);
    this.#timer.unref();
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    this.#due = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    const pools = this.#agent.freeSockets;
    for (const name in pools) {
      // A copy: a destroyed connection leaves its pool while this runs.
      for (const socket of [...(pools[name] ?? [])]) {
        const closeAt = this.#closeAt.get(socket as Socket) ?? now;
        if (closeAt <= now) socket.destroy();
        else next = Math.min(next, closeAt);
      }
    }
    if (next !== Number.POSITIVE_INFINITY && !this.#closed) this.#arm(next);
  };
}
