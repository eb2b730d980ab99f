import { InvalidRequestError, NotFoundError, type RouteHandler } from '@fusionkit/core';
import { jsonResponse } from '@fusionkit/core/internal';
import { confinePath } from '../sources/confine-path.js';
import { isTokenizerPath } from '../splitters/tokenizer-file.js';
import type { CreateCollectionOptions } from '../store/rag-store.js';
import type { RagService, RequestKey } from './rag-service.js';
import {
  type Fields,
  isPlainObject,
  queryFields,
  readEnum,
  readInteger,
  readJsonObject,
  readObject,
  readString,
  withParam,
} from './request-fields.js';
import { collectionJson } from './wire-format.js';

/** `vector: false | true | { model, m, ef_construction, ef }` of a create request. */
function vectorOption(body: Fields, canEmbed: boolean): CreateCollectionOptions['vector'] | undefined {
  const value = body.vector;
  if (value === undefined || value === null) return canEmbed ? undefined : false;
  if (value === false) return false;
  if (value === true) return {};
  if (!isPlainObject(value)) {
    throw new InvalidRequestError("'vector' must be true, false or { model, m, ef_construction, ef }.", {
      param: 'vector',
    });
  }
  const model = readString(value, 'model', { max: 256, param: 'vector.model' });
  const M = readInteger(value, 'm', { min: 2, max: 128, param: 'vector.m' });
  const efConstruction = readInteger(value, 'ef_construction', {
    min: 10,
    max: 2000,
    param: 'vector.ef_construction',
  });
  const ef = readInteger(value, 'ef', { min: 10, max: 5000, param: 'vector.ef' });
  return {
    ...(model ? { model } : {}),
    ...(M ? { M } : {}),
    ...(efConstruction ? { efConstruction } : {}),
    ...(ef ? { ef } : {}),
  };
}

/**
 * `splitter: { kind, chunk_size, chunk_overlap, tokenizer }` of a create request (sizes in tokens for
 * 'token'; `tokenizer` a model or encoding name, or the path of a local `tokenizer.json` or its folder).
 */
export function splitterOption(body: Fields): CreateCollectionOptions['splitter'] | undefined {
  const splitter = readObject(body, 'splitter');
  if (!splitter) return undefined;
  const kind = readEnum(
    splitter,
    'kind',
    ['auto', 'recursive', 'markdown', 'token'] as const,
    'splitter.kind',
  );
  const tokenizer = readString(splitter, 'tokenizer', { max: 4096, param: 'splitter.tokenizer' });
  const chunkSize = readInteger(splitter, 'chunk_size', {
    min: kind === 'token' ? 16 : 50,
    max: 100_000,
    param: 'splitter.chunk_size',
  });
  const chunkOverlap = readInteger(splitter, 'chunk_overlap', {
    min: 0,
    max: Math.max(0, (chunkSize ?? (kind === 'token' ? 256 : 1000)) - 1),
    param: 'splitter.chunk_overlap',
  });
  return {
    ...(kind ? { kind } : {}),
    ...(tokenizer ? { tokenizer } : {}),
    ...(chunkSize ? { chunkSize } : {}),
    ...(chunkOverlap !== undefined ? { chunkOverlap } : {}),
  };
}

/**
 * A request's splitter with a tokenizer named by path confined to the folders paths may name (the
 * plugin's `roots`, as for ingested paths): a client must not make the server open any file it
 * likes. The path is replaced by the real path it resolved to. Names of encodings and models pass.
 */
export async function confineTokenizer(
  splitter: CreateCollectionOptions['splitter'] | undefined,
  roots: readonly string[],
): Promise<CreateCollectionOptions['splitter'] | undefined> {
  const tokenizer = splitter?.tokenizer;
  if (tokenizer === undefined || !isTokenizerPath(tokenizer)) return splitter;
  try {
    return { ...splitter, tokenizer: await confinePath(tokenizer, roots) };
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new InvalidRequestError(`No tokenizer at ${tokenizer}.`, {
        code: 'tokenizer_not_found',
        param: 'splitter.tokenizer',
      });
    }
    throw withParam(error, 'splitter.tokenizer');
  }
}

/**
 * `GET /api/rag/collections`, `POST /api/rag/collections` (`{ name, description, vector, splitter }`),
 * `GET /api/rag/collections/:name`, `DELETE /api/rag/collections/:name` and
 * `DELETE /api/rag/collections?name=…`.
 */
export function collectionRoutes(service: RagService): [string, string, RouteHandler][] {
  const json = (info: Parameters<typeof collectionJson>[0]) =>
    collectionJson(info, service.pipelines.modelOf(info.name));

  const list: RouteHandler = async (_request, { requestId, apiKey }) => {
    await service.sync();
    const infos = await service.list(apiKey);
    return jsonResponse({ object: 'list', data: infos.map(json) }, 200, requestId);
  };

  const create: RouteHandler = async (request, { requestId, apiKey }) => {
    const body = await readJsonObject(request, service.options.maxBodyBytes);
    const name = readString(body, 'name', { required: true, max: 64 });
    const description = readString(body, 'description', { max: 2000 });
    const vector = vectorOption(body, service.options.canEmbed);
    const splitter = await confineTokenizer(splitterOption(body), service.options.roots);
    // With API keys on, the key that creates a collection owns it: no other key sees it.
    const collection = await service.create(
      name,
      {
        ...(description ? { description } : {}),
        ...(vector !== undefined ? { vector } : {}),
        ...(splitter ? { splitter } : {}),
      },
      apiKey,
    );
    return jsonResponse(json(collection.info()), 201, requestId, {
      location: `/api/rag/collections/${name}`,
    });
  };

  const get: RouteHandler = async (_request, { requestId, params, apiKey }) => {
    const collection = await service.open(params.name, 'name', apiKey);
    return jsonResponse(json(collection.info()), 200, requestId);
  };

  const remove = async (name: unknown, requestId: string, apiKey: RequestKey) => {
    await service.remove(name, 'name', apiKey);
    return jsonResponse({ object: 'rag.collection.deleted', name, deleted: true }, 200, requestId);
  };

  return [
    ['GET', '/api/rag/collections', list],
    ['POST', '/api/rag/collections', create],
    [
      'DELETE',
      '/api/rag/collections',
      (request, { requestId, apiKey }) => remove(queryFields(request.url).name, requestId, apiKey),
    ],
    ['GET', '/api/rag/collections/:name', get],
    [
      'DELETE',
      '/api/rag/collections/:name',
      (_request, { requestId, params, apiKey }) => remove(params.name, requestId, apiKey),
    ],
  ];
}
