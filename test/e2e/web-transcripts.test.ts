/**
 * Transcripts in the browser: the daemon lists a recorded session and the page replays it into
 * xterm with its recorded timing. The recording is written as `corral run` writes one (asciicast
 * v2 with corral's header), into a state folder of this test's own (CORRAL_STATE_DIR).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  launchBrowser,
  screenshot,
  type TestBrowser,
  terminalText,
} from '../helpers/browser.js';
import { daemonMissing, startTestDaemon, type TestDaemon } from '../helpers/web-daemon.js';

const missing = chromiumMissing() ?? (await daemonMissing());
if (missing) console.warn(`[skip] web UI transcripts e2e: ${missing}`);

const ID = 'web-e2e-cast-1';

describe.skipIf(!!missing)('web UI: transcripts (real Chromium, real daemon)', () => {
  let daemon: TestDaemon;
  let browser: TestBrowser;
  let state: string;

  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), 'corral-web-state-'));
    await mkdir(join(state, 'sessions'), { mode: 0o700 });
    const header = {
      version: 2,
      width: 80,
      height: 24,
      timestamp: Math.floor(Date.now() / 1000),
      env: { TERM: 'xterm-256color' },
      title: 'corral claude in /tmp/ws',
      corral: { id: ID, agent: 'claude', workspace: '/tmp/ws', container: 'corral-x-claude' },
    };
    const frames = [
      [0.05, 'o', '\x1b[1;32mfirst line\x1b[0m\r\n'],
      [0.9, 'o', 'second line, 0.85 s later\r\n'],
      [1.2, 'o', 'replay-finished\r\n'],
    ];
    await writeFile(
      join(state, 'sessions', `${ID}.cast`),
      [header, ...frames].map((l) => JSON.stringify(l)).join('\n'),
      { mode: 0o600 },
    );
    daemon = await startTestDaemon({ CORRAL_STATE_DIR: state });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await rm(state, { recursive: true, force: true });
  });

  it('lists the recording and replays it into xterm with its timing', async () => {
    const page = await browser.page();
    await page.goto(`${daemon.url}/login?token=${daemon.token}`);
    await page.getByTestId('nav-transcripts').click();
    const row = page.locator(`[data-testid="transcript-row"][data-id="${ID}"]`);
    await row.waitFor();
    const clicked = Date.now();
    await row.getByTestId('play-transcript').click();
    await page.locator('[data-testid="player-state"][data-done="1"]').waitFor({ timeout: 15_000 });
    const took = Date.now() - clicked;
    const text = await terminalText(page);
    expect(text).toContain('first line');
    expect(text.indexOf('second line')).toBeGreaterThan(text.indexOf('first line'));
    expect(text).toContain('replay-finished');
    // Played with its timing, not dumped at once: the last frame is 1.2 s in.
    expect(took).toBeGreaterThanOrEqual(1100);
    await screenshot(page, 'web-transcript');
    expect(browser.problems).toEqual([]);
    await page.close();
  });
});
