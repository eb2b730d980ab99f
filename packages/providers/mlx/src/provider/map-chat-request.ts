/**
 * What the worker needs from a chat request: its sampling and stopping parameters, and a check of
 * what MLX models here cannot do (several choices, JSON schemas, images).
 */
import { type ChatRequest, UnsupportedError } from '@fusionkit/core';
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
  return parameters;
}

export function checkChatRequest(request: ChatRequest): void {
  if (request.n !== undefined && request.n !== 1) {
    throw new UnsupportedError('MLX models generate one choice per request (n = 1).', { param: 'n' });
  }
  if (request.response_format && request.response_format.type === 'json_schema') {
    throw new UnsupportedError('MLX models do not support response_format json_schema.', {
      param: 'response_format',
    });
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
