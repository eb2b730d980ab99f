import { toFusionError } from '../../errors/to-fusion-error.js';
import type { Fusion } from '../../fusion/fusion.js';
import type { JobHandler } from '../../jobs/job.js';
import type { ChatRequest } from '../../spec/chat/chat-request.js';
import type { ResponseStore } from './response-store.js';
import { toResponseObject } from './to-response-object.js';

/** The job kind of `background: true` responses. */
export const RESPONSE_JOB_KIND = 'response.background';

/** What a background response's job is given: the stored response's id and its chat request. */
export interface BackgroundResponseInput {
  id: string;
  chat: ChatRequest;
}

/**
 * The work of a background response: its chat request answered, the stored response moved from
 * `queued` to `in_progress` to `completed` (or `failed`). A response cancelled meanwhile stays
 * cancelled. Created in code only (`http: false`): `POST /v1/jobs` cannot start one.
 */
export function backgroundResponseJob(
  fusion: Fusion,
  store: ResponseStore,
): JobHandler<BackgroundResponseInput, { status: string }> {
  return {
    http: false,
    async run(input, context) {
      const record = await store.get(input.id);
      // Deleted or cancelled before it started (perhaps on another instance).
      if (!record || record.response.status === 'cancelled') return { status: 'cancelled' };
      record.response.status = 'in_progress';
      // Its job, so that a cancel on any instance reaches this run.
      record.jobId = context.id;
      await store.set(record);
      let status: string;
      try {
        // The key that asked pays for the tokens, whichever instance runs the job.
        const result = await fusion.chat(input.chat, {
          signal: context.signal,
          requestId: input.id,
          apiKeyId: record.owner,
        });
        record.response = toResponseObject(record.response, result);
      } catch (error) {
        // Cancelled, or the runner closing: the cancel route (or the next run) says what happened.
        if (context.signal.aborted) throw error;
        const failure = toFusionError(error);
        record.response.status = 'failed';
        record.response.error = { code: failure.code, message: failure.message };
      } finally {
        status = record.response.status;
      }
      const latest = await store.get(input.id);
      if (!latest || latest.response.status === 'cancelled') return { status: 'cancelled' };
      await store.set(record);
      return { status };
    },
  };
}
