/**
 * Service plumbing that needs no engine: names and inputs refused before anything runs, loopback
 * addresses, the sandbox's hosts file (rewritten in place, same inode), log sanitising, the
 * gateway's policy and resolver additions for services, and the approval of a service by image.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type ApprovalRequest, addAllowed, decide } from '../../src/bridge/approvals.js';
import { startBridge } from '../../src/bridge/server.js';
import { isCorralError } from '../../src/errors.js';
import { decide as decideEgress } from '../../src/gateway/decide.js';
import { buildPolicy } from '../../src/gateway/policy.js';
import { hostsText, writeHostsInPlace } from '../../src/gateway/service-files.js';
import { serviceAddress, withServices } from '../../src/gateway/service-relay.js';
import {
  nextAddress,
  validateEnvKeys,
  validateImage,
  validateServiceName,
} from '../../src/services/names.js';
import { sanitizeLog } from '../../src/services/query.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'corral-svc-unit-'));
  temps.push(d);
  return d;
}

const refused = (fn: () => void) => {
  try {
    fn();
  } catch (e) {
    return isCorralError(e) && e.code === 'BAD_INPUT';
  }
  return false;
};

describe('service inputs', () => {
  it('accepts short lowercase names and refuses the rest', () => {
    for (const ok of ['postgres', 'redis-7', 'q1'])
      expect(refused(() => validateServiceName(ok))).toBe(false);
    for (const bad of ['', 'Postgres', '-x', 'x-', 'a b', 'a.b', 'localhost', 'a'.repeat(32), '../x'])
      expect(
        refused(() => validateServiceName(bad)),
        bad,
      ).toBe(true);
  });

  it('accepts registry references and refuses anything a shell or path could trip on', () => {
    for (const ok of [
      'postgres:16',
      'localhost/corral-test-echo:1',
      'registry.example.com:5000/team/redis:7',
    ])
      expect(
        refused(() => validateImage(ok)),
        ok,
      ).toBe(false);
    for (const bad of ['', 'x; rm -rf /', 'a b', '$(id)', '../../etc', 'a//b', '-v'])
      expect(
        refused(() => validateImage(bad)),
        bad,
      ).toBe(true);
  });

  it('refuses env names that are not variable names', () => {
    expect(refused(() => validateEnvKeys({ POSTGRES_PASSWORD: 'x', _A1: '' }))).toBe(false);
    expect(refused(() => validateEnvKeys({ 'A=B': 'x' }))).toBe(true);
    expect(refused(() => validateEnvKeys({ '1A': 'x' }))).toBe(true);
  });

  it('gives each service its own loopback address, reusing freed ones', () => {
    expect(nextAddress([])).toBe('127.0.2.1');
    expect(nextAddress(['127.0.2.1', '127.0.2.3'])).toBe('127.0.2.2');
    const all = Array.from({ length: 254 }, (_, i) => `127.0.2.${i + 1}`);
    expect(refused(() => nextAddress(all))).toBe(true);
  });
});

describe("the sandbox's hosts file", () => {
  it('names each service once, after localhost', () => {
    const text = hostsText([
      { name: 'db', address: '127.0.2.1' },
      { name: 'db', address: '127.0.2.1' },
      { name: 'cache', address: '127.0.2.2' },
    ]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('127.0.0.1\tlocalhost');
    expect(lines.filter((l) => l.endsWith('\tdb'))).toEqual(['127.0.2.1\tdb']);
    expect(lines).toContain('127.0.2.2\tcache');
  });

  it('is rewritten in place: the inode a sandbox has bind-mounted stays the file', async () => {
    const path = join(await tempDir(), 'hosts');
    await writeFile(path, hostsText([{ name: 'a-long-service-name', address: '127.0.2.1' }]));
    const before = (await stat(path)).ino;
    await writeHostsInPlace(path, hostsText([]));
    expect((await stat(path)).ino).toBe(before);
    // Shorter text: the old tail is cut off, not left behind.
    expect(await readFile(path, 'utf8')).toBe(hostsText([]));
  });
});

describe('service logs', () => {
  it('drop terminal escapes and control characters, keep lines and tabs', () => {
    const raw = 'ok\tline\r\n\u001b[31mred\u001b[0m\n\u001b]0;title\u0007bell\u0007\u0000\n';
    expect(sanitizeLog(raw)).toBe('ok\tline\nred\nbell\n');
  });
});

describe('the gateway and services', () => {
  const routes = [{ name: 'db', socket: 'svc-db-5432.sock', host: '10.89.0.7', port: 5432 }];

  it("lets a proxied request for a service's name and port through, and only that", () => {
    const policy = withServices(buildPolicy({ preset: 'agent' }), routes);
    expect(decideEgress(policy, { host: 'db', port: 5432 }).allowed).toBe(true);
    expect(decideEgress(policy, { host: 'db', port: 22 }).allowed).toBe(false);
    expect(decideEgress(policy, { host: '10.89.0.7', port: 5432 }).allowed).toBe(false);
    expect(decideEgress(buildPolicy({ preset: 'agent' }), { host: 'db', port: 5432 }).allowed).toBe(false);
  });

  it('a deny rule still wins over a service', () => {
    const base = buildPolicy({ preset: 'agent', rules: [{ action: 'deny', host: 'db', source: 'global' }] });
    expect(decideEgress(withServices(base, routes), { host: 'db', port: 5432 }).allowed).toBe(false);
  });

  it("resolves a service's name to its address on the services network", () => {
    expect(serviceAddress(routes, 'db')).toEqual(['10.89.0.7']);
    expect(serviceAddress(routes, 'other')).toBeUndefined();
  });
});

describe('approving a service', () => {
  const opts = async () => {
    const dir = await tempDir();
    const asked: ApprovalRequest[] = [];
    return {
      asked,
      allowlistPath: join(dir, 'allowed.json'),
      base: {
        workspace: dir,
        session: 's1',
        allowlistPath: join(dir, 'allowed.json'),
        timeoutMs: 500,
        approve: async (req: ApprovalRequest) => {
          asked.push(req);
          return 'deny' as const;
        },
      },
    };
  };

  it('asks by image, name and env key names; the values are nowhere in the request', async () => {
    const o = await opts();
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    const v = await decide('service:postgres:16', {
      ...o.base,
      service: { image: 'postgres:16', name: 'db', envKeys: ['POSTGRES_PASSWORD'] },
    });
    expect(v.run).toBe(false);
    expect(o.asked).toHaveLength(1);
    const req = o.asked[0]!;
    expect(req).toMatchObject({
      kind: 'service',
      image: 'postgres:16',
      name: 'db',
      envKeys: ['POSTGRES_PASSWORD'],
    });
    expect(JSON.stringify({ ...req, signal: undefined })).not.toContain(secret);
  });

  it('an allowlisted image (or tag pattern) starts without asking; a command pattern never covers a service', async () => {
    const o = await opts();
    await addAllowed(o.base.workspace, 'service:redis:*', o.allowlistPath);
    await addAllowed(o.base.workspace, 's*', o.allowlistPath);
    const svc = (image: string) =>
      decide(`service:${image}`, { ...o.base, service: { image, name: 'x', envKeys: [] } });
    expect(await svc('redis:7')).toMatchObject({ run: true, via: 'allowlist' });
    expect(o.asked).toHaveLength(0);
    expect((await svc('postgres:16')).run).toBe(false);
    expect(o.asked.map((r) => r.kind)).toEqual(['service']);
  });
});

describe('start_service on the bridge', () => {
  it('starts nothing when the user says no, and says why', async () => {
    const dir = await tempDir();
    const ws = await realpath(dir);
    const started: unknown[] = [];
    const token = randomBytes(24).toString('hex');
    const bridge = await startBridge({
      workspace: ws,
      session: 's1',
      token,
      socketPath: join(dir, 'b.sock'),
      allowlistPath: join(dir, 'allowed.json'),
      approve: async () => 'deny',
      // Records what would start; the engine side is tested on real engines (integration).
      services: {
        start: async (req) => {
          started.push(req);
          throw new Error('not reached');
        },
        stop: async () => {},
        list: async () => [],
        logs: async () => '',
      },
    });
    const dispatcher = new Agent({ connect: { socketPath: bridge.socketPath } });
    const client = new Client({ name: 't', version: '1' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL('http://corral/mcp'), {
          fetch: ((u: string, i?: RequestInit) => undiciFetch(u, { ...(i as object), dispatcher })) as never,
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      const res = await client.callTool({
        name: 'start_service',
        arguments: { image: 'postgres:16', name: 'db', env: { POSTGRES_PASSWORD: 'pw' } },
      });
      expect(res.isError).toBe(true);
      const text = (res.content as { text: string }[])[0]!.text;
      expect(JSON.parse(text)).toMatchObject({ status: 'refused', reason: 'the user declined' });
      expect(text).not.toContain('pw"');
      expect(started).toEqual([]);
      const bad = await client.callTool({
        name: 'start_service',
        arguments: { image: 'x', name: 'Bad Name' },
      });
      expect(bad.isError).toBe(true);
      expect(started).toEqual([]);
    } finally {
      await client.close();
      await bridge.close();
      await dispatcher.close();
    }
  });
});
