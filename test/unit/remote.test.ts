import { describe, expect, it } from 'vitest';
import { candidates, transportFromUrl } from '../../src/engine/detect.js';
import { plan } from '../../src/engine/remote/sync.js';
import { parseSshUrl } from '../../src/engine/remote/url.js';

const d = (env: NodeJS.ProcessEnv) => ({ env, uid: 0, which: () => true });

describe('ssh:// engine addresses', () => {
  it('reads user, host, port and an optional socket path', () => {
    expect(parseSshUrl('ssh://dev@build.example:2200')).toEqual({
      user: 'dev',
      host: 'build.example',
      port: 2200,
    });
    expect(parseSshUrl('ssh://10.1.2.3')).toEqual({ host: '10.1.2.3' });
    expect(parseSshUrl('ssh://u@h/run/user/1000/podman/podman.sock').socket).toBe(
      '/run/user/1000/podman/podman.sock',
    );
  });

  it('refuses what ssh would read as an option, passwords and other schemes', () => {
    for (const bad of [
      'ssh://-oProxyCommand=x',
      'ssh://u:pw@h',
      'tcp://h:2375',
      'ssh://-u@h',
      'ssh://h?x=1',
    ]) {
      expect(() => parseSshUrl(bad), bad).toThrow(/not a usable SSH engine address/);
    }
  });

  it('DOCKER_HOST=ssh://… is Docker on that machine over SSH, not tcp port 2375 on it', () => {
    const [first] = candidates(d({ DOCKER_HOST: 'ssh://me@box' }));
    expect(first).toMatchObject({ source: 'DOCKER_HOST', ssh: { url: 'ssh://me@box', kind: 'docker' } });
    expect(first?.transport).toEqual({});
    expect(() => transportFromUrl('ssh://me@box')).toThrow(/SSH address/);
    const [viaFlag] = candidates(d({}), 'ssh://me@box:2222');
    expect(viaFlag?.ssh?.url).toBe('ssh://me@box:2222');
  });
});

describe('three-way workspace sync', () => {
  const m = (o: Record<string, string>) => new Map(Object.entries(o));

  it('copies what changed on the source only, leaves what changed on the target only', () => {
    const base = m({ a: '1', b: '1', c: '1', gone: '1' });
    const from = m({ a: '2', b: '1', c: '1', added: '9' });
    const to = m({ a: '1', b: '1', c: '3', gone: '1' });
    const p = plan(from, to, base);
    expect(p.copy).toEqual(['a', 'added']);
    expect(p.remove).toEqual(['gone']);
    expect(p.pending).toEqual(['c']);
    expect(p.conflicts).toEqual([]);
    expect(Object.fromEntries(p.base)).toEqual({ a: '2', b: '1', c: '1', added: '9' });
  });

  it('runs two syncs of the same folder one after the other (each wrote the base through one temp name)', async () => {
    const { mkdtemp, readFile, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { LocalTree, syncTrees } = await import('../../src/engine/remote/sync.js');
    const root = await mkdtemp(join(tmpdir(), 'corral-sync-'));
    const [src, dst] = [join(root, 'src'), join(root, 'dst')];
    const { mkdir } = await import('node:fs/promises');
    await mkdir(src);
    await mkdir(dst);
    await writeFile(join(src, 'settings.json'), '{"revision":1}');
    const base = join(root, 'base', 'b.json');
    const push = () => syncTrees(new LocalTree(src), new LocalTree(dst), base, 'push');
    const [first, second] = await Promise.all([push(), push()]);
    expect(first.full).toBe(true);
    // The second found the first's base: nothing left to copy.
    expect(second.changed).toEqual([]);
    expect(await readFile(join(dst, 'settings.json'), 'utf8')).toBe('{"revision":1}');
    expect(JSON.parse(await readFile(base, 'utf8'))).toHaveProperty('settings.json');
  });

  it("keeps a small archive that tar finished before anyone read it (Node drops an unread child's stdout at exit)", async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { tarOut } = await import('../../src/engine/remote/sync.js');
    const root = await mkdtemp(join(tmpdir(), 'corral-tar-'));
    await writeFile(join(root, 'settings.json'), '{"revision":1}');
    const stream = tarOut(['-C', root]);
    // Long enough for tar to write its few KB and exit before the reader comes.
    await new Promise((r) => setTimeout(r, 500));
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const archive = Buffer.concat(chunks);
    expect(archive.length).toBeGreaterThanOrEqual(1024);
    expect(archive.toString('latin1')).toContain('settings.json');
  });

  it('calls a file changed on both sides to different contents a conflict (a deletion too)', () => {
    const base = m({ x: '1', y: '1', z: '1' });
    const p = plan(m({ x: '2', y: '2' }), m({ x: '3', y: '2', z: '5' }), base);
    expect(p.conflicts).toEqual(['x', 'z']);
    // The same change on both sides is agreement, not a conflict.
    expect(p.base.get('y')).toBe('2');
  });
});
