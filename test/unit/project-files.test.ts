import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claude } from '../../src/agents/claude.js';
import { devstral } from '../../src/agents/devstral.js';
import { parseDevcontainer } from '../../src/config/devcontainer.js';
import { readProjectFiles, trustText } from '../../src/config/project.js';
import { restrictUntrusted } from '../../src/config/trust.js';
import { CorralError } from '../../src/errors.js';
import { contextEntries } from '../../src/images/devcontainer.js';
import { devAgentRecipe, projectRecipe } from '../../src/images/project.js';

const tmp = () => mkdtemp(join(tmpdir(), 'corral-pf-'));
const NODE = { nodeVersion: '22', npmVersion: '10', node: Buffer.from('n'), npm: Buffer.from('m') };

describe('devcontainer.json', () => {
  it('parses comments and trailing commas, honours env/ports/postCreate and lists the rest', async () => {
    const ws = await tmp();
    const path = join(ws, '.devcontainer.json');
    await writeFile(
      path,
      `{
  // comment
  "image": "mcr.microsoft.com/devcontainers/base:bookworm",
  "containerEnv": { "A": "1", "B": "\${localEnv:HOME}" },
  "remoteEnv": { "A": null, "C": "3" },
  "forwardPorts": [3000, "8080", "db:5432"],
  "postCreateCommand": { "one": "npm ci", "two": ["echo", "it's"] },
  "features": {},
  "runArgs": ["--privileged"],
}`,
    );
    const d = await parseDevcontainer(path, ws);
    expect(d.source).toEqual({ image: 'mcr.microsoft.com/devcontainers/base:bookworm' });
    expect(d.env).toEqual({ C: '3' });
    expect(d.ports).toEqual([3000, 8080]);
    expect(d.postCreate).toEqual(['npm ci', `echo 'it'\\''s'`]);
    expect(d.unsupported).toEqual(
      expect.arrayContaining([
        'features',
        'runArgs',
        'forwardPorts "db:5432" (only this container\'s own ports)',
      ]),
    );
    expect(d.unsupported.some((u) => u.startsWith('containerEnv.B'))).toBe(true);
  });

  it('resolves build paths against the file and names errors by line', async () => {
    const ws = await tmp();
    await mkdir(join(ws, '.devcontainer'));
    const path = join(ws, '.devcontainer', 'devcontainer.json');
    await writeFile(path, '{ "build": { "dockerfile": "Dockerfile", "context": ".." } }');
    const d = await parseDevcontainer(path, ws);
    expect(d.source).toEqual({ dockerfile: join(ws, '.devcontainer', 'Dockerfile'), context: ws, args: {} });

    await writeFile(path, '{\n  "image": "x"\n  "name": "y"\n}');
    const err = await parseDevcontainer(path, ws).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorralError);
    expect((err as Error).message).toMatch(/line 3/);

    await writeFile(path, '{ "name": "neither" }');
    await expect(parseDevcontainer(path, ws)).rejects.toThrow(/neither "image" nor "build.dockerfile"/);
  });
});

