/** The workspace gateway's egress rules (show, allow, deny, reset); its audit log is audit-log.ts. */
import type { AuditEntry } from '../gateway/audit.js';
import { readGatewaySettings } from '../gateway/folders.js';
import type { GatewaySettings } from '../gateway/settings.js';
import { resolveWorkspace } from '../workspace/identity.js';
import type { CoreContext } from './context.js';
import type { EgressRulesInput, WorkdirInput } from './types.js';

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

/** The rules added at run time (`corral egress allow|deny`, the web UI's buttons). */
export async function runtimeEgressRules(
  ctx: CoreContext,
  input: WorkdirInput,
): Promise<{ allow: string[]; deny: string[] }> {
  const ws = await workspaceOf(ctx, input);
  const r = await (await rules()).readRuntimeRules(ws.id);
  return { allow: [...r.allow], deny: [...r.deny] };
}
