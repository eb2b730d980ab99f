import { NotFoundError } from '@fusionkit/core';
import type { ServerContext } from '@modelcontextprotocol/server';
import type { RagStoreLike } from './mcp-fusion.js';

/** The API key id a request carries to the tools (`clientId` of its `authInfo`; see `mcpPlugin`). */
export function keyIdOf(context: ServerContext | undefined): string | undefined {
  return context?.http?.authInfo?.clientId;
}

/**
 * The store as one API key may see it, as the RAG routes scope it: collections made without a key
 * are everyone's, a key's own are its own, and another key's are as unknown as ones never made (the
 * same "No collection" error). Without a key (no keys configured, stdio) every collection shows.
 */
export function keyScopedRagStore(store: RagStoreLike, keyId: string | undefined): RagStoreLike {
  if (keyId === undefined) return store;
  const visible = (owner: unknown) => owner === undefined || owner === null || owner === keyId;
  return {
    listCollections: async () =>
      (await store.listCollections()).filter((info) => visible((info as { owner?: unknown }).owner)),
    // The owner is the opened collection's own, as `RagService.open` reads it: no listing of all.
    getCollection: async (name) => {
      const collection = await store.getCollection(name);
      if (!visible((collection as { config?: { owner?: unknown } }).config?.owner)) {
        throw new NotFoundError(`No collection '${name}'`, {
          code: 'collection_not_found',
          param: 'collection',
        });
      }
      return collection;
    },
  };
}
