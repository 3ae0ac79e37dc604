/**
 * Real Chromium (Debian's `chromium`, installed by scripts/setup) driven by playwright-core, for
 * the web UI's e2e tests. Each browser gets a fresh profile, so no cookie or cache survives a test
 * file; screenshots go to .corral-test/screenshots/ as test artifacts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './cli.js';

export const CHROMIUM = process.env.CORRAL_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, '.corral-test/screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM} (apt-get install chromium; scripts/setup does)`;
}

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab; page errors and failed requests are collected in `problems`. */
  page(): Promise<Page>;
  problems: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'corral-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
  });
  const problems: string[] = [];
  return {
    context,
    problems,
    async page() {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      // Any request that leaves the daemon's origin would mean a CDN or other outside dependency.
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.hostname !== '127.0.0.1' && u.protocol !== 'data:' && u.protocol !== 'blob:')
          problems.push(`request outside the daemon: ${r.url()}`);
      });
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text xterm.js shows (its DOM renderer's rows), for asserting on terminal output. */
export async function terminalText(page: Page): Promise<string> {
  // xterm.js draws on animation frames, which a background tab does not get.
  await page.bringToFront();
  const rows = await page.locator('[data-testid="xterm"] .xterm-rows > div').allTextContents();
  return rows.join('\n');
}
