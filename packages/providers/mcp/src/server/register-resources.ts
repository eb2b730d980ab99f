import { type McpServer, ResourceNotFoundError, ResourceTemplate } from '@modelcontextprotocol/server';
import { keyIdOf, keyScopedRagStore } from './key-scoped-rag-store.js';
import type { McpFusion, RagStoreLike } from './mcp-fusion.js';
import { modelSummary } from './tools/list-models-tool.js';

const JSON_TYPE = 'application/json';
/** Documents listed in `resources/list`, over all collections. */
const MAX_LISTED_DOCUMENTS = 1000;

function json(uri: URL, value: unknown) {
  return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(value, null, 2) }] };
}

function decode(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function documentUri(collection: string, id: string): string {
  return `fusion://rag/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(id)}`;
}

/** `fusion://models`: every model and pipeline served. */
export function registerModelResources(server: McpServer, fusion: McpFusion): void {
  server.registerResource(
    'models',
    'fusion://models',
    {
      title: 'Models',
      description: 'The models and fusion pipelines the orchestrator serves.',
      mimeType: JSON_TYPE,
    },
    async (uri) => json(uri, { models: (await fusion.models()).map(modelSummary) }),
  );
}

/**
 * The RAG plugin's collections and documents: `fusion://rag/collections` (all),
 * `fusion://rag/collections/{collection}` (one, with its first documents) and
 * `fusion://rag/collections/{collection}/documents/{document}` (one document and its chunks).
 */
export function registerRagResources(server: McpServer, store: RagStoreLike): void {
  server.registerResource(
    'collections',
    'fusion://rag/collections',
    {
      title: 'Document collections',
      description: 'The collections rag_search and rag_ingest work on.',
      mimeType: JSON_TYPE,
    },
    async (uri, ctx) =>
      json(uri, { collections: await keyScopedRagStore(store, keyIdOf(ctx)).listCollections() }),
  );
  server.registerResource(
    'collection',
    new ResourceTemplate('fusion://rag/collections/{collection}', {
      list: async (ctx) => ({
        resources: (await keyScopedRagStore(store, keyIdOf(ctx)).listCollections()).map((info) => ({
          uri: `fusion://rag/collections/${encodeURIComponent(info.name)}`,
          name: info.name,
          ...(info.description ? { description: info.description } : {}),
          mimeType: JSON_TYPE,
        })),
      }),
    }),
    { title: 'Collection', description: 'One collection and its first 100 documents.', mimeType: JSON_TYPE },
    async (uri, variables, ctx) => {
      const name = decode(variables.collection);
      const scoped = keyScopedRagStore(store, keyIdOf(ctx));
      const collection = await scoped.getCollection(name).catch(() => {
        throw new ResourceNotFoundError(uri.href, `No collection '${name}'.`);
      });
      const info = (await scoped.listCollections()).find((candidate) => candidate.name === name);
      const page = collection.listDocuments({ limit: 100 });
      return json(uri, {
        ...info,
        name,
        total_documents: page.total,
        documents: page.documents.map((document) => ({
          ...document,
          uri: documentUri(name, document.id),
          source: document.uri,
        })),
      });
    },
  );
  server.registerResource(
    'document',
    new ResourceTemplate('fusion://rag/collections/{collection}/documents/{document}', {
      list: async (ctx) => {
        const resources = [];
        const scoped = keyScopedRagStore(store, keyIdOf(ctx));
        for (const info of await scoped.listCollections()) {
          if (resources.length >= MAX_LISTED_DOCUMENTS) break;
          const collection = await scoped.getCollection(info.name);
          const page = collection.listDocuments({ limit: MAX_LISTED_DOCUMENTS - resources.length });
          for (const document of page.documents) {
            resources.push({
              uri: documentUri(info.name, document.id),
              name: document.title ?? document.id,
              description: `In '${info.name}'${document.uri ? `, from ${document.uri}` : ''}`,
              mimeType: JSON_TYPE,
            });
          }
        }
        return { resources };
      },
    }),
    { title: 'Document', description: 'One document of a collection, with its chunks.', mimeType: JSON_TYPE },
    async (uri, variables, ctx) => {
      const name = decode(variables.collection);
      const id = decode(variables.document);
      const collection = await keyScopedRagStore(store, keyIdOf(ctx))
        .getCollection(name)
        .catch(() => undefined);
      const document = collection?.getDocument(id);
      if (!document)
        throw new ResourceNotFoundError(uri.href, `No document '${id}' in collection '${name}'.`);
      return json(uri, document);
    },
  );
}
