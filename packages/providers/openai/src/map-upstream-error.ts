import type { IncomingHttpHeaders } from 'node:http';
import {
  AuthenticationError,
  type FusionError,
  InvalidRequestError,
  ModelNotFoundError,
  PayloadTooLargeError,
  QueueFullError,
  TimeoutError,
  UnavailableError,
  UpstreamError,
} from '@fusionkit/core';
import { parseErrorBody, type UpstreamErrorInfo } from './parse-error-body.js';

/** Where an upstream error came from. */
export interface UpstreamErrorContext {
  /** Provider id, for messages. */
  providerId: string;
  /** Response headers (`Retry-After`); absent for errors inside a stream. */
  headers?: IncomingHttpHeaders;
}

/** The `Retry-After` of an upstream 429 that gives none, ms. */
const DEFAULT_BUSY_RETRY_AFTER_MS = 1000;
/** `"429: {'error': {...}}"`: an HTTPException stringified by a catch-all handler (mlx-openai-server-lab). */
const STATUS_PREFIX = /^([45]\d\d):\s*/;
/** `'message': 'text'` or `"message": "text"` inside a Python dict repr or JSON. */
const QUOTED_MESSAGE = /['"]message['"]\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/;

/**
 * Maps an upstream error (HTTP status plus body) to the orchestrator's error classes.
 *
 * `status` 200 means the error arrived inside an SSE stream: its `code` then gives the status.
 * An HTTP 500 whose message starts with `"429: "` or `"400: "` (mlx-openai-server-lab wraps every
 * chat error that way) is mapped as that status. A 422 is the upstream's disagreement with what we
 * sent it, so a 502 `upstream_error`; a 429 always carries a `Retry-After` (1 s when none was given).
 */
export function mapUpstreamError(status: number, body: unknown, context: UpstreamErrorContext): FusionError {
  const info = parseErrorBody(body) ?? { message: `The upstream answered HTTP ${status}.` };
  let effective = status;
  if (status < 400) {
    const code = Number(info.code);
    effective = Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
  }
  let message = info.message;
  const prefixed = STATUS_PREFIX.exec(message);
  if (prefixed && effective === 500) {
    effective = Number(prefixed[1]);
    message = innerMessage(message.slice(prefixed[0].length));
  }
  return toError(effective, message, info, context);
}

function toError(
  status: number,
  message: string,
  info: UpstreamErrorInfo,
  context: UpstreamErrorContext,
): FusionError {
  const param = info.param ?? null;
  const cause = { upstreamStatus: status, type: info.type, code: info.code };
  const upstream = `The upstream of provider '${context.providerId}'`;
  if (status === 400) return new InvalidRequestError(message, { param, cause });
  // The client's request passed our validation and was translated by us: a 422 means the upstream
  // wants something else (a field it does not know, a shape it reads differently). The client
  // cannot fix that, so no 400 naming a field it did send, and no retry: the same request fails again.
  if (status === 422) {
    return new UpstreamError(`${upstream} rejected the request it was sent: ${message}`, {
      isRetryable: false,
      cause,
    });
  }
  if (status === 401 || status === 403)
    return new AuthenticationError(`${upstream} refused the credentials: ${message}`, { status, cause });
  if (status === 404) {
    if (isAboutModel(message, info)) return new ModelNotFoundError(message, { cause });
    return new UpstreamError(`${upstream} answered 404: ${message}`, { isRetryable: false, cause });
  }
  if (status === 408) return new TimeoutError(`${upstream} timed out: ${message}`, { cause });
  if (status === 413) return new PayloadTooLargeError(message, { cause });
  const retryAfterMs = retryAfter(context.headers);
  if (status === 429) {
    // An overloaded upstream that names no time (FastAPI's `detail` 429, lab's "429:" inside a 500,
    // an error event in a stream) still means "come back later": say when, so clients back off.
    return new QueueFullError(`${upstream} is busy: ${message}`, {
      retryAfterMs: retryAfterMs ?? DEFAULT_BUSY_RETRY_AFTER_MS,
      cause,
    });
  }
  if (status === 503)
    return new UnavailableError(`${upstream} is unavailable: ${message}`, { retryAfterMs, cause });
  if (status >= 500) return new UpstreamError(`${upstream} failed: ${message}`, { status: 502, cause });
  return new UpstreamError(`${upstream} answered ${status}: ${message}`, {
    status,
    isRetryable: false,
    cause,
  });
}

function isAboutModel(message: string, info: UpstreamErrorInfo): boolean {
  return (
    info.type === 'model_not_found' ||
    info.code === 'model_not_found' ||
    info.param === 'model' ||
    /model/i.test(message)
  );
}

/** The readable message inside `{'error': {'message': '...'}}` (Python repr or JSON), or the text itself. */
function innerMessage(text: string): string {
  if (!text.startsWith('{')) return text;
  const parsed = parseErrorBody(text);
  if (parsed && parsed.message !== text && !parsed.message.startsWith('{')) return parsed.message;
  const quoted = QUOTED_MESSAGE.exec(text);
  return quoted ? (quoted[1] ?? quoted[2] ?? text) : text;
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds. */
function retryAfter(headers: IncomingHttpHeaders | undefined): number | undefined {
  const value = headers?.['retry-after'];
  if (typeof value !== 'string' || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
