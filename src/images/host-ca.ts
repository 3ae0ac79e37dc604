/**
 * Extra CAs the host trusts (a corporate proxy's, or this machine's egress interceptor), so image
 * builds and sandboxes can reach the same HTTPS hosts the user can.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError } from '../errors.js';

export interface CaSources {
  /** Debian's folder of locally added CAs. */
  localDir: string;
  /** The system bundle; a NODE_EXTRA_CA_CERTS naming it adds nothing beyond the local CAs. */
  systemBundle: string;
  env: NodeJS.ProcessEnv;
}

export const defaultCaSources = (): CaSources => ({
  localDir: '/usr/local/share/ca-certificates',
  systemBundle: '/etc/ssl/certs/ca-certificates.crt',
  env: process.env,
});

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function crtFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return crtFiles(p);
      return name.endsWith('.crt') || name.endsWith('.pem') ? [p] : [];
    });
}

/** `setting`: auto (detect), off, or a PEM file path. Returns a deduplicated PEM bundle or undefined. */
export function detectHostCa(setting: string, src: CaSources = defaultCaSources()): Buffer | undefined {
  if (setting === 'off') return undefined;
  let files: string[];
  if (setting === 'auto') {
    files = crtFiles(src.localDir);
    const extra = src.env.NODE_EXTRA_CA_CERTS;
    if (extra && extra !== src.systemBundle && existsSync(extra)) files.push(extra);
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
    for (const m of readFileSync(f, 'utf8').match(PEM) ?? []) certs.add(m.trim());
  }
  if (setting !== 'auto' && certs.size === 0) {
    throw new CorralError('CONFIG_INVALID', `host_ca file ${setting} holds no PEM certificates.`);
  }
  return certs.size ? Buffer.from(`${[...certs].join('\n')}\n`) : undefined;
}
