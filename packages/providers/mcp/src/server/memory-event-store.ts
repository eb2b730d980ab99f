import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

/**
 * The SSE events of the session streams, kept in memory so that a client reconnecting with
 * `Last-Event-ID` gets what it missed: the last `maxEventsPerStream` of each stream, streams
 * forgotten oldest first past `maxStreams`. Event ids are `<stream>:<sequence>`.
 */
export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<
    StreamId,
    { next: number; events: { id: number; message: JSONRPCMessage }[] }
  >();
  readonly #maxEventsPerStream: number;
  readonly #maxStreams: number;

  constructor(options: { maxEventsPerStream?: number; maxStreams?: number } = {}) {
    this.#maxEventsPerStream = options.maxEventsPerStream ?? 1000;
    this.#maxStreams = options.maxStreams ?? 10_000;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    let stream = this.#streams.get(streamId);
    if (!stream) {
      stream = { next: 1, events: [] };
      this.#streams.set(streamId, stream);
      if (this.#streams.size > this.#maxStreams) {
        const oldest = this.#streams.keys().next().value;
        if (oldest !== undefined) this.#streams.delete(oldest);
      }
    }
    const id = stream.next++;
    stream.events.push({ id, message });
    if (stream.events.length > this.#maxEventsPerStream) stream.events.shift();
    return `${streamId}:${id}`;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const parsed = parseEventId(eventId);
    return parsed && this.#streams.has(parsed.streamId) ? parsed.streamId : undefined;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const parsed = parseEventId(lastEventId);
    if (!parsed) return '';
    const stream = this.#streams.get(parsed.streamId);
    for (const event of stream?.events ?? []) {
      if (event.id > parsed.sequence) await send(`${parsed.streamId}:${event.id}`, event.message);
    }
    return parsed.streamId;
  }
}

function parseEventId(eventId: string): { streamId: string; sequence: number } | undefined {
  const at = eventId.lastIndexOf(':');
  if (at <= 0) return undefined;
  const sequence = Number(eventId.slice(at + 1));
  return Number.isSafeInteger(sequence) ? { streamId: eventId.slice(0, at), sequence } : undefined;
}
