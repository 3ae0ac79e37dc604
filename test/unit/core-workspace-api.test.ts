/**
 * The use-cases behind `corral init|trust|untrust|config show|mask|scan|allowed|commands|auth
 * setup-token`, driven as the daemon drives the core: a CoreContext with its own env, cwd and events,
 * the caller's own streams, no terminal and no commander. (Those needing an engine — images, clean,
 * logins — run through the CLI in the integration tests on both engines.)
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  addAllowedCommand,
  addMasks,
  CoreContext,
  type CoreEvents,
  hostCommands,
  initProject,
  listAllowedCommands,
  listMasks,
  removeAllowedCommand,
  type Stdio,
  scanForCredentials,
  setupToken,
  showConfig,
  trustedWorkspaces,
  trustProject,
  untrustProject,
} from '../../src/core/index.js';
import { AllowedPatternInput, MasksInput, ScanInput } from '../../src/core/schemas.js';
import { silentProgress } from '../../src/images/progress.js';

let root: string;
let ws: string;
let notes: string[];
let ctx: CoreContext;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'corral-core-ws-'));
  ws = await realpath(await mkdtemp(join(root, 'ws-')));
  vi.stubEnv('CORRAL_DATA_DIR', join(root, 'data'));
  vi.stubEnv('CORRAL_STATE_DIR', join(root, 'state'));
  notes = [];
  const events: CoreEvents = { note: (t) => notes.push(t), progress: () => silentProgress() };
  const env = { CORRAL_DATA_DIR: join(root, 'data'), CORRAL_CONFIG: join(root, 'config.yaml') };
  ctx = new CoreContext({ env, cwd: ws, events });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(root, { recursive: true, force: true });
});

/** Streams that are not a terminal, and whose output the test keeps. */
function streams(input = ''): Stdio & { out: () => string } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  return {
    stdin: Readable.from([Buffer.from(input)]),
    stdout,
    stderr: new PassThrough(),
    out: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('project config through the core', () => {
  it('writes the starters, keeps them, trusts, shows where values came from, and untrusts', async () => {
    const first = await initProject(ctx, { agent: 'c' });
    expect(first.files).toEqual([
      { name: '.corral.yaml', action: 'wrote' },
      { name: '.corral/Containerfile', action: 'wrote' },
    ]);
    expect(await readFile(join(ws, '.corral.yaml'), 'utf8')).toContain('default_agent: claude');
    expect((await initProject(ctx, {})).files.map((f) => f.action)).toEqual(['kept', 'kept']);

    const trusted = await trustProject(ctx, {});
    expect(trusted).toEqual({ workspace: ws, files: ['.corral.yaml', '.corral/Containerfile'] });
    expect(Object.keys(await trustedWorkspaces())).toContain(ws);
    const shown = await showConfig(ctx, {});
    expect(shown.config.default_agent).toBe('claude');
    expect(shown.origin.default_agent).toBe(join(ws, '.corral.yaml'));
    expect(await untrustProject(ctx, {})).toEqual({ workspace: ws, wasTrusted: true });
    expect(await untrustProject(ctx, {})).toEqual({ workspace: ws, wasTrusted: false });
  });

  it('refuses to trust a folder with nothing to trust', async () => {
    await expect(trustProject(ctx, {})).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('workspace shape and bridge rules through the core', () => {
  it('masks folders and refuses one outside the workspace', async () => {
    expect(await listMasks(ctx, {})).toEqual([]);
    expect(await addMasks(ctx, { dirs: ['node_modules'] })).toEqual(['node_modules']);
    expect(await listMasks(ctx, { workdir: ws })).toEqual(['node_modules']);
    await expect(addMasks(ctx, { dirs: ['../up'] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('allows, lists and removes host commands; lists none ran', async () => {
    expect(await addAllowedCommand(ctx, { pattern: 'ls -la' })).toEqual({ added: true });
    expect((await addAllowedCommand(ctx, { pattern: 'ls -la' })).added).toBe(false);
    expect(await listAllowedCommands(ctx, {})).toEqual(['ls -la']);
    expect(await removeAllowedCommand(ctx, { pattern: 'ls -la' })).toBe(true);
    expect(await removeAllowedCommand(ctx, { pattern: 'ls -la' })).toBe(false);
    expect(await hostCommands(ctx, {})).toEqual([]);
  });
});

describe('the credential scan through the core', () => {
  it('reports an untriaged finding, then masks it', async () => {
    // Made at run time: a token-shaped literal in this file would trip corral's own scan of the repo.
    await writeFile(join(ws, 'notes.txt'), `${['ghp', '0123456789abcdefghijABCDEFGHIJ012345'].join('_')}\n`);
    const seen = await scanForCredentials(ctx, {});
    expect(seen.findings.map((f) => [f.path, f.rule])).toEqual([['notes.txt', 'github-token']]);
    expect(seen.complete).toBe(true);
    await expect(scanForCredentials(ctx, { allow: ['nope'] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const masked = await scanForCredentials(ctx, { mask: ['./notes.txt'] });
    expect(masked).toMatchObject({ findings: [], allowed: 1, workspace: ws });
  });
});

describe('auth setup-token through the core', () => {
  const token = `sk-ant-oat01-${'a'.repeat(40)}`;

  it("reads a token from the caller's stdin (not the process's), stores it and forgets it", async () => {
    const r = await setupToken(ctx, { agent: 'claude', stdin: true }, streams(`${token}\n`));
    expect(r).toMatchObject({ kind: 'stored', agent: 'claude', profile: 'default', where: 'a 0600 file' });
    expect(JSON.stringify(r)).not.toContain(token);
    expect(existsSync(join(root, 'data'))).toBe(true);
    expect(await setupToken(ctx, { agent: 'claude', remove: true }, streams())).toMatchObject({ had: true });
  });

  it('refuses text that is not a token, and the interactive flow without a terminal', async () => {
    await expect(setupToken(ctx, { agent: 'claude', stdin: true }, streams('nope'))).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    const io = streams();
    await expect(setupToken(ctx, { agent: 'claude' }, io)).rejects.toMatchObject({
      message: expect.stringContaining('needs a terminal'),
    });
    expect(io.out()).toBe('');
    await expect(setupToken(ctx, { agent: 'codex', stdin: true }, streams(token))).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });
});

describe('schemas of the workspace use-cases', () => {
  it('name the path of what is wrong', () => {
    expect(MasksInput.safeParse({ dirs: [] }).error?.issues[0]?.path).toEqual(['dirs']);
    expect(ScanInput.safeParse({ budgetMs: 0 }).error?.issues[0]?.path).toEqual(['budgetMs']);
    expect(AllowedPatternInput.safeParse({ pattern: 'x', extra: 1 }).success).toBe(false);
    expect(ScanInput.parse({ workdir: '/w', allow: ['a'] })).toEqual({ workdir: '/w', allow: ['a'] });
  });
});