describe('project trust', () => {
  it('hashes every project file, so editing any one revokes trust', async () => {
    const ws = await tmp();
    await writeFile(join(ws, '.corral.yaml'), 'a: 1\n');
    const only = await readProjectFiles(ws);
    expect(trustText(ws, only)).toBe('a: 1\n');
    await writeFile(join(ws, 'corral.Dockerfile'), 'RUN true\n');
    const both = trustText(ws, await readProjectFiles(ws));
    expect(both).toContain('--- corral.Dockerfile\nRUN true');
    await writeFile(join(ws, 'corral.Dockerfile'), 'RUN false\n');
    expect(trustText(ws, await readProjectFiles(ws))).not.toBe(both);
  });

  it('refuses two project Containerfiles', async () => {
    const ws = await tmp();
    await mkdir(join(ws, '.corral'));
    await writeFile(join(ws, 'corral.Dockerfile'), 'RUN true\n');
    await writeFile(join(ws, '.corral', 'Containerfile'), 'RUN true\n');
    await expect(readProjectFiles(ws)).rejects.toThrow(/both corral.Dockerfile and .corral\/Containerfile/);
  });

  it('keeps egress denials of an untrusted project and skips what widens egress or adds services', () => {
    const { safe, skipped } = restrictUntrusted({
      egress: { preset: 'open', allow: ['evil.example'], deny: ['tracker.example'], allow_host_ports: [22] },
      services: { db: { image: 'postgres' } },
    });
    expect(safe).toEqual({ egress: { deny: ['tracker.example'] } });
    expect(skipped).toEqual([
      'egress.preset (open)',
      'egress.allow (evil.example)',
      'egress.allow_host_ports (22)',
      'services.db (image=postgres)',
    ]);
    expect(restrictUntrusted({ egress: { preset: 'none' } })).toEqual({
      safe: { egress: { preset: 'none' } },
      skipped: [],
    });
  });
});

describe('project image recipes', () => {
  it('fills in FROM, takes .corral/ as context, and refuses a FROM of its own', async () => {
    const ws = await tmp();
    await mkdir(join(ws, '.corral'));
    const file = join(ws, '.corral', 'Containerfile');
    await writeFile(file, 'COPY a.txt /a\n');
    await writeFile(join(ws, '.corral', 'a.txt'), 'A');
    const r = (await projectRecipe('localhost/corral/claude:abc', claude, file, { path: ws, id: 'w1' }))!;
    expect(r.containerfile.split('\n')[0]).toBe('FROM localhost/corral/claude:abc');
    expect(Object.keys(r.files)).toEqual(['a.txt']);
    expect(r.labels['io.corral.workspace']).toBe('w1');
    await writeFile(join(ws, '.corral', 'a.txt'), 'B');
    const r2 = (await projectRecipe('localhost/corral/claude:abc', claude, file, { path: ws, id: 'w1' }))!;
    expect(r2.tag).not.toBe(r.tag);

    await writeFile(file, '# only comments\n\n');
    expect(await projectRecipe('x', claude, file, { path: ws, id: 'w1' })).toBeUndefined();
    await writeFile(file, 'RUN true\n  from debian\n');
    await expect(projectRecipe('x', claude, file, { path: ws, id: 'w1' })).rejects.toThrow(
      /Containerfile:2:/,
    );
  });

  it('installs npm agents onto a devcontainer image with their own Node, and refuses pip agents', () => {
    const r = devAgentRecipe('my/dev:1', claude, claude.install, NODE, undefined);
    expect(r.containerfile).toMatch(/^FROM my\/dev:1\n/);
    expect(r.containerfile).toContain('--prefix /opt/corral/agent');
    expect(r.containerfile).toContain('getent passwd 1000');
    expect(devAgentRecipe('my/dev:2', claude, claude.install, NODE, undefined).tag).not.toBe(r.tag);
    expect(() => devAgentRecipe('my/dev:1', devstral, devstral.install, NODE, undefined)).toThrow(
      /Python package/,
    );
  });

  it('lists a build context through .dockerignore, keeping the Dockerfile', async () => {
    const ctx = await tmp();
    await mkdir(join(ctx, 'node_modules', 'x'), { recursive: true });
    await mkdir(join(ctx, 'src'));
    await writeFile(join(ctx, 'node_modules', 'x', 'i.js'), '');
    await writeFile(join(ctx, 'src', 'a.ts'), '');
    await writeFile(join(ctx, 'Dockerfile'), 'FROM x');
    await writeFile(join(ctx, '.dockerignore'), 'node_modules\nDockerfile\n*.log\n');
    await writeFile(join(ctx, 'debug.log'), '');
    expect(await contextEntries(ctx, join(ctx, 'Dockerfile'))).toEqual([
      '.dockerignore',
      'Dockerfile',
      'src/a.ts',
    ]);
  });
});
