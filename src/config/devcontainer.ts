/**
 * A workspace's `.devcontainer/devcontainer.json` (JSON with comments, per the spec): its image or
 * Dockerfile becomes the base the agent is installed onto, and its env, ports and post-create
 * command are honoured. Every other property is reported as unsupported rather than dropped silently.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { CorralError } from '../errors.js';
import { describeIssues } from './errors.js';

export const DEVCONTAINER_FILES = ['.devcontainer/devcontainer.json', '.devcontainer.json'];

type CommandSpec = string | string[] | Record<string, string | string[]>;

/** Built on first use: zod stays off the start path of projects without a devcontainer. */
async function devcontainerSchema() {
  const { z } = await import('zod');
  const command = z.union([
    z.string(),
    z.array(z.string()),
    z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  ]);
  const port = z.union([z.number().int().min(1).max(65535), z.string()]);
  return z.object({
    name: z.string().optional(),
    image: z.string().min(1).optional(),
    build: z
      .object({
        dockerfile: z.string().min(1),
        context: z.string().optional(),
        args: z.record(z.string(), z.string()).optional(),
        target: z.string().optional(),
      })
      .optional(),
    dockerFile: z.string().optional(),
    context: z.string().optional(),
    containerEnv: z.record(z.string(), z.string()).optional(),
    remoteEnv: z.record(z.string(), z.string().nullable()).optional(),
    forwardPorts: z.array(port).optional(),
    postCreateCommand: command.optional(),
  });
}

/** Properties corral reads; anything else in the file is listed as unsupported. */
const SUPPORTED = new Set([
  'name',
  'image',
  'build',
  'dockerFile',
  'context',
  'containerEnv',
  'remoteEnv',
  'forwardPorts',
  'postCreateCommand',
  '$schema',
]);

export interface Devcontainer {
  /** The devcontainer.json file. */
  path: string;
  /** Its raw text, part of what `corral trust` records. */
  text: string;
  source:
    | { image: string }
    | { dockerfile: string; context: string; args: Record<string, string>; target?: string };
  env: Record<string, string>;
  ports: number[];
  /** Shell commands to run once in a new sandbox, in the workspace, as the sandbox user. */
  postCreate: string[];
  /** What the file asks for that corral does not do, e.g. `features`, `forwardPorts "db:5432"`. */
  unsupported: string[];
}

export function findDevcontainer(workspace: string): string | undefined {
  return DEVCONTAINER_FILES.map((f) => join(workspace, f)).find((p) => existsSync(p));
}

/** Quote for /bin/sh so an array command runs as the exact argv it names. */
const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);

function commands(c: CommandSpec | undefined): string[] {
  if (c === undefined) return [];
  if (typeof c === 'string') return c.trim() ? [c] : [];
  if (Array.isArray(c)) return c.length ? [c.map(quote).join(' ')] : [];
  // The object form runs its commands in parallel; one after another is a faithful subset.
  return Object.values(c).flatMap((v) => commands(v));
}

export async function parseDevcontainer(path: string, workspace: string): Promise<Devcontainer> {
  const text = await readFile(path, 'utf8');
  const { parse, printParseErrorCode } = (await import('jsonc-parser')).default;
  const errors: import('jsonc-parser').ParseError[] = [];
  const raw = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const where = relative(workspace, path);
  if (errors.length) {
    const e = errors[0]!;
    const line = text.slice(0, e.offset).split('\n').length;
    throw new CorralError(
      'CONFIG_INVALID',
      `Invalid JSON in ${path} (line ${line}): ${printParseErrorCode(e.error)}.`,
      'Fix the file, or remove it to use corral’s own image.',
    );
  }
  const DevcontainerSchema = await devcontainerSchema();
  const result = DevcontainerSchema.safeParse(raw);
  if (!result.success) {
    throw new CorralError(
      'CONFIG_INVALID',
      `Invalid ${where}:\n  ${describeIssues(DevcontainerSchema, result.error).join('\n  ')}`,
      'corral reads image, build.dockerfile/context/args/target, containerEnv, remoteEnv, forwardPorts and postCreateCommand.',
    );
  }
  const d = result.data;
  const unsupported = Object.keys(raw as object).filter((k) => !SUPPORTED.has(k));
  const dir = dirname(path);
  const dockerfile = d.build?.dockerfile ?? d.dockerFile;
  let source: Devcontainer['source'];
  if (dockerfile) {
    source = {
      dockerfile: resolve(dir, dockerfile),
      context: resolve(dir, d.build?.context ?? d.context ?? '.'),
      args: d.build?.args ?? {},
      ...(d.build?.target ? { target: d.build.target } : {}),
    };
    if (d.image) unsupported.push('image (build.dockerfile wins)');
  } else if (d.image) {
    source = { image: d.image };
  } else {
    throw new CorralError(
      'CONFIG_INVALID',
      `${where} names neither "image" nor "build.dockerfile".`,
      'corral needs one of them; Docker Compose devcontainers (dockerComposeFile) are not supported.',
    );
  }
  const ports: number[] = [];
  for (const p of d.forwardPorts ?? []) {
    const n = typeof p === 'number' ? p : /^\d+$/.test(p) ? Number(p) : undefined;
    if (n) ports.push(n);
    else unsupported.push(`forwardPorts "${p}" (only this container's own ports)`);
  }
  const env = { ...d.containerEnv };
  for (const [k, v] of Object.entries(d.remoteEnv ?? {})) {
    if (v === null) delete env[k];
    else if (v.includes('${')) unsupported.push(`remoteEnv.${k} (\${…} substitution)`);
    else env[k] = v;
  }
  for (const [k, v] of Object.entries(env)) {
    if (v.includes('${')) {
      unsupported.push(`containerEnv.${k} (\${…} substitution)`);
      delete env[k];
    }
  }
  return { path, text, source, env, ports, postCreate: commands(d.postCreateCommand), unsupported };
}
