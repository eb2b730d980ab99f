import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFusion } from '@fusionkit/core';
import { serve } from '@fusionkit/node';
import { createOpenAICompatible } from '@fusionkit/openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * A client that goes away stops the upstream call, through `fusion serve`'s stack (node adapter,
 * core, OpenAI-compatible provider). The request's cancellation travels as a scope, not as
 * `AbortSignal`s: a plain request makes none (one costs microseconds to create on Node 20, and
 * this path runs per request); a route or provider that reads `signal` still gets a working one.
 */
const RESULT = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

/** Upstream requests by model: `slow` never answers; the others answer at once. */
let upstream: Server;
const closedBeforeAnswer: string[] = [];
const arrived: ((model: string) => void)[] = [];
let gateway: { url: string; close(): Promise<void> };

beforeAll(async () => {
  upstream = createServer((request: IncomingMessage, response) => {
    let raw = '';
    request.on('data', (part: Buffer) => {
      raw += part;
    });
    request.on('end', () => {
      if (request.url !== '/v1/chat/completions') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ detail: 'Not Found' }));
        return;
      }
      const model = (JSON.parse(raw) as { model: string }).model;
      for (const listener of arrived.splice(0)) listener(model);
      if (model === 'held-stream') {
        response.on('close', () => {
          if (!response.writableEnded) closedBeforeAnswer.push(model);
        });
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const delta = { role: 'assistant', content: 'Hel' };
        response.write(
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`,
        );
        return;
      }
      if (model === 'slow') {
        response.on('close', () => {
          if (!response.writableEnded) closedBeforeAnswer.push(model);
        });
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ...RESULT, model }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  const fusion = createFusion({
    providers: [
      createOpenAICompatible({
        id: 'up',
        baseURL: `http://127.0.0.1:${port}/v1`,
        flavor: 'openai',
        models: ['slow', 'fast', 'held-stream'],
      }),
    ],
  });
  const server = await serve(fusion, { port: 0, host: '127.0.0.1' });
  gateway = { url: server.url, close: () => server.close() };
});

afterAll(async () => {
  await gateway?.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** Counts the AbortControllers made while it is installed. */
function countControllers(): { count(): number; restore(): void } {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  return { count: () => made, restore: () => void (globalThis.AbortController = Original) };
}

let counter: ReturnType<typeof countControllers> | undefined;
afterEach(() => {
  counter?.restore();
  counter = undefined;
});

function post(
  model: string,
  stream = false,
  onData: (text: string) => void = () => {},
): { response: Promise<{ status: number; body: string }>; destroy(): void } {
  const body = JSON.stringify({ model: `up/${model}`, messages: [{ role: 'user', content: 'Hi' }], stream });
  const request = httpRequest(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    agent: false,
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (incoming) => {
      let text = '';
      incoming.on('data', (part: Buffer) => {
        text += part;
        onData(text);
      });
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
  });
  request.end(body);
  return { response, destroy: () => request.destroy() };
}

describe('a client going away', () => {
  it('answers a plain chat without making an AbortSignal', async () => {
    counter = countControllers();
    const { response } = post('fast');
    const { status, body } = await response;
    expect(status).toBe(200);
    expect(JSON.parse(body).choices[0].message.content).toBe('Hi.');
    expect(counter.count()).toBe(0);
  });

  it('closes the upstream request of a non-streamed chat, with no signal made on the way', async () => {
    counter = countControllers();
    const reached = new Promise<string>((resolve) => arrived.push(resolve));
    const call = post('slow');
    call.response.catch(() => {});
    expect(await reached).toBe('slow');
    call.destroy();
    await expect.poll(() => closedBeforeAnswer, { timeout: 5000 }).toEqual(['slow']);
    expect(counter.count()).toBe(0);
  });

  it('closes the upstream stream when the client leaves mid-stream, with no signal made on the way', async () => {
    counter = countControllers();
    closedBeforeAnswer.length = 0;
    let firstChunk: () => void = () => {};
    const gotChunk = new Promise<void>((resolve) => {
      firstChunk = resolve;
    });
    const call = post('held-stream', true, (text) => {
      if (text.includes('Hel')) firstChunk();
    });
    call.response.catch(() => {});
    await gotChunk;
    call.destroy();
    await expect.poll(() => closedBeforeAnswer, { timeout: 5000 }).toEqual(['held-stream']);
    expect(counter.count()).toBe(0);
  });
});
