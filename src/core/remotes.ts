/**
 * Named remote engines (`corral remote add NAME ssh://…`, `--remote NAME`) and the workspace
 * copy's way back (`corral pull`). The list is a small JSON file in corral's data folder.
 */
import type { z } from 'zod';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import { type ContainerEngine, parseSshUrl } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { resolveWorkspace } from '../workspace/identity.js';

/**
 * Made on first use: every run loads this module (for --remote), and loading zod is 40-70 ms of
 * a start that has its config's verdict cached (config/verdicts.ts) and needs zod nowhere else.
 */
async function remoteSchema() {
  const { z } = await import('zod');
  return z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, - and _ (up to 32)'),
    url: z.string().regex(/^ssh:\/\//, 'an ssh://user@host[:port] address'),
    engine: z.enum(['podman', 'docker']).optional(),
  });
}
export type Remote = z.infer<Awaited<ReturnType<typeof remoteSchema>>>;

const file = () => dataFile('remotes.json');

export async function listRemotes(): Promise<Remote[]> {
  const data = await readJson<{ remotes: Remote[] }>(file());
  if (!data.remotes?.length) return [];
  const schema = await remoteSchema();
  return data.remotes.filter((r) => schema.safeParse(r).success);
}

function badInput(e: z.ZodError, what: string): CorralError {
  const i = e.issues[0]!;
  return new CorralError('BAD_INPUT', `Invalid ${i.path.join('.') || what}: ${i.message}.`);
}

export async function addRemote(input: {
  name: string;
  url: string;
  engine?: string | undefined;
}): Promise<Remote> {
  const parsed = (await remoteSchema()).safeParse(input);
  if (!parsed.success) throw badInput(parsed.error, 'remote');
  parseSshUrl(parsed.data.url); // its own clear message for a bad host, user or port
  const all = await listRemotes();
  if (all.some((r) => r.name === parsed.data.name)) {
    throw new CorralError(
      'BAD_INPUT',
      `A remote named ${parsed.data.name} exists already.`,
      `Remove it first: corral remote rm ${parsed.data.name}`,
    );
  }
  await writeJson(file(), { remotes: [...all, parsed.data] });
  return parsed.data;
}

export async function removeRemote(name: string): Promise<Remote> {
  const all = await listRemotes();
  const found = all.find((r) => r.name === name);
  if (!found) throw notFound(name);
  await writeJson(file(), { remotes: all.filter((r) => r.name !== name) });
  return found;
}

export async function findRemote(name: string): Promise<Remote> {
  const found = (await listRemotes()).find((r) => r.name === name);
  if (!found) throw notFound(name);
  return found;
}

function notFound(name: string): CorralError {
  return new CorralError(
    'NOT_FOUND',
    `No remote named ${name}.`,
    '`corral remote list` shows them; `corral remote add NAME ssh://user@host` adds one.',
  );
}

/** `corral pull`: bring the remote sandbox's copy of the workspace back; conflicts refused. */
export async function pullWorkspace(engine: ContainerEngine, dir: string) {
  if (!engine.workspaceSync) {
    throw new CorralError(
      'BAD_INPUT',
      `The ${engine.kind} engine at ${engine.endpoint} works on this folder directly: there is nothing to pull.`,
      'corral pull is for remote engines (--engine ssh://… or --remote NAME) and kubernetes.workspace: upload.',
    );
  }
  const ws = await resolveWorkspace(dir);
  return { workspace: ws.path, ...(await engine.workspaceSync.pull(ws.path)) };
}
