import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { FusionError } from '@fusionkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { checkUrl, safeFetch } from './safe-fetch.js';

const servers: Server[] = [];

/** A server on a loopback address, counting the requests it gets. */
async function serve(handler: RequestListener, host = '127.0.0.1') {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(`${request.headers.host}${request.url}`);
    handler(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { port, hits, url: `http://${host}:${port}` };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())),
  );
});

async function failure(promise: Promise<unknown>): Promise<FusionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(FusionError.isInstance(error), String(error)).toBe(true);
  return error as FusionError;
}

const hello: RequestListener = (_request, response) => {
  response.setHeader('content-type', 'text/plain');
  response.end('hello');
};

describe('safeFetch', () => {
  it('fetches from a private address only when allowed (test option)', async () => {
    const { url } = await serve(hello);
    const fetched = await safeFetch(`${url}/doc.txt`, { allowPrivateNetwork: true });
    expect(new TextDecoder().decode(fetched.bytes)).toBe('hello');
    expect(fetched).toMatchObject({
      status: 200,
      contentType: 'text/plain',
      url: `${url}/doc.txt`,
      redirects: [],
    });
  });

  it('refuses loopback by default, before any request is sent', async () => {
    const { url, hits } = await serve(hello);
    const error = await failure(safeFetch(url));
    expect(error).toMatchObject({ status: 400, code: 'url_not_allowed', param: 'url' });
    expect(error.message).toMatch(/loopback/);
    expect(hits).toEqual([]);
  });

  it('refuses every other spelling of a loopback or private address', async () => {
    const { port, hits } = await serve(hello);
    const spellings = [
      `http://2130706433:${port}/`,
      `http://0x7f000001:${port}/`,
      `http://0x7f.0.0.1:${port}/`,
      `http://0177.0.0.1:${port}/`,
      `http://127.1:${port}/`,
      `http://0.0.0.0:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://[::ffff:7f00:1]:${port}/`,
      `http://localhost:${port}/`,
    ];
    for (const spelling of spellings) {
      const error = await failure(safeFetch(spelling));
      expect(error.code, spelling).toBe('url_not_allowed');
    }
    expect(hits).toEqual([]);
  });

  it('checks the address DNS gives for the connection itself, refusing mixed answers', async () => {
    const { port, hits } = await serve(hello);
    const rebinding = async () => [{ address: '127.0.0.1', family: 4 }];
    expect((await failure(safeFetch(`http://rebind.test:${port}/`, { resolve: rebinding }))).code).toBe(
      'url_not_allowed',
    );
    const mixed = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    expect((await failure(safeFetch(`http://mixed.test:${port}/`, { resolve: mixed }))).message).toMatch(
      /10\.0\.0\.7/,
    );
    expect(hits).toEqual([]);
    // The same lookup is what connects: an allowed answer reaches the server under the original host name.
    const allowed = await safeFetch(`http://app.test:${port}/page`, {
      resolve: rebinding,
      allowAddresses: ['127.0.0.1'],
    });
    expect(allowed.status).toBe(200);
    expect(hits).toEqual([`app.test:${port}/page`]);
  });

  it.each([
    'file:///etc/passwd',
    'ftp://example.com/a',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'gopher://x/',
  ])('refuses the scheme of %s', async (url) => {
    expect((await failure(safeFetch(url))).code).toBe('url_not_allowed');
  });

  it('refuses a string that is not a URL', async () => {
    expect((await failure(safeFetch('not a url'))).code).toBe('invalid_url');
  });

  it('follows redirects by hand and re-checks every hop', async () => {
    const refusedTarget = await serve(hello, '127.0.0.2');
    const { url, hits } = await serve((request, response) => {
      const targets: Record<string, string> = {
        '/one': '/two',
        '/two': '/final',
        '/to-other-loopback': `${refusedTarget.url}/secret`,
        '/to-ipv6-loopback': `http://[::1]:${refusedTarget.port}/`,
        '/to-file': 'file:///etc/passwd',
        '/loop': '/loop',
      };
      const location = targets[request.url ?? ''];
      if (location) {
        response.writeHead(302, { location }).end();
      } else {
        hello(request, response);
      }
    });
    const policy = { allowAddresses: ['127.0.0.1'] };
    const fetched = await safeFetch(`${url}/one`, policy);
    expect(fetched.url).toBe(`${url}/final`);
    expect(fetched.redirects).toEqual([`${url}/one`, `${url}/two`]);
    for (const path of ['/to-other-loopback', '/to-ipv6-loopback', '/to-file']) {
      expect((await failure(safeFetch(`${url}${path}`, policy))).code, path).toBe('url_not_allowed');
    }
    expect(refusedTarget.hits).toEqual([]);
    const loop = await failure(safeFetch(`${url}/loop`, policy));
    expect(loop.message).toMatch(/More than 5 redirects/);
    expect(hits.filter((hit) => hit.endsWith('/loop'))).toHaveLength(6);
  });

  it('caps the body in bytes, declared or streamed, and after decompression', async () => {
    const big = 'x'.repeat(5000);
    const { url } = await serve((request, response) => {
      if (request.url === '/declared') response.end(big);
      else if (request.url === '/gzip')
        response.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(big));
      else if (request.url === '/small-gzip')
        response.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('tiny'));
      else {
        response.write(big.slice(0, 2500));
        response.end(big.slice(2500));
      }
    });
    const policy = { allowPrivateNetwork: true, maxBytes: 1000 };
    for (const path of ['/declared', '/streamed', '/gzip']) {
      expect((await failure(safeFetch(`${url}${path}`, policy))).status, path).toBe(413);
    }
    const small = await safeFetch(`${url}/small-gzip`, policy);
    expect(new TextDecoder().decode(small.bytes)).toBe('tiny');
  });

  it('gives up after the total timeout (504) or when the caller aborts (499)', async () => {
    const { url } = await serve(() => {});
    const timedOut = await failure(safeFetch(url, { allowPrivateNetwork: true, timeoutMs: 150 }));
    expect(timedOut).toMatchObject({ status: 504, code: 'url_fetch_timeout' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await failure(safeFetch(url, { allowPrivateNetwork: true, signal: controller.signal }));
    expect(aborted.status).toBe(499);
  });

  it('reports an error status of the server as 422', async () => {
    const { url } = await serve((_request, response) => response.writeHead(404).end('missing'));
    const error = await failure(safeFetch(url, { allowPrivateNetwork: true }));
    expect(error).toMatchObject({ status: 422, code: 'url_fetch_failed' });
  });

  it('reports a host that cannot be reached as 422, not as a server error', async () => {
    const { url } = await serve(hello);
    const port = new URL(url).port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const refused = await failure(safeFetch(`http://127.0.0.1:${port}/`, { allowPrivateNetwork: true }));
    expect(refused).toMatchObject({ status: 422, code: 'url_fetch_failed', param: 'url' });
    const unknownHost = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const missing = await failure(safeFetch('http://nowhere.test/', { resolve: unknownHost }));
    expect(missing).toMatchObject({ status: 422, code: 'url_fetch_failed' });
  });
});

describe('checkUrl', () => {
  it('refuses bad schemes, private literals and private DNS answers without fetching', async () => {
    expect((await failure(checkUrl('file:///etc/passwd'))).code).toBe('url_not_allowed');
    expect((await failure(checkUrl('http://2130706433/'))).code).toBe('url_not_allowed');
    expect((await failure(checkUrl('http://[::ffff:10.0.0.1]/'))).code).toBe('url_not_allowed');
    const loopback = async () => [{ address: '127.0.0.1', family: 4 }];
    expect((await failure(checkUrl('http://rebind.test/', { resolve: loopback }))).message).toMatch(
      /loopback/,
    );
    const publicAnswer = async () => [{ address: '93.184.216.34', family: 4 }];
    expect((await checkUrl('https://example.test/a?b', { resolve: publicAnswer })).href).toBe(
      'https://example.test/a?b',
    );
    expect((await checkUrl('http://127.0.0.1/', { allowPrivateNetwork: true })).host).toBe('127.0.0.1');
  });
});
