/** The per-install CA: files and modes, reuse, and leaves a TLS client accepts for the right name only. */
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SecureContext, TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { CorralError } from '../../src/errors.js';
import { CA_CERT_FILE, CA_KEY_FILE, loadOrCreateCa } from '../../src/gateway/ca.js';

const tmp = () => mkdtemp(join(tmpdir(), 'corral-ca-'));

/** Handshake against a server presenting the CA's leaf for `certHost`, asking for `askHost`. */
async function handshake(caPem: string, secureContext: SecureContext, askHost: string) {
  // Like the gateway: a plain socket wrapped server-side with the minted context (no SNI needed).
  const server = createServer((raw) => {
    const s = new TLSSocket(raw, { isServer: true, secureContext });
    s.on('error', () => s.destroy());
    s.on('secure', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const isIp = /^[\d.]+$/.test(askHost);
    const client = connect({ host: '127.0.0.1', port, ca: caPem, ...(isIp ? {} : { servername: askHost }) });
    const result = await new Promise<string>((resolve) => {
      client.once('secureConnect', () => resolve('ok'));
      client.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
    });
    client.destroy();
    return result;
  } finally {
    server.close();
  }
}

describe('egress CA', () => {
  it('creates a CA with a 0600 key and reuses it on the next load', async () => {
    const dir = await tmp();
    const a = await loadOrCreateCa(dir);
    expect((await stat(join(dir, CA_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, CA_CERT_FILE), 'utf8')).toBe(a.certPem);
    const b = await loadOrCreateCa(dir);
    expect(b.certPem).toBe(a.certPem);
  });

  it('tightens a key file others can read', async () => {
    const dir = await tmp();
    await loadOrCreateCa(dir);
    await chmod(join(dir, CA_KEY_FILE), 0o644);
    await loadOrCreateCa(dir);
    expect((await stat(join(dir, CA_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const [d1, d2] = [await tmp(), await tmp()];
    await loadOrCreateCa(d1);
    await loadOrCreateCa(d2);
    await writeFile(join(d1, CA_KEY_FILE), await readFile(join(d2, CA_KEY_FILE)));
    const e = await loadOrCreateCa(d1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CorralError);
    expect((e as CorralError).message).toMatch(/does not belong/);
  });

  it('mints leaves a client trusting the CA accepts for that name and no other, and caches them', async () => {
    const ca = await loadOrCreateCa(await tmp());
    const ctx = await ca.secureContextFor('API.Example.test');
    expect(await ca.secureContextFor('api.example.test')).toBe(ctx);
    expect(await handshake(ca.certPem, ctx, 'api.example.test')).toBe('ok');
    expect(await handshake(ca.certPem, ctx, 'other.example.test')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const other = await loadOrCreateCa(await tmp());
    expect(await handshake(other.certPem, ctx, 'api.example.test')).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await handshake(ca.certPem, await ca.secureContextFor('127.0.0.1'), '127.0.0.1')).toBe('ok');
  });

  it('re-mints a leaf near its expiry', async () => {
    let now = Date.now();
    const ca = await loadOrCreateCa(await tmp(), { now: () => new Date(now) });
    const first = await ca.secureContextFor('a.test');
    now += 29.5 * 86_400_000;
    expect(await ca.secureContextFor('a.test')).not.toBe(first);
  });
});
