import { join } from 'node:path';
import { dataFile, readJson, writeJson } from '../config/json-store.js';
import type { ContainerEngine, EngineKind } from '../engine/index.js';
import { socketAccepts } from '../socket.js';
import {
  gatewayServes,
  readGatewaySettings,
  updateGatewaySettings,
  workspaceGatewayDirs,
} from './folders.js';
import { parsePolicy, parseRule, type Rule } from './policy.js';
import { GATEWAY_CONTAINER_PATHS as P } from './settings.js';

/** How long `corral egress allow|deny` waits for a running gateway to say it serves the new rule. */
const CONFIRM_MS = 3000;

export interface RuntimeRules {
  allow: string[];
  deny: string[];
}

const rulesPath = (workspaceId: string) => dataFile(join('egress', `${workspaceId}.json`));

export async function readRuntimeRules(workspaceId: string): Promise<RuntimeRules> {
  const r = await readJson<RuntimeRules>(rulesPath(workspaceId));
  return { allow: r.allow ?? [], deny: r.deny ?? [] };
}

export function runtimeRuleList(rules: RuntimeRules): Rule[] {
  return [
    ...rules.allow.map((r) => parseRule(r, 'allow', 'flag')),
    ...rules.deny.map((r) => parseRule(r, 'deny', 'flag')),
  ];
}

/** The engine a gateway on another machine runs on (settings.hostMachine), if it can be reached. */
export type ReachRemote = (url: string, kind: 'podman' | 'docker') => Promise<ContainerEngine | undefined>;

/**
 * Record a rule and hand it to the workspace's gateway(s) on every engine that has settings;
 * `applied` lists the engines whose running gateway confirmed it serves the rule. A gateway on a
 * remote engine reads a copy of its settings there: `reach` connects to it to send the new ones.
 */
export async function addRuntimeRule(
  workspaceId: string,
  action: Rule['action'],
  text: string,
  reach?: ReachRemote,
  /** The Kubernetes engine, when that is the configured one (its gateway may hold copies: no node folders). */
  kube?: () => Promise<ContainerEngine | undefined>,
): Promise<{ rule: Rule; applied: EngineKind[] }> {
  const rule = parseRule(text, action, 'flag'); // validates before anything is stored
  const rules = await readRuntimeRules(workspaceId);
  if (!rules[action].includes(text)) rules[action].push(text);
  await writeJson(rulesPath(workspaceId), rules);
  const applied: EngineKind[] = [];
  // Every gateway the workspace has: each engine here, and each remote machine's.
  for (const { kind: engine, dirs } of await workspaceGatewayDirs(workspaceId)) {
    const settings = await readGatewaySettings(dirs, workspaceId);
    if (!settings) continue;
    const revision = await updateGatewaySettings(dirs, (settings) =>
      settings
        ? {
            ...settings,
            policy: parsePolicy({ ...settings.policy, rules: [...settings.policy.rules, rule] }),
          }
        : undefined,
    );
    if (!revision) continue;
    const remote =
      engine === 'kubernetes'
        ? (await kube?.().catch(() => undefined))?.hostFolders
        : settings.hostMachine
          ? await remoteFolders(reach, settings.hostMachine, engine)
          : undefined;
    if (settings.hostMachine && !remote) continue; // unreachable now: the rule waits for the next run
    if (remote) await remote.push(dirs.conf);
    const socket = join(dirs.sock, P.socketFile);
    // No gateway answering on its socket: the rule waits in the settings for the next run.
    if (!(await (remote ? remote.socketReady(socket) : socketAccepts(socket)))) continue;
    const served = remote
      ? async () => (Number(await remote.read(join(dirs.log, P.appliedFile))) || 0) >= revision
      : () => gatewayServes(dirs, revision);
    for (const deadline = Date.now() + CONFIRM_MS; Date.now() < deadline; ) {
      if (await served()) {
        applied.push(engine);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return { rule, applied };
}

async function remoteFolders(reach: ReachRemote | undefined, url: string, kind: 'podman' | 'docker') {
  const engine = await reach?.(url, kind).catch(() => undefined);
  return engine?.hostFolders;
}

export async function resetRuntimeRules(workspaceId: string): Promise<RuntimeRules> {
  const before = await readRuntimeRules(workspaceId);
  await writeJson(rulesPath(workspaceId), { allow: [], deny: [] });
  return before;
}
