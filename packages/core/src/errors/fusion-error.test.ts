import { describe, expect, it } from 'vitest';
import { AbortedError } from './aborted-error.js';
import { FusionError } from './fusion-error.js';
import { InvalidRequestError } from './invalid-request-error.js';
import { ModelNotFoundError } from './model-not-found-error.js';
import { QueueFullError } from './queue-full-error.js';
import { TimeoutError } from './timeout-error.js';
import { toFusionError } from './to-fusion-error.js';
import { UnavailableError } from './unavailable-error.js';
import { UpstreamError } from './upstream-error.js';

describe('FusionError', () => {
  it('carries code, status, OpenAI type, param and cause', () => {
    const cause = new Error('root');
    const error = new InvalidRequestError('bad role', { param: 'messages[0].role', cause });
    expect(error).toBeInstanceOf(FusionError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InvalidRequestError');
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe('messages[0].role');
    expect(error.cause).toBe(cause);
    expect(error.isRetryable).toBe(false);
  });

  it('derives type and isRetryable from the status', () => {
    expect(new FusionError({ code: 'x', message: 'm' }).status).toBe(500);
    expect(new FusionError({ code: 'x', message: 'm', status: 401 }).type).toBe('authentication_error');
    expect(new FusionError({ code: 'x', message: 'm', status: 403 }).type).toBe('permission_error');
    expect(new ModelNotFoundError('m').type).toBe('not_found_error');
    expect(new QueueFullError('m').type).toBe('rate_limit_error');
    expect(new UpstreamError('m').type).toBe('server_error');
    expect(new QueueFullError('m').isRetryable).toBe(true);
    expect(new UnavailableError('m').isRetryable).toBe(true);
    expect(new TimeoutError('m').isRetryable).toBe(true);
    expect(new AbortedError('m').isRetryable).toBe(false);
    expect(new UpstreamError('m', { isRetryable: false }).isRetryable).toBe(false);
  });

  it('serialises to exactly OpenAI’s error body', () => {
    const error = new ModelNotFoundError("The model 'x' does not exist.");
    expect(error.toJSON()).toEqual({
      error: {
        message: "The model 'x' does not exist.",
        type: 'not_found_error',
        code: 'model_not_found',
        param: 'model',
      },
    });
    expect(JSON.parse(JSON.stringify(new UnavailableError('down')))).toEqual({
      error: { message: 'down', type: 'server_error', code: 'unavailable', param: null },
    });
  });

  it('isInstance recognises errors of a second installed copy by the shared symbol', () => {
    // What another copy of the package creates: its own class, the same `Symbol.for` marker.
    const foreign = Object.assign(new Error('from copy two'), {
      [Symbol.for('@fusionkit/core/error')]: true,
      code: 'upstream_error',
      status: 502,
    });
    expect(foreign instanceof FusionError).toBe(false);
    expect(FusionError.isInstance(foreign)).toBe(true);
    expect(FusionError.isInstance(new TimeoutError('t'))).toBe(true);
    expect(FusionError.isInstance(new Error('plain'))).toBe(false);
    expect(FusionError.isInstance({ code: 'x', status: 400 })).toBe(false);
    expect(FusionError.isInstance(null)).toBe(false);
    expect(FusionError.isInstance('error')).toBe(false);
    expect(FusionError.isInstance({ [Symbol.for('@fusionkit/core/error')]: 'yes' })).toBe(false);
  });
});

describe('toFusionError', () => {
  it('returns FusionErrors (of any copy) unchanged', () => {
    const error = new QueueFullError('full', { retryAfterMs: 2000 });
    expect(toFusionError(error)).toBe(error);
    const foreign = { [Symbol.for('@fusionkit/core/error')]: true, code: 'x' };
    expect(toFusionError(foreign)).toBe(foreign);
  });

  it('turns unknown throws into a 500 internal_error without leaking their message', () => {
    for (const thrown of [
      new Error('password=hunter2 at /srv/secret.ts'),
      'a string',
      42,
      undefined,
      null,
      { a: 1 },
    ]) {
      const error = toFusionError(thrown);
      expect(error.status).toBe(500);
      expect(error.code).toBe('internal_error');
      expect(error.type).toBe('server_error');
      expect(error.message).not.toContain('hunter2');
      expect(error.message).not.toContain('secret');
      expect(JSON.stringify(error.toJSON())).not.toContain('hunter2');
      expect(error.cause).toBe(thrown);
      expect(error.isRetryable).toBe(false);
    }
  });

  it('turns an AbortError into aborted', () => {
    const abort = new DOMException('The operation was aborted.', 'AbortError');
    const error = toFusionError(abort);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('aborted');
    expect(error.cause).toBe(abort);
    const named = Object.assign(new Error(''), { name: 'AbortError' });
    expect(toFusionError(named).code).toBe('aborted');
  });

  it('turns a TimeoutError (AbortSignal.timeout) into a 504 timeout, not an abort', () => {
    const reason = new DOMException('The operation timed out.', 'TimeoutError');
    const error = toFusionError(reason);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.status).toBe(504);
    expect(error.cause).toBe(reason);
  });
});
