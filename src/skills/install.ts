/**
 * Skills in a sandbox: the store is mounted read-only, and the start script copies each locked
 * skill into the agent's skills folder in its home volume when the copy there is missing or from
 * another lock (a marker file holds the hash), and removes skills corral installed that the lock no
 * longer has. A folder the user made themselves (no marker) is never touched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { shellQuote } from '../engine/command-line.js';
import { type LockedSkill, readLock, type SkillsLock, storeDir, storeName } from './lock.js';

export const SANDBOX_SKILLS_DIR = '/run/corral-skills';
export const MARKER = '.corral-skill';

export function skillsFor(lock: SkillsLock, agent: string): LockedSkill[] {
  return lock.skills.filter((s) => s.agents.includes('*') || s.agents.includes(agent));
}

/** The start-script lines that bring `$HOME/<skillsDir>` in line with `skills`. */
export function installLines(skillsDir: string, skills: readonly LockedSkill[]): string[] {
  const d = `"$HOME"/${shellQuote(skillsDir)}`;
  const names = ` ${skills.map((s) => s.name).join(' ')} `;
  const lines = [
    `mkdir -p ${d}`,
    `for m in ${d}/*/${MARKER}; do [ -e "$m" ] || continue; n=$(basename "$(dirname "$m")"); case ${shellQuote(names)} in *" $n "*) ;; *) rm -rf ${d}/"$n";; esac; done`,
  ];
  for (const s of skills) {
    const dest = `${d}/${shellQuote(s.name)}`;
    const src = `${SANDBOX_SKILLS_DIR}/${shellQuote(storeName(s))}`;
    lines.push(
      `if [ -e ${dest} ] && [ ! -e ${dest}/${MARKER} ]; then echo "corral: ${skillsDir}/${s.name} is your own; skill ${s.name} not installed over it" >&2; ` +
        `elif [ "$(cat ${dest}/${MARKER} 2>/dev/null)" != ${s.hash} ]; then rm -rf ${dest} && cp -R ${src} ${dest} && printf %s ${s.hash} > ${dest}/${MARKER}; fi`,
    );
  }
  return lines;
}

export interface SkillsPlan {
  mount: { type: 'bind'; source: string; target: string; readOnly: true };
  init: string[];
  /** Locked skills whose copy is missing on this machine (`corral skills sync` restores them). */
  missing: string[];
}

/** What a sandbox of `agent` needs for its skills; undefined when it has none to manage. */
export async function skillsPlan(agent: AgentSpec, root: string): Promise<SkillsPlan | undefined> {
  if (!agent.skillsDir || !existsSync(root)) return undefined;
  const lock = await readLock(root);
  const store = storeDir(root);
  const wanted = skillsFor(lock, agent.name);
  const present = wanted.filter((s) => existsSync(join(store, storeName(s))));
  // Nothing locked for it: still clean up what an earlier lock installed, if anything was ever stored.
  if (!present.length && !existsSync(store)) return undefined;
  return {
    mount: { type: 'bind', source: store, target: SANDBOX_SKILLS_DIR, readOnly: true },
    init: installLines(agent.skillsDir, present),
    missing: wanted.filter((s) => !present.includes(s)).map((s) => s.name),
  };
}
