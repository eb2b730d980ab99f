/**
 * Which JSON schemas constrained decoding can enforce, checked before a request reaches the worker:
 * a keyword the grammar would not enforce is refused with a 400 that names it (and where it is),
 * never accepted and silently ignored. The supported set was measured: outputs drawn under each
 * keyword's grammar over many seeds all validate with ajv (see `output-constraints.test.ts`).
 */
import { UnsupportedError } from '@fusionkit/core';

/** Keywords that only describe: allowed anywhere, no effect on decoding. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/** Keywords the grammar enforces. */
const ENFORCED = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'anyOf',
  '$ref',
  '$defs',
  'definitions',
  'pattern',
  'minLength',
  'maxLength',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);

/** Why some well-known keywords are refused, where a hint helps. */
const HINTS: Record<string, string> = {
  oneOf: "use 'anyOf' (alternatives that overlap could not be kept exclusive)",
  allOf: 'merge the subschemas into one',
};

/** String formats the grammar enforces exactly; other formats are annotations here (2020-12's default). */
const ENFORCED_FORMATS = new Set(['date', 'uuid']);

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);

const PARAM = 'response_format.json_schema.schema';

function refuse(path: string, message: string): never {
  throw new UnsupportedError(`response_format json_schema: ${message} (at ${path || '#'}).`, {
    code: 'unsupported_schema',
    param: PARAM,
  });
}

/**
 * Checks `schema` and returns the schema the grammar is built from: the same, less the `format`s
 * that are only annotations here. Throws a 400 `unsupported_schema` naming the first keyword (or
 * value) that cannot be enforced.
 */
export function prepareJsonSchema(schema: unknown): Record<string, unknown> | boolean {
  return prepare(schema, '#');
}

function prepare(schema: unknown, path: string): Record<string, unknown> | boolean {
  if (typeof schema === 'boolean') return schema;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    refuse(path, 'a schema must be an object or a boolean');
  }
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    const at = `${path}/${keyword}`;
    if (ANNOTATIONS.has(keyword)) {
      out[keyword] = value;
      continue;
    }
    if (!ENFORCED.has(keyword)) {
      const hint = HINTS[keyword];
      refuse(
        path,
        `the keyword '${keyword}' is not supported by constrained decoding${hint ? `; ${hint}` : ''}`,
      );
    }
    out[keyword] = prepareKeyword(keyword, value, at);
    if (keyword === 'format' && !ENFORCED_FORMATS.has(String(value))) delete out[keyword];
  }
  return out;
}

function prepareKeyword(keyword: string, value: unknown, at: string): unknown {
  const schemaMap = (map: unknown) => {
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      refuse(at, `'${keyword}' must be an object`);
    return Object.fromEntries(Object.entries(map).map(([key, sub]) => [key, prepare(sub, `${at}/${key}`)]));
  };
  switch (keyword) {
    case 'type': {
      const types = Array.isArray(value) ? value : [value];
      const unknown = types.find((type) => typeof type !== 'string' || !TYPES.has(type));
      if (types.length === 0 || unknown !== undefined) refuse(at, `unknown type ${JSON.stringify(unknown)}`);
      return value;
    }
    case 'enum':
      if (!Array.isArray(value) || value.length === 0) refuse(at, "'enum' must be a non-empty array");
      return value;
    case 'properties':
    case 'patternProperties':
    case '$defs':
    case 'definitions':
      if (keyword === 'patternProperties')
        for (const pattern of Object.keys(value ?? {})) checkPattern(pattern, at);
      return schemaMap(value);
    case 'additionalProperties':
    case 'items':
      return prepare(value, at);
    case 'prefixItems':
    case 'anyOf':
      if (!Array.isArray(value) || value.length === 0) refuse(at, `'${keyword}' must be a non-empty array`);
      return value.map((sub, index) => prepare(sub, `${at}/${index}`));
    case 'required':
      if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) {
        refuse(at, "'required' must be an array of property names");
      }
      return value;
    case '$ref':
      if (typeof value !== 'string' || !value.startsWith('#')) {
        refuse(at, "only local references ('#/$defs/…') are supported");
      }
      return value;
    case 'pattern':
      if (typeof value !== 'string') refuse(at, "'pattern' must be a string");
      checkPattern(value, at);
      return value;
    case 'format':
      if (typeof value !== 'string') refuse(at, "'format' must be a string");
      return value;
    case 'const':
      return value;
    default:
      // Sizes and bounds.
      if (typeof value !== 'number' || !Number.isFinite(value)) refuse(at, `'${keyword}' must be a number`);
      if (keyword.endsWith('Length') || keyword.endsWith('Items') || keyword.endsWith('Properties')) {
        if (!Number.isInteger(value) || value < 0) refuse(at, `'${keyword}' must be a non-negative integer`);
      }
      return value;
  }
}

/** The grammar takes regular expressions without lookaround or back-references. */
function checkPattern(pattern: string, at: string): void {
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    refuse(
      at,
      `the pattern ${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message})`,
    );
  }
  if (/\(\?<?[=!]/.test(pattern))
    refuse(at, `the pattern ${JSON.stringify(pattern)} uses a lookaround, which is not supported`);
  if (/\\[1-9]|\\k</.test(pattern)) {
    refuse(at, `the pattern ${JSON.stringify(pattern)} uses a back-reference, which is not supported`);
  }
}
