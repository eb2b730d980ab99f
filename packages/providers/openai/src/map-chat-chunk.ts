import type { ChatChunk, ChunkChoice, ChunkDelta } from '@fusionkit/core';
import { toFinishReason } from './infer-finish-reason.js';
import { isRecord, type JsonRecord, numberOrUndefined, stringOrUndefined } from './json-guards.js';
import { toToolCallDeltas } from './map-tool-calls.js';
import { toUsage } from './map-usage.js';

/**
 * Reads one `chat.completion.chunk` event into a {@link ChatChunk}. Builds fresh delta objects with
 * only the fields that carry something: mlx-openai-server-lab sends every field, mostly `null`, and
 * repeats `role` on every delta (only the first one keeps it).
 */
export function toChatChunk(payload: JsonRecord, model: string, keepRole: boolean): ChatChunk {
  const raw = payload.choices;
  const choices = Array.isArray(raw) ? toChoices(raw, keepRole) : [];
  const chunk: ChatChunk = {
    id: stringOrUndefined(payload.id) ?? '',
    object: 'chat.completion.chunk',
    created: numberOrUndefined(payload.created) ?? Math.floor(Date.now() / 1000),
    model,
    choices,
  };
  const usage = toUsage(payload.usage);
  if (usage) chunk.usage = usage;
  return chunk;
}

/**
 * The chunk's choices. One is the rule, and an array literal holds exactly it: `push` onto `[]`
 * reserves room for 17, which a stream's first chunk keeps for as long as the stream is open.
 */
function toChoices(raw: unknown[], keepRole: boolean): ChunkChoice[] {
  if (raw.length === 1) {
    const choice = raw[0];
    return isRecord(choice) ? [toChoice(choice, 0, keepRole)] : [];
  }
  const choices: ChunkChoice[] = [];
  for (let position = 0; position < raw.length; position++) {
    const choice = raw[position];
    if (isRecord(choice)) choices.push(toChoice(choice, position, keepRole));
  }
  return choices;
}

function toChoice(choice: JsonRecord, position: number, keepRole: boolean): ChunkChoice {
  return {
    index: numberOrUndefined(choice.index) ?? position,
    delta: toDelta(choice.delta, keepRole),
    finish_reason: toFinishReason(choice.finish_reason),
  };
}

function toDelta(value: unknown, keepRole: boolean): ChunkDelta {
  const delta: ChunkDelta = {};
  if (!isRecord(value)) return delta;
  if (keepRole && value.role === 'assistant') delta.role = 'assistant';
  if (typeof value.content === 'string') delta.content = value.content;
  const reasoning = stringOrUndefined(value.reasoning_content) ?? stringOrUndefined(value.reasoning);
  if (reasoning !== undefined) delta.reasoning_content = reasoning;
  if (Array.isArray(value.tool_calls)) delta.tool_calls = toToolCallDeltas(value.tool_calls);
  return delta;
}
