import { isRecord, type JsonRecord, stringOrUndefined } from './json-guards.js';

/** What an upstream error body says, whatever its shape. */
export interface UpstreamErrorInfo {
  /** Human-readable message. */
  message: string;
  /** OpenAI error `type`. @example 'rate_limit_exceeded' */
  type?: string;
  /** OpenAI error `code`, as a string (mlx-openai-server sends `"503"` or `404`). */
  code?: string;
  /** The request field at fault. @example 'messages[0].role' */
  param?: string;
  /** True for a FastAPI validation error (422 `{detail: [...]}`). */
  validation?: boolean;
}

const MAX_MESSAGE_LENGTH = 1000;

/**
 * Reads an error body of any shape servers send: OpenAI's `{error: {message, type, code, param}}`,
 * `{error: "text"}`, FastAPI's `{detail: {error: {...}}}`, `{detail: "text"}` and validation
 * `{detail: [{loc, msg}]}`, a bare `{message}`, or plain text. Accepts the raw text or parsed JSON.
 */
export function parseErrorBody(body: unknown): UpstreamErrorInfo | undefined {
  const value = typeof body === 'string' ? parseJsonText(body) : body;
  if (typeof value === 'string') {
    const text = value.trim();
    return text.length > 0 ? { message: truncate(text) } : undefined;
  }
  if (!isRecord(value)) return undefined;
  if (isRecord(value.error)) return fromErrorObject(value.error);
  if (typeof value.error === 'string') return { message: truncate(value.error) };
  const detail = value.detail;
  if (isRecord(detail))
    return isRecord(detail.error) ? fromErrorObject(detail.error) : fromErrorObject(detail);
  if (Array.isArray(detail)) return fromValidationErrors(detail);
  if (typeof detail === 'string') return { message: truncate(detail) };
  if (typeof value.message === 'string') return fromErrorObject(value);
  return { message: truncate(JSON.stringify(value)) };
}

function parseJsonText(text: string): unknown {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function fromErrorObject(error: JsonRecord): UpstreamErrorInfo {
  const code = error.code;
  return {
    message: truncate(stringOrUndefined(error.message) ?? JSON.stringify(error)),
    type: stringOrUndefined(error.type),
    code: typeof code === 'string' || typeof code === 'number' ? String(code) : undefined,
    param: stringOrUndefined(error.param),
  };
}

/** `[{loc: ['body', 'messages', 0, 'role'], msg: "Input should be ..."}]` → `messages[0].role: Input should be ...`. */
function fromValidationErrors(items: unknown[]): UpstreamErrorInfo {
  const problems: string[] = [];
  let param: string | undefined;
  for (const item of items) {
    if (!isRecord(item)) continue;
    const location = Array.isArray(item.loc) ? formatLocation(item.loc) : '';
    param ??= location || undefined;
    const message = stringOrUndefined(item.msg) ?? 'is invalid';
    problems.push(location ? `${location}: ${message}` : message);
  }
  const message = problems.length > 0 ? `Invalid request: ${problems.join('; ')}` : 'Invalid request.';
  return { message: truncate(message), param, validation: true };
}

function formatLocation(location: unknown[]): string {
  let path = '';
  for (const [index, part] of location.entries()) {
    if (index === 0 && part === 'body') continue;
    if (typeof part === 'number') path += `[${part}]`;
    else path += path === '' ? String(part) : `.${String(part)}`;
  }
  return path;
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}
