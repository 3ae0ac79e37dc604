/**
 * The web UI end to end, in real Chromium against a real daemon on each engine: start Claude Code
 * from the page against the scripted model and see it write a file; type into a shell sandbox's
 * browser terminal (two viewers at once, detach without stopping); see an egress denial arrive
 * live and allow it with one click; answer a host command's approval from the page and see it run.
 * Screenshots go to .corral-test/screenshots/.
 */
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import {
  chromiumMissing,
  launchBrowser,
  screenshot,
  type TestBrowser,
  terminalText,
} from '../helpers/browser.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import { daemonApi, daemonMissing, startTestDaemon, type TestDaemon } from '../helpers/web-daemon.js';

const missing = chromiumMissing() ?? (await daemonMissing());
if (missing) console.warn(`[skip] web UI e2e: ${missing}`);

const HOST_COMMAND = 'echo made-on-the-host > host-made.txt';
const DENIED_HOST = 'denied-web-e2e.invalid';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function model(yaml: string, name: string): Promise<ModelServer> {
  return startModelServer({
    host: '0.0.0.0',
    script: await parseScript(yaml, name),
    allow: isLocalOrContainerAddress,
  });
}

async function typeInTerminal(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid="xterm"] textarea').focus();
  await page.keyboard.type(text);
}

