/**
 * `kubernetes.pull_secret` against a registry that wants a login: a test-owned docker-registry with
 * htpasswd auth on 127.0.0.1 (its own port). With the right Secret the pod pulls corral's image and
 * runs; with a Secret holding a wrong password the start fails at once with an error naming the
 * image, the registry and the secret (not a hang); `corral doctor`'s check says when it is missing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubernetesChecks } from '../../src/doctor/kubernetes.js';
import { connectEngine } from '../../src/engine/index.js';
import type { KubernetesEngine } from '../../src/engine/kubernetes/index.js';
import { LOCAL_CONTAINERD } from '../../src/engine/kubernetes/index.js';
import { gatewayImage } from '../helpers/engines.js';
import { KUBE_NAMESPACE, KUBE_SKIP, kubeEngine } from '../helpers/kube.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';
/** bcrypt for htpasswd without a bcrypt library here: Python's crypt module has it. */
const bcrypt = (pw: string) =>
  execFileSync('python3', [
    '-W',
    'ignore',
    '-c',
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
    pw,
  ])
    .toString()
    .trim();
const skip = KUBE_SKIP || !existsSync(REGISTRY_BIN);

describe.skipIf(skip)('kubernetes.pull_secret', () => {
  it('pulls with the named secret; a wrong one fails fast, naming image, registry and secret', async () => {
    const engine = await kubeEngine();
    const dir = await mkdtemp(join(tmpdir(), 'corral-kreg-auth-'));
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const registry = `127.0.0.1:${port}`;
    const user = 'corral-test';
    const password = randomBytes(12).toString('hex');
    await writeFile(join(dir, 'htpasswd'), `${user}:${bcrypt(password)}\n`);
    await writeFile(
      join(dir, 'config.yml'),
      `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${dir}/data}}\nhttp: {addr: ${registry}}\n` +
        `auth: {htpasswd: {realm: corral-test, path: ${dir}/htpasswd}}\n`,
    );
    const server = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    const tool = engine.builder.kind === 'podman' ? 'podman' : 'docker';
    const secretOf = (name: string, pw: string) => ({
      metadata: { name },
      type: 'kubernetes.io/dockerconfigjson',
      stringData: {
        '.dockerconfigjson': JSON.stringify({
          auths: { [registry]: { auth: Buffer.from(`${user}:${pw}`).toString('base64') } },
        }),
      },
    });
    const names = { good: 'corral-test-pull', bad: 'corral-test-pull-wrong' };
    const pods: [KubernetesEngine, string][] = [];
    try {
      for (let i = 0; i < 50; i++) {
        if ((await fetch(`http://${registry}/v2/`).catch(() => undefined))?.status === 401) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const image = await gatewayImage(engine.builder);
      // corral pushes with the build engine's own login for the registry.
      execFileSync(
        tool,
        [
          'login',
          ...(tool === 'podman' ? ['--tls-verify=false'] : []),
          '-u',
          user,
          '--password-stdin',
          registry,
        ],
        { input: password },
      );
      await engine.c.core.createNamespacedSecret({
        namespace: KUBE_NAMESPACE,
        body: secretOf(names.good, password),
      });
      await engine.c.core.createNamespacedSecret({
        namespace: KUBE_NAMESPACE,
        body: secretOf(names.bad, 'wrong'),
      });
      const withSecret = async (pullSecret: string) =>
        (await connectEngine('kubernetes', undefined, {
          kubernetes: { namespace: KUBE_NAMESPACE, registry, pull_secret: pullSecret },
        })) as KubernetesEngine;
      const start = async (k: KubernetesEngine) => {
        const name = `corral-pulltest-${Date.now().toString(36)}`;
        pods.push([k, name]);
        const id = await k.createContainer({
          name,
          image,
          cmd: ['node', '-e', 'console.log("pulled with a login")'],
          env: {},
          labels: { 'io.corral.managed': 'true' },
          user: '1000:1000',
          workdir: '/',
          tty: false,
          openStdin: false,
          mounts: [],
          capDrop: ['ALL'],
          noNewPrivileges: true,
        });
        await k.startContainer(id);
        return { k, id };
      };

      const good = await start(await withSecret(names.good));
      expect(await good.k.wait(good.id)).toBe(0);
      const pod = await good.k.c.core.readNamespacedPod({ name: good.id, namespace: KUBE_NAMESPACE });
      expect(pod.spec?.imagePullSecrets).toEqual([{ name: names.good }]);

      // The same image, not on the node now: a wrong password must fail the start, not hang it.
      const refs = ctrImages().filter((r) => r.startsWith(`${registry}/`));
      if (refs.length) ctr('rm', ...refs);
      const began = Date.now();
      const failed = await start(await withSecret(names.bad)).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(failed?.message).toContain(image.replace(/^localhost\//, ''));
      expect(failed?.message).toContain(registry);
      expect(failed?.message).toContain(names.bad);
      expect(Date.now() - began).toBeLessThan(60_000);
      console.log(`wrong pull secret refused in ${((Date.now() - began) / 1000).toFixed(1)} s`);

      // doctor: named but missing.
      const missing = await withSecret('corral-test-no-such-secret');
      const checks = await kubernetesChecks(missing);
      expect(checks.find((c) => c.name === 'pull secret')).toMatchObject({ status: 'fail' });
    } finally {
      for (const [k, name] of pods) await k.remove(name).catch(() => undefined);
      for (const name of Object.values(names)) {
        await engine.c.core
          .deleteNamespacedSecret({ name, namespace: KUBE_NAMESPACE })
          .catch(() => undefined);
      }
      try {
        execFileSync(tool, ['logout', registry], { stdio: 'ignore' });
      } catch {}
      server.kill();
      try {
        const refs = ctrImages().filter((r) => r.startsWith(`${registry}/`));
        if (refs.length) ctr('rm', ...refs);
      } catch {}
      execFileSync('rm', ['-rf', dir]);
    }
  });
});

function ctr(...a: string[]): string {
  return execFileSync('ctr', ['--address', LOCAL_CONTAINERD, '-n', 'k8s.io', 'images', ...a]).toString();
}
function ctrImages(): string[] {
  return ctr('ls', '-q').split('\n').filter(Boolean);
}
