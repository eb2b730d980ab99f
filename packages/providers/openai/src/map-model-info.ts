import type { ModelInfo } from '@fusionkit/core';
import { isRecord, type JsonRecord, numberOrUndefined, stringOrUndefined } from './json-guards.js';

/** Fields of a `/v1/models` entry that map to {@link ModelInfo} fields rather than to `metadata`. */
const KNOWN_FIELDS = new Set([
  'id',
  'object',
  'created',
  'owned_by',
  'description',
  'context_length',
  'family',
  'tags',
  'type',
  'metadata',
]);

/**
 * Reads one entry of `GET /v1/models`: OpenAI's `{id, created, owned_by}` plus the metadata of
 * mlx-openai-server-lab (`description`, `context_length`, `family`, `tags`, `tier`). Embedding
 * models (an id containing `embed`, lab's `embeddings` tag, or a `type` saying so) get
 * `capabilities.embeddings`; every other model chat and tools. Other fields go to `metadata`.
 */
export function toModelInfo(entry: JsonRecord): ModelInfo | undefined {
  const id = stringOrUndefined(entry.id);
  if (id === undefined || id === '') return undefined;
  const tags = Array.isArray(entry.tags)
    ? entry.tags.filter((tag): tag is string => typeof tag === 'string')
    : undefined;
  const declaredType =
    stringOrUndefined(entry.type) ??
    stringOrUndefined(isRecord(entry.metadata) ? entry.metadata.type : undefined);
  const embeddings =
    /embed/i.test(id) ||
    tags?.includes('embeddings') === true ||
    declaredType === 'embeddings' ||
    declaredType === 'embedding';
  const info: ModelInfo = embeddings
    ? { id, type: 'embeddings', capabilities: { embeddings: true } }
    : {
        id,
        type: 'chat',
        capabilities: { chat: true, tools: true, ...(tags?.includes('vision') ? { vision: true } : {}) },
      };

  const created = numberOrUndefined(entry.created);
  if (created !== undefined) info.created = created;
  const ownedBy = stringOrUndefined(entry.owned_by);
  if (ownedBy !== undefined) info.owned_by = ownedBy;
  const description = stringOrUndefined(entry.description);
  if (description !== undefined) info.description = description;
  const contextLength = numberOrUndefined(entry.context_length);
  if (contextLength !== undefined) info.context_length = contextLength;
  const family = stringOrUndefined(entry.family);
  if (family !== undefined) info.family = family;
  if (tags !== undefined) info.tags = tags;

  const metadata: Record<string, unknown> = isRecord(entry.metadata) ? { ...entry.metadata } : {};
  for (const [key, value] of Object.entries(entry)) {
    if (!KNOWN_FIELDS.has(key) && value !== null && value !== undefined) metadata[key] = value;
  }
  if (Object.keys(metadata).length > 0) info.metadata = metadata;
  return info;
}

/** The static `models` option, ids or descriptions, as {@link ModelInfo}s. */
export function toStaticModels(models: readonly (ModelInfo | string)[]): ModelInfo[] {
  return models.map((model) =>
    typeof model === 'string' ? (toModelInfo({ id: model }) ?? { id: model }) : model,
  );
}
