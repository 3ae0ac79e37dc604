/**
 * corral's own folders must never be readable from a sandbox: the data folder holds the gateway's
 * settings (real API keys), the install's CA key and the trust store; the state folder holds
 * session transcripts. When a workspace contains them (corral run in $HOME), an empty read-only
 * folder is mounted over each.
 */
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { corralPaths } from '../config/paths.js';

export function privateDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.CORRAL_DATA_DIR ?? corralPaths.data, env.CORRAL_STATE_DIR ?? corralPaths.log];
}

/** The private folders inside the workspace, relative to it. */
export function hiddenInside(workspace: string, dirs: string[] = privateDirs()): string[] {
  return dirs
    .map((d) => relative(workspace, d))
    .filter((rel) => rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** An empty folder to mount over the hidden ones, outside every one of them. */
export async function emptyDir(): Promise<string> {
  const dir = join(corralPaths.cache, 'empty');
  await mkdir(dir, { recursive: true, mode: 0o555 });
  return dir;
}

/** An empty read-only file to mount over masked credential files (see credentials/triage.ts). */
export async function emptyFile(): Promise<string> {
  const file = join(corralPaths.cache, 'empty-file');
  const ok = async () => {
    const st = await lstat(file).catch(() => undefined);
    return st?.isFile() === true && st.size === 0;
  };
  if (await ok()) return file;
  await mkdir(corralPaths.cache, { recursive: true });
  await rm(file, { force: true });
  // `wx`: never write through something planted there; another start making it first is fine.
  await writeFile(file, '', { mode: 0o444, flag: 'wx' }).catch(async (e) => {
    if (!(await ok())) throw e;
  });
  return file;
}
