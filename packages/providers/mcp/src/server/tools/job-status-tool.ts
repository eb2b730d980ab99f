import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { keyIdOf } from '../key-scoped-rag-store.js';
import type { JobsLike } from '../mcp-fusion.js';
import { structuredResult } from '../tool-results.js';

const input = z.object({
  job_id: z.string().min(1).max(128).describe('The id a long ingest answered with.'),
});

const output = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.string(),
  progress: z.object({ done: z.number(), total: z.number().optional() }),
  result: z.unknown().optional(),
  error: z.unknown().optional(),
});

/** `job_status`: the state of a background job (an ingest of many documents). */
export function registerJobStatusTool(server: McpServer, jobs: JobsLike): void {
  server.registerTool(
    'job_status',
    {
      title: 'Job status',
      description: 'Shows the status, progress and result of a background job.',
      inputSchema: input,
      outputSchema: output,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ job_id: id }, ctx) => {
      // Another key's job is as unknown as one that never was (as on /v1/jobs).
      const keyId = keyIdOf(ctx);
      const job = jobs.get(id, keyId === undefined ? {} : { owner: keyId });
      if (!job) {
        return {
          content: [
            { type: 'text', text: `No job '${id}': finished jobs are kept for a while, then forgotten.` },
          ],
          isError: true,
        };
      }
      const value = {
        id: job.id,
        kind: job.kind,
        status: job.status,
        progress: job.progress,
        ...(job.result === undefined ? {} : { result: job.result }),
        ...(job.error === undefined ? {} : { error: job.error }),
      };
      return structuredResult(
        value,
        `${job.kind} ${job.id}: ${job.status} (${job.progress.done}${job.progress.total === undefined ? '' : `/${job.progress.total}`})`,
      );
    },
  );
}
