/**
 * The per-install CA that lets the gateway terminate TLS for intercepted domains, and the per-host
 * leaf certificates it signs. ECDSA P-256 throughout: keys generate in about a millisecond with
 * Node's WebCrypto, so the first request to a new host does not stall on RSA key generation.
 * The CA key never leaves `dir` (mode 0600, directory 0700); sandboxes only ever get ca.crt.
 */
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { CorralError } from '../errors.js';
import { isIpLiteral, normalizeHost } from './addresses.js';

type X509 = typeof import('@peculiar/x509');
let x509Module: Promise<X509> | undefined;
/** The certificate library, evaluated on first use (x509.ts says why). */
export function loadX509(): Promise<X509> {
  x509Module ??= import('./x509.js').then((m) => m.x509);
  return x509Module;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const CA_YEARS = 10;
const LEAF_DAYS = 30;
const MAX_CACHED = 1000;

export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';

export interface LeafPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority {
  /** The CA certificate, PEM: what a sandbox's trust store and NODE_EXTRA_CA_CERTS get. */
  readonly certPem: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** A leaf certificate and key for a host name or IP, signed by this CA. Not cached. */
  issueLeaf(host: string): Promise<LeafPem>;
  /** A TLS server context for `host`, minted on first use and cached until near expiry. */
  secureContextFor(host: string): Promise<SecureContext>;
}

export interface CaOptions {
  /** Subject CN for a new CA; defaults to one naming this machine, so users can tell installs apart. */
  commonName?: string;
  /** Clock, for tests of expiry. */
  now?: () => Date;
  /**
   * Use the CA as it is, creating and changing nothing: the gateway sees the host's CA folder
   * read-only. (A Docker-as-root run grants the sandbox's uid an ACL on its workspace while it runs,
   * which shows as group bits on a key kept inside the workspace; that folder is hidden from the
   * sandbox, and the gateway could not tighten the key anyway.)
   */
  readOnly?: boolean;
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // serial numbers must be positive
  return b.toString('hex');
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await rename(tmp, path);
}

async function createCa(dir: string, opts: CaOptions): Promise<void> {
  const now = opts.now?.() ?? new Date();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const name = `CN=${opts.commonName ?? `corral egress CA (${hostname()})`}, O=corral`;
  const notAfter = new Date(now);
  notAfter.setFullYear(notAfter.getFullYear() + CA_YEARS);
  const x509 = await loadX509();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(now.getTime() - DAY),
    notAfter,
    signingAlgorithm: ALG,
    keys: keys as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  // Key first: a reader that finds ca.crt can rely on ca.key being there.
  await writeAtomic(join(dir, CA_KEY_FILE), toPem(pkcs8, 'PRIVATE KEY'), 0o600);
  await writeAtomic(join(dir, CA_CERT_FILE), cert.toString('pem'), 0o644);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Load the CA in `dir`, creating it on first use. A key readable by others is tightened to 0600
 * (it may have been copied with a loose umask); a key that does not match the certificate is an
 * error rather than a silent regeneration, since sandboxes may already trust the old certificate.
 */
export async function loadOrCreateCa(dir: string, opts: CaOptions = {}): Promise<CertificateAuthority> {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  try {
    if (!opts.readOnly) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (!(await exists(certPath))) await createCa(dir, opts);
      const mode = (await stat(keyPath)).mode;
      if (mode & 0o077) await chmod(keyPath, 0o600);
    }
  } catch (e) {
    throw new CorralError(
      'CONFIG_UNREADABLE',
      `Cannot create or read the egress CA in ${dir}: ${(e as Error).message}`,
      'Check that the directory is writable by you, or remove it to start over.',
      { cause: e },
    );
  }
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  // Node's own X.509 parser: the check needs no certificate library.
  if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) {
    throw new CorralError(
      'CONFIG_INVALID',
      `The egress CA key in ${keyPath} does not belong to the certificate in ${certPath}`,
      `Remove ${dir} to generate a new CA (sandboxes pick it up when they next start).`,
    );
  }
  const caKey = await webcrypto.subtle.importKey('pkcs8', fromPem(keyPem), ALG, false, ['sign']);
  return new Issuer(certPem, certPath, keyPath, caKey as CryptoKey, opts.now);
}

class Issuer implements CertificateAuthority {
  // One leaf key for every host: the CA signature is what binds a name, and generating a key per
  // host would only add latency to first contact.
  private leafKeys?: Promise<{ keys: CryptoKeyPair; keyPem: string }>;
  private readonly cache = new Map<string, { expires: number; ctx: Promise<SecureContext> }>();

  constructor(
    readonly certPem: string,
    readonly certPath: string,
    readonly keyPath: string,
    private readonly caKey: CryptoKey,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private keys() {
    this.leafKeys ??= (async () => {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
      const keyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
      return { keys, keyPem };
    })();
    return this.leafKeys;
  }

  async issueLeaf(rawHost: string): Promise<LeafPem> {
    const host = normalizeHost(rawHost);
    const { keys, keyPem } = await this.keys();
    const x509 = await loadX509();
    const caCert = new x509.X509Certificate(this.certPem);
    const now = this.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      // CN is limited to 64 characters; SAN is what clients check anyway.
      subject: host.length <= 64 ? `CN=${host}` : 'CN=corral intercepted host',
      issuer: caCert.subject,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + LEAF_DAYS * DAY),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIpLiteral(host) ? 'ip' : 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      ],
    });
    return { certPem: cert.toString('pem'), keyPem };
  }

  secureContextFor(rawHost: string): Promise<SecureContext> {
    const host = normalizeHost(rawHost);
    const nowMs = this.now().getTime();
    const hit = this.cache.get(host);
    if (hit && hit.expires > nowMs) return hit.ctx;
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    const ctx = this.issueLeaf(host).then(({ certPem, keyPem }) =>
      createSecureContext({ cert: certPem, key: keyPem }),
    );
    // Re-mint a day before the leaf expires; a failed mint is not cached.
    this.cache.set(host, { expires: nowMs + (LEAF_DAYS - 1) * DAY, ctx });
    ctx.catch(() => this.cache.delete(host));
    return ctx;
  }
}
