import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createFusion, type Fusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExpressMiddleware } from './create-express-middleware.js';

let server: Server | undefined;
let fusion: Fusion | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await fusion?.close({ timeoutMs: 100 });
  server = fusion = undefined;
});

async function listen(app: express.Express): Promise<string> {
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A real orchestrator whose model echoes the last user message, word by word when streamed. */
function echoFusion(delayMs = 0): Fusion {
  const provider = createMockProvider({
    id: 'mock',
    models: [
      { id: 'echo', delayMs, reply: (request) => `echo: ${String(request.messages.at(-1)?.content)}` },
    ],
  });
  fusion = createFusion({ providers: [provider], healthIntervalMs: 0 });
  return fusion;
}

const chat = (content: string, extra: object = {}) =>
  JSON.stringify({ model: 'mock/echo', messages: [{ role: 'user', content }], ...extra });
/** A request whose head and body leave in one write, so the body is there before any middleware runs. */
function rawPost(url: string, path: string, body: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const head = `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  socket.end(head + body);
  let answer = '';
  socket.on('data', (data: Buffer) => (answer += data.toString()));
  return new Promise((resolve, reject) => {
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('createExpressMiddleware', () => {
  it('serves the API under the mount path, next to the routes of the app', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.send('home');
    });
    const router = express.Router();
    router.use('/ai', createExpressMiddleware(echoFusion()));
    app.use('/v2', router);
    const url = await listen(app);

    expect(await (await fetch(url)).text()).toBe('home');
    const models = await fetch(`${url}/v2/ai/v1/models`);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data[0]?.id).toBe('mock/echo');
    const answer = await post(`${url}/v2/ai/v1/chat/completions`, chat('hi'));
    expect(
      ((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message,
    ).toMatchObject({ content: 'echo: hi' });
    // Outside the mount the middleware never runs: Express answers.
    expect((await fetch(`${url}/v1/models`)).status).toBe(404);
  });

  it('takes a body that express.json() already parsed', async () => {
    const app = express();
    app.use(express.json());
    app.use('/ai', createExpressMiddleware(echoFusion()));
    const url = await listen(app);

    const answer = await post(`${url}/ai/v1/chat/completions`, chat('parsed before'));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ choices: [{ message: { content: 'echo: parsed before' } }] });
    const invalid = await post(`${url}/ai/v1/chat/completions`, JSON.stringify({ model: 'mock/echo' }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { param: 'messages' } });
  });

  it('streams SSE through Express', async () => {
    const app = express();
    app.use('/ai', createExpressMiddleware(echoFusion(20)));
    const url = await listen(app);

    const response = await post(`${url}/ai/v1/chat/completions`, chat('one two three', { stream: true }));
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const events = (await response.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.length).toBeGreaterThan(4);
  });

  describe('passThrough', () => {
    function appWith(passThrough: boolean) {
      const app = express();
      app.use(createExpressMiddleware(echoFusion(), { passThrough }));
      app.post('/orders', express.json({ limit: '1mb' }), (req, res) => {
        res.json({ received: req.body });
      });
      app.get('/status', (_req, res) => {
        res.send('app is fine');
      });
      return app;
    }

    it('leaves the app’s own routes to the app for any Host, and guards its own', async () => {
      const url = await listen(appWith(true));
      const { port } = new URL(url);
      const status = (path: string, headers: Record<string, string>, method = 'GET', body?: string) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const outgoing = httpRequest(`${url}${path}`, { method, agent: false, headers });
          outgoing.on('error', reject);
          outgoing.on('response', (response) => {
            let text = '';
            response.on('data', (chunk) => (text += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          });
          outgoing.end(body);
        });
      const production = { host: `app.example.com:${port}` };
      expect(await status('/status', production)).toEqual({ status: 200, text: 'app is fine' });
      const models = await status('/v1/models', production);
      expect(models.status).toBe(403);
      expect(JSON.parse(models.text).error.code).toBe('host_not_allowed');
      // A cross-site page posting text to the orchestrator is refused; the app's form route is its own.
      const crossSite = { 'content-type': 'text/plain', origin: 'https://evil.example' };
      expect((await status('/v1/chat/completions', crossSite, 'POST', chat('x'))).status).toBe(403);
      expect(
        (await status('/v1/chat/completions', { 'content-type': 'text/plain' }, 'POST', chat('x'))).status,
      ).toBe(415);
    });

    it("hands the orchestrator's unknown routes to next(), with their body unread", async () => {
      const url = await listen(appWith(true));
      expect(await (await fetch(`${url}/status`)).text()).toBe('app is fine');
      const order = await post(`${url}/orders`, JSON.stringify({ item: 'tea', quantity: 2 }));
      expect(await order.json()).toEqual({ received: { item: 'tea', quantity: 2 } });
      const inOnePacket = await rawPost(url, '/orders', JSON.stringify({ item: 'coffee' }));
      expect(inOnePacket).toContain('{"received":{"item":"coffee"}}');
      const large = { notes: 'n'.repeat(200 * 1024) };
      const largeOrder = await post(`${url}/orders`, JSON.stringify(large));
      expect(await largeOrder.json()).toEqual({ received: large });
      // Still answered by the orchestrator: its own routes, and its 404s that are not about the route.
      expect((await fetch(`${url}/v1/models`)).status).toBe(200);
      expect(await (await post(`${url}/v1/chat/completions`, chat('lazy body'))).json()).toMatchObject({
        choices: [{ message: { content: 'echo: lazy body' } }],
      });
      const missing = await fetch(`${url}/v1/models/mock/none`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'model_not_found' } });
    });

    it('still refuses a declared body over the limit', async () => {
      const app = express();
      app.use(createExpressMiddleware(echoFusion(), { passThrough: true, maxBodyBytes: 1024 }));
      const url = await listen(app);
      const response = await post(`${url}/v1/chat/completions`, chat('x'.repeat(2048)));
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    });

    it('answers 404 itself when not configured', async () => {
      const url = await listen(appWith(false));
      const response = await fetch(`${url}/status`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
    });
  });

  it('aborts the work when the client goes away', async () => {
    const seen = { aborted: false };
    const hanging = {
      handle: (request: Request) =>
        new Promise<Response>((resolve) => {
          request.signal.addEventListener('abort', () => {
            seen.aborted = true;
            resolve(new Response(null, { status: 500 }));
          });
        }),
    };
    const app = express();
    app.use('/ai', createExpressMiddleware(hanging));
    const url = await listen(app);

    const client = httpRequest(`${url}/ai/v1/models`);
    client.on('error', () => {});
    client.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    await vi.waitFor(() => expect(seen.aborted).toBe(true));
  });

  it('passes what handle throws to next(error)', async () => {
    const failing = { handle: () => Promise.reject(new Error('broken orchestrator')) };
    const app = express();
    app.use(createExpressMiddleware(failing));
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(502).send(`handled: ${error.message}`);
    });
    const url = await listen(app);
    const response = await fetch(`${url}/v1/models`);
    expect(response.status).toBe(502);
    expect(await response.text()).toBe('handled: broken orchestrator');
  });
});
