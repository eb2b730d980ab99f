/**
 * A pipeline defined in `fusion.config.json`, served by the built CLI (as `npm start` runs it) and
 * used by the official `openai` client by name, streaming.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultUpstream, startFaultUpstream } from '../support/fault-upstream.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

const REPLY = 'The answer is 42.';

let upstream: FaultUpstream;
let cli: RunningCli;
let client: OpenAI;
let directory: string;

beforeAll(async () => {
  upstream = await startFaultUpstream({ reply: REPLY, models: { broken: 'status-500' } });
  directory = await mkdtemp(join(tmpdir(), 'fusion-config-'));
  const config = {
    upstreams: { faults: upstream.baseURL },
    healthIntervalMs: 0,
    resilience: { retry: { maxRetries: 0 } },
    pipelines: [
      {
        name: 'fusion/reliable',
        description: 'Falls back from a broken target to a steady one.',
        strategy: 'fallback',
        targets: ['faults/broken', 'faults/steady'],
        limits: { maxCalls: 4, timeoutMs: 10_000 },
      },
    ],
  };
  await writeFile(join(directory, 'fusion.config.json'), JSON.stringify(config, null, 2));
  cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '' }, directory);
  client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 15_000 });
});

afterAll(async () => {
  await cli?.stop('SIGKILL');
  await upstream?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('a pipeline from fusion.config.json, served by the CLI', () => {
  it("is listed by the openai client's models.list() as owned by fusion", async () => {
    const page = await client.models.list();
    const pipeline = page.data.find((model) => model.id === 'fusion/reliable');
    expect(pipeline).toMatchObject({ object: 'model', owned_by: 'fusion' });
    expect(pipeline as unknown as Record<string, unknown>).toMatchObject({
      strategy: 'fallback',
      targets: ['faults/broken', 'faults/steady'],
    });
    expect(page.data.map((model) => model.id)).toEqual(
      expect.arrayContaining(['faults/steady', 'faults/broken']),
    );
  });

  it('streams through client.chat.completions.create({ model, stream: true })', async () => {
    const response = await client.chat.completions
      .create({
        model: 'fusion/reliable',
        messages: [{ role: 'user', content: 'What is the answer?' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.response.headers.get('x-fusion-trace-id')).toBeTruthy();
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of response.data) {
      expect(chunk.model).toBe('fusion/reliable');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices.length > 0) chunks++;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(REPLY);
    expect(chunks).toBeGreaterThan(1);
    expect(usage?.total_tokens).toBeGreaterThan(0);
    // The broken target was tried first; the client never saw it.
    expect(upstream.chatRequests('broken')).toHaveLength(1);
    expect(upstream.chatRequests('steady')).toHaveLength(1);
  });
});
