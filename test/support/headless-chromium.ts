import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** A headless Chromium and the temporary profile it runs in. */
export interface HeadlessChromium {
  browser: BrowserContext;
  /** The profile's folder (a test may put a screenshot next to it). */
  profile: string;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Debian's headless Chromium (`/usr/bin/chromium`, or `FUSION_CHROMIUM`) through playwright-core,
 * in a fresh profile: no sandbox (tests run as root in CI), no GPU, nothing that reaches the network
 * on its own. `npm test`'s pretest installs the package.
 */
export async function launchHeadlessChromium(): Promise<HeadlessChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'fusion-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.FUSION_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    profile,
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
