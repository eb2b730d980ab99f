// The notes server over stdio, as `fusion serve` starts a configured `mcpServers` command.
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { buildNotesServer } from './notes-server.mjs';

await buildNotesServer('stdio').connect(new StdioServerTransport());
