/** Schemas of the kinds structured outputs use; strings and arrays bounded so that walks end. */
export const TEST_SCHEMAS: Record<string, Record<string, unknown>> = {
  person: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: '^[a-z]{1,8}$' },
      age: { type: 'integer' },
      tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 3 },
    },
    required: ['name'],
  },
  order: {
    type: 'object',
    properties: {
      user: {
        type: 'object',
        properties: { id: { type: 'integer' }, email: { type: 'string', maxLength: 12 } },
        required: ['id'],
      },
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            sku: { type: 'string', pattern: '[A-Z]{3}-[0-9]{2}' },
            qty: { type: 'integer', minimum: 1, maximum: 9 },
          },
          required: ['sku', 'qty'],
        },
        minItems: 1,
        maxItems: 3,
      },
      status: { enum: ['open', 'closed'] },
      score: { type: 'number' },
      note: { type: ['string', 'null'], maxLength: 6 },
    },
    required: ['user', 'items', 'status'],
  },
  flags: { type: 'array', items: { type: ['boolean', 'null'] }, maxItems: 4 },
  either: { anyOf: [{ type: 'string', minLength: 2, maxLength: 5 }, { type: 'integer' }] },
  refs: {
    $defs: {
      point: {
        type: 'object',
        properties: { x: { type: 'number' }, y: { type: 'number' } },
        required: ['x', 'y'],
      },
    },
    type: 'object',
    properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' }, kind: { const: 'line' } },
    required: ['from', 'to', 'kind'],
  },
  mixedEnum: { enum: [1, 'two', null, true, { three: 3 }] },
  tuple: {
    type: 'array',
    prefixItems: [{ type: 'string', maxLength: 3 }, { type: 'integer' }],
    items: false,
  },
};
