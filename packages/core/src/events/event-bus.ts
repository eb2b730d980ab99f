import { EventEmitter } from 'eventemitter3';
import type { FusionEventName, FusionEvents } from './fusion-events.js';

/** A listener of one event. */
export type FusionEventListener<TName extends FusionEventName> = (payload: FusionEvents[TName]) => void;

/**
 * The orchestrator's typed event bus. It only observes: listeners cannot change a request (use a
 * plugin hook for that), and a listener that throws is isolated from the request and the other
 * listeners.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  /**
   * Each event's listeners as of the last change, so that an emit copies no list: a subscribe or
   * unsubscribe drops the entry (eventemitter3's `listeners()` copies on every call). An emit in
   * progress keeps the list it started with, as eventemitter3's own copy did.
   */
  readonly #listeners = new Map<FusionEventName, readonly FusionEventListener<never>[]>();

  #listenersOf(name: FusionEventName): readonly FusionEventListener<never>[] {
    let listeners = this.#listeners.get(name);
    if (listeners === undefined) {
      listeners = this.#emitter.listeners(name) as FusionEventListener<never>[];
      this.#listeners.set(name, listeners);
    }
    return listeners;
  }

  /** Subscribes; returns the unsubscribe. */
  on<TName extends FusionEventName>(name: TName, listener: FusionEventListener<TName>): () => void {
    this.#emitter.on(name, listener);
    this.#listeners.delete(name);
    return () => {
      this.#emitter.off(name, listener);
      this.#listeners.delete(name);
    };
  }

  /** Subscribes for one event; returns the unsubscribe. */
  once<TName extends FusionEventName>(name: TName, listener: FusionEventListener<TName>): () => void {
    // `emit` calls listeners itself (to isolate throws), bypassing eventemitter3's own `once`.
    const off = this.on(name, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Whether anyone listens, so hot paths can skip building payloads. */
  has(name: FusionEventName): boolean {
    return this.#listenersOf(name).length > 0;
  }

  emit<TName extends FusionEventName>(name: TName, payload: FusionEvents[TName]): void {
    const listeners = this.#listenersOf(name) as readonly FusionEventListener<TName>[];
    for (let index = 0; index < listeners.length; index++) {
      const listener = listeners[index]!;
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          // Surface the bug without breaking the request that emitted the event.
          console.error(`[fusion] listener of '${name}' threw:`, error);
        });
      }
    }
  }

  removeAll(): void {
    this.#emitter.removeAllListeners();
    this.#listeners.clear();
  }
}
