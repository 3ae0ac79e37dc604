/**
 * The sandbox shares the workspace, so it can plant symlinks where the bridge writes command output.
 * Each attack here points a link outside the workspace and asserts, by looking outside, that nothing
 * was written or read there; the last case proves the same setup works once the link is gone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addAllowed } from '../../src/bridge/approvals.js';
import { createExclusive, openSafeDir } from '../../src/bridge/safe-fs.js';
import { type Bridge, startBridge } from '../../src/bridge/server.js';
import { isCorralError } from '../../src/errors.js';

const temps: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(prefix);
  temps.push(dir);
  return dir;
}

const TOKEN = randomBytes(24).toString('hex');
const SESSION = 'sess-link';
const COMMAND = 'touch ran.marker; echo written';

let ws: string;
let outside: string;
let bridge: Bridge;
let agent: Agent;
let client: Client;

async function run(command = COMMAND) {
  const res = await client.callTool({ name: 'run_command', arguments: { command } });
  const text = (res.content as Array<{ text: string }>)[0]!.text;
  return { isError: res.isError === true, value: JSON.parse(text) as Record<string, unknown> };
}

const outsideEntries = async () => (await readdir(outside, { recursive: true })).sort();

beforeAll(async () => {
  ws = await realpath(await tempDir(join(tmpdir(), 'corral-link-ws-')));
  const allowFile = join(await tempDir(join(tmpdir(), 'corral-link-data-')), 'allowed.json');
  await addAllowed(ws, COMMAND, allowFile);
  const socketPath = join(await tempDir(join(tmpdir(), 'cb-')), 'b.sock');
  bridge = await startBridge({
    workspace: ws,
    session: SESSION,
    token: TOKEN,
    socketPath,
    allowlistPath: allowFile,
    approve: async () => 'deny',
  });
  agent = new Agent({ connect: { socketPath } });
  const fetch = ((url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike;
  client = new Client({ name: 'link-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://corral-bridge/mcp'), {
      fetch,
      requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
    }),
  );
});

afterAll(async () => {
  await client?.close();
  await bridge?.close();
  await agent?.close();
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

beforeEach(async () => {
  await rm(join(ws, '.corral'), { recursive: true, force: true });
  await rm(join(ws, 'ran.marker'), { force: true });
  outside = await realpath(await tempDir(join(tmpdir(), 'corral-link-outside-')));
});

describe('planted symlinks under .corral', () => {
  it.each([
    ['.corral', []],
    ['.corral/commands', ['.corral']],
    [`.corral/commands/${SESSION}`, ['.corral', '.corral/commands']],
  ])('a link at %s pointing outside gets nothing written through it', async (link, parents) => {
    for (const p of parents) await mkdir(join(ws, p));
    await symlink(outside, join(ws, link));
    const r = await run();
    expect(r.isError).toBe(true);
    expect(String(r.value.message)).toContain('symlink');
    expect(await outsideEntries()).toEqual([]);
    // Nothing ran either: the output files come before the command.
    expect(existsSync(join(ws, 'ran.marker'))).toBe(false);
  });

  it('a dangling link is not followed to create its target', async () => {
    await mkdir(join(ws, '.corral'));
    await symlink(join(outside, 'made-by-bridge'), join(ws, '.corral', 'commands'));
    expect((await run()).isError).toBe(true);
    expect(await outsideEntries()).toEqual([]);
  });

  it('a link to a folder inside the workspace is refused too (only real folders are used)', async () => {
    await mkdir(join(ws, 'elsewhere'));
    await mkdir(join(ws, '.corral'));
    await symlink(join(ws, 'elsewhere'), join(ws, '.corral', 'commands'));
    expect((await run()).isError).toBe(true);
    expect(await readdir(join(ws, 'elsewhere'))).toEqual([]);
  });

  it('writes normally once the link is gone', async () => {
    await mkdir(join(ws, '.corral'));
    await symlink(outside, join(ws, '.corral', 'commands'));
    expect((await run()).isError).toBe(true);
    await rm(join(ws, '.corral', 'commands'));
    const r = await run();
    expect(r.value).toMatchObject({ status: 'finished', exit_code: 0, stdout: 'written\n' });
    expect(await readFile(join(ws, r.value.output_dir as string, 'stdout'), 'utf8')).toBe('written\n');
    expect(existsSync(join(ws, 'ran.marker'))).toBe(true);
    expect(await outsideEntries()).toEqual([]);
  });

  it('list_commands does not read planted links back to the agent', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    await writeFile(join(outside, 'secret'), `${secret}\n`);
    await mkdir(join(outside, 'abcd0123'));
    await writeFile(join(outside, 'abcd0123', 'command'), `${secret}\n`);
    const other = join(ws, '.corral', 'commands', 'other', 'abcd0123');
    await mkdir(other, { recursive: true });
    await symlink(join(outside, 'secret'), join(other, 'command'));
    await symlink(outside, join(ws, '.corral', 'commands', 'linked-session'));
    const res = await client.callTool({ name: 'list_commands', arguments: { scope: 'workspace' } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain('abcd0123');
    expect(text).not.toContain(secret);
    expect(text).not.toContain('linked-session');
  });
});

describe('safe-fs', () => {
  it('never opens an existing file or a link as a new output file', async () => {
    const dir = await openSafeDir(ws, ['.corral', 'x'], 'create');
    try {
      await symlink(join(outside, 'target'), join(ws, '.corral', 'x', 'stdout'));
      await expect(createExclusive(dir, 'stdout')).rejects.toMatchObject({ code: 'EEXIST' });
      expect(await outsideEntries()).toEqual([]);
      await writeFile(join(ws, '.corral', 'x', 'stderr'), 'planted');
      await expect(createExclusive(dir, 'stderr')).rejects.toMatchObject({ code: 'EEXIST' });
      expect(await readFile(join(ws, '.corral', 'x', 'stderr'), 'utf8')).toBe('planted');
    } finally {
      await dir.close();
    }
  });

  it('keeps writing into the folder it verified even if the path is swapped for a link afterwards', async () => {
    const dir = await openSafeDir(ws, ['.corral', 'swap'], 'create');
    try {
      await rm(join(ws, '.corral'), { recursive: true });
      await symlink(outside, join(ws, '.corral'));
      const handle = await createExclusive(dir, 'stdout').catch((e: unknown) => e);
      // Linux reaches the removed folder itself (ENOENT there); never the new link's target.
      expect(await outsideEntries()).toEqual([]);
      if (!(handle instanceof Error)) await (handle as { close(): Promise<void> }).close();
    } finally {
      await dir.close();
    }
  });

  it("refuses a 'fresh' folder that already exists and rejects path tricks in names", async () => {
    await mkdir(join(ws, '.corral', 'fresh'), { recursive: true });
    await expect(openSafeDir(ws, ['.corral', 'fresh'], 'fresh')).rejects.toMatchObject({ code: 'EEXIST' });
    for (const bad of ['..', '.', 'a/b', '']) {
      const err = await openSafeDir(ws, ['.corral', bad]).catch((e: unknown) => e);
      expect(isCorralError(err)).toBe(true);
    }
  });
});
