/**
 * Splits a model's streamed text into answer content, reasoning (`<think>…</think>`) and tool calls,
 * in the format its chat template taught it:
 *
 * - `hermes` (Qwen 2.5/3, Hermes): `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, any number;
 * - `llama3-json` (Llama 3.1+): the whole answer is `{"name": …, "parameters": {…}}` (several
 *   separated by `;`), optionally after `<|python_tag|>`;
 * - `mistral`: `[TOOL_CALLS]` then a JSON array of `{"name", "arguments"}` (or `name[ARGS]{…}`).
 *
 * Text that might be the start of a marker is held back until it is decided, so content never
 * shows a half marker and a tool call is emitted whole, once complete.
 */
import type { ToolCallFormat } from '../worker/protocol.js';

export interface ParsedToolCall {
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export type ParsedPiece =
  | { type: 'content'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call'; call: ParsedToolCall };

export interface ToolCallParserOptions {
  /** `undefined` when the request has no tools: everything is content (or reasoning). */
  format: ToolCallFormat | undefined;
  /** Whether the answer may open with a `<think>` block. */
  reasoning: boolean;
}

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const HERMES_OPEN = '<tool_call>';
const HERMES_CLOSE = '</tool_call>';
const MISTRAL_MARKER = '[TOOL_CALLS]';
const PYTHON_TAG = '<|python_tag|>';

/** Length of the longest end of `text` that is a proper start of `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(marker.slice(0, length))) return length;
  }
  return 0;
}

function toCall(value: unknown): ParsedToolCall | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const fn = (record.function && typeof record.function === 'object' ? record.function : record) as Record<
    string,
    unknown
  >;
  if (typeof fn.name !== 'string' || fn.name.length === 0) return undefined;
  const args = fn.arguments ?? fn.parameters ?? {};
  return { name: fn.name, arguments: typeof args === 'string' ? args : JSON.stringify(args) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Tool calls of a whole Llama 3 answer, or undefined when it is not one. */
export function parseLlamaToolCalls(text: string): ParsedToolCall[] | undefined {
  const body = text.trim().replace(PYTHON_TAG, '').trim();
  if (!body.startsWith('{') && !body.startsWith('[')) return undefined;
  const whole = parseJson(body);
  const parts = whole !== undefined ? [whole].flat() : body.split(/;\s*/).map(parseJson);
  const calls = parts.map(toCall);
  return calls.length > 0 && calls.every((call) => call !== undefined)
    ? (calls as ParsedToolCall[])
    : undefined;
}

/** Tool calls after Mistral's `[TOOL_CALLS]` marker, or undefined when they do not parse. */
export function parseMistralToolCalls(text: string): ParsedToolCall[] | undefined {
  const body = text.trim();
  const array = parseJson(body);
  if (array !== undefined) {
    const calls = [array].flat().map(toCall);
    return calls.every((call) => call !== undefined) ? (calls as ParsedToolCall[]) : undefined;
  }
  // Newer format: `name[ARGS]{…}` repeated, each after its own [TOOL_CALLS].
  const calls: ParsedToolCall[] = [];
  for (const part of body.split(MISTRAL_MARKER)) {
    const match = /^\s*([\w.-]+)\s*\[ARGS\]([\s\S]*)$/.exec(part);
    if (!match || parseJson(match[2]!.trim()) === undefined) return undefined;
    calls.push({ name: match[1]!, arguments: match[2]!.trim() });
  }
  return calls.length > 0 ? calls : undefined;
}

export class ToolCallParser {
  readonly #format: ToolCallFormat | undefined;
  /** Text not yet classified. */
  #buffer = '';
  #mode: 'start' | 'think' | 'content' | 'hermes-call' | 'whole-answer' | 'mistral-calls';
  /** Whether anything was emitted as content (Llama JSON calls must be the whole answer). */
  #sawContent = false;
  /** Drops the blank lines after `</think>` or a tool call, whichever chunk they come in. */
  #trimLeading = false;

  constructor(options: ToolCallParserOptions) {
    this.#format = options.format;
    this.#mode = options.reasoning || options.format === 'llama3-json' ? 'start' : 'content';
    this.#reasoning = options.reasoning;
  }

  readonly #reasoning: boolean;

  push(text: string): ParsedPiece[] {
    this.#buffer += text;
    const out: ParsedPiece[] = [];
    this.#drain(out, false);
    return out;
  }

  /** Ends the answer: whatever is held back is classified now. */
  finish(): ParsedPiece[] {
    const out: ParsedPiece[] = [];
    this.#drain(out, true);
    const rest = this.#buffer;
    this.#buffer = '';
    switch (this.#mode) {
      case 'think':
        if (rest) out.push({ type: 'reasoning', text: rest });
        break;
      case 'hermes-call': {
        const call = toCall(parseJson(rest.trim()));
        if (call) out.push({ type: 'tool_call', call });
        else if (rest) out.push({ type: 'content', text: HERMES_OPEN + rest });
        break;
      }
      case 'whole-answer': {
        const calls = parseLlamaToolCalls(rest);
        if (calls) for (const call of calls) out.push({ type: 'tool_call', call });
        else if (rest) out.push({ type: 'content', text: rest });
        break;
      }
      case 'mistral-calls': {
        const calls = parseMistralToolCalls(rest);
        if (calls) for (const call of calls) out.push({ type: 'tool_call', call });
        else out.push({ type: 'content', text: MISTRAL_MARKER + rest });
        break;
      }
      default:
        if (rest) out.push({ type: 'content', text: rest });
    }
    return out;
  }

  #content(out: ParsedPiece[], content: string): void {
    let text = content;
    if (this.#trimLeading) {
      text = text.trimStart();
      if (text) this.#trimLeading = false;
    }
    if (!text) return;
    this.#sawContent ||= text.trim().length > 0;
    const last = out[out.length - 1];
    if (last?.type === 'content') last.text += text;
    else out.push({ type: 'content', text });
  }

  #drain(out: ParsedPiece[], final: boolean): void {
    while (this.#buffer) {
      const before = this.#buffer.length;
      const mode = this.#mode;
      this.#step(out, final);
      if (this.#buffer.length === before && this.#mode === mode) return;
    }
  }

  #step(out: ParsedPiece[], final: boolean): void {
    const buffer = this.#buffer;
    switch (this.#mode) {
      case 'start': {
        const trimmed = buffer.trimStart();
        if (this.#reasoning && (THINK_OPEN.startsWith(trimmed) || trimmed.startsWith(THINK_OPEN))) {
          if (trimmed.startsWith(THINK_OPEN)) {
            this.#buffer = trimmed.slice(THINK_OPEN.length);
            this.#mode = 'think';
          } else if (final) this.#mode = 'content';
          return;
        }
        if (this.#format === 'llama3-json' && !this.#sawContent) {
          if (!trimmed) return;
          if (PYTHON_TAG.startsWith(trimmed) && !final) return;
          if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith(PYTHON_TAG)) {
            this.#mode = 'whole-answer';
            return;
          }
        }
        this.#mode = 'content';
        return;
      }
      case 'think': {
        const close = buffer.indexOf(THINK_CLOSE);
        if (close !== -1) {
          if (close > 0) out.push({ type: 'reasoning', text: buffer.slice(0, close) });
          this.#buffer = buffer.slice(close + THINK_CLOSE.length);
          this.#trimLeading = true;
          this.#mode = this.#format === 'llama3-json' ? 'start' : 'content';
          return;
        }
        const hold = final ? 0 : partialSuffix(buffer, THINK_CLOSE);
        const text = buffer.slice(0, buffer.length - hold);
        if (text) out.push({ type: 'reasoning', text });
        this.#buffer = buffer.slice(buffer.length - hold);
        return;
      }
      case 'content': {
        const marker =
          this.#format === 'hermes' ? HERMES_OPEN : this.#format === 'mistral' ? MISTRAL_MARKER : undefined;
        if (!marker) {
          this.#content(out, buffer);
          this.#buffer = '';
          return;
        }
        const at = buffer.indexOf(marker);
        if (at !== -1) {
          this.#content(out, buffer.slice(0, at));
          this.#buffer = buffer.slice(at + marker.length);
          this.#mode = this.#format === 'hermes' ? 'hermes-call' : 'mistral-calls';
          return;
        }
        const hold = final ? 0 : partialSuffix(buffer, marker);
        this.#content(out, buffer.slice(0, buffer.length - hold));
        this.#buffer = buffer.slice(buffer.length - hold);
        return;
      }
      case 'hermes-call': {
        const close = buffer.indexOf(HERMES_CLOSE);
        if (close === -1) return;
        const body = buffer.slice(0, close);
        const call = toCall(parseJson(body.trim()));
        if (call) out.push({ type: 'tool_call', call });
        else this.#content(out, HERMES_OPEN + body + HERMES_CLOSE);
        this.#buffer = buffer.slice(close + HERMES_CLOSE.length);
        this.#trimLeading = true;
        this.#mode = 'content';
        return;
      }
      default:
        // Whole-answer formats are decided at the end.
        return;
    }
  }
}
