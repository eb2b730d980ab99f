import { afterEach, describe, expect, it } from 'vitest';
import { chatBody } from '../__fixtures__/http.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { FusionOptions } from '../fusion/fusion-options.js';
import { createMockProvider } from '../test/mock-provider.js';
import { RequestGuard } from './request-guard.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

const ORIGIN = 'http://127.0.0.1:8080';
const JSON_TYPE = { 'content-type': 'application/json' };
const CHAT = JSON.stringify(chatBody('mock/echo'));

/** An orchestrator with a model, a plugin route taking uploads, and one taking JSON only. */
async function start(options: FusionOptions = {}) {
  const mock = createMockProvider({
    id: 'mock',
    models: [{ id: 'echo' }, { id: 'bge', capabilities: { embeddings: true } }],
  });
  const reached: string[] = [];
  fusion = createFusion({ healthIntervalMs: 0, providers: [mock], ...options });
  await fusion.use({
    specificationVersion: 'v1',
    name: 'routes',
    setup(api) {
      api.route(
        'POST',
        '/api/upload',
        (request) => {
          reached.push(`upload ${request.headers.get('content-type')}`);
          return Response.json({ ok: true });
        },
        { accepts: ['multipart/form-data'] },
      );
      api.route('POST', '/api/act', () => {
        reached.push('act');
        return Response.json({ ok: true });
      });
      api.route('DELETE', '/api/act', () => {
        reached.push('delete');
        return Response.json({ ok: true });
      });
    },
  });
  await fusion.ready;
  return { fusion, mock, reached };
}

function send(
  target: Fusion,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: BodyInit } = {},
  base = ORIGIN,
): Promise<Response> {
  return target.handle(
    new Request(`${base}${path}`, {
      method: init.method ?? 'POST',
      headers: init.headers ?? {},
      ...(init.body === undefined ? {} : { body: init.body }),
    }),
  );
}

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; type: string; message: string } }).error;
}

/** Every kind of route `handle` serves, each with a request that would otherwise succeed or reach it. */
const ROUTES: [string, string, BodyInit | undefined][] = [
  ['POST', '/v1/chat/completions', CHAT],
  ['POST', '/v1/embeddings', JSON.stringify({ model: 'mock/bge', input: 'x' })],
  [
    'POST',
    '/api/fusion/chat',
    JSON.stringify({ ...chatBody('x'), strategy: 'vote', targets: ['mock/echo'] }),
  ],
  ['POST', '/api/act', '{}'],
  ['DELETE', '/api/act', undefined],
  ['GET', '/v1/models', undefined],
  ['GET', '/health', undefined],
];

