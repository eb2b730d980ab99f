import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { JobWebhook } from './job.js';

/** The body of `POST /v1/jobs`. */
export interface JobRequest {
  /** A kind defined on the runner. @example 'chat.batch' */
  kind: string;
  /** What the kind's handler takes. */
  input?: unknown;
  metadata?: Record<string, unknown>;
  webhook?: JobWebhook;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseWebhook(value: unknown): JobWebhook {
  if (!isRecord(value) || typeof value.url !== 'string') {
    throw new InvalidRequestError('webhook must be an object with a url.', { param: 'webhook' });
  }
  let url: URL;
  try {
    url = new URL(value.url);
  } catch {
    throw new InvalidRequestError(`webhook.url '${value.url}' is not a URL.`, {
      code: 'invalid_webhook_url',
      param: 'webhook.url',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRequestError('webhook.url must be an http(s) URL.', {
      code: 'invalid_webhook_url',
      param: 'webhook.url',
    });
  }
  if (value.secret !== undefined && typeof value.secret !== 'string') {
    throw new InvalidRequestError('webhook.secret must be a string.', { param: 'webhook.secret' });
  }
  const headers = value.headers;
  if (
    headers !== undefined &&
    (!isRecord(headers) || Object.values(headers).some((header) => typeof header !== 'string'))
  ) {
    throw new InvalidRequestError('webhook.headers must map names to strings.', { param: 'webhook.headers' });
  }
  return {
    url: url.href,
    ...(value.secret ? { secret: value.secret } : {}),
    ...(headers ? { headers: headers as Record<string, string> } : {}),
  };
}

/** Checks the body of `POST /v1/jobs`; anything off is a 400 naming the field. */
export function parseJobRequest(body: unknown): JobRequest {
  if (!isRecord(body)) throw new InvalidRequestError('The body must be a JSON object.');
  if (typeof body.kind !== 'string' || body.kind === '') {
    throw new InvalidRequestError('kind must name a kind of job.', { param: 'kind' });
  }
  if (body.metadata !== undefined && !isRecord(body.metadata)) {
    throw new InvalidRequestError('metadata must be an object.', { param: 'metadata' });
  }
  return {
    kind: body.kind,
    ...(body.input === undefined ? {} : { input: body.input }),
    ...(body.metadata ? { metadata: body.metadata } : {}),
    ...(body.webhook === undefined ? {} : { webhook: parseWebhook(body.webhook) }),
  };
}
