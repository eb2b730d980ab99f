import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { HookContext } from '../spec/plugin/v1/plugin-v1.js';
import { HookRunner } from './hook-runner.js';

const context: HookContext = { requestId: 'req-1', signal: new AbortController().signal };
const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** A hook that appends its name to `request.trail`, so the order is visible in the result. */
function mark(name: string) {
  return (value: ChatRequest) => ({
    ...value,
    trail: [...((value.trail as string[] | undefined) ?? []), name],
  });
}

describe('HookRunner', () => {
  it('runs pre, then unmarked, then post hooks, each group in registration order', async () => {
    const hooks = new HookRunner();
    hooks.add('chat:request', mark('post-1'), { enforce: 'post' });
    hooks.add('chat:request', mark('normal-1'));
    hooks.add('chat:request', mark('pre-1'), { enforce: 'pre' });
    hooks.add('chat:request', mark('normal-2'));
    hooks.add('chat:request', mark('post-2'), { enforce: 'post' });
    hooks.add('chat:request', mark('pre-2'), { enforce: 'pre' });
    const result = await hooks.run('chat:request', request, context);
    expect(result.trail).toEqual(['pre-1', 'pre-2', 'normal-1', 'normal-2', 'post-1', 'post-2']);
  });

  it('keeps the value when a hook returns undefined, and awaits async hooks', async () => {
    const hooks = new HookRunner();
    const seen: unknown[] = [];
    hooks.add('chat:request', (value) => {
      seen.push(value.max_tokens);
      return undefined;
    });
    hooks.add('chat:request', async (value) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { ...value, max_tokens: 5 };
    });
    hooks.add('chat:request', (value) => {
      seen.push(value.max_tokens);
      return undefined;
    });
    const result = await hooks.run('chat:request', request, context);
    expect(result.max_tokens).toBe(5);
    expect(seen).toEqual([undefined, 5]);
    expect(request.max_tokens).toBeUndefined();
  });

  it('passes the context to every hook', async () => {
    const hooks = new HookRunner();
    const ids: string[] = [];
    hooks.add('chat:result', (value, hookContext) => {
      ids.push(hookContext.requestId);
      return value;
    });
    const result = {
      id: 'r',
      object: 'chat.completion' as const,
      created: 0,
      model: 'm',
      choices: [],
    };
    expect(await hooks.run('chat:result', result, context)).toBe(result);
    expect(ids).toEqual(['req-1']);
  });

  it('unsubscribes, and has() follows', async () => {
    const hooks = new HookRunner();
    expect(hooks.has('chat:request')).toBe(false);
    const offA = hooks.add('chat:request', mark('a'));
    hooks.add('chat:request', mark('b'));
    expect(hooks.has('chat:request')).toBe(true);
    expect(hooks.has('chat:result')).toBe(false);
    offA();
    offA();
    expect((await hooks.run('chat:request', request, context)).trail).toEqual(['b']);
  });

  it('propagates a hook’s error', async () => {
    const hooks = new HookRunner();
    hooks.add('chat:request', () => {
      throw new Error('blocked by guardrail');
    });
    await expect(hooks.run('chat:request', request, context)).rejects.toThrow('blocked by guardrail');
  });

  it('runNow answers without a promise while the hooks do, and goes on asynchronously from the first that does not', async () => {
    const hooks = new HookRunner();
    hooks.add('chat:request', mark('sync-1'));
    hooks.add('chat:request', () => undefined);
    const now = hooks.runNow('chat:request', request, context);
    expect(now).not.toBeInstanceOf(Promise);
    expect((now as ChatRequest).trail).toEqual(['sync-1']);
    hooks.add('chat:request', async (value) => mark('async')(value));
    hooks.add('chat:request', mark('sync-2'));
    const later = hooks.runNow('chat:request', request, context);
    expect(later).toBeInstanceOf(Promise);
    expect((await later).trail).toEqual(['sync-1', 'async', 'sync-2']);
    expect(hooks.runNow('chat:result', request as never, context)).toBe(request);
  });
});
