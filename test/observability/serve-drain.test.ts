/**
 * SIGTERM to a real `fusion serve` with 20 streams running: `/health` turns 503, new requests get a
 * 503 in OpenAI's error shape with `Retry-After` (not a refused connection), every stream finishes
 * whole, and the process exits with 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FaultUpstream, startFaultUpstream } from '../support/fault-upstream.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

const REPLY = 'one two three four five six seven eight nine ten';
const STREAMS = 20;

let upstream: FaultUpstream;
let cwd: string;
let cli: RunningCli | undefined;

beforeAll(async () => {
  // About 1.5 s per stream: long enough to be running when the signal comes.
  upstream = await startFaultUpstream({ models: { slow: { fault: 'chunk-delay-ms=150', reply: REPLY } } });
  cwd = mkdtempSync(join(tmpdir(), 'fusion-drain-'));
});
afterAll(async () => {
  if (cli && cli.child.exitCode === null) await cli.stop('SIGKILL');
  await upstream?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('fusion serve on SIGTERM', () => {
  it('drains 20 live streams while answering 503 to new requests, then exits with 0', async () => {
    cli = await spawnCli(
      ['serve'],
      { FUSION_UPSTREAMS: `lab=${upstream.baseURL}`, FUSION_STATE: 'memory' },
      cwd,
    );
    const client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'none', maxRetries: 0 });
    expect((await fetch(`${cli.url}/health`)).status).toBe(200);

    const streams = await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const stream = await client.chat.completions.create({
          model: 'lab/slow',
          messages: [{ role: 'user', content: 'Count to ten.' }],
          stream: true,
        });
        const iterator = stream[Symbol.asyncIterator]();
        const first = await iterator.next();
        return { iterator, text: first.value?.choices[0]?.delta.content ?? '' };
      }),
    );
    // Every stream has begun and none has ended.
    expect(upstream.chatRequests('slow')).toHaveLength(STREAMS);

    const exited = cli.stop('SIGTERM');
    const health = await vi.waitFor(
      async () => {
        const response = await fetch(`${cli!.url}/health`);
        expect(response.status).toBe(503);
        return response;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(health.headers.get('connection')).toBe('close');
    expect(await health.json()).toMatchObject({ status: 'draining' });

    const refused = await fetch(`${cli.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'lab/slow', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({
      error: { type: expect.any(String), code: expect.any(String), message: expect.any(String) },
    });

    const texts = await Promise.all(
      streams.map(async ({ iterator, text }) => {
        let finish: string | null | undefined;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          text += next.value.choices[0]?.delta.content ?? '';
          finish = next.value.choices[0]?.finish_reason ?? finish;
        }
        return { text, finish };
      }),
    );
    for (const { text, finish } of texts) {
      expect(text.trim()).toBe(REPLY);
      expect(finish).toBe('stop');
    }
    expect(await exited).toBe(0);
    expect(upstream.chatRequests('slow')).toHaveLength(STREAMS);
  }, 60_000);
});
