/** Gemini's and Qwen's oauth_creds.json as brokered logins: read, placeholders, refresh request. */
import { describe, expect, it } from 'vitest';
import { resolveAgent } from '../../src/agents/index.js';
import {
  makePlaceholders,
  parseAgentFile,
  placeholderLogin,
  refreshBody,
  renderAgentFile,
} from '../../src/auth/formats.js';

const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('Gemini and Qwen OAuth files', () => {
  it("reads Gemini's file and gives the sandbox placeholders, an id token without its signature, and a far expiry", () => {
    const idToken = `${part({ alg: 'RS256' })}.${part({ email: 'me@example.com', exp: 1 })}.SIGNATURE`;
    const text = JSON.stringify({
      access_token: 'ya29.real-access',
      refresh_token: '1//real-refresh',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      token_type: 'Bearer',
      id_token: idToken,
      expiry_date: 1_700_000_000_000,
    });
    const login = parseAgentFile('gemini', text)!;
    expect(login).toMatchObject({ accessToken: 'ya29.real-access', refreshToken: '1//real-refresh' });
    expect(login.expiresAt).toBe(1_700_000_000_000);
    expect(JSON.parse(renderAgentFile(login))).toEqual(JSON.parse(text));
    const sandbox = renderAgentFile(placeholderLogin(login, makePlaceholders(login)));
    expect(sandbox).not.toContain('real-access');
    expect(sandbox).not.toContain('real-refresh');
    expect(sandbox).not.toContain('SIGNATURE');
    const seen = JSON.parse(sandbox);
    expect(seen.expiry_date).toBeGreaterThan(Date.now() + 50 * 365 * 24 * 3600 * 1000);
    expect(JSON.parse(Buffer.from(seen.id_token.split('.')[1], 'base64url').toString()).email).toBe(
      'me@example.com',
    );
  });

  it('refreshes with a form: Gemini with its published client secret, Qwen with its client id only', () => {
    const login = parseAgentFile(
      'qwen',
      JSON.stringify({
        access_token: 'a',
        refresh_token: 'r/1',
        resource_url: 'portal.qwen.ai',
        expiry_date: 1,
      }),
    )!;
    const gemini = resolveAgent('gemini').oauth!;
    const g = refreshBody(gemini, login);
    expect(g.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(g.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r/1',
      client_id: gemini.clientId,
      client_secret: gemini.clientSecret,
    });
    const q = refreshBody(resolveAgent('qwen').oauth!, login);
    expect(Object.fromEntries(new URLSearchParams(q.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r/1',
      client_id: 'f0304373b74a44d2b584a3fb70ca9e56',
    });
  });
});
