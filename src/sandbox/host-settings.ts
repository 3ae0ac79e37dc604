/**
 * Opt-in import of the user's own agent settings (`host_settings: true`): the files an agent spec
 * lists are read from the host home at each start and written into the sandbox home, JSON merged
 * under corral's own files (an endpoint's settings win where both set a key). The host files are
 * only read; what the agent changes in its copy stays in the sandbox.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpec } from '../agents/types.js';
import { mergeLayers } from '../config/load.js';
import { CorralError } from '../errors.js';

const LIMIT = 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

async function readHostFile(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  if (info.size > LIMIT) {
    throw new CorralError('BAD_INPUT', `${path} is larger than 1 MB; not copying it into the sandbox.`);
  }
  return readFile(path, 'utf8');
}

function parseObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CorralError(
      'CONFIG_INVALID',
      `${source} is not valid JSON (${(e as Error).message}); cannot merge it into the sandbox's settings.`,
      'Fix the file, or turn host_settings off for this agent.',
    );
  }
  if (!isObject(value)) throw new CorralError('CONFIG_INVALID', `${source} must hold a JSON object.`);
  return value;
}

/** corral's files for the sandbox home, with the user's settings merged in. */
export async function withHostSettings(
  agent: AgentSpec,
  hostHome: string,
  files: Record<string, string>,
): Promise<Record<string, string>> {
  const out = { ...files };
  for (const rel of agent.hostSettings) {
    const path = join(hostHome, rel);
    const text = await readHostFile(path);
    if (text === undefined) continue;
    const ours = out[rel];
    if (!rel.endsWith('.json') || ours === undefined) {
      if (rel.endsWith('.json')) parseObject(text, path);
      // corral's own file (an endpoint's) wins over a non-JSON host file of the same name.
      out[rel] = ours ?? text;
      continue;
    }
    out[rel] = JSON.stringify(
      mergeLayers(parseObject(text, path), parseObject(ours, `corral's ${rel}`)),
      null,
      2,
    );
  }
  return out;
}
