import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claude } from '../../src/agents/claude.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { CorralError } from '../../src/errors.js';
import { buildEnv, readEnvFile } from '../../src/sandbox/env.js';
import { shouldPull } from '../../src/sandbox/image.js';
import { planSandbox, type RunRequest } from '../../src/sandbox/plan.js';
import { toContainerSpec, wrapCommand } from '../../src/sandbox/spec.js';
import { containerName, homeVolumeName, workspaceIdOf } from '../../src/workspace/identity.js';
import { mapping, planUser } from '../../src/workspace/userns.js';

const ws = { id: workspaceIdOf('/home/me/project'), path: '/home/me/project' };

function request(over: Partial<RunRequest> = {}): RunRequest {
  return {
    agent: claude,
    workspace: ws,
    image: 'corral/claude:abc',
    engine: 'podman',
    user: planUser({ kind: 'podman', rootless: false }, { uid: 0, gid: 0 }),
    session: 'abcdef123456',
    mode: 'agent',
    args: [],
    env: [],
    envFiles: [],
    detach: false,
    stdinIsTTY: false,
    host: { HOME: '/root', SECRET_TOKEN: 's3cr3t' },
    ...over,
  };
}

describe('workspace identity', () => {
  it('is 12 hex of the real path and names things per DESIGN', () => {
    expect(ws.id).toMatch(/^[0-9a-f]{12}$/);
    expect(workspaceIdOf('/home/me/other')).not.toBe(ws.id);
    expect(containerName(ws, 'claude')).toBe(`corral-${ws.id}-claude`);
    // Homes are per workspace: one workspace's home is never another's.
    expect(homeVolumeName(ws, 'claude')).toBe(`corral-${ws.id}-claude-default-home`);
    expect(homeVolumeName({ id: workspaceIdOf('/home/me/other') }, 'claude')).not.toBe(
      homeVolumeName(ws, 'claude'),
    );
  });
});

