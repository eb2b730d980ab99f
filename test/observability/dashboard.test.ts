/**
 * `/dashboard` of a real `fusion serve` (FUSION_DIAGNOSTICS=1), opened in Debian's headless Chromium
 * through playwright-core: it shows the upstream's models, a request count that moves with real
 * requests, and a job; a screenshot goes to the test's temp dir. Its data is refused to other
 * origins and no page may frame it.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultUpstream, startFaultUpstream } from '../support/fault-upstream.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

let upstream: FaultUpstream;
let cwd: string;
let cli: RunningCli;
let browser: BrowserContext;

beforeAll(async () => {
  upstream = await startFaultUpstream();
  cwd = mkdtempSync(join(tmpdir(), 'fusion-dashboard-'));
  cli = await spawnCli(
    ['serve'],
    { FUSION_UPSTREAMS: `lab=${upstream.baseURL}`, FUSION_STATE: 'memory', FUSION_DIAGNOSTICS: '1' },
    cwd,
  );
  browser = await chromium.launchPersistentContext(join(cwd, 'profile'), {
    executablePath: process.env.FUSION_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (cli) await cli.stop();
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
});
