/** Redaction, the audit log writer and credential swapping, as pure logic. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CorralError } from '../../src/errors.js';
import { createAuditLog } from '../../src/gateway/audit.js';
import { applyCredentials, parseCredentials } from '../../src/gateway/credentials.js';
import { createRedactor, REDACTED } from '../../src/gateway/redact.js';

// Fake values shaped like the real thing; none is a live credential.
const FAKE = {
  anthropic: `sk-ant-api03-${'A'.repeat(40)}`,
  openai: `sk-proj-${'b'.repeat(40)}`,
  github: `ghp_${'C'.repeat(36)}`,
  githubPat: `github_pat_${'d'.repeat(40)}`,
  google: `AIza${'E'.repeat(35)}`,
  slack: `${'xox'}b-1234567890-abcdefghij`,
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4eXoxMjMifQ.c2lnbmF0dXJlLXZhbHVl',
};

describe('redactor', () => {
  const r = createRedactor(['opaque-secret-without-shape']);

  it('hides every known token shape and exact secrets', () => {
    for (const [name, token] of Object.entries(FAKE)) {
      const out = r.text(`before ${token} after`);
      expect(out.includes(token), name).toBe(false);
      expect(out).toBe(`before ${REDACTED} after`);
    }
    expect(r.text('x=opaque-secret-without-shape')).toBe(`x=${REDACTED}`);
  });

  it('leaves ordinary text alone', () => {
    expect(r.text('/v1/messages/sk-short?task-id=42')).toBe('/v1/messages/sk-short?task-id=42');
  });

  it('hides query values whose names look sensitive', () => {
    const out = r.path(
      '/x?api_key=1&access_token=2&client_secret=3&password=4&X-Amz-Signature=5&page=6&sig=7',
    );
    expect(out).toBe(
      `/x?api_key=${REDACTED}&access_token=${REDACTED}&client_secret=${REDACTED}&password=${REDACTED}` +
        `&X-Amz-Signature=${REDACTED}&page=6&sig=${REDACTED}`,
    );
  });

  it('hides sensitive headers by name and token shapes in the rest', () => {
    const out = r.headers({
      Authorization: 'Bearer abc',
      'x-api-key': 'abc',
      cookie: 'a=b',
      'user-agent': 'ua',
      'x-other': FAKE.github,
    });
    expect(out).toEqual({
      Authorization: REDACTED,
      'x-api-key': REDACTED,
      cookie: REDACTED,
      'user-agent': 'ua',
      'x-other': REDACTED,
    });
  });
});

describe('audit log', () => {
  it('writes one redacted JSON line per entry, with the sandbox label', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const log = createAuditLog(out, { sandbox: 'ws1-claude', secrets: ['the-real-opaque-key'] });
    log.write({
      method: 'GET',
      host: 'a.com',
      port: 443,
      path: `/p?token=${FAKE.openai}&q=the-real-opaque-key`,
      status: 200,
      bytesIn: 10,
      bytesOut: 0,
      decision: 'allow',
      reason: `saw ${FAKE.anthropic}`,
      durationMs: 1.234,
    });
    const text = chunks.join('');
    expect(text.endsWith('\n')).toBe(true);
    const line = JSON.parse(text);
    expect(line).toMatchObject({ sandbox: 'ws1-claude', method: 'GET', status: 200, durationMs: 1.2 });
    expect(Date.parse(line.time)).not.toBeNaN();
    for (const secret of [FAKE.openai, FAKE.anthropic, 'the-real-opaque-key']) {
      expect(text.includes(secret)).toBe(false);
    }
  });

  it('stops writing quietly once its stream fails', () => {
    const out = new PassThrough();
    const log = createAuditLog(out);
    out.destroy(new Error('disk full'));
    expect(() =>
      log.write({
        method: 'GET',
        host: 'a',
        port: 1,
        status: 1,
        bytesIn: 0,
        bytesOut: 0,
        decision: 'allow',
        durationMs: 0,
      }),
    ).not.toThrow();
  });
});

describe('credentials', () => {
  const creds = parseCredentials([
    {
      host: 'api.anthropic.com',
      header: 'x-api-key',
      value: 'REAL-ANTHROPIC-VALUE',
      placeholder: 'corral-placeholder-a',
    },
    {
      host: '*.openai.com',
      header: 'Authorization',
      value: 'REAL-OPENAI-VALUE',
      placeholder: 'corral-placeholder-o',
    },
  ]);

  it('swaps the placeholder on the credential host over TLS only', () => {
    const h: Record<string, string> = { 'x-api-key': 'corral-placeholder-a' };
    expect(applyCredentials(creds, 'API.anthropic.com', h, true)).toBe(1);
    expect(h['x-api-key']).toBe('REAL-ANTHROPIC-VALUE');
    const plain: Record<string, string> = { 'x-api-key': 'corral-placeholder-a' };
    expect(applyCredentials(creds, 'api.anthropic.com', plain, false)).toBe(0);
    expect(plain['x-api-key']).toBe('corral-placeholder-a');
    const bearer: Record<string, string> = { authorization: 'bearer corral-placeholder-o' };
    applyCredentials(creds, 'api.openai.com', bearer, true);
    expect(bearer.authorization).toBe('Bearer REAL-OPENAI-VALUE');
  });

  it('does not inject for other hosts or other header values', () => {
    const other: Record<string, string> = { 'x-api-key': 'corral-placeholder-a' };
    expect(applyCredentials(creds, 'evil.example', other, true)).toBe(0);
    expect(other['x-api-key']).toBe('corral-placeholder-a');
    const wrong: Record<string, string> = { 'x-api-key': 'corral-placeholder-a-suffix' };
    applyCredentials(creds, 'api.anthropic.com', wrong, true);
    expect(wrong['x-api-key']).toBe('corral-placeholder-a-suffix');
  });

  it('strips a real value from requests to any other host', () => {
    const h: Record<string, string> = { 'x-leak': 'prefix REAL-ANTHROPIC-VALUE', accept: '*/*' };
    applyCredentials(creds, 'evil.example', h, true);
    expect(h).toEqual({ accept: '*/*' });
  });

  it('keeps a value that belongs to several hosts on each of them, and strips it elsewhere', () => {
    const shared = parseCredentials(
      ['chatgpt.com', 'api.openai.com'].map((host) => ({
        host,
        header: 'authorization',
        value: 'REAL-LOGIN-VALUE',
        placeholder: 'corral-placeholder-l',
      })),
    );
    for (const host of ['chatgpt.com', 'api.openai.com']) {
      const h: Record<string, string> = { authorization: 'Bearer corral-placeholder-l' };
      expect(applyCredentials(shared, host, h, true)).toBe(1);
      expect(h.authorization).toBe('Bearer REAL-LOGIN-VALUE');
    }
    const elsewhere: Record<string, string> = { authorization: 'Bearer REAL-LOGIN-VALUE' };
    applyCredentials(shared, 'evil.example', elsewhere, true);
    expect(elsewhere).toEqual({});
    const otherHeader: Record<string, string> = { 'x-copy': 'REAL-LOGIN-VALUE' };
    applyCredentials(shared, 'chatgpt.com', otherHeader, true);
    expect(otherHeader).toEqual({});
  });

  it('refuses credentials for every host, and never echoes the value in errors', () => {
    const e = (() => {
      try {
        parseCredentials([
          { host: '*', header: 'x-api-key', value: 'SECRET-VALUE-XYZ', placeholder: 'corral-ph-1' },
        ]);
      } catch (err) {
        return err as CorralError;
      }
    })();
    expect(e).toBeInstanceOf(CorralError);
    expect(`${e?.message} ${e?.hint}`.includes('SECRET-VALUE-XYZ')).toBe(false);
  });
});
