/**
 * The daemon for real: its refusals (no token, wrong token, cross-Origin WebSocket, non-loopback
 * listen), the leftovers of a crash, two starts at once, bad bodies; and, on each engine, a sandbox
 * started, attached, listed and stopped through HTTP with its events in order.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral } from '../helpers/cli.js';
import { messages, opened, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { agentImage, engineFor, TEST_ENGINES } from '../helpers/engines.js';

const none = { CORRAL_CONFIG: '/nonexistent/corral.yaml' };

describe('daemon: access and lifecycle', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon({ ...none });
  });
  afterAll(async () => d?.stop());

  it('reports socket, url and token file; token and socket are 0600', async () => {
    const r = await corral(['daemon', 'status', '--json'], { env: d.env });
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ running: true, url: d.url, socket: join(d.dir, 'daemon.sock') });
    expect((await stat(s.tokenFile as string)).mode & 0o777).toBe(0o600);
    expect((await stat(s.socket as string)).mode & 0o777).toBe(0o600);
    expect(d.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses requests without the token or with a wrong one (401)', async () => {
    expect((await fetch(`${d.url}/api/sandboxes`)).status).toBe(401);
    const wrong = await fetch(`${d.url}/api/sandboxes`, {
      headers: { authorization: `Bearer ${'0'.repeat(64)}` },
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    expect((await fetch(`${d.url}/login?token=nope`, { redirect: 'manual' })).status).toBe(401);
  });

  it('trades the token for an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const r = await fetch(`${d.url}/login?token=${d.token}`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await fetch(`${d.url}/api/version`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
  });

  it('refuses a cross-Origin WebSocket and one without the token', async () => {
    const cross = d.ws('/api/events', { authorization: `Bearer ${d.token}`, origin: 'http://evil.example' });
    await expect(opened(cross)).rejects.toThrow(/403/);
    const anon = d.ws('/api/events', {});
    await expect(opened(anon)).rejects.toThrow(/401/);
    const same = d.ws('/api/events', { authorization: `Bearer ${d.token}`, origin: d.url });
    await opened(same);
    same.close();
  });

  it('is not reachable on a non-loopback address, and refuses one without --public', async () => {
    const port = Number(new URL(d.url).port);
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (other) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect({ host: other, port }, () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    } else console.warn('[skip] no non-loopback IPv4 address here to try');
    const dir = await mkdtemp(join(tmpdir(), 'corral-daemon-'));
    const r = await corral(['daemon', 'start', '--listen', '0.0.0.0:0'], {
      env: { ...none, CORRAL_DAEMON_DIR: dir },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a loopback address[\s\S]*--public/);
    expect(existsSync(join(dir, 'daemon.sock'))).toBe(false);
  });

  it('answers malformed bodies with 400 and the zod path', async () => {
    const r = await d.api<{ error: { code: string; message: string } }>('POST', '/api/sandboxes', {
      agent: 'claude',
      workdir: 'relative/path',
      network: 'wide-open',
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_INPUT');
    expect(r.body.error.message).toMatch(/workdir/);
    expect(r.body.error.message).toMatch(/network/);
    const raw = await fetch(`${d.url}/api/egress/rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(raw.status).toBe(400);
  });

  it('serves its OpenAPI document', async () => {
    const r = await d.api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/api/sandboxes', '/api/approvals']));
  });
});

describe('daemon: crashes and races', () => {
  it('a socket left by a killed daemon is cleared; two starts at once give one daemon', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-daemon-'));
    const env = { ...none, CORRAL_DAEMON_DIR: dir };
    const [a, b] = await Promise.all([
      corral(['daemon', 'start', '--json'], { env }),
      corral(['daemon', 'start', '--json'], { env }),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const pa = JSON.parse(a.stdout) as { pid: number; started: boolean };
    const pb = JSON.parse(b.stdout) as { pid: number; started: boolean };
    expect(pa.pid).toBe(pb.pid);
    expect([pa.started, pb.started].sort()).toEqual([false, true]);
    process.kill(pa.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(join(dir, 'daemon.sock'))).toBe(true); // the crash's leftover
    const st = JSON.parse((await corral(['daemon', 'status', '--json'], { env })).stdout) as {
      running: boolean;
    };
    expect(st.running).toBe(false);
    const again = await corral(['daemon', 'start', '--json'], { env });
    expect(again.code).toBe(0);
    const pid = (JSON.parse(again.stdout) as { pid: number }).pid;
    expect(pid).not.toBe(pa.pid);
    expect((await corral(['daemon', 'stop'], { env })).code).toBe(0);
    expect(existsSync(join(dir, 'daemon.sock'))).toBe(false);
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe.runIf(TEST_ENGINES.length > 0)('daemon start --auto', () => {
  it('a run starts the daemon in the background; daemon stop turns auto off', async () => {
    const kind = TEST_ENGINES[0]!;
    await agentImage(await engineFor(kind), 'claude');
    const dir = await mkdtemp(join(tmpdir(), 'corral-daemon-'));
    const ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-daemon-ws-')));
    const env = { ...none, CORRAL_ENGINE: kind, CORRAL_DAEMON_DIR: dir, CORRAL_DATA_DIR: join(ws, '.state') };
    const status = async () =>
      JSON.parse((await corral(['daemon', 'status', '--json'], { env })).stdout) as { running: boolean };
    // Off by default: a run leaves no daemon behind.
    expect(
      (await corral(['shell', 'claude', '--network', 'none', '--', 'true'], { env, cwd: ws })).code,
    ).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status()).running).toBe(false);
    expect((await corral(['daemon', 'start', '--auto'], { env })).code).toBe(0);
    expect((await corral(['daemon', 'stop'], { env })).code).toBe(0);
    expect(existsSync(join(dir, 'auto'))).toBe(false);
    await (await import('../../src/core/index.js')).setDaemonAuto(
      (await import('../../src/core/index.js')).daemonPaths(env),
      true,
    );
    expect(
      (await corral(['shell', 'claude', '--network', 'none', '--', 'true'], { env, cwd: ws })).code,
    ).toBe(0);
    const until = Date.now() + 20_000;
    while (!(await status()).running && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    expect((await status()).running).toBe(true);
    await corral(['daemon', 'stop'], { env });
    await corral(['clean'], { env, cwd: ws });
  });
});

for (const kind of TEST_ENGINES) {
  describe(`daemon API on ${kind}`, () => {
    let d: TestDaemon;
    let ws: string;
    beforeAll(async () => {
      await agentImage(await engineFor(kind), 'claude');
      ws = await realpath(await mkdtemp(join(tmpdir(), 'corral-daemon-ws-')));
      d = await startTestDaemon({ ...none, CORRAL_ENGINE: kind, CORRAL_DATA_DIR: join(ws, '.state') });
    });
    afterAll(async () => {
      // Only this test's workspace: other suites may have sandboxes running on the same engine.
      await corral(['clean'], { env: d.env, cwd: ws }).catch(() => undefined);
      await d?.stop();
    });

    it('starts a sandbox, streams its terminal to two viewers, lists and stops it; events in order', async () => {
      const events = d.ws('/api/events');
      await opened(events);
      const ev = messages(events);
      const started = await d.api<{ id: string; name: string }>('POST', '/api/sandboxes', {
        agent: 'claude',
        mode: 'shell',
        workdir: ws,
        network: 'none',
      });
      expect(started.status).toBe(201);
      const { id, name } = started.body;
      const list = await d.api<{ id: string; state: string; workspace: string }[]>('GET', '/api/sandboxes');
      expect(list.body.find((s) => s.id === id)).toMatchObject({ state: 'running', workspace: ws });
      const up = await ev.until((m) => m.type === 'sandbox.started' && m.data.name === name);

      // Two viewers: what one types, both see.
      const one = d.ws(`/api/sandboxes/${id}/terminal`);
      const two = d.ws(`/api/sandboxes/${id}/terminal`);
      await Promise.all([opened(one), opened(two)]);
      let seen1 = '';
      let seen2 = '';
      one.on('message', (b: Buffer) => (seen1 += b.toString()));
      two.on('message', (b: Buffer) => (seen2 += b.toString()));
      one.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
      await new Promise((r) => setTimeout(r, 300));
      one.send(Buffer.from('echo daemon-$((6*7)); stty size\r'));
      const until = Date.now() + 20_000;
      while (!(seen1.includes('daemon-42') && seen2.includes('daemon-42')) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      expect(seen1).toContain('daemon-42');
      expect(seen2).toContain('daemon-42');
      expect(seen1).toMatch(/40 120/);
      // Closing a viewer detaches: the sandbox keeps running.
      one.close();
      two.close();
      await new Promise((r) => setTimeout(r, 500));
      const still = await d.api<{ id: string; state: string }[]>('GET', '/api/sandboxes');
      expect(still.body.find((s) => s.id === id)?.state).toBe('running');

      expect((await d.api('POST', `/api/sandboxes/${id}/stop`)).status).toBe(200);
      const down = await ev.until((m) => m.type === 'sandbox.exited' && m.data.name === name);
      expect(down.id).toBeGreaterThan(up.id);

      // A client reconnecting from an earlier id gets what it missed, in order.
      const again = d.ws(`/api/events?since=${up.id - 1}`);
      const replay = messages(again);
      await replay.until((m) => m.id === down.id);
      const ids = replay.got.map((m) => m.id);
      expect(ids[0]).toBe(up.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      again.close();
      events.close();
      expect((await d.api('POST', `/api/sandboxes/${id}/stop`)).status).toBe(404);
    });
  });
}

// Keep the imports honest when an engine is missing.
void execFileSync;
void readFile;
