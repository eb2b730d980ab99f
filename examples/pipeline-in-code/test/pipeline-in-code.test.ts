import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../../test/support/mock-upstream.js';
import { runNode } from '../../support/run-example.js';

const EXAMPLE = fileURLToPath(new URL('..', import.meta.url));
const REPLY = 'Hello from the mock upstream, streamed word by word.';

describe('examples/pipeline-in-code', () => {
  let upstream: MockUpstream;
  beforeAll(async () => {
    upstream = await startMockUpstream();
  });
  afterAll(() => upstream?.close());

  it('chats, streams and embeds from a script, then exits', async () => {
    const script = runNode(['--import', 'tsx', 'src/main.ts'], {
      cwd: EXAMPLE,
      env: { UPSTREAM_URL: upstream.baseURL },
    });
    expect(await script.exited).toBe(0);
    const output = script.output();
    expect(output).toContain('models: lab/qwen2.5-0.5b-instruct-4bit, lab/bge-small-en');
    expect(output).toContain(`chat: ${REPLY}`);
    expect(output).toContain(`stream: ${REPLY}`);
    expect(output).toContain('embedding: 4 dimensions');
    expect(output).toMatch(/calls: lab answered in \d+ ms; lab streamed in \d+ ms; lab answered in \d+ ms/);
    const chats = upstream.requests.filter((request) => request.path === '/v1/chat/completions');
    expect(chats.map((request) => (request.body as { stream?: boolean }).stream ?? false)).toEqual([
      false,
      true,
    ]);
  });
});
