/**
 * Ensuring an agent's image: plan the layer chain (rootfs → base → node → agent), then build only
 * the layers whose content tag is missing. Tags are content hashes, so "missing" means "an input
 * changed" and a second call builds nothing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AgentSpec, Install } from '../agents/types.js';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError, isCorralError } from '../errors.js';
import { buildContext, CONTAINERFILE } from './context.js';
import { detectHostCa } from './host-ca.js';
import { nodeTarballs } from './node-dist.js';
import { type Progress, silentProgress } from './progress.js';
import {
  agentRecipe,
  baseRecipe,
  type LayerRecipe,
  nodeRecipe,
  type RootfsRecipe,
  rootfsExtras,
  rootfsRecipe,
  type Suite,
  suiteFor,
} from './recipes.js';
import { ensureRootfs } from './rootfs.js';
import { isExactVersion, type PypiProject, parseNpmViewVersion, pickPypiVersion } from './versions.js';

export { consoleProgress, type Progress, silentProgress } from './progress.js';

const run = promisify(execFile);
const REGISTRY_TIMEOUT_MS = 60_000;

export interface BuildSettings {
  cacheDir: string;
  /** auto | off | path to a PEM file. */
  hostCa: 'auto' | 'off' | (string & {});
  /** Registry image to try before debootstrap; `{suite}` is the Debian release. */
  baseImage?: string;
}

export interface ImagePlan {
  rootfs: RootfsRecipe;
  /** base, node, agent: each FROM the one before. */
  layers: LayerRecipe[];
  install: Install;
}

async function askRegistry(install: Install, requested: string): Promise<string | undefined> {
  if (install.kind === 'npm') {
    const { stdout } = await run('npm', ['view', `${install.package}@${requested}`, 'version', '--json'], {
      timeout: REGISTRY_TIMEOUT_MS,
    });
    return parseNpmViewVersion(stdout);
  }
  const res = await fetch(`https://pypi.org/pypi/${encodeURIComponent(install.package)}/json`, {
    signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`PyPI answered ${res.status}`);
  return pickPypiVersion((await res.json()) as PypiProject, requested);
}

/** undefined → the pinned version; an exact version as is; `latest` or a range → asked of the registry. */
export async function resolveAgentVersion(agent: AgentSpec, requested?: string): Promise<Install> {
  const install = agent.install;
  if (!requested || requested === install.version) return install;
  if (isExactVersion(requested)) return { ...install, version: requested.replace(/^v/, '') };
  let version: string | undefined;
  try {
    version = await askRegistry(install, requested);
  } catch (e) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `Cannot resolve ${install.package}@${requested}: ${(e as Error).message.split('\n')[0]}`,
      `Check that the ${install.kind === 'npm' ? 'npm registry' : 'PyPI'} is reachable, or use an exact version in agents.${agent.name}.version.`,
      { cause: e },
    );
  }
  if (!version) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `No released version of ${install.package} matches "${requested}".`,
      `Use "latest", a range or an exact version in agents.${agent.name}.version.`,
    );
  }
  return { ...install, version };
}

/** Every layer's recipe and tag, computed without building anything. */
export async function planAgentImage(
  agent: AgentSpec,
  install: Install,
  settings: BuildSettings,
): Promise<ImagePlan> {
  const chain = await planNodeChain(settings, suiteFor(install), rootfsExtras(install));
  return { ...chain, install, layers: [...chain.layers, agentRecipe(chain.layers[1]!.tag, agent, install)] };
}

/** rootfs → base → node: what every agent image and the gateway image start from. */
export async function planNodeChain(
  settings: BuildSettings,
  suite: Suite = 'bookworm',
  extras: string[] = [],
): Promise<{ rootfs: RootfsRecipe; layers: LayerRecipe[] }> {
  const rootfs = rootfsRecipe(suite, extras);
  const base = baseRecipe(rootfs.tag, detectHostCa(settings.hostCa));
  const node = nodeRecipe(base.tag, await nodeTarballs(settings.cacheDir));
  return { rootfs, layers: [base, node] };
}

/** Build the layers of a chain whose tags are missing (and `force`d ones), as numbered steps. */
export async function buildMissing(
  engine: ContainerEngine,
  chain: (LayerRecipe | RootfsRecipe)[],
  label: (layer: LayerRecipe | RootfsRecipe) => string,
  opts: { force?: LayerRecipe; noCache?: boolean; settings: BuildSettings; progress: Progress },
): Promise<string[]> {
  const todo: (LayerRecipe | RootfsRecipe)[] = [];
  for (const layer of chain) {
    if (layer === opts.force || !(await engine.imageExists(layer.tag))) todo.push(layer);
  }
  for (const [i, layer] of todo.entries()) {
    await buildStep(engine, layer, label(layer), [i + 1, todo.length], opts);
  }
  return todo.map((l) => l.tag);
}

