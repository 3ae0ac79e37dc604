import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { claude } from '../../src/agents/claude.js';
import { resolveAgent } from '../../src/agents/index.js';
import { buildContext } from '../../src/images/context.js';
import { contentHash } from '../../src/images/hash.js';
import { detectHostCa } from '../../src/images/host-ca.js';
import {
  agentRecipe,
  baseRecipe,
  installCommand,
  nodeRecipe,
  rootfsRecipe,
  suiteFor,
} from '../../src/images/recipes.js';

const CERT = (n: number) => `-----BEGIN CERTIFICATE-----\nMIIB${n}AAAA\n-----END CERTIFICATE-----`;
const tarballs = {
  nodeVersion: '22.23.3',
  npmVersion: '10.9.9',
  node: { path: '/x/node.tgz', digest: 'aa' },
  npm: { path: '/x/npm.tgz', digest: 'bb' },
};

describe('content hashes', () => {
  it('are stable and 12 hex', () => {
    expect(contentHash('a', 'b')).toBe(contentHash('a', 'b'));
    expect(contentHash('a', 'b')).toMatch(/^[0-9a-f]{12}$/);
    expect(contentHash('ab')).not.toBe(contentHash('a', 'b'));
  });

  it('change with every input of every layer', () => {
    const rootfs = rootfsRecipe('bookworm');
    expect(rootfsRecipe('trixie').tag).not.toBe(rootfs.tag);
    expect(rootfsRecipe('bookworm', ['python3']).tag).not.toBe(rootfs.tag);
    const base = baseRecipe(rootfs.tag, undefined);
    expect(baseRecipe(rootfs.tag, Buffer.from(CERT(1))).tag).not.toBe(base.tag);
    expect(baseRecipe(rootfsRecipe('trixie').tag, undefined).tag).not.toBe(base.tag);
    const node = nodeRecipe(base.tag, tarballs);
    expect(nodeRecipe(base.tag, { ...tarballs, node: { path: '/x/node.tgz', digest: 'cc' } }).tag).not.toBe(
      node.tag,
    );
    // The tarball's place on disk is not an input; its digest is.
    expect(nodeRecipe(base.tag, { ...tarballs, node: { path: '/elsewhere.tgz', digest: 'aa' } }).tag).toBe(
      node.tag,
    );
    const agent = agentRecipe(node.tag, claude, claude.install);
    expect(agentRecipe(node.tag, claude, { ...claude.install, version: '9.9.9' }).tag).not.toBe(agent.tag);
    expect(agentRecipe('localhost/corral/node:other', claude, claude.install).tag).not.toBe(agent.tag);
    expect(agent.tag).toMatch(/^localhost\/corral\/claude:[0-9a-f]{12}$/);
  });
});

describe('Containerfiles', () => {
  it('adds the host CA only when there is one', () => {
    const withCa = baseRecipe('r', Buffer.from(CERT(1)));
    expect(withCa.containerfile).toContain('COPY host-ca.pem /usr/local/share/corral/host-ca.pem');
    expect(withCa.containerfile).toContain('NODE_EXTRA_CA_CERTS=/usr/local/share/corral/host-ca.pem');
    expect(withCa.files['host-ca.pem']).toBeDefined();
    const without = baseRecipe('r', undefined);
    expect(without.containerfile).not.toContain('host-ca');
    expect(without.containerfile).toMatch(/useradd -m -u 1000/);
  });

  it('installs npm agents globally and pip agents in a venv on a Python-capable suite', () => {
    expect(installCommand(claude.install)).toContain(
      'npm install -g --no-audit --no-fund @anthropic-ai/claude-code@2.1.330',
    );
    const vibe = resolveAgent('devstral').install;
    expect(installCommand(vibe)).toContain('python3 -m venv /opt/mistral-vibe');
    expect(installCommand(vibe)).toContain('pip install --no-cache-dir mistral-vibe==3.0.2');
    expect(suiteFor(vibe)).toBe('trixie');
    expect(suiteFor(claude.install)).toBe('bookworm');
  });

  it('smoke-tests the agent CLI as the sandbox user with a throwaway HOME', () => {
    const r = agentRecipe('n', claude, claude.install);
    expect(r.containerfile).toContain('USER 1000:1000\nRUN HOME=$(mktemp -d) claude --version');
    expect(r.labels).toMatchObject({ 'io.corral.agent': 'claude', 'io.corral.agent-version': '2.1.330' });
  });
});

describe('host CA detection', () => {
  async function sources(files: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'corral-ca-'));
    await mkdir(join(dir, 'local/sub'), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return { localDir: join(dir, 'local'), systemBundle: join(dir, 'system.crt'), env, dir };
  }

  it('collects local CAs (recursively) and NODE_EXTRA_CA_CERTS, deduplicated', async () => {
    const s = await sources({
      'local/a.crt': CERT(1),
      'local/sub/b.crt': `${CERT(2)}\n${CERT(1)}`,
      'extra.pem': CERT(3),
      'local/ignored.txt': CERT(4),
    });
    s.env.NODE_EXTRA_CA_CERTS = join(s.dir, 'extra.pem');
    const pem = detectHostCa('auto', s)!.toString();
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
    expect(pem).not.toContain('MIIB4');
  });

  it('ignores NODE_EXTRA_CA_CERTS when it is the system bundle, and honours off and explicit files', async () => {
    const s = await sources({ 'system.crt': CERT(9) });
    s.env.NODE_EXTRA_CA_CERTS = s.systemBundle;
    expect(detectHostCa('auto', s)).toBeUndefined();
    const t = await sources({ 'local/a.crt': CERT(1), 'mine.pem': CERT(5) });
    expect(detectHostCa('off', t)).toBeUndefined();
    expect(detectHostCa(join(t.dir, 'mine.pem'), t)!.toString()).toContain('MIIB5');
    expect(() => detectHostCa(join(t.dir, 'missing.pem'), t)).toThrow(/does not exist/);
  });
});

describe('build context', () => {
  it('is a tar with the Containerfile and every file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corral-ctx-'));
    await writeFile(join(dir, 'big.tgz'), 'tarball-bytes');
    const stream = buildContext({
      containerfile: 'FROM x\n',
      files: { 'a.txt': 'hello', 'big.tgz': { path: join(dir, 'big.tgz'), digest: 'd' } },
    });
    const entries: Record<string, string> = {};
    const extract = tar.extract();
    const done = new Promise<void>((resolve) => extract.on('finish', resolve));
    extract.on('entry', (header, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: unknown) => chunks.push(c as Buffer));
      s.on('end', () => {
        entries[header.name] = Buffer.concat(chunks).toString();
        next();
      });
    });
    stream.pipe(extract as unknown as NodeJS.WritableStream);
    await done;
    expect(entries).toEqual({ Containerfile: 'FROM x\n', 'a.txt': 'hello', 'big.tgz': 'tarball-bytes' });
  });
});
