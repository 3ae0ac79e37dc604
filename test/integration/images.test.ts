/**
 * Layered, content-tagged images on real engines: the cached rootfs tarball imports into each
 * engine, the claude image builds (and a second ensure builds nothing), the host CA is inside, a
 * failing step says which step and shows its output, and every agent's CLI prints its version as
 * the sandbox user. corral/* images are kept afterwards on purpose: other suites reuse them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AGENTS, resolveAgent } from '../../src/agents/index.js';
import { ensureAgentImage, planAgentImage, silentProgress } from '../../src/images/build.js';
import { detectHostCa } from '../../src/images/host-ca.js';
import { HOST_CA_PATH, rootfsRecipe, shellQuote } from '../../src/images/recipes.js';
import { bootstrapTarball } from '../../src/images/rootfs.js';
import {
  agentImage,
  engineFor,
  moreAgentsSkipped,
  runInImage,
  SKIPPED_ENGINES,
  TEST_ENGINES,
  testBuildSettings,
  unbuildableReason,
} from '../helpers/engines.js';

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

for (const { kind, reason } of SKIPPED_ENGINES) describe.skip(`images on ${kind}: ${reason}`, () => {});

for (const kind of TEST_ENGINES) {
  describe(`images on ${kind}`, () => {
    it('imports the cached Debian rootfs tarball (no apt lists inside, runs as any uid)', async () => {
      const engine = await engineFor(kind);
      const recipe = rootfsRecipe('bookworm');
      let t = Date.now();
      // Bootstraps once per machine (needs root and the Debian mirror); afterwards a cache hit.
      const tarball = await bootstrapTarball(recipe, testBuildSettings().cacheDir, silentProgress());
      console.info(
        `[measure] rootfs tarball ${recipe.suite}: ${seconds(t)}s, ${((await stat(tarball)).size / 1e6).toFixed(0)} MB`,
      );
      const tag = `localhost/corral-test-rootfs:${process.pid}-${Date.now()}`;
      t = Date.now();
      await engine.importImage(createReadStream(tarball), tag, ['CMD ["/bin/bash"]']);
      console.info(`[measure] import on ${kind}: ${seconds(t)}s`);
      try {
        const r = await runInImage(engine, tag, [
          'sh',
          '-c',
          'cat /etc/debian_version; id -u; ls /var/lib/apt/lists | wc -l; command -v git; command -v curl',
        ]);
        expect(r.code).toBe(0);
        const [debian, uid, lists, git, curl] = r.output.trim().split('\n');
        expect(debian).toMatch(/^12\./);
        expect(uid).toBe('1000');
        expect(lists).toBe('0');
        expect(git).toBe('/usr/bin/git');
        expect(curl).toBe('/usr/bin/curl');
      } finally {
        await engine.removeImage(tag);
      }
    });

    it('builds the claude image in layers, runs it as uid 1000, and rebuilds nothing the second time', async () => {
      const engine = await engineFor(kind);
      const claude = resolveAgent('claude');
      const tag = await agentImage(engine, 'claude');
      expect(tag).toMatch(/^localhost\/corral\/claude:[0-9a-f]{12}$/);
      const t = Date.now();
      const again = await ensureAgentImage(engine, claude, { settings: testBuildSettings() });
      const took = Date.now() - t;
      expect(again).toEqual({ tag, built: [] });
      expect(took).toBeLessThan(3_000);
      const r = await runInImage(engine, tag, ['sh', '-c', 'id -u; id -g; claude --version; node --version']);
      expect(r.code).toBe(0);
      const [uid, gid, version, node] = r.output.trim().split('\n');
      expect(uid).toBe('1000');
      expect(gid).toBe('1000');
      expect(version).toContain(claude.install.version);
      expect(node).toMatch(/^v22\./);
    });

    it('carries the host CA into the base image when the host has one', async (ctx) => {
      const ca = detectHostCa('auto');
      if (!ca) {
        console.warn('[skip] host has no extra CA to propagate');
        ctx.skip('host has no extra CA to propagate');
      }
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      const claude = resolveAgent('claude');
      const plan = await planAgentImage(claude, claude.install, testBuildSettings());
      const base = plan.layers[0]!;
      expect(base.kind).toBe('base');
      expect(await engine.imageExists(base.tag)).toBe(true);
      const r = await runInImage(engine, base.tag, [
        'sh',
        '-c',
        `echo "$NODE_EXTRA_CA_CERTS"; echo "$SSL_CERT_FILE"; cat ${HOST_CA_PATH}; echo ===; cat /etc/ssl/certs/ca-certificates.crt`,
      ]);
      expect(r.code).toBe(0);
      const [env, sslFile, ...rest] = r.output.split('\n');
      expect(env).toBe(HOST_CA_PATH);
      expect(sslFile).toBe('/etc/ssl/certs/ca-certificates.crt');
      const [pem, bundle] = rest.join('\n').split('===\n');
      expect(pem).toBe(ca!.toString());
      // Appended to the system bundle too, for tools that ignore NODE_EXTRA_CA_CERTS (pip, curl, git).
      for (const cert of ca!
        .toString()
        .split(/(?<=-----END CERTIFICATE-----)\n/)
        .filter(Boolean)) {
        expect(bundle).toContain(cert.trim());
      }
    });

    it('reports a failing build step with its output and leaves no image behind', async () => {
      const engine = await engineFor(kind);
      await agentImage(engine, 'claude');
      // claude's install RUN is the engine's build cache; only the smoke test fails.
      const broken = {
        ...resolveAgent('claude'),
        name: 'corral-test-broken',
        versionCommand: ['sh', '-c', 'echo corral-test-marker-output; exit 3'],
      };
      const err = await ensureAgentImage(engine, broken, { settings: testBuildSettings() }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'IMAGE_BUILD_FAILED' });
      const e = err as Error & { hint?: string };
      expect(e.message).toContain('corral-test-broken: @anthropic-ai/claude-code@');
      expect(e.message).toContain('corral-test-marker-output');
      expect(e.hint).toBeTruthy();
      const plan = await planAgentImage(broken, broken.install, testBuildSettings());
      expect(await engine.imageExists(plan.layers.at(-1)!.tag)).toBe(false);
    });
  });
}

// Every agent, on the first engine only (CI time): the CLI installs and runs as the non-root user.
const first = TEST_ENGINES[0];
describe.skipIf(!first)(`every agent's CLI prints its version as the non-root user (${first})`, () => {
  for (const agent of AGENTS) {
    it(`${agent.name}: ${agent.versionCommand.join(' ')} prints ${agent.install.version}`, async (ctx) => {
      const engine = await engineFor(first!);
      const plan = await planAgentImage(agent, agent.install, testBuildSettings());
      // An image built earlier needs no registry; a missing one needs its registry to answer.
      const reason =
        moreAgentsSkipped(agent.name) ??
        (!(await engine.imageExists(plan.layers.at(-1)!.tag)) && (await unbuildableReason(agent.name)));
      if (reason) {
        console.warn(`[skip] ${agent.name}: ${reason}`);
        ctx.skip(reason);
      }
      const t = Date.now();
      const tag = await agentImage(engine, agent.name);
      const size = (await engine.listImages(['io.corral.image=agent'])).find((i) =>
        i.tags.includes(tag),
      )?.size;
      console.info(
        `[measure] ${agent.name} image ${tag}: ensured in ${seconds(t)}s, ${((size ?? 0) / 1e6).toFixed(0)} MB`,
      );
      const r = await runInImage(engine, tag, [
        'sh',
        '-c',
        `id -u && ${agent.versionCommand.map(shellQuote).join(' ')}`,
      ]);
      expect(r.code, r.output).toBe(0);
      expect(r.output.split('\n')[0]).toBe('1000');
      expect(r.output).toContain(agent.install.version);
    });
  }
});
