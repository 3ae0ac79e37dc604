/**
 * The gateway's dry-run commands: the settings file they write holds the real key only once the
 * shell supplies it, and the printed text never does.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type GatewayDryRun,
  gatewayDryRunCleanup,
  gatewayDryRunCommands,
} from '../../src/gateway/dry-run.js';
import { gatewayDirs } from '../../src/gateway/folders.js';
import { buildPolicy } from '../../src/gateway/policy.js';
import type { GatewaySettings } from '../../src/gateway/settings.js';

describe('gateway dry run', () => {
  it('writes the settings file with keys taken from the shell, and prints no key', async () => {
    const root = await mkdtemp(join(tmpdir(), 'corral-gw-dry-'));
    const realKey = `sk-ant-api03-${randomBytes(20).toString('hex')}`;
    const placeholder = `sk-ant-corral${randomBytes(10).toString('hex')}`;
    const settings: GatewaySettings = {
      workspace: 'abcdef012345',
      policy: buildPolicy({ preset: 'agent', rules: [{ action: 'allow', host: 'ok.example' }] }),
      hostAliases: ['host.containers.internal'],
      // A quote, a dollar sign and a backslash: the JSON must come through shell quoting intact.
      hosts: { 'x.test': "it's $HOME \\n" },
      intercept: false,
      idleMinutes: 30,
      lingerSeconds: 120,
      credentials: [{ host: 'api.anthropic.com', header: 'x-api-key', value: realKey, placeholder }],
      upstreamCa: [],
    };
    const dirs = { ...gatewayDirs('podman', 'abcdef012345'), conf: root };
    const plan: GatewayDryRun = {
      engine: 'podman',
      container: {
        name: 'corral-abcdef012345-gateway',
        image: 'localhost/corral/gateway:x',
        cmd: ['node', '/opt/corral/gateway.mjs'],
        env: {},
        labels: {},
        user: '0:0',
        workdir: '/',
        tty: false,
        openStdin: false,
        mounts: [],
        capDrop: ['ALL'],
        noNewPrivileges: true,
        autoRemove: false,
      },
      dirs,
      settings,
      forwarderJs: '/x/forwarder.js',
      caCert: '/x/ca.crt',
      caExists: true,
      credentialEnv: (p) => (p === placeholder ? 'ANTHROPIC_API_KEY' : undefined),
    };
    const lines = gatewayDryRunCommands(plan);
    const text = [...lines, ...gatewayDryRunCleanup(plan)].join('\n');
    expect(text).not.toMatch(/ssh|port relay|published ports/);
    expect(text).not.toContain(realKey);
    expect(text).toContain('# needs ANTHROPIC_API_KEY set in this shell');
    expect(text).toContain('podman run -d --name corral-abcdef012345-gateway');
    const write = lines.find((l) => l.includes('gateway.json'))!;
    execFileSync('sh', ['-c', write], { env: { ...process.env, ANTHROPIC_API_KEY: realKey } });
    expect(JSON.parse(await readFile(join(root, 'gateway.json'), 'utf8'))).toEqual(settings);
  });

  it("plans a remote engine's published ports as SSH forwards, not a relay container", () => {
    const dirs = gatewayDirs({ kind: 'podman', remote: 'ssh://me@box' }, 'abcdef012345');
    const inbound = `${dirs.root}/in/corral-abcdef012345-claude-sh-1`;
    const container = (name: string) => ({
      name,
      image: 'localhost/corral/gateway:x',
      cmd: ['node', '/opt/corral/gateway.mjs'],
      env: {},
      labels: {},
      user: '0:0',
      workdir: '/',
      tty: false,
      openStdin: false,
      mounts: [],
      capDrop: ['ALL'],
      noNewPrivileges: true,
      autoRemove: false,
    });
    const spec = '127.0.0.1:18080:/home/me/.cache/corral-remote/x/m/y/8080.sock';
    const plan: GatewayDryRun = {
      engine: 'podman',
      container: container('corral-abcdef012345-gateway'),
      dirs,
      settings: {
        workspace: 'abcdef012345',
        policy: buildPolicy({ preset: 'agent', rules: [] }),
        hostAliases: [],
        hosts: {},
        intercept: false,
        idleMinutes: 30,
        lingerSeconds: 120,
        credentials: [],
        upstreamCa: [],
      },
      forwarderJs: '/x/forwarder.js',
      caCert: '/x/ca.crt',
      caExists: true,
      credentialEnv: () => undefined,
      relay: { container: { ...container('corral-abcdef012345-claude-sh-1-ports') }, inboundDir: inbound },
      forwards: {
        inboundDir: inbound,
        commands: [
          {
            forward: ['ssh', '-o', 'ControlPath=/run/c m', '-O', 'forward', '-L', spec, '--', 'me@box'],
            cancel: ['ssh', '-o', 'ControlPath=/run/c m', '-O', 'cancel', '-L', spec, '--', 'me@box'],
          },
        ],
      },
    };
    const lines = gatewayDryRunCommands(plan);
    const after = gatewayDryRunCleanup(plan);
    expect(lines).toContain(`ssh -o 'ControlPath=/run/c m' -O forward -L ${spec} -- me@box`);
    expect(lines).toContain(`mkdir -p ${inbound} && chmod 777 ${inbound}`);
    expect(after).toContain(`ssh -o 'ControlPath=/run/c m' -O cancel -L ${spec} -- me@box || true`);
    // No relay container, in the plan or in the cleanup.
    expect([...lines, ...after].join('\n')).not.toContain('-ports');
  });
});
