import { expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import type { fusionConfigSchema } from './config-schema.js';
import type { FusionConfig } from './fusion-config.js';

type SchemaInput = z.input<typeof fusionConfigSchema>;
/** Every key of every member of a union. */
type KeysOf<T> = T extends unknown ? keyof T : never;

test('the schema checks exactly the keys FusionConfig declares (a new option needs both)', () => {
  expectTypeOf<Exclude<keyof SchemaInput, '$schema'>>().toEqualTypeOf<keyof FusionConfig>();
  expectTypeOf<keyof NonNullable<SchemaInput['queue']>>().toEqualTypeOf<
    keyof NonNullable<FusionConfig['queue']>
  >();
  expectTypeOf<keyof NonNullable<SchemaInput['security']>>().toEqualTypeOf<
    keyof NonNullable<FusionConfig['security']>
  >();
  expectTypeOf<keyof NonNullable<SchemaInput['traces']>>().toEqualTypeOf<
    keyof NonNullable<FusionConfig['traces']>
  >();
  expectTypeOf<keyof NonNullable<SchemaInput['responses']>>().toEqualTypeOf<
    keyof NonNullable<FusionConfig['responses']>
  >();
  expectTypeOf<keyof Exclude<NonNullable<SchemaInput['resilience']>, false>>().toEqualTypeOf<
    keyof Exclude<NonNullable<FusionConfig['resilience']>, false>
  >();
  expectTypeOf<keyof Exclude<NonNullable<SchemaInput['mlx']>, false>>().toEqualTypeOf<
    keyof Exclude<NonNullable<FusionConfig['mlx']>, false>
  >();
  expectTypeOf<keyof Exclude<NonNullable<SchemaInput['mcp']>, false>>().toEqualTypeOf<
    keyof Exclude<NonNullable<FusionConfig['mcp']>, false>
  >();
  expectTypeOf<KeysOf<NonNullable<SchemaInput['mcpServers']>[string]>>().toEqualTypeOf<
    keyof NonNullable<FusionConfig['mcpServers']>[string]
  >();
  expectTypeOf<keyof Exclude<NonNullable<SchemaInput['rag']>, false>>().toEqualTypeOf<
    keyof Exclude<NonNullable<FusionConfig['rag']>, false>
  >();
  expectTypeOf<keyof NonNullable<SchemaInput['pipelines']>[number]>().toEqualTypeOf<
    keyof NonNullable<FusionConfig['pipelines']>[number]
  >();
});

test('what the schema accepts is a FusionConfig', () => {
  expectTypeOf<z.output<typeof fusionConfigSchema>>().toExtend<FusionConfig>();
});
