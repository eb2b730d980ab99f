/**
 * What a web page of another site makes a real browser send to the gateway without an `Origin`
 * header (an image, a script, a style sheet, a frame, a no-cors fetch) is refused, seen from
 * Debian's headless Chromium through playwright-core; a link the user follows still opens the page.
 * The gateway listens on 127.0.0.1 and the page is served from `localhost`: two sites.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFusion, type Fusion } from '@fusionkit/core';
import { type NodeServer, serve } from '@fusionkit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockProvider } from '../../packages/core/src/test/mock-provider.js';
import { type HeadlessChromium, launchHeadlessChromium } from '../support/headless-chromium.js';

interface Seen {
  path: string;
  site: string | null;
  dest: string | null;
  origin: string | null;
  status: number;
}

let fusion: Fusion;
let gateway: NodeServer;
let page: Server;
let pageOrigin: string;
let chromium: HeadlessChromium;
const seen: Seen[] = [];

beforeAll(async () => {
  fusion = createFusion({
    healthIntervalMs: 0,
    providers: [createMockProvider({ id: 'mock', models: [{ id: 'echo' }] })],
  });
  await fusion.ready;
  // Records what reached the gateway and how it answered.
  gateway = await serve(
    {
      async handle(request) {
        const response = await fusion.handle(request);
        const headers = request.headers;
        seen.push({
          path: new URL(request.url).pathname,
          site: headers.get('sec-fetch-site'),
          dest: headers.get('sec-fetch-dest'),
          origin: headers.get('origin'),
          status: response.status,
        });
        return response;
      },
      close: (options) => fusion.close(options),
    },
    { port: 0, signals: false },
  );
  const api = gateway.url;
  const html = `<!doctype html><title>another site</title>
<img src="${api}/v1/models?as=image">
<script src="${api}/v1/models?as=script"></script>
<link rel="stylesheet" href="${api}/v1/models?as=style">
<iframe src="${api}/v1/models?as=frame"></iframe>
<a id="link" href="${api}/v1/models?as=link">models</a>
<script>fetch(${JSON.stringify(`${api}/health?as=no-cors`)}, { mode: 'no-cors' }).catch(() => {});</script>`;
  page = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://localhost:${(page.address() as AddressInfo).port}`;
  chromium = await launchHeadlessChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await gateway?.close();
  await new Promise((resolve) => page?.close(resolve));
});

describe('requests a page of another site makes a browser send', () => {
  it('refuses every subresource and frame (403) and opens a link the user follows', async () => {
    const tab = chromium.browser.pages()[0] ?? (await chromium.browser.newPage());
    await tab.goto(pageOrigin);
    // The image, script, style sheet, frame and no-cors fetch.
    await expect.poll(() => seen.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(5);
    const fromPage = [...seen];
    expect(new Set(fromPage.map((request) => request.dest))).toEqual(
      new Set(['image', 'script', 'style', 'iframe', 'empty']),
    );
    for (const request of fromPage) {
      expect(request, JSON.stringify(request)).toMatchObject({
        site: 'cross-site',
        origin: null,
        status: 403,
      });
    }

    await Promise.all([tab.waitForURL(/\/v1\/models\?as=link$/), tab.click('#link')]);
    // (The browser then asks the gateway's own /favicon.ico, same-origin: not the link.)
    const followed = seen.filter((request) => request.dest === 'document');
    expect(followed).toEqual([
      { path: '/v1/models', dest: 'document', site: 'cross-site', origin: null, status: 200 },
    ]);
    expect(await tab.textContent('body')).toContain('mock/echo');
  }, 60_000);
});
