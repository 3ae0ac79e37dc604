/**
 * Versions chosen by `corral update`, so later runs keep using the updated CLI. Config
 * (`agents.<name>.version`) still wins; without either, the version pinned in the agent spec.
 */
import { dataFile, readJson, writeJson } from '../config/json-store.js';

export const pinsPath = (): string => dataFile('versions.json');

export async function readPins(path = pinsPath()): Promise<Record<string, string>> {
  return (await readJson<Record<string, string>>(path)) as Record<string, string>;
}

export async function writePin(agent: string, version: string, path = pinsPath()): Promise<void> {
  await writeJson(path, { ...(await readPins(path)), [agent]: version });
}

/** The version to use: config, else the updated one, else undefined (the spec's pin). */
export function chosenVersion(
  configured: string | undefined,
  pins: Record<string, string>,
  agent: string,
): string | undefined {
  return configured ?? pins[agent];
}
