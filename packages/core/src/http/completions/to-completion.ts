import { z } from 'zod';
import { InvalidRequestError } from '../../errors/invalid-request-error.js';
import type { ChatRequest } from '../../spec/chat/chat-request.js';
import type { ChatResult, FinishReason } from '../../spec/chat/chat-result.js';
import { toInvalidRequest } from '../../validation/zod-error.js';

/**
 * A legacy completions request. Fields a chat call cannot honour are checked here, so that they get
 * a 400 instead of being dropped: token-array prompts, several prompts, `n`/`best_of` above 1,
 * `logprobs`, `suffix`. Unknown fields are passed on, as the chat route does.
 */
const completionSchema = z.looseObject({
  model: z.string().min(1, 'is required'),
  prompt: z.union([z.string(), z.array(z.unknown())]),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().positive().nullish(),
  best_of: z.number().int().positive().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  logprobs: z.number().int().min(0).nullish(),
  echo: z.boolean().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  suffix: z.string().nullish(),
});

/** A checked completions request: the chat request it means, and what shapes its answer. */
export interface CompletionCall {
  chat: ChatRequest;
  prompt: string;
  echo: boolean;
  stream: boolean;
  includeUsage: boolean;
}

function untranslatable(param: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`'${param}': ${message}`, { param });
}

/**
 * Checks a legacy completions request and makes it a chat request: the prompt becomes one user
 * message, so every model and pipeline can answer it (mlx-openai-server has no raw completions
 * endpoint; the model's chat template applies).
 */
export function toCompletionCall(input: unknown): CompletionCall {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const parsed = completionSchema.safeParse(input);
  if (!parsed.success) throw toInvalidRequest(parsed.error, 'completion request');
  const {
    model,
    prompt,
    n,
    best_of: bestOf,
    stream,
    stream_options: streamOptions,
    logprobs,
    echo,
    suffix,
    ...rest
  } = parsed.data;
  let text: string;
  if (typeof prompt === 'string') text = prompt;
  else if (prompt.length === 1 && typeof prompt[0] === 'string') text = prompt[0];
  else if (prompt.length > 0 && prompt.every((item) => typeof item === 'string')) {
    throw untranslatable('prompt', 'only one prompt per request is supported; send several requests.');
  } else throw untranslatable('prompt', 'token-id prompts cannot be translated for a chat model; send text.');
  if (n != null && n !== 1) throw untranslatable('n', 'only n = 1 is supported.');
  if (bestOf != null && bestOf !== 1) throw untranslatable('best_of', 'only best_of = 1 is supported.');
  if (logprobs != null && logprobs > 0)
    throw untranslatable('logprobs', 'log probabilities are not available.');
  if (suffix != null && suffix !== '') throw untranslatable('suffix', 'insertion (suffix) is not supported.');
  const fields: Record<string, unknown> = rest;
  for (const key of Object.keys(fields)) if (fields[key] === null) delete fields[key];
  const chat: ChatRequest = { ...fields, model, messages: [{ role: 'user', content: text }] };
  return {
    chat,
    prompt: text,
    echo: echo === true,
    stream: stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}

/** Legacy completions have no `tool_calls` reason; nothing else changes. */
export function completionFinishReason(reason: FinishReason | null | undefined): string | null {
  return reason === 'tool_calls' ? 'stop' : (reason ?? null);
}

/** A new completion id, shaped like OpenAI's. */
export function completionId(): string {
  return `cmpl-${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
}

/** A chat answer as a `text_completion`. */
export function toTextCompletion(result: ChatResult, call: CompletionCall): Record<string, unknown> {
  const choice = result.choices[0];
  const text = choice?.message.content ?? '';
  const completion: Record<string, unknown> = {
    id: completionId(),
    object: 'text_completion',
    created: result.created,
    model: result.model,
    choices: [
      {
        text: call.echo ? call.prompt + text : text,
        index: 0,
        logprobs: null,
        finish_reason: completionFinishReason(choice?.finish_reason),
      },
    ],
  };
  if (result.system_fingerprint) completion.system_fingerprint = result.system_fingerprint;
  if (result.usage) completion.usage = result.usage;
  return completion;
}
