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
  const choices: ChunkChoice[] = [];
  if (Array.isArray(payload.choices)) {
    for (const [position, choice] of payload.choices.entries()) {
      if (!isRecord(choice)) continue;
      choices.push({
        index: numberOrUndefined(choice.index) ?? position,
        delta: toDelta(choice.delta, keepRole),
        finish_reason: toFinishReason(choice.finish_reason),
      });
    }
  }
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
