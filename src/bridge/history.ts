/** Commands of every session in a workspace, as their output folders on disk show them. */
import { readdir } from 'node:fs/promises';
import { COMMANDS_DIR, type CommandInfo } from './commands.js';
import { openSafeDir, readNoFollow, type SafeDir } from './safe-fs.js';

/**
 * Commands of other sessions in this workspace, read from disk. The files are the agent's to edit,
 * so they are read without following links and only as short text.
 */
export async function listOnDisk(workspace: string, skipSession: string): Promise<CommandInfo[]> {
  let root: SafeDir;
  try {
    root = await openSafeDir(workspace, COMMANDS_DIR, 'open');
  } catch {
    return [];
  }
  const found: CommandInfo[] = [];
  try {
    const sessions = await readdir(root.here, { withFileTypes: true });
    for (const s of sessions.filter((d) => d.isDirectory() && d.name !== skipSession).slice(0, 100)) {
      const sdir = await openSafeDir(workspace, [...COMMANDS_DIR, s.name], 'open').catch(() => undefined);
      if (!sdir) continue;
      try {
        const ids = (await readdir(sdir.here, { withFileTypes: true })).filter((d) => d.isDirectory());
        for (const c of ids.slice(0, 500)) {
          const cdir = await openSafeDir(workspace, [...COMMANDS_DIR, s.name, c.name], 'open').catch(
            () => undefined,
          );
          if (!cdir) continue;
          try {
            const command = (await readNoFollow(cdir, 'command', 2048))?.trimEnd() ?? '';
            const exit = (await readNoFollow(cdir, 'exit', 32))?.trim();
            const code = exit && /^\d+$/.test(exit) ? Number(exit) : undefined;
            found.push({
              id: c.name,
              session: s.name,
              command,
              state: exit === 'killed' ? 'killed' : exit ? 'finished' : 'running',
              ...(code !== undefined ? { exitCode: code } : {}),
              dir: [...COMMANDS_DIR, s.name, c.name].join('/'),
            });
          } finally {
            await cdir.close();
          }
        }
      } finally {
        await sdir.close();
      }
    }
  } finally {
    await root.close();
  }
  return found;
}
