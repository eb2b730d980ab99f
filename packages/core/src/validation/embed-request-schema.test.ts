import { describe, expect, it } from 'vitest';
import type { FusionError } from '../errors/fusion-error.js';
import { parseEmbedRequest } from './embed-request-schema.js';

function failure(input: unknown): FusionError {
  try {
    parseEmbedRequest(input);
  } catch (error) {
    return error as FusionError;
  }
  throw new Error('expected parseEmbedRequest to throw');
}

describe('parseEmbedRequest', () => {
  it('accepts a string or an array of strings', () => {
    expect(parseEmbedRequest({ model: 'e', input: 'one' }).input).toBe('one');
    expect(parseEmbedRequest({ model: 'e', input: ['a', 'b'], encoding_format: 'base64' })).toEqual({
      model: 'e',
      input: ['a', 'b'],
      encoding_format: 'base64',
    });
  });

  it('drops nulls and keeps unknown fields', () => {
    const request = parseEmbedRequest({
      model: 'e',
      input: 'x',
      dimensions: null,
      user: null,
      extra: 1,
    }) as unknown as Record<string, unknown>;
    expect('dimensions' in request).toBe(false);
    expect('user' in request).toBe(false);
    expect(request.extra).toBe(1);
  });

  it('names the param at fault', () => {
    expect(failure({ model: 'e' })).toMatchObject({ status: 400, param: 'input' });
    expect(failure({ model: 'e', input: '' }).param).toBe('input');
    expect(failure({ model: 'e', input: [] }).param).toBe('input');
    expect(failure({ model: 'e', input: ['ok', ''] }).param).toBe('input[1]');
    expect(failure({ model: 'e', input: [1, 2, 3] }).param).toBe('input');
    expect(failure({ model: 'e', input: 'x', encoding_format: 'hex' }).param).toBe('encoding_format');
    expect(failure({ model: 'e', input: 'x', dimensions: -3 }).param).toBe('dimensions');
    expect(failure({ input: 'x' }).param).toBe('model');
    expect(failure({ model: 'e', input: new Array(2049).fill('x') }).param).toBe('input');
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, ['x'], 'x', 1])
      expect(failure(body)).toMatchObject({ status: 400, code: 'invalid_request' });
  });
});
