/**
 * The approval prompt in the terminal of an attached run, with the real Claude Code TUI in a real
 * pseudo-terminal (util-linux `script`): the scripted model asks for a host command nobody allowed,
 * corral holds the agent's screen and asks, and a key answers — `y` runs it, `n` refuses it.
 *
 * Claude Code's first-run dialogs (onboarding, folder trust, bypass-permissions warning) are
 * settled in the test profile's home beforehand; the custom-API-key question is answered with keys.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalOrContainerAddress,
  type ModelServer,
  parseScript,
  startModelServer,
} from '../../src/model/index.js';
import { BIN, corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

const COMMAND = 'echo made-on-the-host > host-made.txt';
const PROFILE = 'e2e-approvals-tty';
const hasScript = await new Promise<boolean>((resolve) =>
  spawn('script', ['--version'])
    .once('error', () => resolve(false))
    .once('exit', (c) => resolve(c === 0)),
);

/** Settles Claude Code's first-run questions in the profile's home volume. */
const SEED = `node -e '
const fs = require("fs"), h = process.env.HOME;
const f = h + "/.claude.json";
const j = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) : {};
Object.assign(j, { hasCompletedOnboarding: true, theme: "dark", projects: { "/workspace": { hasTrustDialogAccepted: true } } });
fs.writeFileSync(f, JSON.stringify(j));
fs.mkdirSync(h + "/.claude", { recursive: true });
fs.writeFileSync(h + "/.claude/settings.json", JSON.stringify({ skipDangerousModePermissionPrompt: true }));
'`;

/** Terminal text without escape sequences and spaces, for matching what the TUI drew. */
const flat = (s: string) => s.replace(/\x1b\[[0-9;?>]*[a-zA-Z]/g, '').replace(/\s+/g, '');

class Terminal {
  text = '';
  readonly done: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => {
      this.text += c.toString();
    });
    this.done = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
  type(keys: string): void {
    this.child.stdin!.write(keys);
  }
  async until(what: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!flat(this.text).includes(flat(what))) {
      if (Date.now() > end)
        throw new Error(`the terminal never showed "${what}"; it shows:\n${flat(this.text).slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

for (const kind of TEST_ENGINES) {
  describe.skipIf(!hasScript)(`approval prompt in an attached terminal on ${kind}`, () => {
    const env = { CORRAL_ENGINE: kind };
    let server: ModelServer;

    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      const script = await parseScript(
        [
          'turns:',
          '  - tool: mcp__corral__run_command',
          `    input: ${JSON.stringify({ command: COMMAND })}`,
          '  - text: Asked the host.',
          '',
        ].join('\n'),
        'approval prompt script',
      );
      server = await startModelServer({ host: '0.0.0.0', script, allow: isLocalOrContainerAddress });
    }, 600_000);
    afterAll(async () => {
      await server?.close();
      // The test profile's home (its settled first-run dialogs) is this test's own.
      const { legacyHomeVolumeName } = await import('../../src/workspace/identity.js');
      await (await engineFor(kind)).removeVolume(legacyHomeVolumeName('claude', PROFILE)).catch(() => {});
    });

    async function session(key: 'y' | 'n'): Promise<{ ws: string; term: Terminal }> {
      const ws = await realpath(await tempWorkspace('corral-e2e-tty-'));
      const seed = await corral(['shell', 'claude', '--profile', PROFILE, '--', 'sh', '-c', SEED], {
        cwd: ws,
        env,
      });
      expect(seed.code, seed.stderr).toBe(0);
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const cmd = [
        process.execPath,
        BIN,
        'run',
        'claude',
        '--model-url',
        server.url,
        '--yolo',
        '--profile',
        PROFILE,
      ]
        .map(q)
        .join(' ');
      const child = spawn('script', ['-qfec', `stty rows 30 cols 100; exec ${cmd}`, '/dev/null'], {
        cwd: ws,
        env: { ...process.env, ...env, TERM: 'xterm-256color' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const term = new Terminal(child);
      try {
        // The placeholder key behind the gateway is new each run: Claude asks whether to use it.
        await term.until('Do you want to use this API key');
        term.type('\x1b[A');
        await new Promise((r) => setTimeout(r, 300));
        term.type('\r');
        await new Promise((r) => setTimeout(r, 2000));
        term.type('Ask the host.');
        await new Promise((r) => setTimeout(r, 500));
        term.type('\r');
        await term.until('claude asks to');
        await term.until(`run on the host: ${COMMAND}`);
        // Held: nothing has run yet, and keys other than the answers change nothing.
        await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
        term.type('x');
        term.type(key);
      } catch (e) {
        child.kill('SIGKILL');
        await corral(['clean'], { cwd: ws, env });
        throw e;
      }
      return { ws, term };
    }

    /** The agent answers, then Ctrl-C twice ends it; whatever happened, nothing is left running. */
    async function finish(ws: string, term: Terminal): Promise<void> {
      try {
        await term.until('Asked the host.');
        term.type('\x03');
        await new Promise((r) => setTimeout(r, 300));
        term.type('\x03');
        await Promise.race([term.done, new Promise((r) => setTimeout(r, 15_000))]);
      } finally {
        if (term.child.exitCode === null) term.child.kill('SIGKILL');
        await corral(['clean'], { cwd: ws, env });
      }
    }

    it('y runs the command once, and the agent gets its result', async () => {
      const { ws, term } = await session('y');
      try {
        // Well before the approval timeout: the key answered, not the clock.
        await term.until('corral: allowed once', 10_000);
        // The answer is echoed when the key is read; the command runs right after (a loaded
        // machine has been seen to take longer than the read below).
        let made: string | undefined;
        for (let i = 0; i < 100 && made === undefined; i++) {
          made = await readFile(join(ws, 'host-made.txt'), 'utf8').catch(() => undefined);
          if (made === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        expect(made).toBe('made-on-the-host\n');
        expect((await corral(['allowed', 'list', '--json'], { cwd: ws, env })).stdout.trim()).toBe('[]');
      } finally {
        await finish(ws, term);
      }
    });

    it("`corral attach` to a detached run shows its bridge process's prompt; y runs the command", async () => {
      const ws = await realpath(await tempWorkspace('corral-e2e-tty-'));
      const r = await corral(
        ['run', 'claude', '-d', '--model-url', server.url, '--yolo', '--prompt', 'Ask the host.'],
        {
          cwd: ws,
          env,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const child = spawn(
        'script',
        [
          '-qfec',
          `stty rows 30 cols 100; exec ${[process.execPath, BIN, 'attach', 'claude'].map(q).join(' ')}`,
          '/dev/null',
        ],
        { cwd: ws, env: { ...process.env, ...env, TERM: 'xterm-256color' }, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const term = new Terminal(child);
      try {
        await term.until(`run on the host: ${COMMAND}`);
        await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
        term.type('y');
        await term.until('corral: allowed once', 10_000);
        await term.until('Asked the host.');
        expect(await readFile(join(ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
        // The sandbox is done, so attach returns.
        await Promise.race([term.done, new Promise((res) => setTimeout(res, 15_000))]);
        expect(child.exitCode).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await corral(['clean'], { cwd: ws, env });
      }
    });

    it('n refuses it, and says how to allow it', async () => {
      const { ws, term } = await session('n');
      try {
        await term.until('corral: refused', 10_000);
        expect(flat(term.text)).not.toContain(flat('no answer in time'));
        await term.until(`corral allowed add '${COMMAND}'`);
        await expect(readFile(join(ws, 'host-made.txt'), 'utf8')).rejects.toThrow();
      } finally {
        await finish(ws, term);
      }
    });
  });
}
