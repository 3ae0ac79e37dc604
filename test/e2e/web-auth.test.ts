/**
 * The web UI's door, in real Chromium against a real daemon: without the token the page explains
 * how to log in and the API answers 401; a wrong token stays out; the right one (visiting
 * /login?token=…) sets an HttpOnly cookie and leaves the URL; a page on another origin cannot open
 * the daemon's WebSocket even though the browser sends it the cookie; API errors show as messages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chromiumMissing, launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.js';
import { daemonMissing, startTestDaemon, type TestDaemon } from '../helpers/web-daemon.js';

const missing = chromiumMissing() ?? (await daemonMissing());
if (missing) console.warn(`[skip] web UI auth e2e: ${missing}`);

describe.skipIf(!!missing)('web UI: login and refusals (real Chromium, real daemon)', () => {
  let daemon: TestDaemon;
  let browser: TestBrowser;
  let evil: Server;
  let evilUrl: string;

  beforeAll(async () => {
    daemon = await startTestDaemon();
    browser = await launchBrowser();
    // Another origin on the same host: same site for the browser (ports do not count), so the
    // SameSite=Strict cookie goes along with its requests; only the daemon's Origin check stops it.
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>evil</title><p>evil page</p>');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    evil?.close();
  });

  it('without a token: 401 from the API and a page that explains how to log in', async () => {
    expect((await fetch(`${daemon.url}/api/sandboxes`)).status).toBe(401);
    const body = (await (await fetch(`${daemon.url}/api/sandboxes`)).json()) as { error: { code: string } };
    expect(body.error.code).toBeTruthy();
    const page = await browser.page();
    await page.goto(daemon.url);
    const login = page.getByTestId('login-screen');
    await login.waitFor();
    expect(await login.textContent()).toContain('corral web');
    await screenshot(page, 'web-login');
    await page.close();
  });

  it('a wrong token stays out (401), also as a bearer header', async () => {
    expect(
      (await fetch(`${daemon.url}/api/sandboxes`, { headers: { authorization: `Bearer ${'0'.repeat(64)}` } }))
        .status,
    ).toBe(401);
    const page = await browser.page();
    const res = await page.goto(`${daemon.url}/login?token=${'f'.repeat(64)}`);
    expect(res?.status()).toBe(401);
    await page.goto(daemon.url);
    await page.getByTestId('login-screen').waitFor();
    expect(await browser.context.cookies(daemon.url)).toEqual([]);
    await page.close();
  });

  it('the right token logs in: an HttpOnly SameSite=Strict cookie, and the token leaves the URL', async () => {
    const page = await browser.page();
    await page.goto(`${daemon.url}/login?token=${daemon.token}`);
    await page.getByTestId('nav-sandboxes').waitFor();
    expect(page.url()).not.toContain(daemon.token);
    const cookies = await browser.context.cookies(daemon.url);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The page's own script cannot read the token.
    expect(await page.evaluate(() => document.cookie)).not.toContain(daemon.token);
    await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
    await screenshot(page, 'web-sandboxes-empty');
    await page.close();
  });

  it("another origin's page cannot open the daemon's WebSocket, though its own page can", async () => {
    // Runs in the page; a string, so the test's own `ws` import cannot stand in for the browser's.
    const attempt = (page: import('playwright-core').Page) =>
      page.evaluate(`new Promise((resolve) => {
        const ws = new WebSocket(${JSON.stringify(`${daemon.url.replace('http', 'ws')}/api/events`)});
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 5000);
      })`);
    // Logged in (the previous test set the cookie in this browser profile).
    const own = await browser.page();
    await own.goto(`${daemon.url}/#/approvals`);
    expect(await attempt(own)).toBe('open');
    const other = await browser.page();
    await other.goto(evilUrl);
    expect(await attempt(other)).toBe('refused');
    await own.close();
    await other.close();
    // The same from outside a browser, with the token in hand: a foreign Origin gets 403.
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/events`, {
        headers: { authorization: `Bearer ${daemon.token}`, origin: 'http://evil.example' },
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => {});
    });
    expect(status).toBe(403);
  });

  it('an API error is shown in the page as a message with its hint, not a blank page', async () => {
    const page = await browser.page();
    await page.goto(`${daemon.url}/#/sandboxes`);
    await page.getByTestId('start-workdir').fill('not/an/absolute/path');
    await page.getByTestId('start-submit').click();
    const toast = page.getByTestId('error-toast');
    await toast.waitFor();
    expect((await toast.textContent())?.length ?? 0).toBeGreaterThan(10);
    await screenshot(page, 'web-error-toast');
    // The page is still there.
    expect(await page.getByTestId('start-form').isVisible()).toBe(true);
    await page.close();
    expect(browser.problems).toEqual([]);
  });
});
