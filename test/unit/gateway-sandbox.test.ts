/** What a sandbox behind the gateway looks like to the engine: pure planning, no engine needed. */
import { describe, expect, it } from 'vitest';
import { claude } from '../../src/agents/claude.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { planSandbox, type RunRequest } from '../../src/sandbox/plan.js';
import { toContainerSpec } from '../../src/sandbox/spec.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { placeholderFor } from '../../src/workspace/placeholders.js';
import { planUser } from '../../src/workspace/userns.js';

const ws = { id: workspaceIdOf('/home/me/project'), path: '/home/me/project' };
const REAL = `sk-ant-api03-${'k'.repeat(20)}${Date.now()}`;

function request(over: Partial<RunRequest> = {}): RunRequest {
  return {
    agent: claude,
    workspace: ws,
    image: 'localhost/corral/claude:abc',
    engine: 'podman',
    user: planUser({ kind: 'podman', rootless: false }, { uid: 0, gid: 0 }),
    session: 'abcdef123456',
    mode: 'agent',
    args: [],
    env: ['ANTHROPIC_API_KEY', 'NODE_OPTIONS=--max-old-space-size=4096'],
    envFiles: [],
    detach: false,
    stdinIsTTY: false,
    host: { HOME: '/nonexistent-home', ANTHROPIC_API_KEY: REAL },
    network: { mode: 'gateway', socketDir: '/data/gateways/podman-x/sock', trustCa: true },
    ...over,
  };
}

describe('a sandbox behind the gateway', () => {
  it('has no network, mounts only the socket folder, and points clients at the forwarder', async () => {
    const spec = await planSandbox(request(), ConfigSchema.parse({}));
    const c = toContainerSpec(spec);
    expect(c.network).toBe('none');
    expect(c.extraHosts).toBeUndefined();
    expect(c.mounts).toContainEqual({
      type: 'bind',
      source: '/data/gateways/podman-x/sock',
      target: '/run/corral/gw',
      readOnly: true,
    });
    expect(c.env.HTTPS_PROXY).toBe('http://127.0.0.1:3128');
    expect(c.env.NODE_EXTRA_CA_CERTS).toBe('/tmp/corral-node-ca.pem');
    // The user's NODE_OPTIONS survive; the proxy warning switch is added to them.
    expect(c.env.NODE_OPTIONS).toBe('--max-old-space-size=4096 --disable-warning=UNDICI-EHPA');
    expect(c.cmd.join(' ')).toContain('forwarder.mjs --out 3128=/run/corral/gw/proxy.sock');
  });

  it("names the workspace's services: corral's hosts file at /etc/hosts, the forwarder watching the route file", async () => {
    const c = toContainerSpec(await planSandbox(request(), ConfigSchema.parse({})));
    expect(c.mounts).toContainEqual({
      type: 'bind',
      source: '/data/gateways/podman-x/sock/hosts',
      target: '/etc/hosts',
      readOnly: true,
    });
    expect(c.cmd.join(' ')).toContain('--services /run/corral/gw/services.json');
    // Its own loopback only; no capability comes with it.
    expect(c.sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
    expect(c.capDrop).toEqual(['ALL']);
  });

  it('keeps the real key out of the container and hands it to the gateway instead', async () => {
    const spec = await planSandbox(request(), ConfigSchema.parse({}));
    const c = toContainerSpec(spec);
    expect(JSON.stringify(c)).not.toContain(REAL);
    expect(c.env.ANTHROPIC_API_KEY).toMatch(/^sk-ant-api03-corral[0-9a-f]{24}/);
    expect(c.env.ANTHROPIC_API_KEY).toHaveLength(REAL.length);
    expect(spec.credentials).toEqual([
      { host: 'api.anthropic.com', header: 'x-api-key', value: REAL, placeholder: c.env.ANTHROPIC_API_KEY },
    ]);
  });

  it('passes the key in on the open network, where no gateway could inject it', async () => {
    const spec = await planSandbox(request({ network: { mode: 'open' } }), ConfigSchema.parse({}));
    expect(toContainerSpec(spec).env.ANTHROPIC_API_KEY).toBe(REAL);
    expect(spec.credentials).toEqual([]);
  });

  it('makes placeholders of the same shape that never contain the key', () => {
    const p = placeholderFor(REAL);
    expect(p.startsWith('sk-ant-')).toBe(true);
    expect(p).not.toContain(REAL.slice(13, 25));
    expect(placeholderFor(REAL)).not.toBe(p);
    // The kind marker (API key or OAuth token) survives; random key material never does.
    expect(p.startsWith(REAL.slice(0, 13))).toBe(true);
    const oauth = ['sk', 'ant', 'oat01', 'Zq9-_x'.repeat(12)].join('-');
    expect(placeholderFor(oauth).startsWith('sk-ant-oat01-corral')).toBe(true);
    const openai = ['sk', 'proj', 'ab-cd_ef'.repeat(10)].join('-');
    expect(placeholderFor(openai).startsWith('sk-proj-corral')).toBe(true);
  });
});

describe('a running gateway serving a second agent', () => {
  it('keeps what it already allows and the placeholders it knows, and adds the new run’s', async () => {
    const { mergeSettings } = await import('../../src/gateway/folders.js');
    const { buildPolicy } = await import('../../src/gateway/policy.js');
    const base = {
      workspace: 'w',
      hostAliases: [],
      hosts: {},
      intercept: true,
      idleMinutes: 30,
      upstreamCa: [],
    };
    const a = {
      host: 'api.anthropic.com',
      header: 'x-api-key',
      value: 'real-a-123456',
      placeholder: 'ph-a-123456',
    };
    const b = {
      host: 'api.openai.com',
      header: 'authorization',
      value: 'real-b-123456',
      placeholder: 'ph-b-123456',
    };
    const claudeRun = {
      ...base,
      policy: buildPolicy({ agentDomains: ['api.anthropic.com'], allowHostPorts: [8080] }),
      credentials: [a],
    };
    const codexRun = {
      ...base,
      policy: buildPolicy({ agentDomains: ['api.openai.com'], allowHostPorts: [8080] }),
      credentials: [b],
    };
    const merged = mergeSettings(claudeRun, codexRun);
    expect(merged.policy.rules.map((r) => r.host).sort()).toEqual(['api.anthropic.com', 'api.openai.com']);
    expect(merged.policy.allowHostPorts).toEqual([8080]);
    expect(merged.credentials).toEqual([a, b]);
    expect(mergeSettings(merged, codexRun).credentials).toEqual([a, b]);
  });
});
