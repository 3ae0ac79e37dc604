/** `corral auth doctor` without an agent: which kept logins are copied into sandboxes as they are. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS } from '../../src/agents/index.js';
import { LOGIN_EXPOSURE } from '../../src/agents/login-exposure.js';
import { loginExposures } from '../../src/auth/exposure.js';
import { saveLoginFiles } from '../../src/auth/login-files.js';

describe('login exposure', () => {
  const saved = process.env.CORRAL_DATA_DIR;
  beforeAll(async () => {
    process.env.CORRAL_DATA_DIR = await mkdtemp(join(tmpdir(), 'corral-exposure-'));
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.CORRAL_DATA_DIR;
    else process.env.CORRAL_DATA_DIR = saved;
  });

  it('names every non-brokered agent with a login file', () => {
    for (const a of AGENTS.filter((x) => x.loginFiles.length && !x.oauth))
      expect(LOGIN_EXPOSURE[a.name], `${a.name} needs an entry in login-exposure.ts`).toBeDefined();
  });

  it('lists a pi login as not brokered, with its refresh token, and never a token value', async () => {
    const secret = 'sk-secret-access-value';
    await saveLoginFiles('pi', 'default', {
      '.pi/agent/auth.json': JSON.stringify({
        anthropic: {
          type: 'oauth',
          access_token: secret,
          refresh_token: 'refresh-value',
          expiresAt: 1893456000000,
        },
      }),
    });
    const rows = await loginExposures(AGENTS, 'default');
    expect(rows).toEqual([
      expect.objectContaining({
        agent: 'pi',
        brokered: false,
        refreshToken: true,
        expiresAt: 1893456000000,
        files: ['.pi/agent/auth.json'],
      }),
    ]);
    expect(rows[0]!.broker).toMatch(/not brokered/);
    expect(JSON.stringify(rows)).not.toContain('secret-access');
    expect(JSON.stringify(rows)).not.toContain('refresh-value');
  });
});
