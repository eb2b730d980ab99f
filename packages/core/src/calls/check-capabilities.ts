import { UnsupportedError } from '../errors/unsupported-error.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';

/**
 * Refuses, with 400 `unsupported` naming the field, what the model has declared it cannot do.
 * A capability the provider leaves undefined is assumed present: the upstream decides.
 */
export function checkChatCapabilities(model: RegisteredModel, request: ChatRequest): void {
  const capabilities = model.info.capabilities ?? {};
  const type = model.info.type;
  if (
    capabilities.chat === false ||
    type === 'embeddings' ||
    (capabilities.embeddings && capabilities.chat === undefined && !type)
  ) {
    throw new UnsupportedError(
      `Model '${model.id}' is an embedding model; it cannot answer chat completions.`,
      {
        param: 'model',
      },
    );
  }
  if (request.tools?.length && capabilities.tools === false) {
    throw new UnsupportedError(`Model '${model.id}' does not support tools.`, { param: 'tools' });
  }
  if (request.response_format?.type === 'json_schema' && capabilities.json_schema === false) {
    throw new UnsupportedError(`Model '${model.id}' does not support response_format json_schema.`, {
      param: 'response_format',
    });
  }
  if (capabilities.vision === false && hasImage(request)) {
    throw new UnsupportedError(`Model '${model.id}' does not accept images.`, { param: 'messages' });
  }
  const limit = model.info.context_length;
  if (limit !== undefined && request.max_tokens !== undefined && request.max_tokens > limit) {
    throw new UnsupportedError(
      `max_tokens (${request.max_tokens}) is larger than the context length of '${model.id}' (${limit}).`,
      { param: 'max_tokens' },
    );
  }
}

/** Refuses embeddings from a model that has declared it cannot make them. */
export function checkEmbedCapabilities(model: RegisteredModel): void {
  const capabilities = model.info.capabilities ?? {};
  if (
    !model.provider.doEmbed ||
    capabilities.embeddings === false ||
    (model.info.type === 'chat' && !capabilities.embeddings)
  ) {
    throw new UnsupportedError(`Model '${model.id}' does not produce embeddings.`, { param: 'model' });
  }
}

function hasImage(request: ChatRequest): boolean {
  for (const message of request.messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    if (message.content.some((part) => part.type === 'image_url')) return true;
  }
  return false;
}
