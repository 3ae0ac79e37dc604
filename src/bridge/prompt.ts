/**
 * The approval prompt's pure parts: what a key means, and how a request is shown. Everything shown
 * comes from the sandbox, so it passes through displayCommand (control characters shown, never
 * obeyed by the terminal). Kinds this file does not know are shown field by field.
 */

import type { PendingApproval } from './approval-queue.js';
import type { ApprovalAnswer } from './approvals.js';
import { displayCommand } from './approvals.js';

const KEYS: Record<string, ApprovalAnswer> = {
  y: 'once',
  a: 'always',
  n: 'deny',
  '\x03': 'deny',
  '\x04': 'deny',
};

/**
 * One read from a raw-mode terminal: y = once, a = always, n / Esc / Ctrl-C / Ctrl-D = no; the
 * first key that means something wins (a fast typist's keys arrive together). Other keys and
 * escape sequences (arrow keys start with Esc too) are skipped.
 */
export function keyAnswer(chunk: Buffer | string): ApprovalAnswer | undefined {
  const s = chunk.toString();
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\x1b') {
      const next = s[i + 1];
      if (next === undefined) return 'deny';
      if (next === '[' || next === 'O') {
        // CSI / SS3: parameters, then one final byte in @..~.
        i += 2;
        while (i < s.length && !/[@-~]/.test(s[i]!)) i++;
      }
      continue;
    }
    const a = KEYS[c.toLowerCase()];
    if (a) return a;
  }
  return undefined;
}

const MAX_SHOWN = 2000;
const clip = (s: string) => (s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);
const shown = (v: string | string[] | undefined) =>
  v === undefined ? '' : displayCommand(clip(Array.isArray(v) ? v.join(', ') : v));

/** What is being asked, one short line per fact. */
export function describeApproval(p: Pick<PendingApproval, 'kind' | 'details'>): string[] {
  const d = p.details;
  switch (p.kind) {
    case 'command':
      return [
        `run on the host: ${shown(d.command)}`,
        ...(d.allowedAs !== undefined
          ? [`asks again: allowed as ${shown(d.allowedAs)}, but the files that define it changed:`]
          : []),
        ...(typeof d.changes === 'string'
          ? clip(d.changes)
              .split('\n')
              .map((l) => `    ${displayCommand(l)}`)
          : []),
        ...(d.bound !== undefined && d.binding !== undefined
          ? [`bound to: ${shown(d.bound)} (${shown(d.binding)})`]
          : []),
      ];
    case 'service': {
      const keys = Array.isArray(d.envKeys) ? d.envKeys : [];
      return [
        `start a service: ${shown(d.name)} (image ${shown(d.image)})`,
        `env: ${keys.length ? shown(keys) : 'none'}`,
      ];
    }
    default:
      return [
        `${displayCommand(p.kind)}:`,
        ...Object.entries(d).map(([k, v]) => `  ${displayCommand(k)}: ${shown(v)}`),
      ];
  }
}

/** One line for lists (`corral approvals`). */
export function summarizeApproval(p: Pick<PendingApproval, 'kind' | 'details'>): string {
  if (p.kind === 'command') return shown(p.details.command);
  return describeApproval(p)
    .map((l) => l.trim())
    .join(' ');
}

/** The prompt as printed (on stderr, in an attached run's terminal). */
export function promptText(
  p: Pick<PendingApproval, 'id' | 'kind' | 'details' | 'expires'>,
  agent: string,
  now = Date.now(),
): string {
  const secs = Math.max(0, Math.round((p.expires - now) / 1000));
  return [
    '',
    `\x1b[1mcorral: ${displayCommand(agent)} asks to\x1b[0m`,
    ...describeApproval(p).map((l) => `  ${l}`),
    `  [y] yes, once   [a] always (this workspace)   [n] no      (${secs} s, then no; or \`corral approvals\`, id ${p.id})`,
    '',
  ].join('\r\n');
}

export const ANSWER_WORDS: Record<ApprovalAnswer, string> = {
  once: 'allowed once',
  always: 'allowed always',
  deny: 'refused',
};
