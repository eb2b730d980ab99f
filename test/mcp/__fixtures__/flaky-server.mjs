// A stdio MCP server that misbehaves on request: `crash` exits, `junk` writes a line that is not an
// MCP message to stdout, `spawn_child` starts a long-running child (to check none outlives us),
// `add_tool` adds a tool (the SDK then sends `notifications/tools/list_changed`).
import { spawn } from 'node:child_process';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const server = new McpServer({ name: 'flaky', version: '1.0.0' });
const readOnly = { readOnlyHint: true };
server.registerTool(
  'echo',
  { inputSchema: z.object({ text: z.string() }), annotations: readOnly },
  async ({ text }) => ({
    content: [{ type: 'text', text: `echo ${text} from ${process.pid}` }],
  }),
);
server.registerTool('crash', { annotations: readOnly }, async () => {
  process.stderr.write('flaky: crashing on purpose\n');
  process.exit(3);
});
server.registerTool('junk', { annotations: readOnly }, async () => {
  process.stdout.write('this is not JSON-RPC\n');
  return new Promise(() => {});
});
server.registerTool(
  'sleep',
  { inputSchema: z.object({ ms: z.number() }), annotations: readOnly },
  async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: 'slept' }] };
  },
);
server.registerTool('spawn_child', { annotations: readOnly }, async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return { content: [{ type: 'text', text: JSON.stringify({ server: process.pid, child: child.pid }) }] };
});
server.registerTool(
  'add_tool',
  { inputSchema: z.object({ name: z.string() }), annotations: readOnly },
  async ({ name }) => {
    server.registerTool(name, { annotations: readOnly }, async () => ({
      content: [{ type: 'text', text: `${name} from ${process.pid}` }],
    }));
    return { content: [{ type: 'text', text: 'added' }] };
  },
);
await server.connect(new StdioServerTransport());
