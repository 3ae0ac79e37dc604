/**
 * Layered, content-tagged images on real engines: the claude image builds (and a second ensure
 * builds nothing), the host CA is inside, and every agent's CLI prints its version as the
 * sandbox user.
 */
import { describe, expect, it } from 'vitest';
import { AGENTS, resolveAgent } from '../../src/agents/index.js';
import type { ContainerEngine } from '../../src/engine/index.js';
import { ensureAgentImage } from '../../src/images/build.js';
import { detectHostCa } from '../../src/images/host-ca.js';
import { agentImage, engineFor, TEST_ENGINES, testBuildSettings } from '../helpers/engines.js';

/** Run a command in a throwaway container as the sandbox user and collect its output. */
export async function runIn(engine: ContainerEngine, image: string, cmd: string[]) {
  const id = await engine.createContainer({
    name: `corral-test-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    image,
    cmd,
    env: {},
    labels: { 'io.corral.test': 'true' },
    user: '1000:1000',
    workdir: '/workspace',
    tty: false,
    openStdin: false,
    mounts: [],
    capDrop: ['ALL'],
    noNewPrivileges: true,
  });
  try {
    await engine.startContainer(id);
    const code = await engine.wait(id);
    const chunks: Buffer[] = [];
    const logs = await engine.logs(id, {});
    const { PassThrough } = await import('node:stream');
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    engine.demux(logs, sink, sink);
    await new Promise((r) => logs.once('end', r));
    return { code, output: Buffer.concat(chunks).toString() };
  } finally {
    await engine.remove(id, { force: true });
  }
}

for (const kind of TEST_ENGINES) {
  describe(`images on ${kind}`, () => {
    it('builds the claude image in layers and rebuilds nothing the second time', async () => {
      const engine = await engineFor(kind);
      const tag = await agentImage(engine, 'claude');
      expect(tag).toMatch(/^localhost\/corral\/claude:[0-9a-f]{12}$/);
      const again = await ensureAgentImage(engine, resolveAgent('claude'), { settings: testBuildSettings() });
      expect(again).toEqual({ tag, built: [] });
      const r = await runIn(engine, tag, ['sh', '-c', 'id -u; claude --version; node --version']);
      expect(r.code).toBe(0);
      const [uid, version, node] = r.output.trim().split('\n');
      expect(uid).toBe('1000');
      expect(version).toContain(resolveAgent('claude').install.version);
      expect(node).toMatch(/^v22\./);
    });

    it('carries the host CA into the image when the host has one', async () => {
      const ca = detectHostCa('auto');
      if (!ca) {
        console.warn('[skip] host has no extra CA to propagate');
        return;
      }
      const engine = await engineFor(kind);
      const tag = await agentImage(engine, 'claude');
      const firstCert = ca
        .toString()
        .split('-----END CERTIFICATE-----')[0]!
        .split('\n')
        .slice(1, 3)
        .join('\n');
      const r = await runIn(engine, tag, [
        'sh',
        '-c',
        'echo "$NODE_EXTRA_CA_CERTS"; cat /etc/ssl/certs/ca-certificates.crt',
      ]);
      expect(r.output.split('\n')[0]).toBe('/usr/local/share/corral/host-ca.pem');
      expect(r.output).toContain(firstCert);
    });
  });
}

// Every agent, on the first engine only: the CLI installs and runs as the non-root sandbox user.
const first = TEST_ENGINES[0];
describe.skipIf(!first)('every agent image', () => {
  for (const agent of AGENTS) {
    it(`${agent.name}: ${agent.versionCommand.join(' ')} prints ${agent.install.version} as uid 1000`, async () => {
      const engine = await engineFor(first!);
      const tag = await agentImage(engine, agent.name);
      const r = await runIn(engine, tag, ['sh', '-c', `id -u && ${agent.versionCommand.join(' ')}`]);
      expect(r.code).toBe(0);
      expect(r.output.split('\n')[0]).toBe('1000');
      expect(r.output).toContain(agent.install.version);
    });
  }
});
