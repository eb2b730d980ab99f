/**
 * The Next.js example for real: `next build`, then `next start`, then the OpenAI client and headless
 * Chromium (Debian's package, driven by playwright-core) against it. The models come from the mock
 * upstream through a proxy that makes it send a word every 100 ms, so streaming is visible.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import OpenAI from 'openai';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type HeadlessChromium, launchHeadlessChromium } from '../../../test/support/headless-chromium.js';
import { type MockUpstream, startMockUpstream } from '../../../test/support/mock-upstream.js';
import {
  type BehaviorProxy,
  behaviorProxy,
  type ExampleProcess,
  freePort,
  ROOT,
  runNode,
  waitForOutput,
} from '../../support/run-example.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');
const SCREENSHOT = join(APP, 'test-results/page.png');
const REPLY = 'Streamed through Next.js, one word at a time.';
const MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';

let upstream: MockUpstream;
let proxy: BehaviorProxy;
let next: ExampleProcess | undefined;
let url: string;

beforeAll(async () => {
  upstream = await startMockUpstream({ reply: REPLY });
  proxy = await behaviorProxy(upstream.url, 'slow');

  const startedAt = Date.now();
  const build = runNode([NEXT_BIN, 'build'], { cwd: APP });
  const code = await build.exited;
  if (code !== 0) throw new Error(`next build failed (${code}):\n${build.output()}`);
  console.info(`next build took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

  const port = await freePort();
  next = runNode([NEXT_BIN, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: APP,
    env: { UPSTREAM_URL: proxy.baseURL },
  });
  await waitForOutput(next, /Ready in/);
  url = `http://127.0.0.1:${port}`;
}, 300_000);

afterAll(async () => {
  await next?.stop();
  await proxy?.close();
  await upstream?.close();
});

describe('examples/next-app under `next start`', () => {
  const client = () => new OpenAI({ baseURL: `${url}/api/v1`, apiKey: 'unused', maxRetries: 0 });

  it('serves the OpenAI-compatible API from the catch-all route', async () => {
    const ids = [];
    for await (const model of client().models.list()) ids.push(model.id);
    expect(ids).toContain(MODEL);
    const { data, response } = await client()
      .chat.completions.create(
        { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] },
        { headers: { 'x-request-id': 'next-example-1' } },
      )
      .withResponse();
    expect(data.choices[0]?.message.content).toBe(REPLY);
    expect(response.headers.get('x-request-id')).toBe('next-example-1');
    await expect(client().models.retrieve('lab/none')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('streams through Next unbuffered, compressed or not', async () => {
    for (const encoding of ['gzip, deflate, br', 'identity']) {
      const { data: stream, response } = await client()
        .chat.completions.create(
          { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true },
          { headers: { 'accept-encoding': encoding } },
        )
        .withResponse();
      // `next start` compresses SSE too, flushing after every event.
      expect(response.headers.get('content-encoding')).toBe(encoding === 'identity' ? null : 'gzip');
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      const arrivals: number[] = [];
      let text = '';
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (!content) continue;
        arrivals.push(Date.now());
        text += content;
      }
      expect(text).toBe(REPLY);
      // The upstream sends a word every 100 ms: buffering would bring them all at once.
      expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(((arrivals.length - 1) * 100) / 2);
    }
  });

  it("aborts the upstream call when the client goes away (Next's request.signal)", async () => {
    const before = upstream.aborts.length;
    const stream = await client().chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaving the loop aborts the request
    }
    await vi.waitFor(() => expect(upstream.aborts.length).toBeGreaterThan(before), { timeout: 2000 });
  });

  it("aborts a waiting non-streamed call through Next's request.signal", async () => {
    // No response body exists yet, so only the request's signal can tell the orchestrator.
    proxy.behavior = 'hang';
    try {
      const before = upstream.aborts.length;
      const seen = upstream.requests.length;
      const controller = new AbortController();
      const answer = client()
        .chat.completions.create(
          { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] },
          { signal: controller.signal },
        )
        .catch((caught: unknown) => caught);
      await vi.waitFor(() => {
        const arrived = upstream.requests
          .slice(seen)
          .some((request) => request.path === '/v1/chat/completions');
        expect(arrived).toBe(true);
      });
      controller.abort();
      expect(await answer).toBeInstanceOf(OpenAI.APIUserAbortError);
      await vi.waitFor(() => expect(upstream.aborts.length).toBeGreaterThan(before), { timeout: 2000 });
    } finally {
      proxy.behavior = 'slow';
    }
  });

  it('serves the orchestrator as an MCP server at /api/mcp, to the MCP SDK client', async () => {
    const client = new Client({ name: 'next-example-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/api/mcp`)));
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toEqual(expect.arrayContaining(['chat', 'list_models']));
      const result = (await client.callTool({ name: 'chat', arguments: { model: MODEL, prompt: 'Hi' } })) as {
        structuredContent?: { content?: string };
      };
      expect(result.structuredContent?.content).toBe(REPLY);
    } finally {
      await client.close();
    }
  });

  it('answers 413 for a body over the limit, and keeps serving', async () => {
    const error = await client()
      .chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
  });

  describe('the page, in headless Chromium', () => {
    let chromium: HeadlessChromium;
    let browser: BrowserContext;

    beforeAll(async () => {
      chromium = await launchHeadlessChromium();
      browser = chromium.browser;
    }, 60_000);

    afterAll(async () => {
      await chromium?.close();
    });

    it('streams a chat answer into the page as it arrives', async () => {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(url);
      await page.waitForFunction((model) => document.querySelector('select')?.value === model, MODEL);
      await page.fill('input[aria-label="Question"]', 'Hello?');
      await page.click('button[type="submit"]');

      // Part of the answer is on screen while the stream still runs...
      const partial = await page.waitForFunction(() => {
        const answer = document.querySelector('#answer');
        const chunks = Number(answer?.getAttribute('data-chunks'));
        return answer?.getAttribute('data-status') === 'streaming' && chunks > 0 && answer.textContent;
      });
      const partialText = String(await partial.jsonValue());
      expect(REPLY.startsWith(partialText)).toBe(true);
      expect(partialText.length).toBeLessThan(REPLY.length);

      // ...and all of it once the stream ends.
      await page.waitForSelector('#answer[data-status="done"]', { timeout: 10_000 });
      expect(await page.textContent('#answer')).toBe(REPLY);
      const sent = upstream.requests.filter((request) => request.path === '/v1/chat/completions').at(-1);
      expect(sent?.body).toMatchObject({ model: 'qwen2.5-0.5b-instruct-4bit', stream: true });

      await mkdir(join(APP, 'test-results'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    });
  });
});
