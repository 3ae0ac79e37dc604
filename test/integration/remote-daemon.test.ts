/**
 * The daemon driving a remote engine (CORRAL_ENGINE=ssh://…, the test's second "machine",
 * test/helpers/remote-host.ts): the gateway there writes its audit log in the copy of its folder
 * on that machine, and the daemon's live egress view (the `egress.denied` events the web UI's
 * Egress page shows) and its log endpoint read that log, not a file on this machine.
 */
import { execSync } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { messages, opened, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import {
  ensureRemoteHost,
  REMOTE_ADDR,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';

const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote daemon: ${skip}`);

/** The remote engine of each kind: Podman is found there; Docker is named by its socket. */
const engineUrl = (kind: string) => (kind === 'docker' ? `${REMOTE_URL}/var/run/docker.sock` : REMOTE_URL);

describe.skipIf(Boolean(skip))('the daemon on a remote engine', () => {
  let data: string;
  let sshDir: string;
  const made: string[] = [];
  const daemons: TestDaemon[] = [];
  const env = (kind: string) => ({
    CORRAL_SSH_CONFIG: SSH_CONFIG,
    CORRAL_DATA_DIR: data,
    CORRAL_SSH_DIR: sshDir,
    CORRAL_ENGINE: engineUrl(kind),
  });

  beforeAll(async () => {
    await ensureRemoteHost({ docker: TEST_ENGINES.includes('docker') });
    for (const kind of TEST_ENGINES) await agentImage(await engineFor(kind), 'claude');
    data = await mkdtemp(join(tmpdir(), 'corral-remote-daemon-data-'));
    sshDir = await mkdtemp(join(tmpdir(), 'corral-remote-daemon-ssh-'));
  }, 900_000);

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const [ws, kind] of made.map((m) => m.split('\0') as [string, string])) {
      await corral(['clean'], { cwd: ws, env: env(kind) });
      await rm(ws, { recursive: true, force: true });
    }
    for (const f of sshDir ? execSync(`ls ${sshDir}`).toString().split('\n') : []) {
      if (f.startsWith('cm-'))
        execSync(`ssh -o ControlPath=${join(sshDir, f)} -O exit ${REMOTE_ADDR} 2>/dev/null || true`);
    }
    for (const d of [data, sshDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  for (const kind of TEST_ENGINES) {
    it(`on ${kind} there: a refusal by the remote gateway arrives live as egress.denied, and in /api/egress/log`, async () => {
      const d = await startTestDaemon(env(kind));
      daemons.push(d);
      const ws = await realpath(await mkdtemp(join(tmpdir(), `corral-remote-daemon-${kind}-`)));
      made.push(`${ws}\0${kind}`);
      // Connected to that machine, and past its first look (which only skips to the logs' ends).
      expect((await d.api('GET', '/api/sandboxes')).status).toBe(200);
      await new Promise((res) => setTimeout(res, 2000));
      const socket = d.ws('/api/events');
      const events = messages<{ type: string; data: Record<string, unknown> }>(socket);
      await opened(socket);
      const host = `refused-${kind}-${process.pid}.example`;
      // Refused by policy (before any name lookup); the sandbox stays a while so the daemon sees it run.
      const r = await corral(
        [
          'shell',
          'claude',
          '--',
          'sh',
          '-c',
          `curl -s -m 10 -o /dev/null -w '%{http_code}\\n' http://${host}/x; sleep 6`,
        ],
        { cwd: ws, env: d.env },
      );
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout.trim()).toBe('403');
      const denied = await events.until((m) => m.type === 'egress.denied' && m.data.host === host, 30_000);
      expect(denied.data).toMatchObject({ workspace: ws, decision: 'deny', status: 403, port: 80 });
      socket.close();
      const log = await d.api<{ host: string; decision: string }[]>(
        'GET',
        `/api/egress/log?workspace=${encodeURIComponent(ws)}&denied=1`,
      );
      expect(log.status).toBe(200);
      expect(log.body.filter((e) => e.host === host).map((e) => e.decision)).toEqual(['deny']);
      await d.stop();
    });
  }
});
