/**
 * Rules that recognise a credential by the shape of the value itself, wherever it appears. Each
 * pattern anchors on a vendor's fixed prefix (which is what keeps them precise), and the random part
 * must also look random, so `ghp_xxxx…` in a README is not reported.
 */

import { entropy, lineAt, looksRandom, mixedClasses, shapePreview } from './shape.js';
import type { Hit } from './types.js';

interface TokenRule {
  id: string;
  description: string;
  /** Global regex; the whole match is the secret. Group 1, when present, is its fixed prefix. */
  pattern: RegExp;
  /** The random part must pass this (default: looksRandom). */
  valid?: (body: string) => boolean;
}

// Tokens end where token characters end; `\b` would cut at `-`, which several formats contain.
const END = '(?![A-Za-z0-9_-])';
const START = '(?<![A-Za-z0-9_-])';

const TOKEN_RULES: TokenRule[] = [
  {
    id: 'anthropic-api-key',
    description: 'Anthropic API key or OAuth token',
    pattern: new RegExp(`${START}(sk-ant-[a-z]{2,6}\\d{2}-)[A-Za-z0-9_-]{40,}${END}`, 'g'),
  },
  {
    id: 'openai-api-key',
    description: 'OpenAI API key',
    pattern: new RegExp(`${START}(sk-(?!ant-)(?:proj-|svcacct-|admin-)?)[A-Za-z0-9_-]{32,}${END}`, 'g'),
    // `sk-` alone is a common prefix; real keys mix cases and digits.
    valid: (b) => looksRandom(b, 3.5) && mixedClasses(b) && /[0-9]/.test(b),
  },
  {
    id: 'github-token',
    description: 'GitHub token',
    pattern: new RegExp(`${START}(gh[pousr]_|github_pat_)[A-Za-z0-9_]{36,251}${END}`, 'g'),
  },
  {
    id: 'gitlab-token',
    description: 'GitLab personal access token',
    pattern: new RegExp(`${START}(glpat-)[A-Za-z0-9_-]{20,}${END}`, 'g'),
  },
  {
    id: 'slack-token',
    description: 'Slack token',
    pattern: new RegExp(`${START}(xox[abpr]-)[A-Za-z0-9-]{20,}${END}`, 'g'),
    valid: (b) => looksRandom(b, 2.8) && /[0-9]/.test(b),
  },
  {
    id: 'stripe-live-key',
    description: 'Stripe live secret or restricted key',
    pattern: new RegExp(`${START}([sr]k_live_)[A-Za-z0-9]{20,}${END}`, 'g'),
  },
  {
    id: 'google-api-key',
    description: 'Google API key',
    pattern: new RegExp(`${START}(AIza)[A-Za-z0-9_-]{35}${END}`, 'g'),
  },
  {
    id: 'npm-token',
    description: 'npm access token',
    pattern: new RegExp(`${START}(npm_)[A-Za-z0-9]{36}${END}`, 'g'),
  },
  {
    id: 'azure-storage-key',
    description: 'Azure storage or Service Bus account key',
    pattern: /((?:AccountKey|SharedAccessKey)\s*=\s*)[A-Za-z0-9+/]{30,}={0,2}/gi,
    valid: (b) => looksRandom(b, 4),
  },
];

export function tokenHits(text: string): Hit[] {
  const hits: Hit[] = [];
  for (const rule of TOKEN_RULES) {
    for (const m of text.matchAll(rule.pattern)) {
      const prefix = m[1] ?? '';
      const body = m[0].slice(prefix.length);
      if (!(rule.valid ?? looksRandom)(body)) continue;
      hits.push({
        line: lineAt(text, m.index),
        rule: rule.id,
        description: rule.description,
        preview: shapePreview(prefix.replace(/\s+/g, ''), m[0]),
      });
    }
  }
  return hits;
}

const PEM =
  /-----BEGIN ((?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----([\s\S]{0,32768}?)-----END \1?PRIVATE KEY\2?-----/g;

/** PEM / PGP private key blocks, in files or escaped inside JSON strings (`\n`). */
export function privateKeyHits(text: string): Hit[] {
  const hits: Hit[] = [];
  for (const m of text.matchAll(PEM)) {
    const body = (m[3] ?? '')
      .replace(/\\n/g, '\n')
      .split('\n')
      // PGP armour and legacy encrypted PEM carry `Header: value` lines before the data.
      .filter((l) => !/^[A-Za-z-]+: /.test(l.trim()))
      .join('')
      .replace(/\s+/g, '');
    // Documentation shows `...` or a few characters between the markers; a key has kilobits.
    if (body.length < 64 || !/^[A-Za-z0-9+/=]+$/.test(body) || entropy(body) < 4) continue;
    const kind = `${m[1] ?? ''}PRIVATE KEY${m[2] ?? ''}`;
    hits.push({
      line: lineAt(text, m.index),
      rule: 'private-key',
      description: `Private key (${kind})`,
      preview: `-----BEGIN ${kind}----- … (${body.length} chars)`,
    });
  }
  return hits;
}

const AWS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g;
const AWS_NAMED_SECRET =
  /secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi;
const BARE_40 = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * An AWS secret access key: assigned to a name that says so, or any 40-character base64 value in a
 * file that also holds an access key id. A key id alone is not a secret, so it is not reported.
 */
export function awsHits(text: string): Hit[] {
  const secretOk = (s: string) => looksRandom(s, 4) && /[A-Z]/.test(s) && /[a-z]/.test(s);
  const ids = [...text.matchAll(AWS_KEY_ID)].filter((m) => !/EXAMPLE/.test(m[0]));
  const found = new Map<number, Hit>();
  const add = (index: number, value: string) => {
    const line = lineAt(text, index);
    found.set(line, {
      line,
      rule: 'aws-credentials',
      description: ids.length ? 'AWS access key id with its secret access key' : 'AWS secret access key',
      preview: shapePreview('aws_secret_access_key=', value),
    });
  };
  for (const m of text.matchAll(AWS_NAMED_SECRET)) {
    const value = m[1]!;
    if (secretOk(value)) add(m.index + m[0].length - value.length, value);
  }
  if (ids.length && !found.size) {
    for (const m of text.matchAll(BARE_40)) if (secretOk(m[0])) add(m.index, m[0]);
  }
  return [...found.values()];
}
