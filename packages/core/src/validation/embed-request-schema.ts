import { z } from 'zod';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import { toInvalidRequest } from './zod-error.js';

/** The schema of an embeddings request body. */
export const embedRequestSchema = z.looseObject({
  model: z.string().min(1, 'is required'),
  input: z.union([
    z.string().min(1, 'must not be empty'),
    z.array(z.string().min(1, 'must not be empty')).min(1, 'must hold at least one text').max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().positive().nullish(),
  user: z.string().nullish(),
});

/** Validates an embeddings request; `null` fields are dropped. Throws 400 naming the field at fault. */
export function parseEmbedRequest(input: unknown): EmbedRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const parsed = embedRequestSchema.safeParse(input);
  if (!parsed.success) throw toInvalidRequest(parsed.error, 'embeddings request');
  const request = parsed.data as Record<string, unknown>;
  for (const key of Object.keys(request)) if (request[key] === null) delete request[key];
  return request as unknown as EmbedRequest;
}
