import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, post } from '../__fixtures__/http.js';
import { createScriptedProvider } from '../__fixtures__/scripted-provider.js';
import type { CallOptions } from '../spec/call-options.js';
import type { CallHookContext } from '../spec/plugin/v1/plugin-v1.js';
import { createFusion, type Fusion } from './fusion.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

/** The getter behind `object.signal`: an own, enumerable accessor. */
function signalGetter(object: object): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, 'signal');
  expect(descriptor?.enumerable).toBe(true);
  expect(descriptor?.get).toBeTypeOf('function');
  return descriptor?.get;
}

// Per-request objects get their lazily made `signal` from one shared getter, never from a
// `get signal()` in an object literal: such a literal makes a getter closure per object, which on
// Node 20 kept every request's objects alive through young-generation collections.
describe('lazy signals of call options, hook contexts and route contexts', () => {
  it('share one getter across requests, and a spread copies the signal', async () => {
    const provider = createScriptedProvider({
      chat: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 0,
        model: 'model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      },
    });
    const hookContexts: CallHookContext[] = [];
    const routeContexts: object[] = [];
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    await fusion.ready;
    fusion.hook('call:headers', (headers, context) => {
      hookContexts.push(context);
      return headers;
    });
    fusion.route('POST', '/api/echo', (_request, context) => {
      routeContexts.push(context);
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    });

    for (let index = 0; index < 2; index++) {
      const response = await post(fusion, '/v1/chat/completions', chatBody('script/model'));
      expect(response.status).toBe(200);
      expect((await post(fusion, '/api/echo', {})).status).toBe(200);
    }
    await fusion.chat({ model: 'script/model', messages: [{ role: 'user', content: 'hi' }] });

    const calls: CallOptions[] = provider.calls;
    expect(calls).toHaveLength(3);
    expect(hookContexts).toHaveLength(3);
    expect(routeContexts).toHaveLength(2);
    for (const group of [calls, hookContexts, routeContexts]) {
      const getters = new Set(group.map(signalGetter));
      expect(getters.size).toBe(1);
    }
    // A spread reads the getter, so the copy carries a real signal.
    const copy = { ...calls[0]! };
    expect(copy.signal).toBeInstanceOf(AbortSignal);
    expect(Object.getOwnPropertyDescriptor(copy, 'signal')?.get).toBeUndefined();
  });

  it('give the signal of the request: it aborts when the call is stopped', async () => {
    const provider = createScriptedProvider({ chat: 'hang' });
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    await fusion.ready;
    const controller = new AbortController();
    const answer = fusion.chat(
      { model: 'script/model', messages: [{ role: 'user', content: 'hi' }] },
      { signal: controller.signal },
    );
    answer.catch(() => {});
    await expect.poll(() => provider.calls.length).toBe(1);
    const signal = provider.calls[0]!.signal;
    expect(signal.aborted).toBe(false);
    controller.abort();
    await expect(answer).rejects.toThrow();
    expect(signal.aborted).toBe(true);
  });
});
