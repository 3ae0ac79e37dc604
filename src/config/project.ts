/**
 * The files a repository can use to shape its sandbox: `.corral.yaml`, a Containerfile extending
 * the agent image, and a devcontainer.json. All of them are untrusted input until `corral trust`,
 * which records one hash over all of them, so editing any one needs trusting again.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CorralError } from '../errors.js';
import { type Devcontainer, findDevcontainer, parseDevcontainer } from './devcontainer.js';
import { PROJECT_FILE } from './trust.js';

export const CONTAINERFILES = ['corral.Dockerfile', '.corral/Containerfile'];

export interface ProjectFile {
  path: string;
  text: string;
}

export interface ProjectFiles {
  config?: ProjectFile;
  containerfile?: ProjectFile;
  devcontainer?: Devcontainer;
  /** The Dockerfile a devcontainer.json builds from, when it names one. */
  devDockerfile?: ProjectFile;
}

async function readIfPresent(path: string): Promise<ProjectFile | undefined> {
  if (!existsSync(path)) return undefined;
  return { path, text: await readFile(path, 'utf8') };
}

export async function readProjectFiles(workspace: string): Promise<ProjectFiles> {
  const found = CONTAINERFILES.filter((f) => existsSync(join(workspace, f)));
  if (found.length > 1) {
    throw new CorralError(
      'CONFIG_INVALID',
      `${workspace} has both ${found.join(' and ')}.`,
      'Keep one of them: corral builds the project image from a single Containerfile.',
    );
  }
  const devPath = findDevcontainer(workspace);
  const devcontainer = devPath ? await parseDevcontainer(devPath, workspace) : undefined;
  const config = await readIfPresent(join(workspace, PROJECT_FILE));
  const containerfile = found[0] ? await readIfPresent(join(workspace, found[0])) : undefined;
  const devDockerfile =
    devcontainer && 'dockerfile' in devcontainer.source
      ? await readIfPresent(devcontainer.source.dockerfile)
      : undefined;
  return {
    ...(config ? { config } : {}),
    ...(containerfile ? { containerfile } : {}),
    ...(devcontainer ? { devcontainer } : {}),
    ...(devDockerfile ? { devDockerfile } : {}),
  };
}

/** A Containerfile of comments only (`corral init`'s starter) adds nothing to build. */
export function isEmptyContainerfile(text: string): boolean {
  return text.split('\n').every((l) => !l.trim() || l.trim().startsWith('#'));
}

export function hasProjectFiles(files: ProjectFiles): boolean {
  return Boolean(files.config || files.containerfile || files.devcontainer);
}

/**
 * The text `corral trust` hashes. A project with only `.corral.yaml` hashes that file alone; with
 * more files, each is named before its text so moving text between files changes the hash.
 */
export function trustText(workspace: string, files: ProjectFiles): string {
  const parts = [files.config, files.containerfile, files.devcontainer, files.devDockerfile].filter(
    (f): f is ProjectFile => f !== undefined,
  );
  if (parts.length === 1 && files.config && parts[0] === files.config) return files.config.text;
  return parts.map((f) => `--- ${relative(workspace, f.path)}\n${f.text}`).join('\n');
}
