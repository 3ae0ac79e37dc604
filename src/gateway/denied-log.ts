/**
 * The refusals, where the agent can read them. An HTTPS client that gets a 403 to its CONNECT
 * shows only "proxy refused" (curl: "CONNECT tunnel failed, response 403"; most libraries less),
 * never the body saying why. So each refusal is also a line in a file in the folder every sandbox
 * of the workspace mounts read-only (CORRAL_EGRESS_DENIED_LOG names it in the sandbox).
 */
import { appendFileSync, renameSync, statSync } from 'node:fs';
import { authority } from './addresses.js';
import type { AuditEntry } from './audit.js';

/** Past this size the file starts over (the previous one is kept as .1): it is for reading now. */
const MAX_BYTES = 256 * 1024;

export function deniedLine(e: AuditEntry): string {
  const what = `${e.method} ${authority(e.host, e.port)}${e.path ?? ''}`;
  const rule = e.port === 443 || e.port === 80 ? e.host : authority(e.host, e.port);
  // Only where a rule would help: the host's addresses and metadata stay closed whatever the rules.
  const hint = e.reason?.startsWith('no rule allows')
    ? ` The user can allow it with: corral egress allow ${rule}`
    : '';
  return `${e.time} refused ${what}: ${e.reason ?? 'not allowed'}.${hint}\n`;
}

export function deniedWriter(path: string): (e: AuditEntry) => void {
  return (e) => {
    try {
      try {
        if (statSync(path).size > MAX_BYTES) renameSync(path, `${path}.1`);
      } catch {}
      appendFileSync(path, deniedLine(e), { mode: 0o644 });
    } catch {
      // A full disk or a missing folder must not break proxying; the audit log has it anyway.
    }
  };
}
