import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { capabilityRouter } from './capability-router.js';

const route = (request: ChatRequest, candidates: Parameters<typeof routeContext>[0], options = {}) =>
  models(capabilityRouter(options).doRoute(routeContext(candidates, request)) as { model: string }[]);

describe('capabilityRouter', () => {
  const tools = candidate('lab/tools', { info: { capabilities: { tools: true, json_schema: false } } });
  const plain = candidate('lab/plain', { info: { capabilities: { tools: false, vision: false } } });
  const vision = candidate('lab/vision', {
    info: { capabilities: { vision: true, json_schema: true }, context_length: 100 },
  });
  const embedder = candidate('lab/embed', { info: { type: 'embeddings' } });
  const all = [tools, plain, vision, embedder];

  it('keeps chat models that accept tools, in candidate order', () => {
    const request: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'weather' } }],
    };
    expect(route(request, all)).toEqual(['lab/tools', 'lab/vision']);
    expect(route(request, all, { unknown: 'deny' })).toEqual(['lab/tools']);
  });

  it('matches json_schema and image parts', () => {
    const schema: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 's' } },
    };
    expect(route(schema, all)).toEqual(['lab/plain', 'lab/vision']);
    const image: ChatRequest = {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is it' },
            { type: 'image_url', image_url: { url: 'data:,' } },
          ],
        },
      ],
    };
    expect(route(image, all)).toEqual(['lab/tools', 'lab/vision']);
  });

  it('drops models whose context cannot hold the prompt (chars / 4) plus max_tokens', () => {
    const long: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'x'.repeat(364) }],
      max_tokens: 10,
    };
    expect(route(long, [vision])).toEqual([]);
    expect(
      route({ ...long, max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(356) }] }, [vision]),
    ).toEqual(['lab/vision']);
    expect(route({ ...long, max_tokens: undefined }, [vision], { defaultCompletionTokens: 20 })).toEqual([]);
  });

  it('is health-aware', () => {
    const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const candidates = [
      candidate('lab/a', { circuit: 'half-open' }),
      candidate('lab/b', { healthy: false }),
      candidate('lab/c'),
    ];
    expect(route(request, candidates)).toEqual(['lab/a', 'lab/c']);
  });
});
