/** The shape and lifetime of a workspace: masked folders, and cleaning up what corral made for it. */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { untrustWorkspace } from '../config/trust.js';
import { CorralError } from '../errors.js';
import { gatewayDirs } from '../gateway/folders.js';
import { maskVolumeName, readMasks, updateMasks, validateMaskDir } from '../sandbox/masks.js';
import { LABELS, resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { CleanWorkspaceInput, MasksInput, WorkdirInput } from './types.js';

const workspaceOf = (ctx: CoreContext, input: WorkdirInput) => resolveWorkspace(input.workdir ?? ctx.cwd);

/** The workspace's real path (`workdir`, default: the context's cwd), as corral names it. */
export async function workspacePath(ctx: CoreContext, input: WorkdirInput = {}): Promise<string> {
  return (await workspaceOf(ctx, input)).path;
}

/** The folders shadowed by a per-workspace volume in its sandboxes. */
export async function listMasks(ctx: CoreContext, input: WorkdirInput): Promise<string[]> {
  return readMasks(await workspaceOf(ctx, input));
}

/** Mask more folders (new sandboxes get them); all the masks now. */
export async function addMasks(ctx: CoreContext, input: MasksInput): Promise<string[]> {
  const ws = await workspaceOf(ctx, input);
  const valid = input.dirs.map(validateMaskDir);
  return updateMasks(ws, (cur) => [...cur, ...valid]);
}

/** Stop masking folders and delete their volumes; the folders unmasked. */
export async function removeMasks(ctx: CoreContext, input: MasksInput): Promise<string[]> {
  const ws = await workspaceOf(ctx, input);
  const valid = input.dirs.map(validateMaskDir);
  const engine = await ctx.engine();
  for (const d of valid) {
    await engine.removeVolume(maskVolumeName(ws, d)).catch((e: unknown) => {
      throw new CorralError(
        'BAD_INPUT',
        `Cannot delete the ${d} mask: ${(e as Error).message}`,
        'Stop the sandbox first (`corral stop --all`).',
      );
    });
  }
  await updateMasks(ws, (cur) => cur.filter((d) => !valid.includes(d)));
  return valid;
}

/**
 * Remove the workspace's sandboxes, networks, mask volumes, agent homes and gateway folder (`all`:
 * every workspace's agent homes, old shared homes, and this one's trust and scan decisions); what went.
 */
export async function cleanWorkspace(ctx: CoreContext, input: CleanWorkspaceInput): Promise<string[]> {
  const ws = await workspaceOf(ctx, input);
  const engine = await ctx.engine();
  const mine = [`${LABELS.managed}=true`, `${LABELS.workspace}=${ws.id}`];
  const removed: string[] = [];
  // The daemon's warm pool first, so it makes none here while the rest goes.
  const { dropWarm } = await import('./warm-pool.js');
  await dropWarm(ctx, engine, ws.id);
  for (const c of await engine.list({ labels: mine, all: true })) {
    await engine.remove(c.id, { force: true });
    removed.push(c.name);
  }
  for (const n of await engine.listNetworks(mine)) {
    await engine.removeNetwork(n.name);
    removed.push(n.name);
  }
  const volumes = await engine.listVolumes(input.all ? [`${LABELS.managed}=true`] : mine);
  for (const v of volumes.filter(
    (x) => input.all || x.labels[LABELS.role] === 'mask' || x.labels[LABELS.workspace] === ws.id,
  )) {
    await engine.removeVolume(v.name);
    removed.push(v.name);
  }
  await updateMasks(ws, () => []);
  const { removeWorkspaceLaunchDirs } = await import('../sandbox/warm.js');
  await removeWorkspaceLaunchDirs(ws.id);
  const gateway = gatewayDirs(engine, ws.id).root;
  // A remote engine's copies of the gateway's folders (its settings hold the real keys it injects).
  if (engine.hostFolders?.removeCopies && existsSync(gateway)) {
    await engine.hostFolders.removeCopies(await treeOf(gateway));
    removed.push(`the copies of ${gateway} on ${engine.remote ?? engine.endpoint}`);
  }
  if (existsSync(gateway)) {
    await rm(gateway, { recursive: true, force: true });
    removed.push(`${gateway} (gateway socket, settings and traffic log)`);
  }
  // Ended detached runs' bridge state and logs (kept for `corral list` until pruned after 7 days).
  const { forgetWorkspaceSessions } = await import('../bridge/session-state.js');
  const sessions = await forgetWorkspaceSessions(ws.path);
  if (sessions.length) removed.push(`state and logs of ${sessions.length} ended host-bridge session(s)`);
  if (input.all) {
    await untrustWorkspace(ws.path);
    // Credential-scan decisions (allowed and masked files) go with the workspace's trust.
    const { forgetWorkspace } = await import('../credentials/triage.js');
    if (await forgetWorkspace(ws.path)) removed.push('credential-scan decisions (allowed and masked files)');
  }
  return removed;
}

/**
 * A folder and everything in it (folders and files; symlinks not followed), each a path an engine
 * may have copied on its own (a bind-mounted folder, a file mounted by itself). Bounded: corral
 * makes a few dozen entries in a gateway folder; a sandbox's own files are in its copy's folders.
 */
async function treeOf(root: string, depth = 4, limit = 2000): Promise<string[]> {
  const out = [root];
  for (let i = 0; i < out.length && out.length < limit; i++) {
    const dir = out[i]!;
    if (dir.slice(root.length).split('/').length > depth) continue;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isDirectory() || e.isFile()) out.push(join(dir, e.name));
    }
  }
  return out.slice(0, limit);
}
