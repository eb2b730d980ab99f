import { NotFoundError } from '../errors/not-found-error.js';
import { jsonResponse } from '../http/responses.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import type { JobRunner } from './job-runner.js';

function notFound(id: string): NotFoundError {
  return new NotFoundError(`No job '${id}': finished jobs are kept for a while, then forgotten.`, {
    code: 'job_not_found',
    param: 'id',
  });
}

/**
 * The routes of a job runner, as `[method, path, handler]`: `GET /api/jobs` (every job held, newest
 * first, without results), `GET /api/jobs/:id` (one job with its result or error) and
 * `DELETE /api/jobs/:id` (cancel; answers the job's state).
 *
 * @example for (const [method, path, handler] of jobRoutes(jobs)) api.route(method, path, handler);
 */
export function jobRoutes(jobs: JobRunner): [string, string, RouteHandler][] {
  const list: RouteHandler = (_request, { requestId }) =>
    jsonResponse(
      { object: 'list', data: jobs.list().map(({ result: _result, ...job }) => job) },
      200,
      requestId,
    );
  const get: RouteHandler = (_request, { requestId, params }) => {
    const id = params.id ?? '';
    const job = jobs.get(id);
    if (!job) throw notFound(id);
    return jsonResponse(job, 200, requestId);
  };
  const cancel: RouteHandler = (_request, { requestId, params }) => {
    const id = params.id ?? '';
    const job = jobs.cancel(id);
    if (!job) throw notFound(id);
    return jsonResponse(job, 200, requestId);
  };
  return [
    ['GET', '/api/jobs', list],
    ['GET', '/api/jobs/:id', get],
    ['DELETE', '/api/jobs/:id', cancel],
  ];
}
