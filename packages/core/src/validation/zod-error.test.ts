import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatParam, toInvalidRequest } from './zod-error.js';

describe('formatParam', () => {
  it('writes paths the way OpenAI names params', () => {
    expect(formatParam(['messages', 0, 'role'])).toBe('messages[0].role');
    expect(formatParam(['tools', 2, 'function', 'name'])).toBe('tools[2].function.name');
    expect(formatParam(['model'])).toBe('model');
    expect(formatParam([0])).toBe('[0]');
    expect(formatParam([])).toBeNull();
  });
});

describe('toInvalidRequest', () => {
  it('turns the first issue into a 400 naming the field', () => {
    const result = z.object({ a: z.array(z.number()) }).safeParse({ a: [1, 'x'] });
    expect(result.success).toBe(false);
    const error = toInvalidRequest(result.error!, 'thing');
    expect(error).toMatchObject({ status: 400, param: 'a[1]' });
    expect(error.message).toMatch(/^Invalid thing: 'a\[1\]': /);
  });

  it('has a null param for a root issue', () => {
    const result = z.string().safeParse(1);
    const error = toInvalidRequest(result.error!, 'thing');
    expect(error.param).toBeNull();
    expect(error.message).toMatch(/^Invalid thing: /);
  });
});
