/**
 * `/dashboard` of a real `fusion serve` (FUSION_DIAGNOSTICS=1), opened in Debian's headless Chromium
 * through playwright-core: it shows the upstream's models, a request count that moves with real
 * requests, and a job; a screenshot goes to the test's temp dir. Its data is refused to other
 * origins and no page may frame it. With API keys on (and a base path), the page asks for a key,
 * refuses a key that is not an admin key, and shows the data to an admin key.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultUpstream, startFaultUpstream } from '../support/fault-upstream.js';
import { type HeadlessChromium, launchHeadlessChromium } from '../support/headless-chromium.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

let upstream: FaultUpstream;
let cwd: string;
let cli: RunningCli;
let chromium: HeadlessChromium;
let browser: BrowserContext;
/** The second server: API keys on, under the base path `/ai`. */
let keyed: RunningCli;
const ADMIN_KEY = 'fk_dashboard_admin';
const APP_KEY = 'fk_dashboard_app';

beforeAll(async () => {
  upstream = await startFaultUpstream();
  cwd = mkdtempSync(join(tmpdir(), 'fusion-dashboard-'));
  cli = await spawnCli(
    ['serve'],
    { FUSION_UPSTREAMS: `lab=${upstream.baseURL}`, FUSION_STATE: 'memory', FUSION_DIAGNOSTICS: '1' },
    cwd,
  );
  const keyedCwd = join(cwd, 'keyed');
  mkdirSync(keyedCwd);
  writeFileSync(
    join(keyedCwd, 'fusion.config.json'),
    JSON.stringify({
      basePath: '/ai',
      apiKeys: [
        { id: 'ops', key: ADMIN_KEY, admin: true },
        { id: 'app', key: APP_KEY },
      ],
    }),
  );
  keyed = await spawnCli(
    ['serve'],
    { FUSION_UPSTREAMS: `lab=${upstream.baseURL}`, FUSION_STATE: 'memory' },
    keyedCwd,
  );
  chromium = await launchHeadlessChromium();
  browser = chromium.browser;
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  if (cli) await cli.stop();
  if (keyed) await keyed.stop();
  await upstream?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

const total = (text: string | null) => Number(text);

describe('/dashboard in headless Chromium', () => {
  it('shows the models, a request count that moves with real requests, and a job', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${cli.url}/dashboard`);
    await page.waitForFunction(() => document.querySelector('#health')?.textContent === 'ok');
    const rowsOf = (table: string) =>
      page.$$eval(`#${table} tbody tr`, (rows) =>
        rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)),
      );
    expect((await rowsOf('models')).map((row) => row[0])).toContain('lab/steady');
    const before = total(await page.textContent('#requests-total'));

    const client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'none', maxRetries: 0 });
    for (let index = 0; index < 3; index++) {
      await client.chat.completions.create({
        model: 'lab/steady',
        messages: [{ role: 'user', content: 'Hi' }],
      });
    }
    const created = await fetch(`${cli.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'chat.batch',
        input: { requests: [{ model: 'lab/steady', messages: [{ role: 'user', content: 'Hi' }] }] },
      }),
    });
    expect(created.status).toBeLessThan(300);
    const job = (await created.json()) as { id: string };

    // The page polls every second; its count grows by the three chats and the job, not by its polls.
    await page.waitForFunction(
      (expected) => Number(document.querySelector('#requests-total')?.textContent) === expected,
      before + 4,
    );
    await page.waitForFunction(
      (id) => [...document.querySelectorAll('#jobs td')].some((cell) => cell.textContent === id),
      job.id,
    );
    const recent = await rowsOf('requests');
    expect(
      recent.some((row) => row[1] === '/v1/chat/completions' && row[2] === 'lab/steady' && row[3] === '200'),
    ).toBe(true);
    expect(recent.some((row) => row[1]?.startsWith('/dashboard'))).toBe(false);
    expect(await page.$$eval('#latency polyline', (lines) => lines.length)).toBe(1);
    expect(await page.textContent('#queue')).toMatch(/running, \d+ waiting/);

    const screenshot = join(cwd, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(existsSync(screenshot) && statSync(screenshot).size).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
  }, 60_000);

  it('is not framed by other pages and does not give its data to other origins', async () => {
    const page = await fetch(`${cli.url}/dashboard`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('access-control-allow-origin')).toBeNull();

    const crossSite = await fetch(`${cli.url}/dashboard/data`, {
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ error: { code: expect.any(String) } });
    expect(crossSite.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with API keys on and a base path: asks for a key, refuses a non-admin key, shows the data to an admin key', async () => {
    const base = `${keyed.url}/ai`;
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    // The page and its script are static and need no key; the data and the diagnostics do.
    const pageResponse = await fetch(`${base}/dashboard`);
    expect(pageResponse.status).toBe(200);
    expect(pageResponse.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await pageResponse.text();
    expect(html).not.toContain('lab/steady');
    expect(html).not.toMatch(/(src|href)="\//);
    expect((await fetch(`${base}/dashboard/app.js`)).status).toBe(200);
    expect((await fetch(`${base}/dashboard/data`)).status).toBe(401);
    for (const path of ['/dashboard/data', '/internal/diagnostics']) {
      const refused = await fetch(`${base}${path}`, { headers: bearer(APP_KEY) });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: 'admin_key_required' } });
      expect((await fetch(`${base}${path}`, { headers: bearer(ADMIN_KEY) })).status).toBe(200);
    }
    const crossSite = await fetch(`${base}/dashboard/data`, {
      headers: { ...bearer(ADMIN_KEY), origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('response', (response) => {
      // The data's 401 and 403 are how the page learns it needs (another) key.
      if (response.status() >= 400 && !response.url().endsWith('/ai/dashboard/data')) {
        errors.push(`${response.status()} ${response.url()}`);
      }
    });
    await page.goto(`${base}/dashboard`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isHidden('#main')).toBe(true);

    await page.fill('#key', APP_KEY);
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() =>
      /admin key/.test(document.querySelector('#login-note')?.textContent ?? ''),
    );
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('fusion-dashboard-key'))).toBeNull();

    await page.fill('#key', ADMIN_KEY);
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#health')?.textContent === 'ok');
    const models = await page.$$eval('#models tbody tr td:first-child', (cells) =>
      cells.map((cell) => cell.textContent),
    );
    expect(models).toContain('lab/steady');
    expect(await page.isHidden('#login')).toBe(true);
    // The key lasts for the tab (sessionStorage): a reload shows the data without asking again.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#health')?.textContent === 'ok');
    expect(await page.isHidden('#login')).toBe(true);
    await page.screenshot({ path: join(cwd, 'dashboard-keyed.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
