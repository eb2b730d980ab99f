import { NotFoundError, PermissionDeniedError } from '@fusionkit/core';
import type { ServerContext } from '@modelcontextprotocol/server';
import type { RagStoreLike } from './mcp-fusion.js';

/** The API key id a request carries to the tools (`clientId` of its `authInfo`; see `mcpPlugin`). */
export function keyIdOf(context: ServerContext | undefined): string | undefined {
  return context?.http?.authInfo?.clientId;
}

/** The key id of a request as call options (`{ apiKeyId }`, or none): its model calls are charged to it. */
export function keyOptionsOf(context: ServerContext | undefined): { apiKeyId?: string } {
  const keyId = keyIdOf(context);
  return keyId === undefined ? {} : { apiKeyId: keyId };
}

/** The `authInfo` scope of an admin key's requests (see `mcpPlugin`). */
export const ADMIN_SCOPE = 'admin';

/**
 * Refuses a write (`rag_ingest`) to a collection made without a key by a key that is not an admin
 * key, as the RAG routes do (403 `collection_read_only`): every key reads it, none changes it for all.
 */
export function checkWritable(collection: unknown, context: ServerContext | undefined): void {
  const keyId = keyIdOf(context);
  if (keyId === undefined || context?.http?.authInfo?.scopes?.includes(ADMIN_SCOPE)) return;
  const { name, config } = collection as { name?: string; config?: { owner?: unknown } };
  if (config?.owner === undefined || config.owner === null) {
    throw new PermissionDeniedError(
      `Collection '${name}' was made without an API key: it is shared and read-only to keys that are not admin keys (apiKeys entries with admin: true).`,
      { code: 'collection_read_only', param: 'collection' },
    );
  }
}

/**
 * The store as one API key may see it, as the RAG routes scope it: collections made without a key
 * are everyone's, a key's own are its own, and another key's are as unknown as ones never made (the
 * same "No collection" error). Without a key (no keys configured, stdio) every collection shows.
 */
export function keyScopedRagStore(store: RagStoreLike, keyId: string | undefined): RagStoreLike {
  if (keyId === undefined) return store;
  const visible = (owner: unknown) => owner === undefined || owner === null || owner === keyId;
  // A key's own collections live in its own store (`RagStore.ownedBy`), found first by name.
  const own = store.ownedBy?.(keyId);
  const ownCollection = async (name: string) => {
    if (!own) return undefined;
    try {
      return await own.getCollection(name);
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return undefined;
      throw error;
    }
  };
  return {
    listCollections: async () => {
      const owned = own ? await own.listCollections() : [];
      const names = new Set(owned.map((info) => info.name));
      const shared = (await store.listCollections()).filter(
        (info) => !names.has(info.name) && visible((info as { owner?: unknown }).owner),
      );
      return [...owned, ...shared];
    },
    // The owner is the opened collection's own, as `RagService.open` reads it: no listing of all.
    getCollection: async (name) => {
      const collection = (await ownCollection(name)) ?? (await store.getCollection(name));
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
