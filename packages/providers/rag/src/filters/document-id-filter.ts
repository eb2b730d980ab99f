import type { MetadataFilter } from '@fusionkit/core';

/** Fields that hold a document's id or URI. */
const ID_FIELDS = new Set(['documentId', 'uri']);
/** Operators whose operand is one value (mapped) or a list of values (each mapped). */
const VALUE_OPERATORS = new Set(['$eq', '$ne']);
const LIST_OPERATORS = new Set(['$in', '$nin']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapValue(value: unknown, toShown: (id: string) => string): unknown {
  return typeof value === 'string' ? toShown(value) : value;
}

function mapCondition(condition: unknown, toShown: (id: string) => string): unknown {
  if (!isPlainObject(condition)) return mapValue(condition, toShown);
  if (!Object.keys(condition).some((key) => key.startsWith('$'))) return condition;
  return Object.fromEntries(
    Object.entries(condition).map(([operator, operand]) => [
      operator,
      VALUE_OPERATORS.has(operator)
        ? mapValue(operand, toShown)
        : LIST_OPERATORS.has(operator) && Array.isArray(operand)
          ? operand.map((item) => mapValue(item, toShown))
          : operand,
    ]),
  );
}

/**
 * A filter whose `documentId` and `uri` conditions name documents as clients see them. Ids (and
 * URIs) of files were absolute `file:///…` URLs before they became relative to their root
 * (`file:docs/guide.md`); a collection's filter view shows earlier documents in the relative form,
 * and this maps the values of a filter the same way, so either form finds a document of either age.
 * `toShown` maps one id (it returns any id that is not of the earlier form unchanged). Anything it
 * does not understand is left as is for {@link compileFilter} to judge.
 * @example showDocumentIds({ documentId: { $in: ['file:///srv/docs/a.md'] } }, toShown)
 * // { documentId: { $in: ['file:docs/a.md'] } }
 */
export function showDocumentIds(filter: MetadataFilter, toShown: (id: string) => string): MetadataFilter {
  if (!isPlainObject(filter)) return filter;
  return Object.fromEntries(
    Object.entries(filter).map(([key, value]) => {
      if ((key === '$and' || key === '$or') && Array.isArray(value)) {
        return [key, value.map((clause) => showDocumentIds(clause as MetadataFilter, toShown))];
      }
      return [key, ID_FIELDS.has(key) ? mapCondition(value, toShown) : value];
    }),
  ) as MetadataFilter;
}
