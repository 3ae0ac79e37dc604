/**
 * `corral skills`: skills (folders with a SKILL.md) fetched on the host from a git URL or a local
 * path, pinned in a lockfile (commit and content hash), and installed into each agent's skills
 * folder in its home volume when a sandbox starts (src/skills/install.ts).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENTS, resolveAgent } from '../agents/index.js';
import { corralPaths } from '../config/paths.js';
import { CorralError } from '../errors.js';
import { type Fetched, fetchSkills, parseSource, type SourceSpec, storeSkill } from '../skills/fetch.js';
import { type LockedSkill, readLock, skillsRoot, storeDir, storeName, writeLock } from '../skills/lock.js';
import type { CoreContext } from './context.js';

export type { LockedSkill };

const root = (ctx: CoreContext) => skillsRoot(ctx.env, corralPaths.data);

/** Agents a skill can go to: those whose spec names a skills folder. */
function agentNames(requested: readonly string[] | undefined): string[] {
  if (!requested?.length) return ['*'];
  return requested.map((a) => {
    const spec = resolveAgent(a);
    if (!spec.skillsDir) {
      const able = AGENTS.filter((x) => x.skillsDir).map((x) => x.name);
      throw new CorralError(
        'BAD_INPUT',
        `${spec.displayName} has no skills folder corral knows.`,
        `Skills install for: ${able.join(', ')}.`,
      );
    }
    return spec.name;
  });
}

function specOf(s: LockedSkill): SourceSpec {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(s.source) || /^[\w.-]+@[\w.-]+:/.test(s.source);
  return { source: s.source, ...(s.ref ? { ref: s.ref } : {}), kind: url || s.commit ? 'git' : 'dir' };
}

export interface AddSkillInput {
  /** `git-url|path[#ref]`. */
  source: string;
  /** Agent names or aliases; absent: every agent with a skills folder. */
  agents?: string[] | undefined;
}

/** Fetch a source, store its skills and lock them. A name already locked is replaced. */
export async function addSkill(ctx: CoreContext, input: AddSkillInput): Promise<{ added: LockedSkill[] }> {
  const agents = agentNames(input.agents);
  const spec = parseSource(input.source, ctx.cwd);
  const dir = root(ctx);
  const fetched = await fetchSkills(spec, ctx.env);
  try {
    if (!fetched.skills.length) {
      throw new CorralError(
        'BAD_INPUT',
        `No skill in ${input.source}: no SKILL.md at its root, in */SKILL.md or in skills/*/SKILL.md.`,
      );
    }
    const added: LockedSkill[] = [];
    for (const s of fetched.skills) {
      const entry: LockedSkill = {
        name: s.name,
        source: spec.source,
        ...(spec.ref ? { ref: spec.ref } : {}),
        ...(fetched.commit ? { commit: fetched.commit } : {}),
        path: s.path,
        hash: s.hash,
        agents,
      };
      await storeSkill(s.dir, join(storeDir(dir), storeName(entry)));
      added.push(entry);
    }
    const lock = await readLock(dir);
    const names = new Set(added.map((a) => a.name));
    await writeLock(dir, { ...lock, skills: [...lock.skills.filter((s) => !names.has(s.name)), ...added] });
    return { added };
  } finally {
    await fetched.cleanup();
  }
}

export async function listSkills(
  ctx: CoreContext,
): Promise<{ lockfile: string; skills: (LockedSkill & { stored: boolean })[] }> {
  const dir = root(ctx);
  const lock = await readLock(dir);
  return {
    lockfile: join(dir, 'skills.lock.json'),
    skills: lock.skills.map((s) => ({ ...s, stored: existsSync(join(storeDir(dir), storeName(s))) })),
  };
}

/** Unlock a skill; sandboxes remove its copy from the agent's home at their next start. */
export async function removeSkill(ctx: CoreContext, name: string): Promise<{ removed: LockedSkill }> {
  const dir = root(ctx);
  const lock = await readLock(dir);
  const removed = lock.skills.find((s) => s.name === name);
  if (!removed)
    throw new CorralError('BAD_INPUT', `No skill named ${name} is installed.`, 'See `corral skills list`.');
  await writeLock(dir, { ...lock, skills: lock.skills.filter((s) => s !== removed) });
  await rm(join(storeDir(dir), storeName(removed)), { recursive: true, force: true });
  return { removed };
}

export interface SyncResult {
  name: string;
  /** ok: stored copy matches the lock; restored: re-fetched at the locked commit; failed: see detail. */
  status: 'ok' | 'restored' | 'failed';
  hash: string;
  /** The skill's hash at its source now (its ref, or the default branch): differs when upstream changed. */
  upstreamHash?: string;
  upstreamChanged: boolean;
  /** With `update`, the lock now holds the upstream version. */
  updated: boolean;
  detail?: string;
}

/**
 * Re-fetch every locked skill at its locked commit and restore its stored copy (the next sandbox
 * start installs it); report where the source has changed since. `update` adopts the change.
 */
export async function syncSkills(ctx: CoreContext, input: { update?: boolean } = {}): Promise<SyncResult[]> {
  const dir = root(ctx);
  const lock = await readLock(dir);
  const out: SyncResult[] = [];
  const next: LockedSkill[] = [];
  const cache = new Map<string, Fetched>();
  const get = async (spec: SourceSpec, only: string) => {
    const key = JSON.stringify([spec, only]);
    const hit = cache.get(key);
    if (hit) return hit;
    const f = await fetchSkills(spec, ctx.env, only);
    cache.set(key, f);
    return f;
  };
  try {
    for (const s of lock.skills) {
      const r: SyncResult = {
        name: s.name,
        status: 'ok',
        hash: s.hash,
        upstreamChanged: false,
        updated: false,
      };
      let entry = s;
      try {
        const spec = specOf(s);
        const pinned = s.commit ? await get({ ...spec, ref: s.commit }, s.path) : await get(spec, s.path);
        const found = pinned.skills[0];
        const target = join(storeDir(dir), storeName(s));
        const stored = existsSync(target);
        if (found && found.hash === s.hash) {
          if (!stored) {
            await storeSkill(found.dir, target);
            r.status = 'restored';
          }
        } else if (!found) {
          r.status = 'failed';
          r.detail = `no SKILL.md at ${s.path || 'the root'} of the locked ${s.commit ? `commit ${s.commit.slice(0, 12)}` : 'folder'}`;
        } else if (!stored) {
          r.status = 'failed';
          r.detail =
            'the locked version is no longer at its source and its stored copy is gone (`sync --update` takes the current one)';
        }
        const upstream = s.commit ? await get(spec, s.path) : pinned;
        const up = upstream.skills[0];
        r.upstreamHash = up?.hash ?? '';
        r.upstreamChanged = r.upstreamHash !== s.hash;
        if (input.update && r.upstreamChanged && up) {
          entry = { ...s, hash: up.hash, ...(upstream.commit ? { commit: upstream.commit } : {}) };
          await storeSkill(up.dir, join(storeDir(dir), storeName(entry)));
          r.hash = up.hash;
          r.updated = true;
          r.status = 'ok';
          delete r.detail;
        }
      } catch (e) {
        r.status = 'failed';
        r.detail = (e as Error).message;
      }
      next.push(entry);
      out.push(r);
    }
    if (out.some((r) => r.updated)) await writeLock(dir, { ...lock, skills: next });
    return out;
  } finally {
    for (const f of cache.values()) await f.cleanup();
  }
}
