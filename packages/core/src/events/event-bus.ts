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

  /** Subscribes; returns the unsubscribe. */
  on<TName extends FusionEventName>(name: TName, listener: FusionEventListener<TName>): () => void {
    this.#emitter.on(name, listener);
    return () => {
      this.#emitter.off(name, listener);
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
    return this.#emitter.listenerCount(name) > 0;
  }

  emit<TName extends FusionEventName>(name: TName, payload: FusionEvents[TName]): void {
    if (this.#emitter.listenerCount(name) === 0) return;
    const listeners = this.#emitter.listeners(name) as FusionEventListener<TName>[];
    for (const listener of listeners) {
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
  }
}
