/** `corral mask`, `corral unmask`, `corral clean`: the shape and lifetime of a workspace. */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import { untrustWorkspace } from '../../config/trust.js';
import { forgetWorkspaceSessions } from '../../core/index.js';
import { CorralError } from '../../errors.js';
import { gatewayDirs } from '../../gateway/folders.js';
import { maskVolumeName, readMasks, updateMasks, validateMaskDir } from '../../sandbox/masks.js';
import { LABELS, resolveWorkspace } from '../../workspace/identity.js';
import { Context } from '../context.js';

export function maskCommand(): Command {
  return new Command('mask')
    .description(
      'shadow workspace folders (node_modules, target, .venv) with a per-workspace volume in the sandbox',
    )
    .argument('[dirs...]', 'folders relative to the workspace; none: list the masks')
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .action(async (dirs: string[], opts: { workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
      if (!dirs.length) {
        const masks = await readMasks(ws);
        return masks.length ? ctx.print(masks.join('\n')) : ctx.note('no masks in this workspace');
      }
      const valid = dirs.map(validateMaskDir);
      const now = await updateMasks(ws, (cur) => [...cur, ...valid]);
      ctx.note(`masked: ${now.join(', ')} (takes effect for new sandboxes)`);
    });
}

export function unmaskCommand(): Command {
  return new Command('unmask')
    .description('stop masking folders and delete their volumes')
    .argument('<dirs...>', 'folders relative to the workspace')
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .action(async (dirs: string[], opts: { workdir?: string }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
      const valid = dirs.map(validateMaskDir);
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
      ctx.note(`unmasked: ${valid.join(', ')}`);
    });
}

export function cleanCommand(): Command {
  return new Command('clean')
    .description(
      "remove this workspace's sandboxes, networks, mask volumes and agent homes (logins stay in corral's store)",
    )
    .option('-w, --workdir <dir>', 'workspace (default: the current folder)')
    .option('--all', "also delete every workspace's agent homes and old shared home volumes")
    .action(async (opts: { workdir?: string; all?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd);
      const ws = await resolveWorkspace(opts.workdir ?? process.cwd());
      const engine = await ctx.engine();
      const mine = [`${LABELS.managed}=true`, `${LABELS.workspace}=${ws.id}`];
      const removed: string[] = [];
      for (const c of await engine.list({ labels: mine, all: true })) {
        await engine.remove(c.id, { force: true });
        removed.push(c.name);
      }
      for (const n of await engine.listNetworks(mine)) {
        await engine.removeNetwork(n.name);
        removed.push(n.name);
      }
      const volumes = await engine.listVolumes(opts.all ? [`${LABELS.managed}=true`] : mine);
      for (const v of volumes.filter(
        (x) => opts.all || x.labels[LABELS.role] === 'mask' || x.labels[LABELS.workspace] === ws.id,
      )) {
        await engine.removeVolume(v.name);
        removed.push(v.name);
      }
      await updateMasks(ws, () => []);
      const gateway = gatewayDirs(engine.kind, ws.id).root;
      if (existsSync(gateway)) {
        await rm(gateway, { recursive: true, force: true });
        removed.push(`${gateway} (gateway socket, settings and traffic log)`);
      }
      // Ended detached runs' bridge state and logs (kept for `corral list` until pruned after 7 days).
      const sessions = await forgetWorkspaceSessions(ws.path);
      if (sessions.length) removed.push(`state and logs of ${sessions.length} ended host-bridge session(s)`);
      if (opts.all) {
        await untrustWorkspace(ws.path);
        // Credential-scan decisions (allowed and masked files) go with the workspace's trust.
        const { forgetWorkspace } = await import('../../credentials/triage.js');
        if (await forgetWorkspace(ws.path))
          removed.push('credential-scan decisions (allowed and masked files)');
      }
      ctx.note(removed.length ? `removed:\n  ${removed.join('\n  ')}` : 'nothing to clean');
    });
}