describe('sandbox spec', () => {
  it('is hardened: no caps, no new privileges, limits, only workspace and state mounted', async () => {
    const spec = toContainerSpec(await planSandbox(request(), ConfigSchema.parse({})));
    expect(spec.capDrop).toEqual(['ALL']);
    expect(spec.noNewPrivileges).toBe(true);
    expect(spec.pidsLimit).toBe(4096);
    expect(spec.memoryBytes).toBe(8 * 1024 ** 3);
    expect(spec.mounts).toEqual([
      { type: 'bind', source: '/home/me/project', target: '/workspace' },
      { type: 'volume', source: `corral-${ws.id}-claude-default-home`, target: '/home/agent' },
    ]);
    expect(spec.mounts.some((m) => m.source.includes('.sock'))).toBe(false);
    expect(spec.user).toBe('1000:1000');
    expect(spec.labels['io.corral.workspace']).toBe(ws.id);
    expect(spec.labels['io.corral.agent']).toBe('claude');
    expect(spec.labels['io.corral.role']).toBe('agent');
  });

  it('never forwards the host environment', async () => {
    const spec = toContainerSpec(await planSandbox(request(), ConfigSchema.parse({})));
    expect(Object.values(spec.env)).not.toContain('s3cr3t');
    expect(spec.env.HOME).toBe('/home/agent');
  });

  it('passes -e KEY from the host and -e KEY=VAL as given', async () => {
    const s = await planSandbox(request({ env: ['SECRET_TOKEN', 'MODE=fast'] }), ConfigSchema.parse({}));
    expect(s.env.SECRET_TOKEN).toBe('s3cr3t');
    expect(s.env.MODE).toBe('fast');
  });

  it('fails clearly, without the value, for -e of an unset variable', async () => {
    const err = await planSandbox(request({ env: ['NOPE_UNSET'] }), ConfigSchema.parse({})).catch((e) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect(err.message).toContain('NOPE_UNSET');
  });

  it('adds yolo flags from --yolo or config, and config args and init', async () => {
    const config = ConfigSchema.parse({
      agents: { claude: { yolo: true, args: ['--verbose'], init: ['echo hi'] } },
    });
    const s = await planSandbox(request({ args: ['--model', 'x'] }), config);
    expect(s.argv).toEqual(['claude', '--dangerously-skip-permissions', '--verbose', '--model', 'x']);
    expect(s.init).toEqual(['echo hi']);
    const plain = await planSandbox(request(), ConfigSchema.parse({}));
    expect(plain.argv).toEqual(['claude']);
  });

  it('runs a shell in shell mode under its own container name', async () => {
    const s = await planSandbox(request({ mode: 'shell' }), ConfigSchema.parse({}));
    expect(s.argv).toEqual(['/bin/bash', '-l']);
    expect(s.name).toMatch(new RegExp(`^corral-${ws.id}-claude-sh-[0-9a-f]{6}$`));
    // A detached shell is the workspace's sandbox for that agent, which later shells join.
    const d = await planSandbox(request({ mode: 'shell', detach: true }), ConfigSchema.parse({}));
    expect(d.name).toBe(`corral-${ws.id}-claude`);
  });

  it('auto-removes attached runs itself and detached runs via the engine', async () => {
    const attached = toContainerSpec(await planSandbox(request(), ConfigSchema.parse({})));
    expect(attached.autoRemove).toBe(false);
    const detached = toContainerSpec(await planSandbox(request({ detach: true }), ConfigSchema.parse({})));
    expect(detached.autoRemove).toBe(true);
    expect(detached.tty).toBe(true);
    expect(detached.stdinOnce).toBe(false);
  });

  it('maps the host alias for Docker only', async () => {
    const docker = toContainerSpec(await planSandbox(request({ engine: 'docker' }), ConfigSchema.parse({})));
    expect(docker.extraHosts).toEqual(['host.docker.internal:host-gateway']);
    const podman = toContainerSpec(await planSandbox(request(), ConfigSchema.parse({})));
    expect(podman.extraHosts).toBeUndefined();
  });
});

describe('command wrapper', () => {
  it('leaves argv alone when there is nothing to prepare', () => {
    expect(wrapCommand(['claude'], [], {}).cmd).toEqual(['claude']);
  });

  it('writes files and runs init, then execs argv, in a real shell', async () => {
    const home = await mkdtemp(join(tmpdir(), 'corral-home-'));
    const w = wrapCommand(
      ['sh', '-c', 'cat "$HOME/.cfg/a b.json"; echo "$0-$CORRAL_FILE_0"'],
      ['echo init-ran'],
      {
        '.cfg/a b.json': '{"x": "it\'s $HOME"}\n',
      },
    );
    const out = execFileSync(w.cmd[0]!, w.cmd.slice(1), {
      env: { ...w.env, HOME: home, PATH: process.env.PATH },
    }).toString();
    expect(out).toBe('init-ran\n{"x": "it\'s $HOME"}\nsh-\n');
  });
});

describe('uid plans', () => {
  it('maps the sandbox uid onto the host user with rootful Podman', () => {
    const root = planUser({ kind: 'podman', rootless: false }, { uid: 0, gid: 0 });
    expect(root.user).toBe('1000:1000');
    expect(root.idMappings?.uid).toContainEqual({ containerId: 1000, hostId: 0, size: 1 });
    const user = planUser({ kind: 'podman', rootless: false }, { uid: 1234, gid: 1234 });
    expect(user.idMappings?.uid).toContainEqual({ containerId: 1000, hostId: 1234, size: 1 });
    const hostIds = user.idMappings!.uid.flatMap((m) => [m.hostId, m.hostId + m.size - 1]);
    expect(hostIds.filter((h) => h === 1234)).toHaveLength(2); // only the one-wide mapping touches 1234
  });

  it.each([0, 1, 999, 1000, 1001, 2345, 65001, 70000])(
    'maps ids one-to-one for host uid %i, host root only to the sandbox user',
    (h) => {
      const m = mapping(h);
      const container = new Set<number>();
      const host = new Set<number>();
      for (const r of m) {
        for (let i = 0; i < r.size; i++) {
          container.add(r.containerId + i);
          host.add(r.hostId + i);
        }
      }
      const total = m.reduce((n, r) => n + r.size, 0);
      expect(container.size).toBe(total);
      expect(host.size).toBe(total);
      expect(m).toContainEqual({ containerId: 1000, hostId: h, size: 1 });
      if (h !== 0) expect(host.has(0)).toBe(false);
      expect(m.find((r) => r.containerId === 0)!.hostId).not.toBe(0);
    },
  );

  it('uses keep-id rootless, the host uid with Docker, and reclaims for Docker as root', () => {
    expect(planUser({ kind: 'podman', rootless: true }, { uid: 1234, gid: 1234 }).keepId).toEqual({
      uid: 1000,
      gid: 1000,
    });
    expect(planUser({ kind: 'docker', rootless: false }, { uid: 1234, gid: 1235 }).user).toBe('1234:1235');
    const root = planUser({ kind: 'docker', rootless: false }, { uid: 0, gid: 0 });
    expect(root.user).toBe('1000:1000');
    expect(root.reclaimTo).toEqual({ uid: 0, gid: 0 });
  });
});

describe('env sources', () => {
  it('reads env files with comments, quotes, export and bare names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-env-'));
    const f = join(dir, '.env');
    await writeFile(f, '# comment\nA=1\nexport B="two words"\nFROM_HOST\n\nMISSING_ONE\n');
    expect(await readEnvFile(f, { FROM_HOST: 'h' })).toEqual({ A: '1', B: 'two words', FROM_HOST: 'h' });
  });

  it('orders sources: agent < config < agent config < files < flags', async () => {
    const env = await buildEnv({
      agentDefaults: { X: 'agent', Y: 'agent' },
      global: { X: 'global', Z: 'global' },
      perAgent: ['Z'],
      envFiles: [],
      flags: ['Y=flag'],
      host: { Z: 'host' },
    });
    expect(env).toEqual({ X: 'global', Y: 'flag', Z: 'host' });
  });

  it('rejects invalid names', async () => {
    await expect(buildEnv({ agentDefaults: {}, envFiles: [], flags: ['1BAD=x'], host: {} })).rejects.toThrow(
      /1BAD/,
    );
  });
});