/** The progress label of a chain layer below an agent or the gateway. */
export function chainLabel(layer: LayerRecipe | RootfsRecipe): string | undefined {
  if (!('kind' in layer)) return `rootfs: Debian ${layer.suite}`;
  if (layer.kind === 'base') return `base: sandbox user${'host-ca.pem' in layer.files ? ' and host CA' : ''}`;
  if (layer.kind === 'node') return `node: Node ${layer.labels['io.corral.node-version']} toolchain`;
  return undefined;
}

function stepLabel(layer: LayerRecipe | RootfsRecipe, agent: AgentSpec, install: Install): string {
  return chainLabel(layer) ?? `${agent.name}: ${install.package}@${install.version}`;
}

/** What to suggest when a build step fails, judged from its last output lines. */
export function buildFailureHint(tail: string[]): string {
  const text = tail.join('\n');
  if (/certificate|UNABLE_TO_GET_ISSUER|SELF_SIGNED|CERT_|SSL|tls: /i.test(text)) {
    return 'A download failed TLS verification. Behind an HTTPS-intercepting proxy, set host_ca to its CA file (PEM) or install the CA under /usr/local/share/ca-certificates, then rebuild.';
  }
  if (
    /ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ECONNREFUSED|Temporary failure resolving|Could not resolve|timed out|Network is unreachable/i.test(
      text,
    )
  ) {
    return 'A download failed: check that the package registries (npm, PyPI, Debian) are reachable from containers, then re-run.';
  }
  return 'Re-run with --rebuild --no-cache; if a download failed, check the network and that host_ca covers your proxy.';
}

async function buildLayer(
  engine: ContainerEngine,
  layer: LayerRecipe | RootfsRecipe,
  opts: { noCache?: boolean; settings: BuildSettings; progress: Progress },
): Promise<void> {
  if (!('kind' in layer)) {
    await ensureRootfs(engine, layer, {
      cacheDir: opts.settings.cacheDir,
      ...(opts.settings.baseImage ? { baseImage: opts.settings.baseImage } : {}),
      progress: opts.progress,
    });
    return;
  }
  await engine.buildImage({
    context: buildContext(layer),
    dockerfile: CONTAINERFILE,
    tag: layer.tag,
    labels: layer.labels,
    ...(opts.noCache ? { noCache: true } : {}),
    onOutput: (l) => opts.progress.line(l),
  });
}

/** Build one layer as a numbered progress step; a failure names the step and its last output. */
export async function buildStep(
  engine: ContainerEngine,
  layer: LayerRecipe | RootfsRecipe,
  label: string,
  [n, of]: [number, number],
  opts: { noCache?: boolean; settings: BuildSettings; progress: Progress },
): Promise<void> {
  const { progress } = opts;
  progress.step(label, n, of);
  try {
    await buildLayer(engine, layer, opts);
  } catch (e) {
    const tail = progress.tail();
    progress.fail();
    if (isCorralError(e) && e.code !== 'IMAGE_BUILD_FAILED') throw e;
    const hint = buildFailureHint([...tail, (e as Error).message]);
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `${label} failed: ${(e as Error).message}${tail.length ? `\n  last output:\n    ${tail.join('\n    ')}` : ''}`,
      isCorralError(e) && e.hint ? e.hint : hint,
      { cause: e },
    );
  }
}

export async function ensureAgentImage(
  engine: ContainerEngine,
  agent: AgentSpec,
  opts: {
    version?: string;
    /** Rebuild the agent layer even if its tag exists (the layers below are reused). */
    rebuild?: boolean;
    noCache?: boolean;
    settings: BuildSettings;
    progress?: Progress;
  },
): Promise<{ tag: string; built: string[] }> {
  if (agent.unavailable) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `${agent.displayName} cannot be installed here: ${agent.unavailable}.`,
      `Build an image with it yourself and set agents.${agent.name}.image in config.`,
    );
  }
  const progress = opts.progress ?? silentProgress();
  const install = await resolveAgentVersion(agent, opts.version);
  const plan = await planAgentImage(agent, install, opts.settings);
  const agentLayer = plan.layers.at(-1)!;
  if (!opts.rebuild && (await engine.imageExists(agentLayer.tag))) return { tag: agentLayer.tag, built: [] };

  const built = await buildMissing(
    engine,
    [plan.rootfs, ...plan.layers],
    (l) => stepLabel(l, agent, install),
    {
      ...opts,
      progress,
      ...(opts.rebuild ? { force: agentLayer } : {}),
    },
  );
  progress.done(`built ${agentLayer.tag}`);
  return { tag: agentLayer.tag, built };
}
