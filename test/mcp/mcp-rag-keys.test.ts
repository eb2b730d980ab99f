/**
 * With API keys on, the MCP server's RAG tools, resources and prompts and `job_status` scope what they
 * show as the HTTP routes do: a key's collections and jobs are its own, collections of no key are
 * everyone's, and another key's are as unknown as ones never made.
 */
import { ApiKeys } from '@fusionkit/core';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type McpStack, startMcpStack } from './__fixtures__/mcp-stack.js';

const ONE = 'key-one-secret';
const TWO = 'key-two-secret';
const OPS = 'key-ops-secret';

function text(result: { content?: unknown }): string {
  return JSON.stringify(result.content ?? result);
}

describe('MCP RAG with API keys', () => {
  let stack: McpStack;
  let one: Client;
  let two: Client;
  let ops: Client;
  let jobId: string;
  beforeAll(async () => {
    stack = await startMcpStack({ apiKeys: [ONE, TWO, { id: 'ops', key: OPS, admin: true }] });
    const owner = await ApiKeys.idOf(ONE);
    const owned = await stack.store!.createCollection('ones', { owner });
    await owned.upsertDocuments([{ id: 'secret', text: 'The launch code is tangerine.' }]);
    const shared = await stack.store!.createCollection('shared');
    await shared.upsertDocuments([{ id: 'public', text: 'The cafeteria opens at noon.' }]);
    stack.jobs!.define('noop', { run: async () => 'done' });
    jobId = stack.jobs!.create({ kind: 'noop', input: {}, owner }).id;
    one = await connectClient(stack.endpoint, 'modern', { authorization: `Bearer ${ONE}` });
    two = await connectClient(stack.endpoint, 'modern', { authorization: `Bearer ${TWO}` });
    ops = await connectClient(stack.endpoint, 'modern', { authorization: `Bearer ${OPS}` });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await ops?.close();
    await stack?.close();
  });

  it('rag_search and rag_ingest: the owner uses its collection, another key gets "No collection"', async () => {
    const own = await one.callTool({
      name: 'rag_search',
      arguments: { collection: 'ones', query: 'launch code' },
    });
    expect(own.isError).toBeFalsy();
    expect(text(own)).toContain('tangerine');
    const stolen = await two.callTool({
      name: 'rag_search',
      arguments: { collection: 'ones', query: 'launch code' },
    });
    expect(stolen.isError).toBe(true);
    expect(text(stolen)).toContain("No collection 'ones'");
    expect(text(stolen)).not.toContain('tangerine');
    const planted = await two.callTool({
      name: 'rag_ingest',
      arguments: { collection: 'ones', sources: [{ text: 'planted' }] },
    });
    expect(planted.isError).toBe(true);
    const shared = await two.callTool({
      name: 'rag_search',
      arguments: { collection: 'shared', query: 'cafeteria' },
    });
    expect(text(shared)).toContain('noon');
  });

  it('rag_ingest: a collection of no key is read-only to keys that are not admin keys', async () => {
    const refused = await two.callTool({
      name: 'rag_ingest',
      arguments: { collection: 'shared', sources: [{ text: 'planted', id: 'planted' }] },
    });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain("Collection 'shared' was made without an API key");
    const admitted = await ops.callTool({
      name: 'rag_ingest',
      arguments: { collection: 'shared', sources: [{ text: 'Admin notes.', id: 'admin-notes' }] },
    });
    expect(admitted.isError).toBeFalsy();
    const ids = (await stack.store!.getCollection('shared'))
      .listDocuments()
      .documents.map((entry) => entry.id);
    expect(ids).not.toContain('planted');
    expect(ids).toContain('admin-notes');
  });

  it("a key's own collection (in its own store, as the RAG routes make it) is found by name", async () => {
    const own = await stack.store!.ownedBy(await ApiKeys.idOf(TWO)).createCollection('ones', {
      owner: await ApiKeys.idOf(TWO),
    });
    await own.upsertDocuments([{ id: 'twos', text: 'The second launch code is plum.' }]);
    const found = await two.callTool({
      name: 'rag_search',
      arguments: { collection: 'ones', query: 'launch code' },
    });
    expect(text(found)).toContain('plum');
    expect(text(found)).not.toContain('tangerine');
    const first = await one.callTool({
      name: 'rag_search',
      arguments: { collection: 'ones', query: 'launch code' },
    });
    expect(text(first)).toContain('tangerine');
    expect(text(first)).not.toContain('plum');
    await stack.store!.ownedBy(await ApiKeys.idOf(TWO)).deleteCollection('ones');
  });

  it('resources: another key neither lists nor reads the collection or its documents', async () => {
    const listed = async (client: Client) => {
      const result = await client.readResource({ uri: 'fusion://rag/collections' });
      return JSON.parse((result.contents[0] as { text: string }).text).collections.map(
        (info: { name: string }) => info.name,
      );
    };
    // `docs` is the stack's own collection of no key.
    expect((await listed(one)).sort()).toEqual(['docs', 'ones', 'shared']);
    expect((await listed(two)).sort()).toEqual(['docs', 'shared']);
    const templates = (await two.listResources()).resources.map((resource) => resource.uri);
    expect(templates.join(' ')).not.toContain('ones');
    await expect(two.readResource({ uri: 'fusion://rag/collections/ones' })).rejects.toThrow();
    await expect(
      two.readResource({ uri: 'fusion://rag/collections/ones/documents/secret' }),
    ).rejects.toThrow();
    const document = await one.readResource({ uri: 'fusion://rag/collections/ones/documents/secret' });
    expect(JSON.stringify(document)).toContain('tangerine');
  });

  it("job_status: another key's job is unknown", async () => {
    const own = await one.callTool({ name: 'job_status', arguments: { job_id: jobId } });
    expect(own.isError).toBeFalsy();
    const stolen = await two.callTool({ name: 'job_status', arguments: { job_id: jobId } });
    expect(stolen.isError).toBe(true);
    expect(text(stolen)).toContain(`No job '${jobId}'`);
  });
});