describe('ports', () => {
  it('publishes on 127.0.0.1 unless public, and rejects nonsense', async () => {
    const { parsePort } = await import('../../src/sandbox/ports.js');
    expect(parsePort('3000', false)).toEqual({ hostIp: '127.0.0.1', hostPort: 3000, containerPort: 3000 });
    expect(parsePort('8080:3000', true)).toEqual({ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 3000 });
    expect(() => parsePort('70000', false)).toThrow(/Invalid port/);
    expect(() => parsePort('a:b', false)).toThrow(/Invalid port/);
    const spec = toContainerSpec(
      await planSandbox(request({ ports: ['5173'] }), ConfigSchema.parse({ ports: [3000] })),
    );
    expect(spec.ports).toEqual([
      { hostIp: '127.0.0.1', hostPort: 3000, containerPort: 3000 },
      { hostIp: '127.0.0.1', hostPort: 5173, containerPort: 5173 },
    ]);
  });
});

describe('pull policy', () => {
  it('prefers the flag, then the agent setting, then the global one', () => {
    expect(shouldPull(undefined, undefined, true)).toBe(true);
    expect(shouldPull(undefined, false, true)).toBe(false);
    expect(shouldPull(true, false, false)).toBe(true);
    expect(shouldPull(false, true, true)).toBe(false);
  });
});

describe('host settings import', () => {
  it('copies the agent’s settings only when asked, merging JSON under corral’s own files', async () => {
    const { gemini } = await import('../../src/agents/gemini.js');
    const home = await mkdtemp(join(tmpdir(), 'corral-hs-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(home, '.gemini'));
    await writeFile(
      join(home, '.gemini', 'settings.json'),
      JSON.stringify({ ui: { theme: 'Dracula' }, security: { auth: { selectedType: 'oauth-personal' } } }),
    );
    await writeFile(join(home, '.gemini', 'GEMINI.md'), '# my rules\n');
    const endpoint = {
      env: {},
      args: [],
      files: { '.gemini/settings.json': gemini.endpoint!.files['.gemini/settings.json']! },
    };
    const req = request({ agent: gemini, host: { HOME: home }, endpoint });

    const off = await planSandbox(req, ConfigSchema.parse({}));
    expect(Object.keys(off.files)).toEqual(['.gemini/settings.json']);

    const on = await planSandbox(req, ConfigSchema.parse({ agents: { gemini: { host_settings: true } } }));
    const merged = JSON.parse(on.files['.gemini/settings.json']!);
    expect(merged.ui).toEqual({ theme: 'Dracula' });
    // The endpoint needs API-key auth; the user's OAuth choice must not break it.
    expect(merged.security.auth.selectedType).toBe('gemini-api-key');
    expect(on.files['.gemini/GEMINI.md']).toBe('# my rules\n');
    // The flag beats config.
    const flagOff = await planSandbox(
      { ...req, hostSettings: false },
      ConfigSchema.parse({ host_settings: true }),
    );
    expect(flagOff.files['.gemini/GEMINI.md']).toBeUndefined();

    await writeFile(join(home, '.gemini', 'settings.json'), '{ nope');
    await expect(planSandbox(req, ConfigSchema.parse({ host_settings: true }))).rejects.toThrow(
      /settings\.json is not valid JSON/,
    );
  });
});
