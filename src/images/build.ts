/**
 * Ensuring an agent's image: plan the layer chain (rootfs → base → node → agent), then build only
 * the layers whose content tag is missing. Tags are content hashes, so "missing" means "an input
 * changed" and a second call builds nothing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AgentSpec, Install } from '../agents/types.js';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
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
  suiteFor,
} from './recipes.js';
import { ensureRootfs } from './rootfs.js';

export { consoleProgress, type Progress, silentProgress } from './progress.js';

const run = promisify(execFile);

export interface BuildSettings {
  cacheDir: string;
  /** auto | off | path to a PEM file. */
  hostCa: string;
  /** Registry image to try before debootstrap; `{suite}` is the Debian release. */
  baseImage?: string;
}

export interface ImagePlan {
  rootfs: RootfsRecipe;
  layers: LayerRecipe[];
  install: Install;
}

const EXACT = /^\d+\.\d+\.\d+([-.+][\w.-]+)?$/;

/** undefined → the pinned version; an exact version as is; `latest` or a range → asked of the registry. */
export async function resolveAgentVersion(agent: AgentSpec, requested?: string): Promise<Install> {
  const install = agent.install;
  if (!requested || requested === install.version) return install;
  if (EXACT.test(requested)) return { ...install, version: requested };
  try {
    if (install.kind === 'npm') {
      const { stdout } = await run('npm', ['view', `${install.package}@${requested}`, 'version', '--json']);
      const parsed = JSON.parse(stdout) as string | string[];
      const version = Array.isArray(parsed) ? parsed.at(-1) : parsed;
      if (!version) throw new Error('no matching version');
      return { ...install, version };
    }
    const res = await fetch(`https://pypi.org/pypi/${install.package}/json`);
    if (!res.ok) throw new Error(`PyPI answered ${res.status}`);
    const version = ((await res.json()) as { info: { version: string } }).info.version;
    if (requested !== 'latest')
      throw new Error('only exact versions or "latest" are supported for PyPI packages');
    return { ...install, version };
  } catch (e) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `Cannot resolve ${install.package}@${requested}: ${(e as Error).message.split('\n')[0]}`,
      `Use an exact version or "latest" in agents.${agent.name}.version.`,
    );
  }
}

export async function planAgentImage(
  agent: AgentSpec,
  install: Install,
  settings: BuildSettings,
): Promise<ImagePlan> {
  const rootfs = rootfsRecipe(suiteFor(install), rootfsExtras(install));
  const base = baseRecipe(rootfs.tag, detectHostCa(settings.hostCa));
  const node = nodeRecipe(base.tag, await nodeTarballs(settings.cacheDir));
  return { rootfs, install, layers: [base, node, agentRecipe(node.tag, agent, install)] };
}

const LAYER_LABEL: Record<LayerRecipe['kind'], string> = {
  base: 'base: sandbox user and host CA',
  node: 'node: Node.js toolchain',
  agent: 'agent',
};

export async function ensureAgentImage(
  engine: ContainerEngine,
  agent: AgentSpec,
  opts: {
    version?: string;
    rebuild?: boolean;
    noCache?: boolean;
    settings: BuildSettings;
    progress?: Progress;
  },
): Promise<{ tag: string; built: string[] }> {
  const progress = opts.progress ?? silentProgress();
  const install = await resolveAgentVersion(agent, opts.version);
  const plan = await planAgentImage(agent, install, opts.settings);
  const agentLayer = plan.layers.at(-1)!;
  if (!opts.rebuild && (await engine.imageExists(agentLayer.tag))) return { tag: agentLayer.tag, built: [] };

  const todo: (LayerRecipe | RootfsRecipe)[] = [];
  if (!(await engine.imageExists(plan.rootfs.tag))) todo.push(plan.rootfs);
  for (const layer of plan.layers) {
    const isAgent = layer === agentLayer;
    if ((isAgent && opts.rebuild) || !(await engine.imageExists(layer.tag))) todo.push(layer);
  }
  const built: string[] = [];
  for (const [i, layer] of todo.entries()) {
    const label =
      'kind' in layer
        ? layer.kind === 'agent'
          ? `${agent.name}: ${install.package}@${install.version}`
          : LAYER_LABEL[layer.kind]
        : `rootfs: Debian ${layer.suite}`;
    progress.step(label, i + 1, todo.length);
    try {
      if ('kind' in layer) {
        await engine.buildImage({
          context: buildContext(layer),
          dockerfile: CONTAINERFILE,
          tag: layer.tag,
          labels: layer.labels,
          ...(opts.noCache ? { noCache: true } : {}),
          onOutput: (l) => progress.line(l),
        });
      } else {
        await ensureRootfs(engine, layer, {
          cacheDir: opts.settings.cacheDir,
          ...(opts.settings.baseImage ? { baseImage: opts.settings.baseImage } : {}),
          progress,
        });
      }
    } catch (e) {
      progress.done();
      const tail = progress.tail().slice(-20);
      if (e instanceof CorralError && e.code === 'IMAGE_BUILD_FAILED') {
        throw new CorralError(
          e.code,
          `${label}: ${e.message}${tail.length ? `\n  ${tail.join('\n  ')}` : ''}`,
          e.hint ?? BUILD_HINT,
          { cause: e },
        );
      }
      throw e;
    }
    built.push(layer.tag);
  }
  progress.done(built.length ? `built ${agentLayer.tag}` : undefined);
  return { tag: agentLayer.tag, built };
}

const BUILD_HINT =
  'Re-run with --rebuild --no-cache; if a download failed, check the network and that host_ca covers your proxy.';
