/**
 * The web UI's multi-agent session chat and task form, in real Chromium against a real daemon,
 * with real Claude Code and Codex answering from the scripted model on a real engine: a session
 * made in the page answers `@all` in one column per agent; a bad address, a bad issue URL and an
 * unknown agent are shown as messages; a task started from the form runs to the end.
 */
import { mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { chromiumMissing, launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import { initRepo } from '../helpers/git-server.js';
import { daemonMissing, startTestDaemon, type TestDaemon } from '../helpers/web-daemon.js';

const kind = TEST_ENGINES[0];
const missing = chromiumMissing() ?? (await daemonMissing()) ?? (kind ? undefined : 'no test engine');
if (missing) console.warn(`[skip] web UI sessions e2e: ${missing}`);

const ANSWER = 'Scripted answer in the browser.';

describe.skipIf(!!missing)(
  `web UI: session chat and task form (real Chromium, daemon, agents on ${kind})`,
  () => {
    let daemon: TestDaemon;
    let browser: TestBrowser;
    let model: ModelServer;
    let work: string;

    beforeAll(async () => {
      const engine = await engineFor(kind!);
      await agentImage(engine, 'claude');
      await agentImage(engine, 'codex');
      model = await startModelServer({
        host: '0.0.0.0',
        script: await parseScript(`turns:\n  - text: ${ANSWER}\n`, 'web sessions script'),
        allow: isLocalOrContainerAddress,
      });
      work = await initRepo(await realpath(await mkdtemp(join(tmpdir(), 'corral-web-sess-ws-'))));
      daemon = await startTestDaemon({
        CORRAL_ENGINE: kind,
        CORRAL_DATA_DIR: await mkdtemp(join(tmpdir(), 'corral-web-sess-data-')),
      });
      browser = await launchBrowser();
    });

    afterAll(async () => {
      await browser?.close();
      await daemon?.stop();
      await model?.close();
    });

    it('a session is a chat with one column per agent; @all gets an answer in each; a bad address is a message', async () => {
      const page = await browser.page();
      await page.goto(`${daemon.url}/login?token=${daemon.token}`);
      await page.getByTestId('nav-sessions').click();
      const form = page.getByTestId('session-form');
      // An unknown agent is refused with the daemon's message, next to the form.
      await form.getByTestId('session-name').fill('web-pair');
      await form.getByTestId('session-agents').fill('claude,nosuch');
      await form.getByPlaceholder('/home/me/project').fill(work);
      await form.getByPlaceholder('http://127.0.0.1:8080').fill(model.url);
      await form.getByRole('button', { name: 'Make session' }).click();
      await expect
        .poll(() => page.getByTestId('session-form-error').textContent())
        .toContain('Unknown agent "nosuch"');
      await screenshot(page, 'web-session-new-error');

      await form.getByTestId('session-agents').fill('claude,codex');
      await form.getByRole('button', { name: 'Make session' }).click();
      await page.getByTestId('session-chat').waitFor();
      const columns = page.getByTestId('chat-column');
      expect(await columns.evaluateAll((cs) => cs.map((c) => c.getAttribute('data-agent')))).toEqual([
        'claude',
        'codex',
      ]);

      await page.getByTestId('address-all').click();
      await page.getByTestId('send-text').pressSequentially('Hello from the browser.');
      expect(await page.getByTestId('send-text').inputValue()).toBe('@all Hello from the browser.');
      await page.getByTestId('send-text').press('Enter');
      for (const agent of ['claude', 'codex']) {
        const answer = page.locator(
          `[data-testid="chat-column"][data-agent="${agent}"] [data-testid="chat-answer"]`,
        );
        await page
          .locator(
            `[data-testid="chat-column"][data-agent="${agent}"] [data-testid="chat-answer"][data-state="done"]`,
          )
          .waitFor({ timeout: 120_000 });
        expect(await answer.textContent()).toBe(ANSWER);
      }
      expect(await columns.first().textContent()).toContain('» Hello from the browser.');

      // Only Codex: its column gets a second turn, Claude's does not.
      await page.getByTestId('address-codex').click();
      await page.getByTestId('send-text').pressSequentially('Just you.');
      await page.getByTestId('send-submit').click();
      await page
        .locator(
          '[data-testid="chat-column"][data-agent="codex"] [data-testid="chat-answer"][data-state="done"]',
        )
        .nth(1)
        .waitFor({ timeout: 120_000 });
      expect(
        await page
          .locator('[data-testid="chat-column"][data-agent="claude"] [data-testid="chat-answer"]')
          .count(),
      ).toBe(1);
      await screenshot(page, 'web-session-chat');

      await page.getByTestId('send-text').fill('@nobody are you there?');
      await page.getByTestId('send-submit').click();
      await expect
        .poll(() => page.getByTestId('send-error').textContent())
        .toBe('No agent "@nobody" in session web-pair. Its agents: @claude, @codex, or @all.');
      await screenshot(page, 'web-session-bad-address');
      expect(browser.problems.filter((p) => !p.includes('400'))).toEqual([]);
      await page.close();
    });

    it('the task form starts a task on a folder; a bad issue URL is a message', async () => {
      const page = await browser.page();
      await page.goto(`${daemon.url}/login?token=${daemon.token}`);
      await page.getByTestId('nav-tasks').click();
      const form = page.getByTestId('task-form');
      await form.getByTestId('task-source').selectOption('url');
      await form.getByTestId('task-where').fill('https://example.invalid/not/an-issue');
      await form.getByTestId('task-submit').click();
      await expect
        .poll(() => page.getByTestId('task-form-error').textContent())
        .toContain('is not a GitHub issue or pull request URL');
      await screenshot(page, 'web-task-form-error');

      await form.getByTestId('task-source').selectOption('workdir');
      await form.getByTestId('task-where').fill(work);
      await form.getByTestId('task-prompt').fill('A task from the browser.');
      await form.getByTestId('task-model-url').fill(model.url);
      await form.getByTestId('task-submit').click();
      await page.getByTestId('task-detail').waitFor();
      expect(page.url()).toMatch(/#\/tasks\/[0-9a-f]{8}$/);
      await page
        .locator('[data-testid="task-row"].selected [data-testid="task-state"]', { hasText: 'succeeded' })
        .waitFor({ timeout: 120_000 });
      await expect.poll(() => page.getByTestId('task-log').textContent()).toContain(ANSWER);
      await screenshot(page, 'web-task-form');
      await page.close();
    });
  },
);
