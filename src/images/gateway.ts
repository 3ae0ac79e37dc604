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
import { type Progress, silentProgress } from './progress.js';
import { type LayerRecipe, layer, REPO } from './recipes.js';

export const GATEWAY_BUNDLE = fileURLToPath(new URL('../gateway/gateway.bundle.mjs', import.meta.url));

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

export async function planGatewayImage(settings: BuildSettings): Promise<LayerRecipe[]> {
  const chain = await planNodeChain(settings);
  return [...chain.layers, gatewayRecipe(chain.layers.at(-1)!.tag, await readBundle())];
}

export async function ensureGatewayImage(
  engine: ContainerEngine,
  settings: BuildSettings,
  progress: Progress = silentProgress(),
): Promise<string> {
  const chain = await planNodeChain(settings);
  const recipe = gatewayRecipe(chain.layers.at(-1)!.tag, await readBundle());
  if (await engine.imageExists(recipe.tag)) return recipe.tag;
  await buildMissing(
    engine,
    [chain.rootfs, ...chain.layers, recipe],
    (l) => chainLabel(l) ?? 'gateway: egress proxy',
    {
      settings,
      progress,
    },
  );
  progress.done(`built ${recipe.tag}`);
  return recipe.tag;
}
