import { describe, expect, it } from 'vitest';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import { createMockProvider } from '../test/mock-provider.js';
import { checkChatCapabilities, checkEmbedCapabilities } from './check-capabilities.js';

function model(info: Omit<ModelInfo, 'id'>): RegisteredModel {
  return {
    id: 'p/m',
    localId: 'm',
    provider: createMockProvider(),
    info: { id: 'm', ...info },
    inUse: 0,
    lastUsed: 0,
    status: 'ready',
  };
}

const base: ChatRequest = { model: 'p/m', messages: [{ role: 'user', content: 'hi' }] };
const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'f' } }];
const image: ChatRequest['messages'] = [
  { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
];

function paramOf(check: () => void): string | null | undefined {
  try {
    check();
  } catch (error) {
    expect(error).toMatchObject({ status: 400, code: 'unsupported' });
    return (error as { param: string | null }).param;
  }
  return undefined;
}

describe('checkChatCapabilities', () => {
  it('allows what is not declared impossible', () => {
    expect(
      paramOf(() => checkChatCapabilities(model({}), { ...base, tools, messages: image })),
    ).toBeUndefined();
    expect(
      paramOf(() => checkChatCapabilities(model({ capabilities: { tools: true } }), { ...base, tools })),
    ).toBeUndefined();
  });

  it('refuses each declared impossibility naming the param', () => {
    expect(
      paramOf(() => checkChatCapabilities(model({ capabilities: { tools: false } }), { ...base, tools })),
    ).toBe('tools');
    expect(
      paramOf(() =>
        checkChatCapabilities(model({ capabilities: { json_schema: false } }), {
          ...base,
          response_format: { type: 'json_schema', json_schema: { name: 's' } },
        }),
      ),
    ).toBe('response_format');
    expect(
      paramOf(() =>
        checkChatCapabilities(model({ capabilities: { vision: false } }), { ...base, messages: image }),
      ),
    ).toBe('messages');
    expect(
      paramOf(() => checkChatCapabilities(model({ context_length: 10 }), { ...base, max_tokens: 11 })),
    ).toBe('max_tokens');
    expect(
      paramOf(() => checkChatCapabilities(model({ context_length: 10 }), { ...base, max_tokens: 10 })),
    ).toBeUndefined();
  });

  it('refuses chat to embedding models', () => {
    expect(paramOf(() => checkChatCapabilities(model({ type: 'embeddings' }), base))).toBe('model');
    expect(paramOf(() => checkChatCapabilities(model({ capabilities: { chat: false } }), base))).toBe(
      'model',
    );
    expect(paramOf(() => checkChatCapabilities(model({ capabilities: { embeddings: true } }), base))).toBe(
      'model',
    );
    expect(
      paramOf(() => checkChatCapabilities(model({ capabilities: { embeddings: true, chat: true } }), base)),
    ).toBeUndefined();
  });
});

describe('checkEmbedCapabilities', () => {
  it('refuses models that say they cannot embed, or providers without doEmbed', () => {
    expect(
      paramOf(() => checkEmbedCapabilities(model({ capabilities: { embeddings: true } }))),
    ).toBeUndefined();
    expect(paramOf(() => checkEmbedCapabilities(model({})))).toBeUndefined();
    expect(paramOf(() => checkEmbedCapabilities(model({ type: 'chat' })))).toBe('model');
    expect(paramOf(() => checkEmbedCapabilities(model({ capabilities: { embeddings: false } })))).toBe(
      'model',
    );
    const withoutEmbed = model({ capabilities: { embeddings: true } });
    const { doEmbed: _doEmbed, ...provider } = withoutEmbed.provider;
    expect(paramOf(() => checkEmbedCapabilities({ ...withoutEmbed, provider }))).toBe('model');
  });
});
