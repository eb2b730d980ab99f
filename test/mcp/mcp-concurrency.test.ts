import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type McpStack, startMcpStack } from './__fixtures__/mcp-stack.js';

describe('fifty concurrent MCP clients over HTTP', () => {
  let stack: McpStack;
  beforeAll(async () => {
    stack = await startMcpStack({ rag: false });
  });
  afterAll(() => stack?.close());

  it('each gets only its own progress notifications and answer', async () => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        connectClient(stack.endpoint, index % 2 === 0 ? 'modern' : 'legacy'),
      ),
    );
    try {
      const outcomes = await Promise.all(
        clients.map(async (client, index) => {
          const marker = `marker-c${index}`;
          const messages: string[] = [];
          const result = (await client.callTool(
            { name: 'chat', arguments: { model: 'mock/paced', prompt: `repeat ${marker}` } },
            { onprogress: (update) => messages.push(update.message ?? '') },
          )) as { structuredContent?: { content?: string } };
          return { marker, messages, content: result.structuredContent?.content ?? '' };
        }),
      );
      for (const { marker, messages, content } of outcomes) {
        expect(content).toBe(Array(12).fill(marker).join(' '));
        expect(messages.length).toBeGreaterThanOrEqual(3);
        const words = messages.join(' ').split(/\s+/).filter(Boolean);
        expect(new Set(words)).toEqual(new Set([marker]));
        expect(content.startsWith(messages.join(''))).toBe(true);
      }
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});