for (const kind of TEST_ENGINES) {
  describe.skipIf(!!missing)(`web UI on ${kind} (real Chromium, real daemon)`, () => {
    const env = { CORRAL_ENGINE: kind };
    let daemon: TestDaemon;
    let browser: TestBrowser;
    const workspaces: string[] = [];

    async function workspace(name: string): Promise<string> {
      const ws = await realpath(await tempWorkspace(`corral-web-${name}-`));
      await writeFile(join(ws, 'README.md'), '# web e2e\n');
      workspaces.push(ws);
      return ws;
    }

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      daemon = await startTestDaemon(env);
      browser = await launchBrowser();
      const page = await browser.page();
      await page.goto(`${daemon.url}/login?token=${daemon.token}`);
      await page.getByTestId('nav-sandboxes').waitFor();
      await page.close();
    }, 900_000);

    afterAll(async () => {
      await browser?.close();
      for (const ws of workspaces) await corral(['clean'], { cwd: ws, env: daemon?.env ?? env });
      await daemon?.stop();
    });

    it('starts Claude Code on a folder from the page; it writes its file', async () => {
      const server = await model(
        'turns:\n  - say: Writing.\n    run: echo written-from-the-web > web-result.txt\n  - text: Done.\n',
        'web start script',
      );
      const ws = await workspace('start');
      const page = await browser.page();
      try {
        await page.goto(`${daemon.url}/#/sandboxes`);
        await page.getByTestId('start-agent').selectOption('claude');
        await page.getByTestId('start-workdir').fill(ws);
        await page.getByTestId('start-model-url').fill(server.url);
        await page.getByTestId('start-prompt').fill('Write the file as instructed.');
        await page.getByTestId('start-yolo').check();
        await screenshot(page, `web-start-form-${kind}`);
        await page.getByTestId('start-submit').click();
        // The new sandbox shows up (from the sandbox.started event or the reload after the POST).
        await page
          .locator(`[data-testid="workspace"][data-workspace="${ws}"] [data-testid="sandbox-row"]`)
          .waitFor();
        const text = await until(
          'web-result.txt',
          () => readFile(join(ws, 'web-result.txt'), 'utf8'),
          180_000,
        );
        expect(text).toBe('written-from-the-web\n');
        await screenshot(page, `web-sandboxes-${kind}`);
        expect(browser.problems).toEqual([]);
      } finally {
        await page.close();
        await server.close();
      }
    });

    describe('a shell sandbox', () => {
      let ws: string;
      let id: string;

      beforeAll(async () => {
        ws = await workspace('shell');
        // Started from the page: a shell in Claude Code's sandbox, detached with a TTY.
        const page = await browser.page();
        await page.goto(`${daemon.url}/#/sandboxes`);
        await page.getByTestId('start-agent').selectOption('claude');
        await page.getByTestId('start-mode').selectOption('shell');
        await page.getByTestId('start-workdir').fill(ws);
        await page.getByTestId('start-submit').click();
        const row = page.locator(
          `[data-testid="workspace"][data-workspace="${ws}"] [data-testid="sandbox-row"][data-state="running"]`,
        );
        await row.waitFor({ timeout: 120_000 });
        id = (await row.getAttribute('data-id'))!;
        await page.close();
      }, 300_000);

      it('a command typed into the browser terminal runs; two viewers see it; detaching leaves it running', async () => {
        const a = await browser.page();
        const b = await browser.page();
        try {
          await a.goto(`${daemon.url}/#/sandboxes`);
          await a
            .locator(`[data-testid="sandbox-row"][data-id="${id}"] [data-testid="open-terminal"]`)
            .click();
          await a.locator('[data-testid="term-status"][data-state="open"]').waitFor();
          await b.goto(`${daemon.url}/#/terminal/${id}`);
          await b.locator('[data-testid="term-status"][data-state="open"]').waitFor();
          await typeInTerminal(a, 'echo web-$((6*7))-ok\n');
          // The shell's output (not the echoed input, which has the $((…))) reaches both viewers.
          await until(
            'output in viewer A',
            async () => (await terminalText(a)).includes('web-42-ok'),
            30_000,
          );
          await until(
            'output in viewer B',
            async () => (await terminalText(b)).includes('web-42-ok'),
            30_000,
          );
          await screenshot(a, `web-terminal-${kind}`);
          // Resizing the browser window resizes the TTY: `stty size` inside says what xterm shows.
          const before = await a.getByTestId('term-size').textContent();
          await a.setViewportSize({ width: 900, height: 600 });
          // The box settles over a few layout passes: take the size once it holds for half a second.
          let last = before;
          const after = await until('a new, settled size', async () => {
            const t = await a.getByTestId('term-size').textContent();
            const settled = t === last && t !== before ? t : undefined;
            last = t;
            if (!settled) await new Promise((r) => setTimeout(r, 250));
            return settled ?? undefined;
          });
          const [cols, rows] = after.split('×');
          // The engine applies a resize asynchronously: ask again until the TTY reports it.
          await until(
            `stty size ${rows} ${cols}`,
            async () => {
              await typeInTerminal(a, 'clear; stty size\n');
              await new Promise((r) => setTimeout(r, 1000));
              return (await terminalText(a)).includes(`${rows} ${cols}`);
            },
            20_000,
          );
          await a.getByTestId('term-detach').click();
          await a.waitForURL(/#\/sandboxes$/);
          // Viewer B still works, and the sandbox still runs.
          await typeInTerminal(b, 'echo still-$((1+1))-here\n');
          await until(
            'viewer B after A detached',
            async () => (await terminalText(b)).includes('still-2-here'),
            30_000,
          );
          const list = await daemonApi<Array<{ id: string; state: string }>>(daemon, 'GET', '/api/sandboxes');
          expect(list.find((s) => s.id === id)?.state).toBe('running');
        } finally {
          await a.close();
          await b.close();
        }
      });

      it('an egress denial appears live, highlighted, and one click allows that host', async () => {
        const log = await browser.page();
        const term = await browser.page();
        try {
          await log.goto(`${daemon.url}/#/egress/${encodeURIComponent(ws)}`);
          await log.getByTestId('egress-rules').waitFor();
          await term.goto(`${daemon.url}/#/terminal/${id}`);
          await term.locator('[data-testid="term-status"][data-state="open"]').waitFor();
          const curl = `curl -s -o /dev/null -w 'code=%{http_code}\\n' http://${DENIED_HOST}/v1/x`;
          await typeInTerminal(term, `${curl}\n`);
          await until('code=403', async () => (await terminalText(term)).includes('code=403'), 30_000);
          // The denial arrives on the open page without a reload.
          const row = log
            .locator(`[data-testid="egress-row"][data-host="${DENIED_HOST}"][data-decision="deny"]`)
            .first();
          await row.waitFor({ timeout: 30_000 });
          expect(await row.getAttribute('class')).toContain('denied');
          await screenshot(log, `web-egress-denied-${kind}`);
          await row.getByTestId('allow-host').click();
          await log.getByTestId('egress-notice').waitFor();
          expect(await log.getByTestId('egress-notice').textContent()).toContain('applies it now');
          await log.locator('[data-testid="rule-allow"]', { hasText: DENIED_HOST }).waitFor();
          await row.getByTestId('allowed-now').waitFor();
          await screenshot(log, `web-egress-allowed-${kind}`);
          // Applied live: the same request is no longer refused by policy (the name does not
          // resolve, so the gateway answers 502 rather than 403).
          await typeInTerminal(term, 'clear\n');
          await typeInTerminal(term, `${curl}\n`);
          const code = await until(
            'a second code',
            async () => /code=(\d+)/.exec(await terminalText(term))?.[1],
            30_000,
          );
          expect(code).not.toBe('403');
        } finally {
          await log.close();
          await term.close();
        }
      });

      it('after a daemon restart the terminal reconnects by itself and live updates resume', async () => {
        const term = await browser.page();
        const log = await browser.page();
        try {
          await term.goto(`${daemon.url}/#/terminal/${id}`);
          await term.locator('[data-testid="term-status"][data-state="open"]').waitFor();
          await log.goto(`${daemon.url}/#/egress/${encodeURIComponent(ws)}`);
          await log.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
          // Same port, same token file: the pages keep their address and cookie.
          const port = new URL(daemon.url).port;
          expect((await corral(['daemon', 'stop'], { env: daemon.env })).code).toBe(0);
          await term.locator('[data-testid="term-status"][data-state="reconnecting"]').waitFor();
          const started = await corral(['daemon', 'start', '--listen', `127.0.0.1:${port}`], {
            env: daemon.env,
          });
          expect(started.code, started.stderr).toBe(0);
          await term.locator('[data-testid="term-status"][data-state="open"]').waitFor({ timeout: 30_000 });
          await typeInTerminal(term, 'echo back-$((2+3))\n');
          await until(
            'output after the restart',
            async () => (await terminalText(term)).includes('back-5'),
            30_000,
          );
          // The new daemon numbers its events from 1 again; the page must not take them for old ones.
          await log.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
          const host = 'after-restart.invalid';
          await typeInTerminal(term, `curl -s -o /dev/null -w 'code=%{http_code}\\n' http://${host}/\n`);
          await log
            .locator(`[data-testid="egress-row"][data-host="${host}"][data-decision="deny"]`)
            .waitFor({ timeout: 30_000 });
        } finally {
          await term.close();
          await log.close();
        }
      });
    });

    it('answers a host command approval from the page, and the command runs', async () => {
      const server = await model(
        `turns:\n  - tool: mcp__corral__run_command\n    input: ${JSON.stringify({ command: HOST_COMMAND })}\n  - text: Asked the host.\n`,
        'web approval script',
      );
      const ws = await workspace('approve');
      const page = await browser.page();
      try {
        await page.goto(`${daemon.url}/#/approvals`);
        await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
        // The queue is the user's, across workspaces (other runs may be waiting): only ours counts.
        const card = page.locator(`[data-testid="approval"][data-workspace="${ws}"]`);
        expect(await card.count()).toBe(0);
        // As in bridge.test.ts: a run whose agent asks for a host command nobody allowed.
        const running = corral(
          ['run', 'claude', '--model-url', server.url, '--prompt', 'Ask the host.', '--yolo'],
          {
            cwd: ws,
            env: daemon.env,
          },
        );
        const asked = Date.now();
        await card.waitFor({ timeout: 120_000 });
        expect(await card.getByTestId('approval-summary').textContent()).toContain('made-on-the-host');
        console.log(
          `web approval on ${kind}: on the page ${((Date.now() - asked) / 1000).toFixed(1)} s after the run started`,
        );
        await screenshot(page, `web-approval-${kind}`);
        await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
        await card.getByTestId('approve-once').click();
        await page.getByTestId('answered').first().waitFor();
        const r = await running;
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toContain('refused a host command');
        expect(await readFile(join(ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
        // Answered, it leaves the queue live.
        await card.waitFor({ state: 'detached' });
      } finally {
        await page.close();
        await server.close();
      }
    });
  });
}
