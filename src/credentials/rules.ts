/** All rules over one file, most specific first, with one finding per line at most. */
import { fileNameHits, fileTextHits } from './file-rules.js';
import { awsHits, privateKeyHits, tokenHits } from './token-rules.js';
import type { FileInput, Hit } from './types.js';

/** Ids of every rule, for docs and for tests that check each one fires. */
export const RULE_IDS = [
  'private-key',
  'ssh-key-file',
  'gcp-service-account',
  'aws-credentials',
  'azure-storage-key',
  'github-token',
  'gitlab-token',
  'slack-token',
  'stripe-live-key',
  'openai-api-key',
  'anthropic-api-key',
  'google-api-key',
  'npm-token',
  'npmrc-auth',
  'env-secret',
  'env-url-password',
  'kubeconfig',
  'git-credentials',
  'git-remote-credentials',
  'netrc',
  'pypirc',
  'docker-auth',
] as const;

export function detect(file: FileInput): Hit[] {
  const text = file.text;
  const hits: Hit[] =
    text === undefined
      ? []
      : [...fileTextHits(file, text), ...privateKeyHits(text), ...awsHits(text), ...tokenHits(text)];
  // A key file whose content was recognised needs no second finding for its name.
  if (!hits.some((h) => h.rule === 'private-key')) hits.push(...fileNameHits(file));
  // A GitHub token inside .git-credentials is one secret: keep the first (most specific) rule per line.
  const seen = new Set<number>();
  return hits
    .filter((h) => {
      if (h.line === undefined) return true;
      if (seen.has(h.line)) return false;
      seen.add(h.line);
      return true;
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
