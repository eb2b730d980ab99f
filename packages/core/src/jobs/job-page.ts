import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { JobSnapshot } from './job.js';

/** One page of jobs, newest first, in the shape of OpenAI's list endpoints. */
export interface JobPage {
  object: 'list';
  data: JobSnapshot[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Up to `limit` (1-100, default 20) of `jobs` after the job `after`; an unknown `after` is a 400. */
export function pageOf(jobs: JobSnapshot[], options: { limit?: number; after?: string }): JobPage {
  const limit = Math.min(Math.max(1, options.limit ?? 20), 100);
  const start = options.after ? jobs.findIndex((job) => job.id === options.after) + 1 : 0;
  if (options.after && start === 0) {
    throw new InvalidRequestError(`No job '${options.after}' to list after.`, {
      code: 'job_not_found',
      param: 'after',
    });
  }
  const data = jobs.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < jobs.length,
  };
}
