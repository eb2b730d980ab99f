import { type Embedding, type EmbedRequest, type EmbedResult, UpstreamError } from '@fusionkit/core';
import { isRecord, numberOrUndefined } from './json-guards.js';

/**
 * Reads an embeddings body into an {@link EmbedResult} with float vectors in input order. A base64
 * vector (little-endian float32, what servers send for `encoding_format: "base64"`) is decoded.
 */
export function toEmbedResult(body: unknown, request: EmbedRequest): EmbedResult {
  if (!isRecord(body) || !Array.isArray(body.data)) {
    throw new UpstreamError('The upstream answered with a body that is not an embeddings list.');
  }
  const data: Embedding[] = [];
  for (const [position, item] of body.data.entries()) {
    if (!isRecord(item)) continue;
    data.push({
      object: 'embedding',
      index: numberOrUndefined(item.index) ?? position,
      embedding: toVector(item.embedding),
    });
  }
  data.sort((left, right) => left.index - right.index);
  const usage = isRecord(body.usage) ? body.usage : {};
  const promptTokens = numberOrUndefined(usage.prompt_tokens) ?? 0;
  return {
    object: 'list',
    model: request.model,
    data,
    usage: {
      prompt_tokens: promptTokens,
      total_tokens: numberOrUndefined(usage.total_tokens) ?? promptTokens,
    },
  };
}

function toVector(value: unknown): number[] {
  if (Array.isArray(value)) return value as number[];
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64');
    const vector = new Array<number>(bytes.length >>> 2);
    for (let index = 0; index < vector.length; index++) vector[index] = bytes.readFloatLE(index * 4);
    return vector;
  }
  throw new UpstreamError('The upstream sent an embedding that is neither a list of numbers nor base64.');
}
