/**
 * What the worker needs from a chat request: its sampling and stopping parameters, its output
 * format, and a check of what MLX models here cannot do (several choices, JSON schemas the grammar
 * cannot enforce, forced tool calls, images).
 */
import { type ChatRequest, UnsupportedError } from '@fusionkit/core';
import { prepareJsonSchema } from '../grammar/check-json-schema.js';
import type { OutputFormat } from '../grammar/output-constraints.js';
import type { GenerateParameters } from '../worker/protocol.js';

function stopList(stop: ChatRequest['stop']): string[] | undefined {
  if (stop === undefined) return undefined;
  return Array.isArray(stop) ? stop : [stop];
}

export function generateParameters(request: ChatRequest): GenerateParameters {
  const parameters: GenerateParameters = {};
  const set = <K extends keyof GenerateParameters>(key: K, value: GenerateParameters[K] | undefined) => {
    if (value !== undefined && value !== null) parameters[key] = value;
  };
  set('temperature', request.temperature);
  set('topP', request.top_p);
  set('topK', request.top_k);
  set('minP', request.min_p);
  set('repetitionPenalty', request.repetition_penalty);
  set('frequencyPenalty', request.frequency_penalty);
  set('presencePenalty', request.presence_penalty);
  set('logitBias', request.logit_bias);
  set('seed', request.seed);
  set('maxTokens', request.max_tokens ?? request.max_completion_tokens);
  set('stop', stopList(request.stop));
  if (request.ignore_eos === true) parameters.ignoreEos = true;
  set('format', outputFormat(request));
  return parameters;
}

/** The JSON the answer must be, from `response_format`; throws a 400 for a schema it cannot enforce. */
export function outputFormat(request: ChatRequest): OutputFormat | undefined {
  const format = request.response_format;
  if (format?.type === 'json_object') return { type: 'json_object' };
  if (format?.type !== 'json_schema') return undefined;
  // No schema: any JSON value.
  return { type: 'json_schema', schema: prepareJsonSchema(format.json_schema?.schema ?? {}) };
}

export function checkChatRequest(request: ChatRequest): void {
  if (request.n !== undefined && request.n !== 1) {
    throw new UnsupportedError('MLX models generate one choice per request (n = 1).', { param: 'n' });
  }
  const format = request.response_format?.type;
  if (format !== undefined && format !== 'text' && format !== 'json_object' && format !== 'json_schema') {
    throw new UnsupportedError(`MLX models here do not support response_format ${String(format)}.`, {
      param: 'response_format',
    });
  }
  outputFormat(request);
  const toolChoice = request.tool_choice;
  if (toolChoice !== undefined && toolChoice !== null && toolChoice !== 'auto' && toolChoice !== 'none') {
    const asked = typeof toolChoice === 'string' ? `'${toolChoice}'` : 'a named tool';
    throw new UnsupportedError(
      `MLX models here cannot be made to call a tool (tool_choice ${asked}); use 'auto' or 'none'.`,
      { param: 'tool_choice' },
    );
  }
  for (const [index, message] of request.messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    if (message.content.some((part) => part.type !== 'text')) {
      throw new UnsupportedError('MLX chat models here take text only (no images or audio).', {
        param: `messages[${index}].content`,
      });
    }
  }
}
