import { describe, expect, it, vi } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { semanticRouter } from './semantic-router.js';

/** A toy embedding: counts of a few topic words, so similarity is predictable. */
const vocabulary = ['code', 'bug', 'poem', 'rhyme', 'weather'];
const toyEmbed = vi.fn(async (texts: string[]) =>
  texts.map((text) => vocabulary.map((word) => (text.toLowerCase().includes(word) ? 1 : 0) + 0.01)),
);

const ask = (content: string): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content }] });

describe('semanticRouter', () => {
  const candidates = [
    candidate('lab/general'),
    candidate('lab/coder'),
    candidate('lab/poet'),
    candidate('lab/poet-2', { circuit: 'open' }),
  ];
  const options = {
    routes: [
      { name: 'code', targets: ['lab/coder'], examples: ['fix this code', 'there is a bug'] },
      { name: 'poetry', targets: ['lab/poet-2', 'lab/poet'], examples: ['write a poem', 'make it rhyme'] },
    ],
    embed: toyEmbed,
    threshold: 0.8,
    defaultTargets: ['lab/general'],
  };

  it('routes to the route with the closest example, embedding the examples once', async () => {
    toyEmbed.mockClear();
    const decisions: unknown[] = [];
    const router = semanticRouter({ ...options, onDecision: (decision) => decisions.push(decision) });
    expect(models(await router.doRoute(routeContext(candidates, ask('I found a bug'))))).toEqual([
      'lab/coder',
    ]);
    // The open circuit of poet-2 leaves poet.
    expect(models(await router.doRoute(routeContext(candidates, ask('A poem about the sea'))))).toEqual([
      'lab/poet',
    ]);
    expect(toyEmbed).toHaveBeenCalledTimes(3);
    expect(decisions).toEqual([
      { route: 'code', similarity: expect.closeTo(0.7, 0) },
      { route: 'poetry', similarity: expect.any(Number) },
    ]);
    expect(toyEmbed.mock.calls[0]![0]).toHaveLength(4);
  });

  it('takes the default route below the threshold, for an empty message, or when embedding fails', async () => {
    const router = semanticRouter(options);
    expect(models(await router.doRoute(routeContext(candidates, ask('what is the weather'))))).toEqual([
      'lab/general',
    ]);
    expect(models(await router.doRoute(routeContext(candidates, ask('  '))))).toEqual(['lab/general']);
    const failing = semanticRouter({
      ...options,
      embed: async () => Promise.reject(new Error('embedder down')),
    });
    expect(models(await failing.doRoute(routeContext(candidates, ask('a bug'))))).toEqual(['lab/general']);
    await expect(
      semanticRouter({
        ...options,
        onEmbedError: 'throw',
        embed: async () => Promise.reject(new Error('down')),
      }).doRoute(routeContext(candidates, ask('a bug'))),
    ).rejects.toThrow('down');
  });

  it('retries the example batch after a failure, and defaults to every candidate', async () => {
    let fail = true;
    const embed = vi.fn(async (texts: string[]) => {
      if (fail && texts.length > 1) throw new Error('once');
      return toyEmbed(texts);
    });
    const router = semanticRouter({ ...options, embed, defaultTargets: undefined });
    expect(models(await router.doRoute(routeContext(candidates, ask('a bug'))))).toEqual([
      'lab/general',
      'lab/coder',
      'lab/poet',
    ]);
    fail = false;
    expect(models(await router.doRoute(routeContext(candidates, ask('a bug'))))).toEqual(['lab/coder']);
  });
});
