import { InvalidRequestError, type MetadataFilter } from '@fusionkit/core';

/** A compiled filter: true when a chunk's metadata matches. */
export type MetadataPredicate = (metadata: Record<string, unknown>) => boolean;

type Comparison = '$gt' | '$gte' | '$lt' | '$lte';
const COMPARISONS = new Set<string>(['$gt', '$gte', '$lt', '$lte']);
const FIELD_OPERATORS = new Set<string>(['$eq', '$ne', '$in', '$nin', ...COMPARISONS]);

function invalid(message: string): never {
  throw new InvalidRequestError(`Invalid filter: ${message}`, { code: 'invalid_filter', param: 'filter' });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (Object.is(left, right)) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  const leftKeys = Object.keys(left);
  if (leftKeys.length !== Object.keys(right).length) return false;
  return leftKeys.every((key) => deepEqual((left as never)[key], (right as never)[key]));
}

/** Values at a dotted path; arrays met on the way are walked into, as MongoDB does. */
function valuesAt(record: unknown, path: readonly string[], from = 0): unknown[] {
  if (from === path.length) return [record];
  if (Array.isArray(record)) return record.flatMap((item) => valuesAt(item, path, from));
  if (!isPlainObject(record) || !Object.hasOwn(record, path[from]!)) return [undefined];
  return valuesAt(record[path[from]!], path, from + 1);
}

/** Equality with MongoDB's array rule: `{ tags: 'a' }` matches `tags: ['a', 'b']`; `null` matches missing. */
function equals(actual: unknown, expected: unknown): boolean {
  if (expected === null && (actual === null || actual === undefined)) return true;
  if (deepEqual(actual, expected)) return true;
  return Array.isArray(actual) && actual.some((item) => deepEqual(item, expected));
}

function compare(actual: unknown, operator: Comparison, bound: number | string): boolean {
  if (Array.isArray(actual)) return actual.some((item) => compare(item, operator, bound));
  if (typeof actual !== typeof bound) return false;
  const left = actual as number | string;
  if (operator === '$gt') return left > bound;
  if (operator === '$gte') return left >= bound;
  if (operator === '$lt') return left < bound;
  return left <= bound;
}

function compileOperator(operator: string, operand: unknown, path: string): (value: unknown) => boolean {
  if (!FIELD_OPERATORS.has(operator)) invalid(`unknown operator '${operator}' at '${path}'`);
  if (operator === '$eq') return (value) => equals(value, operand);
  if (operator === '$ne') return (value) => !equals(value, operand);
  if (operator === '$in' || operator === '$nin') {
    if (!Array.isArray(operand)) invalid(`'${operator}' at '${path}' needs an array`);
    const candidates = operand as unknown[];
    const matches = (value: unknown) => candidates.some((candidate) => equals(value, candidate));
    return operator === '$in' ? matches : (value) => !matches(value);
  }
  if (typeof operand !== 'number' && typeof operand !== 'string') {
    invalid(`'${operator}' at '${path}' needs a number or a string`);
  }
  return (value) => compare(value, operator as Comparison, operand);
}

function compileField(path: string, condition: unknown): MetadataPredicate {
  if (!path || path.split('.').some((part) => part === '')) invalid(`bad field path '${path}'`);
  const segments = path.split('.');
  const operators = isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'));
  const entries = operators
    ? Object.entries(condition as Record<string, unknown>)
    : [['$eq', condition] as const];
  // `$ne`/`$nin` must hold for every value at the path, the others for at least one (MongoDB semantics).
  const tests = entries.map(([operator, operand]) => ({
    test: compileOperator(operator, operand, path),
    negative: operator === '$ne' || operator === '$nin',
  }));
  return (metadata) => {
    const values = valuesAt(metadata, segments);
    return tests.every(({ test, negative }) => (negative ? values.every(test) : values.some(test)));
  };
}

function compileClauses(clauses: unknown, operator: string): MetadataPredicate[] {
  if (!Array.isArray(clauses) || clauses.length === 0) invalid(`'${operator}' needs a non-empty array`);
  return (clauses as unknown[]).map((clause) => compileFilter(clause as MetadataFilter));
}

/**
 * Compiles a MongoDB-style filter once into a predicate, validating it on the way (a bad filter is a
 * 400 naming `filter`). Supported: implicit equality, `$eq $ne $in $nin $gt $gte $lt $lte`, `$and`,
 * `$or`, dotted paths.
 *
 * @example compileFilter({ lang: 'en', year: { $gte: 2020 }, $or: [{ tags: 'api' }, { draft: { $ne: true } }] })
 */
export function compileFilter(filter: MetadataFilter): MetadataPredicate {
  if (!isPlainObject(filter)) invalid('it must be an object');
  const predicates: MetadataPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') {
      const all = compileClauses(value, key);
      predicates.push((metadata) => all.every((predicate) => predicate(metadata)));
    } else if (key === '$or') {
      const any = compileClauses(value, key);
      predicates.push((metadata) => any.some((predicate) => predicate(metadata)));
    } else if (key.startsWith('$')) {
      invalid(`unknown top-level operator '${key}'`);
    } else {
      predicates.push(compileField(key, value));
    }
  }
  if (predicates.length === 1) return predicates[0]!;
  return (metadata) => predicates.every((predicate) => predicate(metadata));
}
