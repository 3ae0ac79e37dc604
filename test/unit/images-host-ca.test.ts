import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CaSources, detectHostCa, hostCaFiles, pemCertificates } from '../../src/images/host-ca.js';

// Fake certificates: detection only parses PEM framing, never the DER inside.
const body = (n: number) => `MIIB${n}${'A'.repeat(80)}${n}`;
const wrap = (b: string, width: number, eol = '\n') =>
  [
    '-----BEGIN CERTIFICATE-----',
    ...(b.match(new RegExp(`.{1,${width}}`, 'g')) ?? []),
    '-----END CERTIFICATE-----',
  ]
    .join(eol)
    .concat(eol);
const CERT = (n: number) => wrap(body(n), 64);

async function host(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<CaSources & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'corral-ca-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await mkdir(join(dir, 'local'), { recursive: true });
  const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, join(dir, v)]));
  return {
    dir,
    localDir: join(dir, 'local'),
    anchorDirs: [join(dir, 'anchors')],
    systemBundle: join(dir, 'system.crt'),
    env: resolved,
  };
}

const count = (pem: Buffer | undefined) => pem?.toString().match(/BEGIN CERTIFICATE/g)?.length ?? 0;

describe('host CA detection', () => {
  it('finds nothing on a host without extra CAs', async () => {
    const h = await host({ 'system.crt': CERT(1) }, { NODE_EXTRA_CA_CERTS: 'system.crt' });
    expect(hostCaFiles(h)).toEqual([]);
    expect(detectHostCa('auto', h)).toBeUndefined();
  });

  it('reads only *.crt from the Debian folder (as update-ca-certificates does), any PEM from anchor folders', async () => {
    const h = await host({
      'local/corp/proxy.crt': CERT(1),
      'local/stray.pem': CERT(2),
      'anchors/fedora.pem': CERT(3),
    });
    expect(hostCaFiles(h).map((f) => f.slice(h.dir.length))).toEqual([
      '/local/corp/proxy.crt',
      '/anchors/fedora.pem',
    ]);
    const pem = detectHostCa('auto', h)!.toString();
    expect(pem).toContain(body(1).slice(0, 64));
    expect(pem).not.toContain(body(2).slice(0, 64));
  });

  it('adds NODE_EXTRA_CA_CERTS unless it is the system bundle or a file already read, even through a symlink', async () => {
    const h = await host(
      { 'system.crt': CERT(9), 'local/a.crt': CERT(1), 'extra.pem': CERT(2) },
      { NODE_EXTRA_CA_CERTS: 'extra.pem' },
    );
    expect(count(detectHostCa('auto', h))).toBe(2);
    await symlink(join(h.dir, 'system.crt'), join(h.dir, 'bundle-link.crt'));
    h.env.NODE_EXTRA_CA_CERTS = join(h.dir, 'bundle-link.crt');
    expect(hostCaFiles(h)).toHaveLength(1);
    h.env.NODE_EXTRA_CA_CERTS = join(h.dir, 'local/a.crt');
    expect(hostCaFiles(h)).toHaveLength(1);
  });

  it('deduplicates certificates that differ only in line endings or wrapping', async () => {
    const h = await host({
      'local/a.crt': CERT(1),
      'local/b.crt': wrap(body(1), 76, '\r\n'),
      'local/c.crt': `${CERT(2)}\n${CERT(1)}`,
    });
    const pem = detectHostCa('auto', h)!;
    expect(count(pem)).toBe(2);
    expect(pem.toString()).not.toContain('\r');
    expect(pemCertificates(wrap(body(1), 76, '\r\n'))).toEqual(pemCertificates(CERT(1)));
  });

  it('survives a symlink loop and dangling links', async () => {
    const h = await host({ 'local/a.crt': CERT(1) });
    await symlink(h.localDir, join(h.localDir, 'loop'));
    await symlink(join(h.dir, 'missing'), join(h.localDir, 'dangling.crt'));
    expect(count(detectHostCa('auto', h))).toBe(1);
  });

  it('off is nothing; an explicit file must exist and hold certificates', async () => {
    const h = await host({ 'local/a.crt': CERT(1), 'mine.pem': CERT(5), 'empty.pem': 'nothing here' });
    expect(detectHostCa('off', h)).toBeUndefined();
    expect(detectHostCa(join(h.dir, 'mine.pem'), h)!.toString()).toBe(CERT(5));
    expect(() => detectHostCa(join(h.dir, 'nope.pem'), h)).toThrow(/does not exist/);
    expect(() => detectHostCa(join(h.dir, 'empty.pem'), h)).toThrow(/no PEM certificates/);
  });
});
