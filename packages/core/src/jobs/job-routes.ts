import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { NotFoundError } from '../errors/not-found-error.js';
import { readJsonBody } from '../http/read-json-body.js';
import { jsonResponse } from '../http/responses.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import type { JobWebhook } from './job.js';
import type { JobRunnerLike } from './job-runner-like.js';
import { parseJobRequest } from './parse-job-request.js';

/** Options of {@link jobRoutes}. */
export interface JobRoutesOptions {
  /** Route prefixes served. @default ['/v1/jobs', '/api/jobs'] */
  prefixes?: string[];
  /** Largest `POST` body, bytes. @default 4 MiB */
  maxBodyBytes?: number;
  /**
   * Checks a webhook URL before a job is created (throw an `InvalidRequestError` to refuse it), e.g.
   * against private networks. @default http(s) URLs only
   */
  checkWebhookUrl?: (url: URL) => void | Promise<void>;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`No job '${id}': finished jobs are kept for a while, then forgotten.`, {
    code: 'job_not_found',
    param: 'id',
  });
}

function limitOf(value: string | null): number | undefined {
  if (value === null) return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new InvalidRequestError('limit must be an integer from 1 to 100.', { param: 'limit' });
  }
  return limit;
}

/**
 * The routes of a job runner, as `[method, path, handler]`, under each prefix (`/v1/jobs` and
 * `/api/jobs`): `POST` (create a job of a defined kind; an `Idempotency-Key` header returns the
 * first job created with it), `GET` (a page, newest first: `?limit=&after=`, without results),
 * `GET /:id` (one job with its result or error), `POST /:id/cancel` and `DELETE /:id` (cancel;
 * answers the job's state).
 *
 * @example for (const [method, path, handler] of jobRoutes(jobs)) api.route(method, path, handler);
 */
export function jobRoutes(
  jobs: JobRunnerLike,
  options: JobRoutesOptions = {},
): [string, string, RouteHandler][] {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const create: RouteHandler = async (request, { requestId, apiKey }) => {
    const body = parseJobRequest(await readJsonBody(request, maxBodyBytes));
    if (!jobs.kinds.includes(body.kind)) {
      throw new InvalidRequestError(
        `No job kind '${body.kind}'; known kinds: ${jobs.kinds.join(', ') || 'none'}.`,
        {
          code: 'unknown_job_kind',
          param: 'kind',
        },
      );
    }
    const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
    let webhook: JobWebhook | undefined;
    if (body.webhook) {
      await options.checkWebhookUrl?.(new URL(body.webhook.url));
      webhook = body.webhook;
    }
    const job = await jobs.create({
      kind: body.kind,
      input: body.input,
      ...(body.metadata ? { metadata: body.metadata } : {}),
      ...(webhook ? { webhook } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
      // With API keys on, a job belongs to the key that created it.
      ...(apiKey ? { owner: apiKey.id } : {}),
    });
    // The answer promises the job: it must be in the store before the client hears of it.
    await jobs.flush();
    const path = new URL(request.url).pathname.replace(/\/+$/, '');
    return jsonResponse(job, 202, requestId, { location: `${path}/${job.id}` });
  };
  const list: RouteHandler = async (request, { requestId, apiKey }) => {
    const query = new URL(request.url).searchParams;
    const limit = limitOf(query.get('limit'));
    const after = query.get('after') ?? undefined;
    const page = await jobs.page({
      ...(limit ? { limit } : {}),
      ...(after ? { after } : {}),
      ...(apiKey ? { owner: apiKey.id } : {}),
    });
    return jsonResponse(
      { ...page, data: page.data.map(({ result: _result, ...job }) => job) },
      200,
      requestId,
    );
  };
  const get: RouteHandler = async (_request, { requestId, params, apiKey }) => {
    const id = params.id ?? '';
    const job = await jobs.get(id, apiKey ? { owner: apiKey.id } : {});
    if (!job) throw notFound(id);
    return jsonResponse(job, 200, requestId);
  };
  const cancel: RouteHandler = async (_request, { requestId, params, apiKey }) => {
    const id = params.id ?? '';
    const job = await jobs.cancel(id, apiKey ? { owner: apiKey.id } : {});
    if (!job) throw notFound(id);
    await jobs.flush();
    return jsonResponse(job, 200, requestId);
  };
  return (options.prefixes ?? ['/v1/jobs', '/api/jobs']).flatMap(
    (prefix): [string, string, RouteHandler][] => [
      ['POST', prefix, create],
      ['GET', prefix, list],
      ['GET', `${prefix}/:id`, get],
      ['POST', `${prefix}/:id/cancel`, cancel],
      ['DELETE', `${prefix}/:id`, cancel],
    ],
  );
}
