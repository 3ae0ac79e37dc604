/**
 * Which engines the integration and e2e suites run on (CORRAL_TEST_ENGINES, default both), and the
 * images they use, built once per engine and reused across test files (corral/* images are kept
 * after the run: the next run, and the other suites, start warm).
 */
import { PassThrough } from 'node:stream';
import { resolveAgent } from '../../src/agents/index.js';
import { corralPaths } from '../../src/config/load.js';
import { type ContainerEngine, connectEngine, type LocalEngineKind } from '../../src/engine/index.js';
import { type BuildSettings, consoleProgress, ensureAgentImage } from '../../src/images/build.js';
import { ensureGatewayImage } from '../../src/images/gateway.js';

const KINDS: readonly LocalEngineKind[] = ['podman', 'docker'];

function requestedEngines(): LocalEngineKind[] {
  const names = (process.env.CORRAL_TEST_ENGINES ?? 'podman docker').split(/[\s,]+/).filter(Boolean);
  const unknown = names.filter((n) => !KINDS.includes(n as LocalEngineKind));
  // A typo must fail loudly, not quietly test nothing.
  if (unknown.length) {
    throw new Error(`CORRAL_TEST_ENGINES: unknown engine ${unknown.join(', ')} (use ${KINDS.join(', ')})`);
  }
  return names as LocalEngineKind[];
}

/** Requested engines that did not answer, with the reason (printed once, at load). */
export const SKIPPED_ENGINES: { kind: LocalEngineKind; reason: string }[] = [];

/** Requested engines that answered, in the order requested. */
export const TEST_ENGINES: LocalEngineKind[] = [];

for (const kind of requestedEngines()) {
  try {
    await connectEngine(kind);
    TEST_ENGINES.push(kind);
  } catch (e) {
    const reason = `engine not reachable (${(e as Error).message.split('\n')[0]})`;
    SKIPPED_ENGINES.push({ kind, reason });
    console.warn(`[skip] ${kind} tests: ${reason}`);
  }
}

export function engineFor(kind: LocalEngineKind): Promise<ContainerEngine> {
  return connectEngine(kind);
}

export function testBuildSettings(): BuildSettings {
  return { cacheDir: process.env.CORRAL_CACHE_DIR ?? corralPaths.cache, hostCa: 'auto' };
}

const built = new Map<string, Promise<string>>();

/** The agent's image on this engine, built (only the missing layers) on first use, then memoized. */
export function agentImage(engine: ContainerEngine, agentName: string): Promise<string> {
  const key = `${engine.kind}:${engine.endpoint}:${agentName}`;
  let p = built.get(key);
  if (!p) {
    p = ensureAgentImage(engine, resolveAgent(agentName), {
      settings: testBuildSettings(),
      progress: consoleProgress(process.stderr),
    }).then((r) => r.tag);
    built.set(key, p);
  }
  return p;
}

/** The egress gateway's image on this engine (built once, as the test runner's user). */
export function gatewayImage(engine: ContainerEngine): Promise<string> {
  const key = `${engine.kind}:${engine.endpoint}:gateway`;
  let p = built.get(key);
  if (!p) {
    p = ensureGatewayImage(engine, testBuildSettings(), consoleProgress(process.stderr));
    built.set(key, p);
  }
  return p;
}

const reachability = new Map<string, Promise<string | undefined>>();

/**
 * Why this agent's image cannot be built here (its package registry does not answer), or
 * undefined. PyPI is not reachable from every machine; tests skip such agents with this reason.
 */
/**
 * Agents added with issue 17, whose image builds cost minutes: their image and e2e tests run only
 * with CORRAL_TEST_MORE_AGENTS=1 (.ci/run sets it).
 */
export const MORE_AGENTS = new Set(['qwen', 'cline', 'kilo', 'aider', 'hermes', 'crush', 'codebuff']);

export function moreAgentsSkipped(agentName: string): string | undefined {
  return MORE_AGENTS.has(agentName) && process.env.CORRAL_TEST_MORE_AGENTS !== '1'
    ? 'set CORRAL_TEST_MORE_AGENTS=1 to build and test the agents added in issue 17'
    : undefined;
}

export function unbuildableReason(agentName: string): Promise<string | undefined> {
  const agent = resolveAgent(agentName);
  if (agent.unavailable) return Promise.resolve(agent.unavailable);
  const install = agent.install;
  if (install.kind !== 'pip') return Promise.resolve(undefined);
  const url = `https://pypi.org/pypi/${install.package}/json`;
  let p = reachability.get(url);
  if (!p) {
    p = fetch(url, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        if (!r.ok) return `PyPI answered ${r.status} for ${install.package}`;
        const releases = ((await r.json()) as { releases?: Record<string, unknown> }).releases ?? {};
        return install.version in releases ? undefined : `PyPI has no ${install.package}==${install.version}`;
      })
      .catch((e: Error) => `PyPI is not reachable (${e.message})`);
    reachability.set(url, p);
  }
  return p;
}

/** Run a command to completion in a throwaway container (as the sandbox user by default); output merged. */
export async function runInImage(
  engine: ContainerEngine,
  image: string,
  cmd: string[],
  opts: { user?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; output: string }> {
  const id = await engine.createContainer({
    name: `corral-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    image,
    cmd,
    env: opts.env ?? {},
    labels: { 'io.corral.test': 'true' },
    user: opts.user ?? '1000:1000',
    workdir: '/',
    tty: false,
    openStdin: false,
    mounts: [],
    capDrop: ['ALL'],
    noNewPrivileges: true,
  });
  try {
    await engine.startContainer(id);
    const code = await engine.wait(id);
    const logs = await engine.logs(id, {});
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => logs.once('end', r));
    engine.demux(logs, sink, sink);
    await ended;
    return { code, output: Buffer.concat(chunks).toString() };
  } finally {
    await engine.remove(id, { force: true });
  }
}
