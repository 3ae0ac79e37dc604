/** A tiny service image for service tests, built locally on corral's own claude image (no registry). */
import type { ContainerEngine } from '../../src/engine/index.js';
import { buildContext } from '../../src/images/context.js';
import { agentImage } from './engines.js';

/** Answers `echo-ok <path>`, logs `HIT <path>`, and writes into its VOLUME (/data). */
const SERVER = `require('fs').writeFileSync('/data/started','1');require('http').createServer((q,s)=>{console.log('HIT '+q.url);s.end('echo-ok '+q.url)}).listen(8080,()=>console.log('listening'))`;

export async function buildEchoImage(engine: ContainerEngine, tag: string): Promise<void> {
  const base = await agentImage(engine, 'claude');
  const containerfile = [
    `FROM ${base}`,
    'USER 0',
    'EXPOSE 8080',
    'VOLUME /data',
    `CMD ["node", "-e", ${JSON.stringify(SERVER)}]`,
    '',
  ].join('\n');
  await engine.buildImage({
    context: buildContext({ containerfile, files: {} }),
    dockerfile: 'Containerfile',
    tag,
    labels: { 'io.corral.test': 'true' },
  });
}
