import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { costRouter } from './cost-router.js';

describe('costRouter', () => {
  // Cheap input but dear output, and the reverse: which wins depends on the request's shape.
  const candidates = [
    candidate('lab/free'),
    candidate('api/dear-output', { info: { pricing: { input: 0.1, output: 10 } } }),
    candidate('api/dear-input', { info: { pricing: { input: 5, output: 1 } } }),
    candidate('api/down', { healthy: false, info: { pricing: { input: 0, output: 0 } } }),
  ];
  const route = (request: ChatRequest, options = {}) =>
    models(costRouter(options).doRoute(routeContext(candidates, request)) as { model: string }[]);

  it('ranks cheapest first from prompt tokens and max_tokens, unpriced last', () => {
    const longPrompt: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'x'.repeat(40_000) }],
      max_tokens: 100,
    };
    expect(route(longPrompt)).toEqual(['api/dear-output', 'api/dear-input', 'lab/free']);
    const longAnswer: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4000,
    };
    expect(route(longAnswer)).toEqual(['api/dear-input', 'api/dear-output', 'lab/free']);
  });

  it('prices the default completion when max_tokens is absent, and can treat unpriced models as free', () => {
    const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4000) }] };
    expect(route(request, { defaultCompletionTokens: 10 })).toEqual([
      'api/dear-output',
      'api/dear-input',
      'lab/free',
    ]);
    expect(route(request, { unknownPricing: 'free' })[0]).toBe('lab/free');
  });
});
