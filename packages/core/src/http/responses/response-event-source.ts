import { toFusionError } from '../../errors/to-fusion-error.js';
import type { ChatChunk, ToolCallDelta } from '../../spec/chat/chat-chunk.js';
import type { FinishReason, Usage } from '../../spec/chat/chat-result.js';
import type { EventSourceLike } from '../event-stream-response.js';
import type {
  FunctionCallItem,
  OutputMessage,
  OutputText,
  ReasoningItem,
  ResponseObject,
} from './response-types.js';
import { finishOf, itemId, toResponseUsage } from './to-response-object.js';

/** Fields of chunks that the response object says in its own way. */
const CHUNK_FIELDS = new Set(['id', 'object', 'created', 'model', 'choices', 'usage', 'system_fingerprint']);

export interface ResponseEventOptions {
  /**
   * Called once with the final response object (completed, incomplete, failed or cancelled). The
   * last event waits for the promise it returns (the response is stored before the client reads it).
   */
  onEnd?: (response: ResponseObject, error?: unknown) => void | Promise<void>;
  /** Called when the client cancels the stream. */
  onCancel?: () => void;
}

interface OpenItem {
  outputIndex: number;
  done: boolean;
}

/**
 * The Responses API's event stream of a chat stream: `response.created`, `response.in_progress`,
 * then per output item `response.output_item.added`, its deltas (`response.output_text.delta`,
 * `response.function_call_arguments.delta`, `response.reasoning_text.delta`), its `.done` events,
 * and `response.completed` (or `.incomplete`, `.failed`) with the whole response and its usage.
 * Chunks are pulled on demand, as for chat streams.
 */
export class ResponseEventSource implements EventSourceLike {
  readonly #response: ResponseObject;
  readonly #iterator: AsyncIterator<ChatChunk>;
  readonly #options: ResponseEventOptions;
  #sequence = 0;
  #started = false;
  #finished = false;
  #usage: Usage | undefined;
  #finish: FinishReason | null = null;
  #message: (OpenItem & { item: OutputMessage; part: OutputText }) | undefined;
  #reasoning: (OpenItem & { item: ReasoningItem; text: string }) | undefined;
  readonly #calls = new Map<number, OpenItem & { item: FunctionCallItem }>();

  constructor(
    skeleton: ResponseObject,
    iterator: AsyncIterator<ChatChunk>,
    options: ResponseEventOptions = {},
  ) {
    this.#response = { ...skeleton, status: 'in_progress', output: [] };
    this.#iterator = iterator;
    this.#options = options;
  }

  /** The next events' text; `undefined` once the stream has ended. Never rejects. */
  async read(): Promise<string | undefined> {
    if (this.#finished) return undefined;
    if (!this.#started) {
      this.#started = true;
      const snapshot = this.#snapshot();
      return (
        this.#event('response.created', { response: snapshot }) +
        this.#event('response.in_progress', { response: snapshot })
      );
    }
    try {
      while (true) {
        const next = await this.#iterator.next();
        if (this.#finished) return undefined;
        if (next.done) return await this.#end();
        const text = this.#chunk(next.value);
        if (text) return text;
      }
    } catch (error) {
      return await this.#end(error);
    }
  }

  /** Stops the stream: the client went away. */
  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#options.onCancel?.();
    this.#iterator.return?.().catch(() => {});
    const error = new DOMException('The client closed the stream.', 'AbortError');
    void this.#ended(this.#final('cancelled', toFusionError(error)), error);
  }

  #chunk(chunk: ChatChunk): string {
    if (chunk.usage) this.#usage = chunk.usage;
    for (const [key, value] of Object.entries(chunk)) {
      if (!CHUNK_FIELDS.has(key)) this.#response[key] = value;
    }
    const choice = chunk.choices[0];
    if (!choice) return '';
    let text = '';
    const { delta } = choice;
    if (delta.reasoning_content) text += this.#reasoningDelta(delta.reasoning_content);
    if (delta.content) text += this.#textDelta(delta.content);
    for (const call of delta.tool_calls ?? []) text += this.#callDelta(call);
    if (choice.finish_reason) this.#finish = choice.finish_reason;
    return text;
  }

