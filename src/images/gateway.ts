/**
 * The egress gateway's image: corral's Node layer plus one bundled file (dist/gateway/
 * gateway.bundle.mjs, made by `npm run build`). Its tag is the hash of the bundle and the layers
 * below, so a new corral version with a changed gateway gets a new image on its first run.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { type BuildSettings, buildMissing, chainLabel, planNodeChain } from './build.js';
import { contentHash } from './hash.js';
import { type Progress, silentProgress } from './progress.js';
import { type LayerRecipe, layer, REPO } from './recipes.js';

// From the package root, so tests running the TypeScript sources find the built bundle too.
export const GATEWAY_BUNDLE = fileURLToPath(
  new URL('../../dist/gateway/gateway.bundle.mjs', import.meta.url),
);

export function gatewayRecipe(nodeTag: string, bundle: Buffer): LayerRecipe {
  const containerfile = [
    `FROM ${nodeTag}`,
    'COPY gateway.mjs /opt/corral/gateway.mjs',
    'CMD ["node", "/opt/corral/gateway.mjs"]',
    '',
  ].join('\n');
  return layer('gateway', `${REPO}/gateway`, containerfile, { 'gateway.mjs': bundle });
}

async function readBundle(): Promise<Buffer> {
  if (!existsSync(GATEWAY_BUNDLE)) {
    throw new CorralError(
      'IMAGE_BUILD_FAILED',
      `The gateway bundle ${GATEWAY_BUNDLE} is missing.`,
      'Run `npm run build` in the corral checkout (it bundles the gateway with esbuild).',
    );
  }
  return readFile(GATEWAY_BUNDLE);
}

/**
 * Named by the bundle alone: an existing gateway image serves whatever Node layer it was built
 * on, so a run never needs the Node tarballs (or the npm registry) just to find it.
 */
export const gatewayTag = (bundle: Buffer): string => `${REPO}/gateway:${contentHash('gateway-v1', bundle)}`;

/** The tag ensureGatewayImage would give, without looking at the engine or building. */
export async function plannedGatewayImage(): Promise<string> {
  return gatewayTag(await readBundle());
}

export async function ensureGatewayImage(
  engine: ContainerEngine,
  settings: BuildSettings,
  progress: Progress = silentProgress(),
): Promise<string> {
  const bundle = await readBundle();
  const tag = gatewayTag(bundle);
  if (await engine.imageExists(tag)) return tag;
  const chain = await planNodeChain(settings);
  const recipe = { ...gatewayRecipe(chain.layers.at(-1)!.tag, bundle), tag };
  await buildMissing(
    engine,
    [chain.rootfs, ...chain.layers, recipe],
    (l) => chainLabel(l) ?? 'gateway: egress proxy',
    {
      settings,
      progress,
    },
  );
  progress.done(`built ${tag}`);
  return tag;
}
