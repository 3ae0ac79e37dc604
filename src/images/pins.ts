/**
 * Versions chosen by `corral update`, so later runs keep using the updated CLI. Config
 * (`agents.<name>.version`) still wins; without either, the version pinned in the agent spec.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { corralPaths } from '../config/load.js';

export const pinsPath = (): string => join(process.env.CORRAL_DATA_DIR ?? corralPaths.data, 'versions.json');

export async function readPins(path = pinsPath()): Promise<Record<string, string>> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export async function writePin(agent: string, version: string, path = pinsPath()): Promise<void> {
  const pins = { ...(await readPins(path)), [agent]: version };
  await mkdir(dirname(path), { recursive: true });
  // Write then rename: an interrupted update never leaves a half-written file.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(pins, null, 2)}\n`);
  await rename(tmp, path);
}

/** The version to use: config, else the updated one, else undefined (the spec's pin). */
export function chosenVersion(
  configured: string | undefined,
  pins: Record<string, string>,
  agent: string,
): string | undefined {
  return configured ?? pins[agent];
}
