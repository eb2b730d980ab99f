import type { ToolCall, ToolCallDelta } from '@fusionkit/core';
import { isRecord, numberOrUndefined, stringOrUndefined } from './json-guards.js';

/** Reads the `tool_calls` of a complete message; `undefined` when there are none. */
export function toToolCalls(value: unknown): ToolCall[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const calls: ToolCall[] = [];
  for (const [index, item] of value.entries()) {
    if (!isRecord(item) || !isRecord(item.function)) continue;
    calls.push({
      id: stringOrUndefined(item.id) ?? `call_${index}`,
      type: 'function',
      function: {
        name: stringOrUndefined(item.function.name) ?? '',
        arguments: argumentsText(item.function.arguments),
      },
    });
  }
  return calls.length > 0 ? calls : undefined;
}

/** Reads the `tool_calls` of a stream delta, dropping `null` fields (mlx-openai-server-lab sends them). */
export function toToolCallDeltas(value: unknown[]): ToolCallDelta[] {
  const deltas: ToolCallDelta[] = [];
  for (const [position, item] of value.entries()) {
    if (!isRecord(item)) continue;
    const delta: ToolCallDelta = { index: numberOrUndefined(item.index) ?? position };
    const id = stringOrUndefined(item.id);
    if (id !== undefined) delta.id = id;
    if (item.type === 'function') delta.type = 'function';
    if (isRecord(item.function)) {
      const name = stringOrUndefined(item.function.name);
      const args = item.function.arguments;
      delta.function = {};
      if (name !== undefined) delta.function.name = name;
      if (args !== undefined && args !== null) delta.function.arguments = argumentsText(args);
    }
    deltas.push(delta);
  }
  return deltas;
}

/** Arguments are a JSON string in the OpenAI shape; some servers send an object. */
function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : JSON.stringify(value);
}
