import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { Budget } from './budget.js';

// 16 characters: 4 tokens of text, plus 4 for the message.
const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(16) }] };
const usage = (total: number) => ({ prompt_tokens: 8, completion_tokens: total - 8, total_tokens: total });

describe('Budget', () => {
  it('refuses calls past maxCalls and marks itself exceeded', () => {
    const budget = new Budget({ maxCalls: 2 });
    budget.takeCall();
    budget.takeCall();
    expect(budget.exceeded).toBe(false);
    expect(() => budget.takeCall()).toThrow(expect.objectContaining({ code: 'budget_exceeded' }));
    expect(budget.exceeded).toBe(true);
  });

  it('leaves requests alone without a token limit', () => {
    const budget = new Budget();
    const reserved = budget.reserve(request);
    expect(reserved.request).toBe(request);
    expect(reserved.reservation).toBeUndefined();
  });

  it('reserves before calling: parallel calls cannot together pass maxTokens', () => {
    const budget = new Budget({ maxTokens: 20 });
    // The first call holds its prompt (8) and may write the remaining 12.
    const first = budget.reserve(request);
    expect(first.request.max_tokens).toBe(12);
    expect(first.request.max_completion_tokens).toBe(12);
    // Nothing is left for a second call started before the first ended.
    expect(() => budget.reserve(request)).toThrow(expect.objectContaining({ code: 'budget_exceeded' }));
    expect(budget.exceeded).toBe(true);
    // The first used 11: the rest of its reservation is given back.
    budget.settle(first.reservation, usage(11));
    expect(budget.tokens).toBe(11);
    expect(budget.reserved).toBe(0);
    // 20 - 11 spent - 8 of prompt: one token left to write.
    expect(budget.reserve(request).request.max_tokens).toBe(1);
    const wider = new Budget({ maxTokens: 40 });
    wider.settle(wider.reserve(request).reservation, usage(11));
    expect(wider.reserve(request).request.max_tokens).toBe(40 - 11 - 8);
  });

  it("keeps a request's own smaller limit, and shares the budget by it", () => {
    const budget = new Budget({ maxTokens: 40 });
    const capped = { ...request, max_tokens: 5 };
    const first = budget.reserve(capped);
    expect(first.request).toBe(capped);
    const second = budget.reserve(capped);
    expect(second.request).toBe(capped);
    expect(budget.reserved).toBe(26);
    // 14 left, the prompt takes 8: the third may write 6, more than its 5.
    expect(budget.reserve(capped).request).toBe(capped);
    expect(() => budget.reserve(capped)).toThrow();
  });

  it('counts a whole reservation when a call reported no usage, nothing when it failed', () => {
    const budget = new Budget({ maxTokens: 100 });
    budget.settle(budget.reserve(request).reservation, undefined);
    expect(budget.tokens).toBe(100);
    const other = new Budget({ maxTokens: 100 });
    other.settle(other.reserve(request).reservation, undefined, true);
    expect(other.tokens).toBe(0);
    expect(other.reserved).toBe(0);
  });
});
