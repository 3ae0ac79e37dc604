/**
 * One cheap authenticated request for `corral auth doctor`: the agent's "list models" call with
 * the credential in the header its provider expects. The secret goes only into that header;
 * results and errors carry the status, never the value.
 */
import type { AgentSpec } from '../agents/types.js';

export interface ProbeResult {
  ok: boolean;
  /** HTTP status, or undefined when no answer came. */
  status?: number;
  detail: string;
}

export function probeRequest(
  agent: AgentSpec,
  envName: string,
  value: string,
  env: Record<string, string>,
): { url: string; headers: Record<string, string> } | undefined {
  const probe = agent.authProbe;
  if (!probe) return undefined;
  const header = agent.injectable.find((i) => i.env === envName)?.header ?? 'authorization';
  const url = new URL(probe.url);
  const base = probe.baseUrlEnv ? env[probe.baseUrlEnv] : undefined;
  const target = base
    ? new URL(url.pathname.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`)
    : url;
  const oauth = agent.setupToken?.env === envName || /OAUTH|AUTH_TOKEN/.test(envName);
  return {
    url: target.toString(),
    headers: {
      ...probe.headers,
      ...(oauth ? probe.oauthHeaders : {}),
      [header]: header === 'authorization' ? `Bearer ${value}` : value,
    },
  };
}

export async function runProbe(
  req: { url: string; headers: Record<string, string> },
  timeoutMs = 10_000,
): Promise<ProbeResult> {
  try {
    const res = await fetch(req.url, { headers: req.headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (res.ok) return { ok: true, status: res.status, detail: `${new URL(req.url).host} accepted it` };
    const why = res.status === 401 || res.status === 403 ? 'rejected it' : 'answered';
    return { ok: false, status: res.status, detail: `${new URL(req.url).host} ${why} (HTTP ${res.status})` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    return { ok: false, detail: `could not reach ${new URL(req.url).host} (${cause})` };
  }
}
