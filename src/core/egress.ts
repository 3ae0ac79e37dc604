/** The workspace gateway's egress rules (show, allow, deny, reset) and its audit log. */
import { createReadStream, existsSync, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ContainerEngine } from '../engine/index.js';
import type { AuditEntry } from '../gateway/audit.js';
import { gatewayDirs, readGatewaySettings } from '../gateway/folders.js';
import type { GatewaySettings } from '../gateway/settings.js';
import { GATEWAY_CONTAINER_PATHS as P } from '../gateway/settings.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { EgressLogInput, EgressRulesInput, WorkdirInput } from './types.js';

export type { AuditEntry };
export type EgressPolicy = GatewaySettings['policy'];

// Rule parsing uses zod: loaded when an egress use-case runs, not on every corral start.
const rules = () => import('../gateway/runtime-rules.js');
const policy = () => import('../gateway/policy.js');

const workspaceOf = (ctx: CoreContext, input: WorkdirInput) => resolveWorkspace(input.workdir ?? ctx.cwd);

/** A rule as text (`allow example.com`), for people. */
export async function formatEgressRule(rule: EgressPolicy['rules'][number]): Promise<string> {
  return (await policy()).formatRule(rule);
}

/** Add runtime rules; each says which running gateways already serve it (none: the next run). */
export async function addEgressRules(
  ctx: CoreContext,
  input: EgressRulesInput,
): Promise<{ rule: string; applied: string[] }[]> {
  const ws = await workspaceOf(ctx, input);
  const { addRuntimeRule } = await rules();
  const { formatRule } = await policy();
  const out: { rule: string; applied: string[] }[] = [];
  // A gateway on a remote engine: the one this command was pointed at, or connected to by its URL.
  const reach = async (url: string, kind: 'podman' | 'docker') => {
    const mine = ctx.options.remote || ctx.options.engine ? await ctx.engine() : undefined;
    if (mine?.remote === url && mine.kind === kind) return mine;
    const { connectEngine } = await import('../engine/index.js');
    return connectEngine(url, undefined, { remoteKind: kind });
  };
  for (const text of input.rules) {
    const kube = async () => {
      const engine = await ctx.engine();
      return engine.kind === 'kubernetes' ? engine : undefined;
    };
    const { rule, applied } = await addRuntimeRule(ws.id, input.action, text, reach, kube);
    out.push({ rule: formatRule(rule), applied });
  }
  return out;
}

/** Drop the rules added at runtime; returns how many there were. */
export async function resetEgressRules(ctx: CoreContext, input: WorkdirInput): Promise<number> {
  const ws = await workspaceOf(ctx, input);
  const before = await (await rules()).resetRuntimeRules(ws.id);
  return before.allow.length + before.deny.length;
}

/** The policy the workspace's gateway last ran with (undefined: no gateway has run here). */
export async function egressPolicy(ctx: CoreContext, input: WorkdirInput): Promise<EgressPolicy | undefined> {
  const ws = await workspaceOf(ctx, input);
  return (await readGatewaySettings(await ctx.engine(), ws.id))?.policy;
}

/**
 * Audit log entries, oldest first: the last `lines` (0: all), then, with `follow`, new ones as they
 * come until `signal` aborts. Returns false when there is no log yet (and not following).
 */
export async function egressLog(
  ctx: CoreContext,
  input: EgressLogInput,
  onEntry: (e: AuditEntry) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const ws = await workspaceOf(ctx, input);
  const engine = await ctx.engine();
  const path = join(gatewayDirs(engine, ws.id).log, P.auditFile);
  const show = (line: string) => {
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      return;
    }
    if (!input.denied || e.decision !== 'allow') onEntry(e);
  };
  // A remote engine's gateway writes its log in the copy of the folder on that machine.
  if (engine.hostFolders) return remoteLog(engine.hostFolders, path, input, show, signal);
  if (!existsSync(path) && !input.follow) return false;
  const lines: string[] = [];
  let offset = 0;
  if (existsSync(path)) {
    for await (const line of createInterface({ input: createReadStream(path) })) lines.push(line);
    offset = (await stat(path)).size;
  }
  const n = input.lines ?? 50;
  for (const line of n > 0 ? lines.slice(-n) : lines) show(line);
  if (!input.follow) return true;
  let partial = '';
  const readMore = async () => {
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size <= offset) return;
    const stream = createReadStream(path, { start: offset, end: size - 1, encoding: 'utf8' });
    offset = size;
    for await (const chunk of stream) partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) show(line);
  };
  let busy = Promise.resolve();
  const watcher = watch(path.slice(0, path.lastIndexOf('/')), () => {
    busy = busy.then(readMore);
  });
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  watcher.close();
  return true;
}

/** The audit log as the remote copy has it; `follow` asks for what was added every second. */
async function remoteLog(
  folders: NonNullable<ContainerEngine['hostFolders']>,
  path: string,
  input: EgressLogInput,
  show: (line: string) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const text = await folders.read(path);
  if (text === undefined && !input.follow) return false;
  const lines = (text ?? '').split('\n').filter(Boolean);
  const n = input.lines ?? 50;
  for (const line of n > 0 ? lines.slice(-n) : lines) show(line);
  if (!input.follow) return true;
  let offset = Buffer.byteLength(text ?? '');
  let partial = '';
  while (!signal?.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
    if (signal?.aborted) break;
    const more = (await folders.read(path, offset).catch(() => undefined)) ?? '';
    offset += Buffer.byteLength(more);
    const parts = (partial + more).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) show(line);
  }
  return true;
}

/** The rules added at run time (`corral egress allow|deny`, the web UI's buttons). */
export async function runtimeEgressRules(
  ctx: CoreContext,
  input: WorkdirInput,
): Promise<{ allow: string[]; deny: string[] }> {
  const ws = await workspaceOf(ctx, input);
  const r = await (await rules()).readRuntimeRules(ws.id);
  return { allow: [...r.allow], deny: [...r.deny] };
}

/** Where a workspace's gateway writes its audit log (for followers that tail it themselves). */
export async function auditLogFile(ctx: CoreContext, workspaceId: string): Promise<string> {
  return join(gatewayDirs(await ctx.engine(), workspaceId).log, P.auditFile);
}
