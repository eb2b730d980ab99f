import type { z } from 'zod';
import { InvalidRequestError } from '../errors/invalid-request-error.js';

/** `['messages', 0, 'role']` → `messages[0].role` */
export function formatParam(path: readonly PropertyKey[]): string | null {
  let param = '';
  for (const key of path) {
    if (typeof key === 'number') param += `[${key}]`;
    else param += param ? `.${String(key)}` : String(key);
  }
  return param || null;
}

/** The first issue of a failed parse as a 400 naming the field. */
export function toInvalidRequest(error: z.ZodError, what: string): InvalidRequestError {
  const issue = error.issues[0];
  const param = issue ? formatParam(issue.path) : null;
  const detail = issue?.message ?? 'invalid value';
  return new InvalidRequestError(
    param ? `Invalid ${what}: '${param}': ${detail}` : `Invalid ${what}: ${detail}`,
    {
      param,
    },
  );
}
