import { FusionError, InvalidRequestError, UnsupportedMediaTypeError } from '@fusionkit/core';
import { readJsonBody } from '@fusionkit/core/internal';

/** A request body or query, read field by field; every refusal is a 400 naming the field. */
export type Fields = Record<string, unknown>;

function invalid(param: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`'${param}' ${message}`, { param });
}

/**
 * A JSON object body: 415 unless the request says `application/json` (or `…+json`), so a cross-site
 * `text/plain` "simple request" never reaches a handler, even one mounted without the orchestrator's
 * guard; 400 when it is not an object; 413 past `maxBytes`.
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Fields> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new UnsupportedMediaTypeError(
      `The request body's Content-Type ${type ? `'${type}'` : '(none)'} is not accepted here: send JSON with 'Content-Type: application/json'.`,
    );
  }
  return objectBody(await readJsonBody(request, maxBytes));
}

/** The body as an object, or a 400. */
export function objectBody(body: unknown): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  return body as Fields;
}

export function isPlainObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field. */
export function readString(
  fields: Fields,
  name: string,
  options: { required: true; max?: number; param?: string },
): string;
export function readString(
  fields: Fields,
  name: string,
  options?: { required?: boolean; max?: number; param?: string },
): string | undefined;
export function readString(
  fields: Fields,
  name: string,
  options: { required?: boolean; max?: number; param?: string } = {},
): string | undefined {
  const param = options.param ?? name;
  const value = fields[name];
  if (value === undefined || value === null) {
    if (options.required) throw invalid(param, 'is required.');
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(param, 'must be a string.');
  if (options.required && value.length === 0) throw invalid(param, 'must not be empty.');
  const max = options.max ?? 10_000;
  if (value.length > max) throw invalid(param, `must be at most ${max} characters.`);
  return value;
}

/** An integer field within bounds; with `fromText` (query strings, form fields) digits in a string count. */
export function readInteger(
  fields: Fields,
  name: string,
  bounds: { min: number; max: number; param?: string; fromText?: boolean },
): number | undefined {
  const param = bounds.param ?? name;
  const raw = fields[name];
  if (raw === undefined || raw === null || (bounds.fromText && raw === '')) return undefined;
  // Digits in a string are a number only where every value is text (query strings, form fields):
  // in JSON, `"k": "5"` is a mistake to report, not to guess at.
  const value = bounds.fromText && typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw invalid(param, `must be an integer from ${bounds.min} to ${bounds.max}.`);
  }
  return value;
}

/** A boolean field; `"true"`/`"false"` are accepted (form fields and query strings). */
export function readBoolean(fields: Fields, name: string, param = name): boolean | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(param, 'must be true or false.');
}

/** One of a few strings. */
export function readEnum<TValue extends string>(
  fields: Fields,
  name: string,
  values: readonly TValue[],
  param = name,
): TValue | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !values.includes(value as TValue)) {
    throw invalid(param, `must be one of ${values.map((item) => `'${item}'`).join(', ')}.`);
  }
  return value as TValue;
}

/** A finite number field (JSON numbers only). */
export function readNumber(
  fields: Fields,
  name: string,
  bounds: { min?: number; max?: number; param?: string } = {},
): number | undefined {
  const param = bounds.param ?? name;
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  const min = bounds.min ?? Number.NEGATIVE_INFINITY;
  const max = bounds.max ?? Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range =
      Number.isFinite(min) && Number.isFinite(max)
        ? ` from ${min} to ${max}`
        : Number.isFinite(min)
          ? ` ≥ ${min}`
          : '';
    throw invalid(param, `must be a number${range}.`);
  }
  return value;
}

/**
 * `mmr: true | { lambda, candidates }` and `min_score` of a search (`prefix` names them inside an
 * object, e.g. 'rag.'): the search options they stand for, each bad value a 400 naming its field.
 */
export function readDiversity(
  fields: Fields,
  k: number,
  prefix = '',
): { mmr?: { lambda?: number; candidates?: number }; minScore?: number } {
  const minScore = readNumber(fields, 'min_score', { param: `${prefix}min_score` });
  const value = fields.mmr;
  let mmr: { lambda?: number; candidates?: number } | undefined;
  if (value === true) mmr = {};
  else if (isPlainObject(value)) {
    const lambda = readNumber(value, 'lambda', { min: 0, max: 1, param: `${prefix}mmr.lambda` });
    const candidates = readInteger(value, 'candidates', {
      min: k,
      max: 1000,
      param: `${prefix}mmr.candidates`,
    });
    mmr = { ...(lambda !== undefined ? { lambda } : {}), ...(candidates ? { candidates } : {}) };
  } else if (value !== undefined && value !== null && value !== false) {
    throw invalid(`${prefix}mmr`, 'must be true, false or { lambda, candidates }.');
  }
  return { ...(mmr ? { mmr } : {}), ...(minScore !== undefined ? { minScore } : {}) };
}

/** An object field (a filter, metadata). */
export function readObject(fields: Fields, name: string, param = name): Fields | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalid(param, 'must be an object.');
  return value;
}

/** An array field of at most `max` items. */
export function readArray(fields: Fields, name: string, max: number, param = name): unknown[] | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(param, 'must be an array.');
  if (value.length > max) throw invalid(param, `may hold at most ${max} items.`);
  return value;
}

/** The same error, naming another field (a store error says 'name'; the route's field is 'collection'). */
export function withParam(error: unknown, param: string): unknown {
  if (!FusionError.isInstance(error) || error.param === param) return error;
  return new FusionError({
    message: error.message,
    code: error.code,
    status: error.status,
    type: error.type,
    param,
    isRetryable: error.isRetryable,
    cause: error.cause,
  });
}

/** The fields of a URL's query string; a repeated name gives an array. */
export function queryFields(url: string): Fields {
  const fields: Fields = {};
  for (const [key, value] of new URL(url).searchParams) {
    const existing = fields[key];
    if (existing === undefined) fields[key] = value;
    else fields[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return fields;
}
