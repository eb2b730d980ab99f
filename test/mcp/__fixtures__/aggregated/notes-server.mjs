// A small MCP server re-served by `fusion serve` in aggregator.test.ts, named by `label` in every
// answer so that a test sees which server answered: tools `echo` (read-only), `wipe` (destructive),
// `secret` (read-only, to be excluded), a resource, a resource template and a prompt.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { z } from 'zod';

export function buildNotesServer(label) {
  const server = new McpServer({ name: `notes-${label}`, version: '1.0.0' });
  server.registerTool(
    'echo',
    {
      description: 'Echoes text',
      inputSchema: z.object({ text: z.string() }),
      annotations: { readOnlyHint: true },
    },
    async ({ text }) => ({ content: [{ type: 'text', text: `echo ${text} from ${label}` }] }),
  );
  server.registerTool(
    'wipe',
    { description: 'Deletes everything', annotations: { destructiveHint: true } },
    async () => ({
      content: [{ type: 'text', text: `wiped ${label}` }],
    }),
  );
  server.registerTool(
    'secret',
    { description: 'Tells a secret', annotations: { readOnlyHint: true } },
    async () => ({
      content: [{ type: 'text', text: `secret of ${label}` }],
    }),
  );
  server.registerResource('readme', 'note://readme', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `readme of ${label}` }],
  }));
  server.registerResource(
    'item',
    new ResourceTemplate('note://items/{id}', { list: undefined }),
    { mimeType: 'text/plain' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: `item ${id} of ${label}` }],
    }),
  );
  server.registerPrompt(
    'greet',
    { description: 'Greets someone', argsSchema: z.object({ name: z.string().describe('Who to greet') }) },
    async ({ name }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Hello ${name} from ${label}` } }],
    }),
  );
  return server;
}
