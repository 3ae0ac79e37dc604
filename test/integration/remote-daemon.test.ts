/**
 * The daemon driving a remote engine (CORRAL_ENGINE=ssh://…, the test's second "machine",
 * test/helpers/remote-host.ts): the gateway there writes its audit log in the copy of its folder
 * on that machine, and the daemon's live egress view (the `egress.denied` events the web UI's
 * Egress page shows) and its log endpoint read that log, not a file on this machine; and the daemon
 * keeps that gateway warm after the run (its presence request reaches the gateway's socket there
 * through an SSH forward), letting it go when it stops.
 */
import { execSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral } from '../helpers/cli.js';
import { messages, opened, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';
import {
  ensureRemoteHost,
  onRemote,
  REMOTE_ADDR,
  REMOTE_URL,
  remoteSkipReason,
  SSH_CONFIG,
} from '../helpers/remote-host.js';

const skip = remoteSkipReason() ?? (TEST_ENGINES.includes('podman') ? undefined : 'needs Podman');
if (skip) console.warn(`[skip] remote daemon: ${skip}`);

/** The remote engine of each kind: Podman is found there; Docker is named by its socket. */
const engineUrl = (kind: string) => (kind === 'docker' ? `${REMOTE_URL}/var/run/docker.sock` : REMOTE_URL);
/** How long a gateway stays after its last sandbox when nothing holds it (egress.gateway_linger). */
const LINGER = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    CORRAL_CONFIG: join(data, 'config.yaml'),
  });
  /** A fresh workspace, and a daemon that has connected to that machine and had its first look. */
  const setUp = async (kind: string) => {
    const d = await startTestDaemon(env(kind));
    daemons.push(d);
    const ws = await realpath(await mkdtemp(join(tmpdir(), `corral-remote-daemon-${kind}-`)));
    made.push(`${ws}\0${kind}`);
    // Connected to that machine, and past its first look (which only skips to the logs' ends).
    expect((await d.api('GET', '/api/sandboxes')).status).toBe(200);
    await sleep(2000);
    return { d, ws };
  };

  beforeAll(async () => {
    await ensureRemoteHost({ docker: TEST_ENGINES.includes('docker') });
    for (const kind of TEST_ENGINES) await agentImage(await engineFor(kind), 'claude');
    data = await mkdtemp(join(tmpdir(), 'corral-remote-daemon-data-'));
    sshDir = await mkdtemp(join(tmpdir(), 'corral-remote-daemon-ssh-'));
    await writeFile(join(data, 'config.yaml'), `egress:\n  gateway_linger: ${LINGER}\n`);
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
      const { d, ws } = await setUp(kind);
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

    it(`on ${kind} there: the daemon holds the remote gateway up after the run, and lets it go when it stops`, async () => {
      const { d, ws } = await setUp(kind);
      const gateway = `corral-${workspaceIdOf(ws)}-gateway`;
      const running = () =>
        onRemote(`${kind} inspect -f '{{.State.Running}}' ${gateway} 2>/dev/null || true`).trim();
      const r = await corral(['shell', 'claude', '--', 'sleep', '4'], { cwd: ws, env: d.env });
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      // Well past its linger: still up, because the daemon holds it.
      await sleep(LINGER * 1000 + 5000);
      expect(running()).toBe('true');
      await d.stop();
      // Let go: it exits by itself once its linger has passed.
      let state = running();
      for (let i = 0; i < 60 && state === 'true'; i++) {
        await sleep(500);
        state = running();
      }
      expect(state).not.toBe('true');
    });
  }
});
