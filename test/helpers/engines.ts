/**
 * Which engines the integration and e2e suites run on (CORRAL_TEST_ENGINES, default both), and the
 * images they use, built once per engine and reused across test files.
 */

import { resolveAgent } from '../../src/agents/index.js';
import { corralPaths } from '../../src/config/load.js';
import { type ContainerEngine, connectEngine, type EngineKind } from '../../src/engine/index.js';
import { type BuildSettings, consoleProgress, ensureAgentImage } from '../../src/images/build.js';

const requested = (process.env.CORRAL_TEST_ENGINES ?? 'podman docker')
  .split(/[\s,]+/)
  .filter(Boolean) as EngineKind[];

async function reachable(kind: EngineKind): Promise<boolean> {
  try {
    await connectEngine(kind);
    return true;
  } catch (e) {
    console.warn(`[skip] ${kind} tests: engine not reachable (${(e as Error).message.split('\n')[0]})`);
    return false;
  }
}

export const TEST_ENGINES: EngineKind[] = [];
for (const kind of requested) if (await reachable(kind)) TEST_ENGINES.push(kind);

export function engineFor(kind: EngineKind): Promise<ContainerEngine> {
  return connectEngine(kind);
}

export function testBuildSettings(): BuildSettings {
  return { cacheDir: process.env.CORRAL_CACHE_DIR ?? corralPaths.cache, hostCa: 'auto' };
}

const built = new Map<string, Promise<string>>();

export function agentImage(engine: ContainerEngine, agentName: string): Promise<string> {
  const key = `${engine.kind}:${agentName}`;
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
