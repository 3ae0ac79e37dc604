/**
 * Tokens kept out of the sandbox: how the gateway recognises a placeholder in any auth scheme or in
 * Basic auth, swaps it, and refuses requests outside a GitHub token's scope; how a run turns
 * GitHub tokens and `--secret-env` keys into placeholders.
 */
import { describe, expect, it } from 'vitest';
import { findAgent } from '../../src/agents/index.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { applyCredentials, credentialRefusal, parseCredentials } from '../../src/gateway/credentials.js';
import { githubRepoOf, scopeRefusal } from '../../src/gateway/token-scope.js';
import { withPlaceholders } from '../../src/workspace/placeholders.js';
import { markedSecrets, refuseSecretsWithoutGateway, withSecrets } from '../../src/workspace/secrets.js';

const REAL = `ghp_${'R'.repeat(36)}`;
const PH = `ghp_corral${'x'.repeat(30)}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const scope = { kind: 'github' as const, repos: ['o/r'], allow: ['GET *', 'POST /repos/o/r/pulls'] };
const creds = parseCredentials([
  { host: 'api.github.com', header: 'authorization', value: REAL, placeholder: PH, anyScheme: true, scope },
  { host: 'github.com', header: 'authorization', value: REAL, placeholder: PH, anyScheme: true, scope },
]);

describe('GitHub token scope', () => {
  it('finds the repository a path names', () => {
    expect(githubRepoOf('api.github.com', '/repos/O/R/pulls')).toBe('o/r');
    expect(githubRepoOf('github.com', '/o/r.git/info/refs')).toBe('o/r');
    expect(githubRepoOf('api.github.com', '/user')).toBeUndefined();
    expect(githubRepoOf('ghe.example.com', '/api/v3/repos/a/b')).toBe('a/b');
  });

  it('allows reads of its repository and the one POST it lists', () => {
    expect(scopeRefusal(scope, 'api.github.com', 'GET', '/repos/o/r')).toBeUndefined();
    expect(scopeRefusal(scope, 'api.github.com', 'GET', '/repos/o/r/issues?state=all')).toBeUndefined();
    expect(scopeRefusal(scope, 'api.github.com', 'POST', '/repos/o/r/pulls')).toBeUndefined();
    expect(
      scopeRefusal(scope, 'github.com', 'GET', '/o/r.git/info/refs?service=git-upload-pack'),
    ).toBeUndefined();
  });

  it('refuses other repositories, other methods, repo-less paths and dot tricks', () => {
    expect(scopeRefusal(scope, 'api.github.com', 'GET', '/repos/o/other')).toMatch(/not o\/other/);
    expect(scopeRefusal(scope, 'api.github.com', 'DELETE', '/repos/o/r')).toMatch(/does not allow DELETE/);
    expect(scopeRefusal(scope, 'api.github.com', 'POST', '/repos/o/r/issues')).toMatch(/does not allow/);
    expect(scopeRefusal(scope, 'api.github.com', 'POST', '/graphql')).toMatch(/does not allow/);
    expect(scopeRefusal(scope, 'api.github.com', 'GET', '/user/repos')).toMatch(/names no repository/);
    expect(scopeRefusal(scope, 'api.github.com', 'GET', '/repos/o/r/../../x/y')).toMatch(/not x\/y/);
    expect(scopeRefusal(scope, 'api.github.com', 'GET', '/repos/o/r/%2e%2e/%2e%2e/x/y')).toBeDefined();
    expect(scopeRefusal(scope, 'api.github.com', 'POST', '/repos/o/r/pulls/../../other/pulls')).toMatch(
      /does not allow|not o\/other/,
    );
    // An exact allow entry opens a repo-less path.
    expect(
      scopeRefusal({ ...scope, allow: ['GET *', 'GET /user'] }, 'api.github.com', 'GET', '/user'),
    ).toBeUndefined();
  });

  it('judges only requests that carry the placeholder, over TLS, to its hosts', () => {
    const h = (v: string) => ({ authorization: v });
    expect(
      credentialRefusal(creds, 'api.github.com', 'DELETE', '/repos/o/r', h(`token ${PH}`), true),
    ).toBeDefined();
    expect(
      credentialRefusal(creds, 'api.github.com', 'DELETE', '/repos/o/r', h('token other'), true),
    ).toBeUndefined();
    expect(credentialRefusal(creds, 'api.github.com', 'DELETE', '/repos/o/r', {}, true)).toBeUndefined();
    expect(
      credentialRefusal(creds, 'example.com', 'DELETE', '/repos/o/r', h(`token ${PH}`), true),
    ).toBeUndefined();
    expect(
      credentialRefusal(creds, 'github.com', 'GET', '/x/y.git/info/refs', h(`Basic ${b64(`u:${PH}`)}`), true),
    ).toMatch(/not x\/y/);
  });
});

describe('placeholders in any scheme', () => {
  it('swaps token, Bearer, bare and Basic auth, keeping the scheme', () => {
    for (const [sent, want] of [
      [`token ${PH}`, `token ${REAL}`],
      [`Bearer ${PH}`, `Bearer ${REAL}`],
      [PH, REAL],
      [`Basic ${b64(`x-access-token:${PH}`)}`, `Basic ${b64(`x-access-token:${REAL}`)}`],
    ]) {
      const headers: Record<string, string> = { authorization: sent! };
      expect(applyCredentials(creds, 'api.github.com', headers, true)).toBe(1);
      expect(headers.authorization).toBe(want);
    }
  });

  it('never swaps over plain HTTP or to another host', () => {
    const headers: Record<string, string> = { authorization: `token ${PH}` };
    expect(applyCredentials(creds, 'api.github.com', headers, false)).toBe(0);
    expect(applyCredentials(creds, 'evil.example', headers, true)).toBe(0);
    expect(headers.authorization).toBe(`token ${PH}`);
  });

  it('swaps a secret in its own header only', () => {
    const c = parseCredentials([
      {
        host: 'api.example.com',
        header: 'x-api-key',
        value: 'real-key-123456',
        placeholder: 'corral0123456789',
        anyScheme: true,
      },
    ]);
    const headers: Record<string, string> = {
      'x-api-key': 'corral0123456789',
      authorization: 'Bearer corral0123456789',
    };
    expect(applyCredentials(c, 'api.example.com', headers, true)).toBe(1);
    expect(headers).toEqual({ 'x-api-key': 'real-key-123456', authorization: 'Bearer corral0123456789' });
  });

  it('keeps the old Bearer-only behaviour for API keys', () => {
    const api = parseCredentials([
      {
        host: 'api.openai.com',
        header: 'authorization',
        value: 'sk-real-123456',
        placeholder: 'sk-corral-abcdef',
      },
    ]);
    const headers: Record<string, string> = { authorization: 'token sk-corral-abcdef' };
    expect(applyCredentials(api, 'api.openai.com', headers, true)).toBe(0);
  });
});

describe('secrets in a run', () => {
  const claude = findAgent('claude')!;
  it('turns -e GH_TOKEN into a placeholder for GitHub hosts', () => {
    const base = withPlaceholders(claude, { GH_TOKEN: REAL });
    const out = withSecrets({ ...base, host: {}, flags: [] });
    expect(out.env.GH_TOKEN).not.toContain('R'.repeat(8));
    expect(out.env.GH_TOKEN).toMatch(/^ghp_corral/);
    expect(out.credentials.map((c) => c.host)).toEqual([
      'api.github.com',
      'github.com',
      'uploads.github.com',
    ]);
    expect(out.credentials.every((c) => c.value === REAL && c.anyScheme && !c.scope)).toBe(true);
  });

  it('scopes the configured GitHub token and gives it to GH_TOKEN and GITHUB_TOKEN', () => {
    const config = ConfigSchema.parse({ github: { repos: ['o/r'], allow: ['GET *'] } });
    const out = withSecrets({
      env: {},
      credentials: [],
      host: { GH_TOKEN: REAL },
      flags: [],
      github: config.github,
    });
    expect(out.env.GH_TOKEN).toBe(out.env.GITHUB_TOKEN);
    expect(JSON.stringify(out.env)).not.toContain(REAL);
    expect(out.credentials[0]).toMatchObject({
      host: 'api.github.com',
      scope: { kind: 'github', repos: ['o/r'] },
    });
  });

  it('shares one placeholder between Copilot API hosts and GitHub hosts', () => {
    const copilot = findAgent('copilot')!;
    const out = withSecrets({ ...withPlaceholders(copilot, { GH_TOKEN: REAL }), host: {}, flags: [] });
    expect(new Set(out.credentials.map((c) => c.placeholder)).size).toBe(1);
    expect(out.credentials.map((c) => c.host)).toContain('*.githubcopilot.com');
    expect(out.credentials.map((c) => c.host)).toContain('api.github.com');
  });

  it('hides the accessToken inside Augment session JSON', () => {
    const auggie = findAgent('auggie')!;
    const session = JSON.stringify({
      accessToken: 'aug-real-token-123456',
      tenantURL: 'https://t1.api.augmentcode.com/',
    });
    const out = withPlaceholders(auggie, { AUGMENT_SESSION_AUTH: session });
    expect(out.env.AUGMENT_SESSION_AUTH).not.toContain('aug-real-token');
    expect(JSON.parse(out.env.AUGMENT_SESSION_AUTH!).tenantURL).toBe('https://t1.api.augmentcode.com/');
    expect(out.credentials[0]).toMatchObject({
      host: '*.api.augmentcode.com',
      value: 'aug-real-token-123456',
    });
  });

  it('marks --secret-env keys with their hosts, from the flag or the config', () => {
    expect(markedSecrets(['K@a.example.com,b.example.com'])).toEqual([
      { name: 'K', hosts: ['a.example.com', 'b.example.com'], header: 'authorization' },
    ]);
    expect(markedSecrets(['K'], { K: { hosts: ['c.example.com'], header: 'x-api-key' } })[0]).toMatchObject({
      hosts: ['c.example.com'],
      header: 'x-api-key',
    });
    expect(() => markedSecrets(['K'])).toThrow(/which hosts/);
    expect(() => markedSecrets(['K@not a host'])).toThrow(/expected KEY/);
    const out = withSecrets({
      env: {},
      credentials: [],
      host: { K: 'secret-value-1234' },
      flags: ['K@a.example.com'],
    });
    expect(out.env.K).not.toContain('secret-value');
    expect(out.credentials).toEqual([
      expect.objectContaining({ host: 'a.example.com', value: 'secret-value-1234', anyScheme: true }),
    ]);
    expect(() => withSecrets({ env: {}, credentials: [], host: {}, flags: ['K@a.example.com'] })).toThrow(
      /no value/,
    );
  });

  it('refuses secrets without the gateway', () => {
    expect(() =>
      refuseSecretsWithoutGateway({ env: {}, credentials: [], host: {}, flags: ['K@a.example.com'] }, 'open'),
    ).toThrow(/only the egress gateway/);
  });

  it('rejects a malformed github config naming the key', () => {
    const r = ConfigSchema.safeParse({ github: { repos: ['nope'], allow: ['get everything'] } });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain('github.repos.0: a repository as owner/name');
    expect(issues.join('\n')).toMatch(/github\.allow\.0: METHOD \/path/);
  });
});
