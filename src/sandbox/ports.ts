import type { PortBinding } from '../engine/index.js';
import { CorralError } from '../errors.js';

/** `3000` or `8080:3000` (host:sandbox); on 127.0.0.1 unless the user asked for --public. */
export function parsePort(spec: string | number, isPublic: boolean): PortBinding {
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(String(spec));
  const nums = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [];
  if (!m || nums.some((n) => n < 1 || n > 65535)) {
    throw new CorralError(
      'BAD_INPUT',
      `Invalid port "${spec}".`,
      'Use a port like 3000, or HOST:SANDBOX like 8080:3000.',
    );
  }
  return { hostIp: isPublic ? '0.0.0.0' : '127.0.0.1', hostPort: nums[0]!, containerPort: nums[1]! };
}

export function formatPorts(ports: PortBinding[]): string {
  return ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}`).join(', ');
}