  #reasoningDelta(delta: string): string {
    let text = '';
    if (!this.#reasoning) {
      text += this.#closeMessage();
      const item: ReasoningItem = { type: 'reasoning', id: itemId('rs'), summary: [], content: [] };
      const outputIndex = this.#add(item);
      this.#reasoning = { item, outputIndex, done: false, text: '' };
      text += this.#event('response.output_item.added', { output_index: outputIndex, item });
      text += this.#event('response.content_part.added', {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        part: { type: 'reasoning_text', text: '' },
      });
    }
    const reasoning = this.#reasoning;
    reasoning.text += delta;
    return (
      text +
      this.#event('response.reasoning_text.delta', {
        item_id: reasoning.item.id,
        output_index: reasoning.outputIndex,
        content_index: 0,
        delta,
      })
    );
  }

  #textDelta(delta: string): string {
    let text = this.#closeReasoning();
    if (!this.#message || this.#message.done) {
      const item: OutputMessage = {
        type: 'message',
        id: itemId('msg'),
        status: 'in_progress',
        role: 'assistant',
        content: [],
      };
      const part: OutputText = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      const outputIndex = this.#add(item);
      this.#message = { item, part, outputIndex, done: false };
      text += this.#event('response.output_item.added', { output_index: outputIndex, item });
      text += this.#event('response.content_part.added', {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        part,
      });
    }
    const message = this.#message;
    message.part.text += delta;
    return (
      text +
      this.#event('response.output_text.delta', {
        item_id: message.item.id,
        output_index: message.outputIndex,
        content_index: 0,
        delta,
        logprobs: [],
      })
    );
  }

  #callDelta(delta: ToolCallDelta): string {
    let text = this.#closeReasoning() + this.#closeMessage();
    let call = this.#calls.get(delta.index);
    if (!call) {
      const item: FunctionCallItem = {
        type: 'function_call',
        id: itemId('fc'),
        call_id: delta.id ?? itemId('call'),
        name: delta.function?.name ?? '',
        arguments: '',
        status: 'in_progress',
      };
      call = { item, outputIndex: this.#add(item), done: false };
      this.#calls.set(delta.index, call);
      text += this.#event('response.output_item.added', { output_index: call.outputIndex, item });
    } else if (delta.function?.name) {
      call.item.name += delta.function.name;
    }
    const args = delta.function?.arguments;
    if (args) {
      call.item.arguments += args;
      text += this.#event('response.function_call_arguments.delta', {
        item_id: call.item.id,
        output_index: call.outputIndex,
        delta: args,
      });
    }
    return text;
  }

  #closeReasoning(): string {
    const reasoning = this.#reasoning;
    if (!reasoning || reasoning.done) return '';
    reasoning.done = true;
    const part = { type: 'reasoning_text' as const, text: reasoning.text };
    reasoning.item.content = [part];
    const at = { item_id: reasoning.item.id, output_index: reasoning.outputIndex, content_index: 0 };
    return (
      this.#event('response.reasoning_text.done', { ...at, text: reasoning.text }) +
      this.#event('response.content_part.done', { ...at, part }) +
      this.#event('response.output_item.done', { output_index: reasoning.outputIndex, item: reasoning.item })
    );
  }

  #closeMessage(status: OutputMessage['status'] = 'completed'): string {
    const message = this.#message;
    if (!message || message.done) return '';
    message.done = true;
    message.item.status = status;
    message.item.content = [message.part];
    const at = { item_id: message.item.id, output_index: message.outputIndex, content_index: 0 };
    return (
      this.#event('response.output_text.done', { ...at, text: message.part.text, logprobs: [] }) +
      this.#event('response.content_part.done', { ...at, part: message.part }) +
      this.#event('response.output_item.done', { output_index: message.outputIndex, item: message.item })
    );
  }

  #closeCalls(): string {
    let text = '';
    for (const call of this.#calls.values()) {
      if (call.done) continue;
      call.done = true;
      call.item.status = 'completed';
      text +=
        this.#event('response.function_call_arguments.done', {
          item_id: call.item.id,
          output_index: call.outputIndex,
          name: call.item.name,
          arguments: call.item.arguments,
        }) + this.#event('response.output_item.done', { output_index: call.outputIndex, item: call.item });
    }
    return text;
  }

  /** The last events: every open item done, then the response's final state. */
  async #end(error?: unknown): Promise<string | undefined> {
    if (this.#finished) return undefined;
    this.#finished = true;
    if (error !== undefined) {
      const failure = toFusionError(error);
      const response = this.#final('failed', failure);
      await this.#ended(response, error);
      return this.#event('response.failed', { response });
    }
    const { status, incomplete_details } = finishOf(this.#finish);
    let text = this.#closeReasoning();
    text += this.#closeMessage(status === 'incomplete' ? 'incomplete' : 'completed');
    text += this.#closeCalls();
    const response = this.#final(status);
    response.incomplete_details = incomplete_details;
    await this.#ended(response);
    return text + this.#event(`response.${status}`, { response });
  }

  async #ended(response: ResponseObject, error?: unknown): Promise<void> {
    try {
      await this.#options.onEnd?.(response, error);
    } catch {
      // The stream's end is told to the client whatever the listener does.
    }
  }

  #final(status: ResponseObject['status'], error?: { code: string; message: string }): ResponseObject {
    const response = this.#snapshot();
    response.status = status;
    response.completed_at = status === 'completed' ? Math.floor(Date.now() / 1000) : null;
    response.usage = toResponseUsage(this.#usage);
    if (error) response.error = { code: error.code, message: error.message };
    return response;
  }

  #add(item: ReasoningItem | OutputMessage | FunctionCallItem): number {
    this.#response.output.push(item);
    return this.#response.output.length - 1;
  }

  /** A copy of the response as it stands (the items are copied: they change as deltas arrive). */
  #snapshot(): ResponseObject {
    return structuredClone(this.#response);
  }

  #event(type: string, fields: Record<string, unknown>): string {
    const data = JSON.stringify({ type, sequence_number: this.#sequence++, ...fields });
    return `event: ${type}\ndata: ${data}\n\n`;
  }
}