describe('the cross-site guard of handle, on every route', () => {
  it('refuses a foreign Origin and Origin: null with 403 in OpenAI’s shape, on every route', async () => {
    const { fusion, mock, reached } = await start();
    for (const origin of ['https://evil.example', 'null', 'http://localhost:5173', 'http://127.0.0.1:9999']) {
      for (const [method, path, body] of ROUTES) {
        const response = await send(fusion, path, {
          method,
          headers: { ...JSON_TYPE, host: '127.0.0.1:8080', origin },
          ...(body === undefined ? {} : { body }),
        });
        expect(response.status, `${method} ${path} from ${origin}`).toBe(403);
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(response.headers.get('x-request-id')).toBeTruthy();
        expect(await errorOf(response)).toMatchObject({
          code: 'origin_not_allowed',
          type: 'permission_error',
        });
      }
    }
    expect(mock.calls).toHaveLength(0);
    expect(reached).toEqual([]);
  });

  it('refuses what a page of another site sends without an Origin (Sec-Fetch-Site), on every route', async () => {
    const { fusion, mock, reached } = await start();
    // What browsers send for an <img>, <script>, <link>, an iframe, and a no-cors fetch.
    const fromPages: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' },
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'style' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' },
      { 'sec-fetch-site': 'Cross-Site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const fetchHeaders of fromPages) {
      for (const [method, path, body] of ROUTES) {
        const response = await send(fusion, path, {
          method,
          headers: { ...JSON_TYPE, host: '127.0.0.1:8080', ...fetchHeaders },
          ...(body === undefined ? {} : { body }),
        });
        const label = `${method} ${path} ${JSON.stringify(fetchHeaders)}`;
        expect(response.status, label).toBe(403);
        expect(await errorOf(response), label).toMatchObject({
          code: 'origin_not_allowed',
          type: 'permission_error',
          message: expect.stringMatching(/Sec-Fetch-Site/),
        });
      }
    }
    expect(mock.calls).toHaveLength(0);
    expect(reached).toEqual([]);

    // A link the user follows from another site opens a GET page; requests of its own origin, typed
    // in the address bar or sent by non-browser clients pass as before.
    const navigation = {
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
    };
    expect((await send(fusion, '/v1/models', { method: 'GET', headers: navigation })).status).toBe(200);
    expect(
      (await send(fusion, '/api/act', { headers: { ...JSON_TYPE, ...navigation }, body: '{}' })).status,
      'a navigation POST (a form) is not a link',
    ).toBe(403);
    for (const site of ['same-origin', 'none']) {
      const response = await send(fusion, '/v1/chat/completions', {
        headers: {
          ...JSON_TYPE,
          'sec-fetch-site': site,
          'sec-fetch-mode': 'cors',
          'sec-fetch-dest': 'empty',
        },
        body: CHAT,
      });
      expect(response.status, site).toBe(200);
    }
    expect(mock.calls).toHaveLength(2);
    expect(reached).toEqual([]);

    // `allowedOrigins: ['*']` lets every page in, these too.
    const open = new RequestGuard({ allowedOrigins: ['*'] });
    const image = new Request('http://127.0.0.1:8080/v1/models', { headers: fromPages[0] });
    expect(open.checkSite(image)).toBeUndefined();
    expect(() => new RequestGuard().checkSite(image)).toThrow(
      /Sec-Fetch-Site: "cross-site", Sec-Fetch-Dest: "image"/,
    );
  });

  it('refuses a rebinding Host with 403 on every route, with or without an Origin', async () => {
    const { fusion, mock, reached } = await start();
    for (const headers of <Record<string, string>[]>[
      { host: 'attacker.example:8080' },
      { host: 'attacker.example:8080', origin: 'http://attacker.example:8080' },
      { host: 'localhost.attacker.example' },
      { host: '127.0.0.1.nip.io:8080' },
    ]) {
      for (const [method, path, body] of ROUTES) {
        const response = await send(fusion, path, {
          method,
          headers: { ...JSON_TYPE, ...headers },
          ...(body === undefined ? {} : { body }),
        });
        expect(response.status, `${method} ${path} ${headers.host}`).toBe(403);
        expect(await errorOf(response)).toMatchObject({ code: 'host_not_allowed', type: 'permission_error' });
      }
    }
    // No Host header: the URL's host is checked.
    expect((await send(fusion, '/health', { method: 'GET' }, 'http://attacker.example')).status).toBe(403);
    expect(mock.calls).toHaveLength(0);
    expect(reached).toEqual([]);
  });

  it('lets localhost, *.localhost and IP addresses on any port through, without Origin or from their own', async () => {
    const { fusion } = await start();
    for (const host of [
      'localhost',
      'localhost:8080',
      'app.localhost:3000',
      '127.0.0.1:1',
      '[::1]:8080',
      '10.0.0.5',
    ]) {
      const plain = await send(fusion, '/v1/chat/completions', {
        headers: { ...JSON_TYPE, host },
        body: CHAT,
      });
      expect(plain.status, host).toBe(200);
      const own = await send(fusion, '/v1/chat/completions', {
        headers: { ...JSON_TYPE, host, origin: `http://${host}` },
        body: CHAT,
      });
      expect(own.status, `${host} from itself`).toBe(200);
      // Same origin needs no CORS headers.
      expect(own.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses bodies that a cross-site form or simple request could send with 415, before the route runs', async () => {
    const { fusion, mock, reached } = await start();
    const bodies: [Record<string, string>, BodyInit][] = [
      [{ 'content-type': 'text/plain' }, CHAT],
      [{ 'content-type': 'text/plain;charset=UTF-8' }, CHAT],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, `x=${encodeURIComponent(CHAT)}`],
      [
        { 'content-type': 'multipart/form-data; boundary=b' },
        `--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n${CHAT}\r\n--b--\r\n`,
      ],
      [{ 'content-length': String(CHAT.length) }, new Blob([CHAT])],
    ];
    for (const [headers, body] of bodies) {
      for (const path of ['/v1/chat/completions', '/v1/embeddings', '/api/fusion/chat', '/api/act']) {
        // No Origin at all (a browser would send one; the type is refused by itself).
        const response = await send(fusion, path, { headers, body });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(415);
        expect(await errorOf(response)).toMatchObject({ code: 'unsupported_media_type' });
      }
    }
    expect(mock.calls).toHaveLength(0);
    expect(reached).toEqual([]);
  });

  it('takes JSON types, bodiless state changes, and uploads on routes that accept them', async () => {
    const { fusion, reached } = await start();
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/vnd.api+json',
    ]) {
      const response = await send(fusion, '/api/act', { headers: { 'content-type': type }, body: '{}' });
      expect(response.status, type).toBe(200);
    }
    expect((await send(fusion, '/api/act', { method: 'DELETE' })).status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob(['hello']), 'a.txt');
    const encoded = new Response(form);
    const upload = await send(fusion, '/api/upload', {
      headers: { 'content-type': encoded.headers.get('content-type')! },
      body: await encoded.arrayBuffer(),
    });
    expect(upload.status).toBe(200);
    const text = await send(fusion, '/api/upload', { headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect((await errorOf(text)).message).toMatch(/multipart\/form-data/);
    // The upload route still checks the Origin: a cross-site form cannot post to it.
    const crossSite = await send(fusion, '/api/upload', {
      headers: { 'content-type': encoded.headers.get('content-type')!, origin: 'https://evil.example' },
      body: 'x',
    });
    expect(crossSite.status).toBe(403);
    expect(reached).toEqual([
      'act',
      'act',
      'act',
      'act',
      'delete',
      expect.stringMatching(/^upload multipart/),
    ]);
  });

  it('answers a configured origin with CORS headers, on success and on errors', async () => {
    const { fusion } = await start({
      security: { allowedOrigins: ['https://app.example.com', 'http://localhost:5173'] },
      apiKeys: ['secret'],
    });
    const ok = await send(fusion, '/v1/chat/completions', {
      headers: { ...JSON_TYPE, origin: 'https://app.example.com', authorization: 'Bearer secret' },
      body: CHAT,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    expect(ok.headers.get('vary')).toMatch(/origin/i);
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const unauthorized = await send(fusion, '/v1/models', {
      method: 'GET',
      headers: { origin: 'http://localhost:5173' },
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    // Exact origins: another port or scheme of the same host is another origin.
    for (const origin of [
      'http://localhost:5174',
      'http://app.example.com',
      'https://app.example.com.evil.example',
    ]) {
      const refused = await send(fusion, '/v1/models', { method: 'GET', headers: { origin } });
      expect(refused.status, origin).toBe(403);
    }
  });

  it('answers preflights for configured origins only, before the API key', async () => {
    const { fusion, reached } = await start({
      security: { allowedOrigins: ['https://app.example.com'] },
      apiKeys: ['secret'],
    });
    const preflight = (origin: string, method = 'POST', path = '/v1/chat/completions') =>
      send(fusion, path, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(allowed.headers.get('access-control-max-age')).toBeTruthy();
    const plugin = await preflight('https://app.example.com', 'DELETE', '/api/act');
    expect(plugin.status).toBe(204);
    expect(plugin.headers.get('access-control-allow-methods')).toBe('DELETE');
    const wrongMethod = await preflight('https://app.example.com', 'PUT');
    expect(wrongMethod.headers.get('access-control-allow-methods')).toBe('POST');

    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();
    expect((await preflight('null')).status).toBe(403);
    expect(reached).toEqual([]);
  });

  it('takes configured host names, domain suffixes and "*"', async () => {
    const { fusion } = await start({ security: { allowedHosts: ['fusion.lan', '.example.com'] } });
    for (const [host, status] of [
      ['fusion.lan:8080', 200],
      ['FUSION.LAN', 200],
      ['example.com', 200],
      ['api.example.com:443', 200],
      ['badexample.com', 403],
      ['fusion.lan.evil.example', 403],
    ] as const) {
      const response = await send(fusion, '/v1/models', { method: 'GET', headers: { host } });
      expect(response.status, host).toBe(status);
    }
    const open = new RequestGuard({ allowedHosts: ['*'] });
    expect(open.checkSite(new Request('http://anything.example/'))).toBeUndefined();
  });

  it('takes the origin of the URL as the server’s own behind a trusted proxy or in Next.js', () => {
    const guard = new RequestGuard();
    // Next.js names its listen host in the URL; the browser's Host is the page's.
    const proxied = new Request('http://localhost:3000/api/v1/models', {
      headers: { host: '127.0.0.1:3000', origin: 'http://localhost:3000' },
    });
    expect(guard.checkSite(proxied)).toBeUndefined();
    const defaultPort = new Request('http://localhost/v1/models', {
      headers: { host: 'localhost:80', origin: 'http://localhost' },
    });
    expect(guard.checkSite(defaultPort)).toBeUndefined();
  });
});
