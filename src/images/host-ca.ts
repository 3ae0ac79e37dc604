/**
 * Extra CAs the host trusts (a corporate proxy's, or this machine's egress interceptor), so image
 * builds and sandboxes can reach the same HTTPS hosts the user can.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError } from '../errors.js';

export interface CaSources {
  /** Debian's folder of locally added CAs (update-ca-certificates reads `*.crt` there). */
  localDir: string;
  /** More folders of local anchors, e.g. Fedora's /etc/pki/ca-trust/source/anchors. */
  anchorDirs?: string[];
  /** The system bundle; a NODE_EXTRA_CA_CERTS naming it adds nothing beyond the local CAs. */
  systemBundle: string;
  env: NodeJS.ProcessEnv;
}

export const defaultCaSources = (): CaSources => ({
  localDir: '/usr/local/share/ca-certificates',
  anchorDirs: ['/etc/pki/ca-trust/source/anchors'],
  systemBundle: '/etc/ssl/certs/ca-certificates.crt',
  env: process.env,
});

const PEM = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

function certFiles(dir: string, exts: string[], seen = new Set<string>()): string[] {
  const key = real(dir);
  if (seen.has(key) || !existsSync(dir)) return [];
  seen.add(key);
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      try {
        if (statSync(p).isDirectory()) return certFiles(p, exts, seen);
      } catch {
        return []; // a dangling symlink
      }
      return exts.some((e) => name.endsWith(e)) ? [p] : [];
    });
}

/** The files `auto` would read, in order (local CAs, then NODE_EXTRA_CA_CERTS if it is another file). */
export function hostCaFiles(src: CaSources = defaultCaSources()): string[] {
  const files = [
    ...certFiles(src.localDir, ['.crt']),
    ...(src.anchorDirs ?? []).flatMap((d) => certFiles(d, ['.crt', '.pem'])),
  ];
  const extra = src.env.NODE_EXTRA_CA_CERTS;
  if (extra && existsSync(extra)) {
    const known = new Set([src.systemBundle, ...files].map(real));
    if (!known.has(real(extra))) files.push(extra);
  }
  return files;
}

/** Every certificate in a PEM text, normalised (line endings, wrapping) so duplicates compare equal. */
export function pemCertificates(text: string): string[] {
  return [...text.matchAll(PEM)].map((m) => {
    const body = m[1]!.replace(/\s+/g, '');
    const lines = body.match(/.{1,64}/g) ?? [];
    return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----'].join('\n');
  });
}

/** `setting`: auto (detect), off, or a PEM file path. Returns a deduplicated PEM bundle or undefined. */
export function detectHostCa(setting: string, src: CaSources = defaultCaSources()): Buffer | undefined {
  if (setting === 'off') return undefined;
  let files: string[];
  if (setting === 'auto') {
    files = hostCaFiles(src);
  } else {
    if (!existsSync(setting)) {
      throw new CorralError(
        'CONFIG_INVALID',
        `host_ca names ${setting}, which does not exist.`,
        'Set host_ca to auto, off, or a PEM file.',
      );
    }
    files = [setting];
  }
  const certs = new Set<string>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      // auto never fails a build over a CA it cannot read; an explicit file must be readable.
      if (setting === 'auto') continue;
      throw new CorralError('CONFIG_INVALID', `host_ca file ${f} is unreadable: ${(e as Error).message}`);
    }
    for (const c of pemCertificates(text)) certs.add(c);
  }
  if (setting !== 'auto' && certs.size === 0) {
    throw new CorralError('CONFIG_INVALID', `host_ca file ${setting} holds no PEM certificates.`);
  }
  return certs.size ? Buffer.from(`${[...certs].join('\n')}\n`) : undefined;
}
