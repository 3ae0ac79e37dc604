/**
 * corral on a real Kubernetes cluster (scripts/kube-up): run, shell, -d, exec, logs, list, stop and
 * clean through the built CLI; the sandbox pod's hardening read back from the API; NetworkPolicy
 * (kube-router) keeping a sandbox away from the host and from other workspaces' pods;
 * `kubernetes.workspace: git`, cloned in the sandbox through the gateway from a test-owned server;
 * `kubernetes.registry`: corral's image pushed to a registry the test starts on 127.0.0.1, pulled by the pod.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/index.js';
import { LOCAL_CONTAINERD } from '../../src/engine/kubernetes/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, gatewayImage } from '../helpers/engines.js';
import { KUBE_NAMESPACE, KUBE_SKIP, kubeConfigYaml, kubeEngine } from '../helpers/kube.js';

describe.skipIf(KUBE_SKIP)('kubernetes engine', () => {
  let engine: Awaited<ReturnType<typeof kubeEngine>>;
  let ws: string;
  let env: NodeJS.ProcessEnv;
  let probeServer: Server;
  let probePort = 0;
  let nodeIp = '';
  const run = (args: string[], cwd = ws) => corral(args, { cwd, env });

  beforeAll(async () => {
    engine = await kubeEngine();
    await agentImage(engine.builder, 'claude');
    ws = await realpath(await tempWorkspace());
    const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
    await writeFile(join(cfgDir, 'config.yaml'), kubeConfigYaml);
    env = { CORRAL_CONFIG: join(cfgDir, 'config.yaml'), KUBECONFIG: process.env.KUBECONFIG };
    // A test-owned "outside" on the node: a pod with a network reaches it, a sandbox must not.
    const node = (await engine.c.core.listNode()).items[0];
    nodeIp = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    probeServer = createServer((s) => s.end('reached\n'));
    probeServer.listen(0, nodeIp);
    await once(probeServer, 'listening');
    probePort = (probeServer.address() as { port: number }).port;
  });

  afterAll(async () => {
    probeServer?.close();
    if (!engine) return;
    for (const c of await engine.list({ labels: [`io.corral.workspace=${workspaceIdOf(ws)}`], all: true })) {
      await engine.remove(c.id, { force: true });
    }
  });

  it('runs a command in a pod: output, stderr and exit code come back, as uid 1000', async () => {
    const r = await run([
      'shell',
      'claude',
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'id -u; echo to-err >&2; exit 3',
    ]);
    expect(r.stdout).toContain('1000');
    expect(r.stderr + r.stdout).toContain('to-err');
    expect(r.code).toBe(3);
  });

  it('writes into the hostPath workspace, and the file comes back owned by the host user', async () => {
    const r = await run([
      'shell',
      'claude',
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'echo from-pod > made-in-pod.txt',
    ]);
    expect(r.code).toBe(0);
    const { readFile, stat } = await import('node:fs/promises');
    expect(await readFile(join(ws, 'made-in-pod.txt'), 'utf8')).toBe('from-pod\n');
    expect((await stat(join(ws, 'made-in-pod.txt'))).uid).toBe(process.getuid!());
  });

  it('detached: list, exec, logs, the hardened pod spec, stop', async () => {
    const d = await run([
      'shell',
      'claude',
      '-d',
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'echo hello-log; exec sleep 300',
    ]);
    expect(d.code, d.stderr).toBe(0);
    const list = await run(['list', '--json']);
    const rows = JSON.parse(list.stdout) as { agent: string; state: string; id: string }[];
    const mine = rows.find((x) => x.agent === 'claude');
    expect(mine, list.stdout).toBeDefined();
    const pods = await engine.c.core.listNamespacedPod({
      namespace: KUBE_NAMESPACE,
      labelSelector: `io.corral.workspace=${workspaceIdOf(ws)}`,
    });
    const pod = pods.items[0]!;
    const sc = pod.spec!.containers[0]!.securityContext!;
    expect(sc.runAsUser).toBe(1000);
    expect(sc.runAsGroup).toBe(1000);
    expect(sc.runAsNonRoot).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities?.drop).toContain('ALL');
    expect(sc.seccompProfile?.type).toBe('RuntimeDefault');
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.containers[0]!.resources?.limits?.memory).toBeDefined();
    // Inside, the kernel agrees: no capabilities, no_new_privs, seccomp filtering.
    const status = await run([
      'exec',
      'claude',
      '--',
      'sh',
      '-c',
      'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; id -u',
    ]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(status.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(status.stdout).toMatch(/Seccomp:\s+2/);
    expect(status.stdout).toContain('1000');
    const logs = await run(['logs', 'claude']);
    expect(logs.stdout + logs.stderr).toContain('hello-log');
    const stop = await run(['stop', 'claude']);
    expect(stop.code, stop.stderr).toBe(0);
    for (
      let i = 0;
      i < 50 && (await engine.list({ labels: [`io.corral.workspace=${workspaceIdOf(ws)}`] })).length;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await engine.list({ labels: [`io.corral.workspace=${workspaceIdOf(ws)}`] })).toEqual([]);
  });

  const probe = () => [
    'shell',
    'claude',
    '--',
    'sh',
    '-c',
    `timeout 4 bash -c 'exec 3<>/dev/tcp/${nodeIp}/${probePort}; head -1 <&3' && echo open || echo blocked`,
  ];

  it('NetworkPolicy: a pod with a network reaches the node, a sandbox without one does not', async () => {
    const open = await run([probe()[0]!, probe()[1]!, '--network', 'open', ...probe().slice(2)]);
    expect(open.stdout, open.stderr).toContain('reached');
    const none = await run([probe()[0]!, probe()[1]!, '--network', 'none', ...probe().slice(2)]);
    expect(none.stdout, none.stderr).toContain('blocked');
    expect(none.stdout).not.toContain('reached');
  });

  it("NetworkPolicy: a sandbox cannot reach another workspace's pod", async () => {
    const other = await realpath(await tempWorkspace());
    try {
      // The other workspace's pod listens (bash cannot; the image's node can) on its pod IP.
      const d = await run(
        [
          'shell',
          'claude',
          '-d',
          '--network',
          'open',
          '--',
          'sh',
          '-c',
          "exec node -e \"require('net').createServer(s=>s.end('pod-reached\\\\n')).listen(8099)\"",
        ],
        other,
      );
      expect(d.code, d.stderr).toBe(0);
      const [target] = await engine.list({ labels: [`io.corral.workspace=${workspaceIdOf(other)}`] });
      let ip = '';
      for (let i = 0; i < 50 && !ip; i++) {
        ip = (await engine.inspect(target!.id))?.networks.pod?.ip ?? '';
        if (!ip) await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const cmd = `timeout 4 bash -c 'exec 3<>/dev/tcp/${ip}/8099; head -1 <&3' && echo open || echo blocked`;
      // Control: from the host the pod answers, so "blocked" below is the policy, not a dead pod.
      const viaOpen = await run(['shell', 'claude', '--network', 'open', '--', 'sh', '-c', cmd]);
      expect(viaOpen.stdout, viaOpen.stderr).toContain('pod-reached');
      const viaSandbox = await run(['shell', 'claude', '--network', 'none', '--', 'sh', '-c', cmd]);
      expect(viaSandbox.stdout, viaSandbox.stderr).toContain('blocked');
    } finally {
      for (const c of await engine.list({
        labels: [`io.corral.workspace=${workspaceIdOf(other)}`],
        all: true,
      })) {
        await engine.remove(c.id, { force: true });
      }
    }
  });

  it('git: the workspace is cloned in the sandbox through the gateway, only from an allowed host', async () => {
    // A bare repository served over git's plain HTTP protocol on the node, as a git host would be.
    const root = await mkdtemp(join(tmpdir(), 'corral-kgit-'));
    const g = (args: string[], cwd: string) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd, stdio: 'pipe' });
    const src = join(root, 'src');
    execFileSync('mkdir', ['-p', src]);
    g(['init', '-q'], src);
    await writeFile(join(src, 'README'), 'from the git host\n');
    g(['add', '.'], src);
    g(['commit', '-qm', 'first'], src);
    g(['clone', '-q', '--bare', '.', '../repo.git'], src);
    g(['update-server-info'], join(root, 'repo.git'));
    const served: string[] = [];
    const http = createHttpServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      served.push(path);
      const body = path.includes('..') ? undefined : await readFile(join(root, path)).catch(() => undefined);
      if (!body) res.statusCode = 404;
      res.end(body ?? '');
    });
    http.listen(0, nodeIp);
    await once(http, 'listening');
    const port = (http.address() as { port: number }).port;
    const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
    await writeFile(
      join(cfgDir, 'config.yaml'),
      kubeConfigYaml.replace('kubernetes:\n', 'kubernetes:\n  workspace: git\n'),
    );
    const genv = { ...env, CORRAL_CONFIG: join(cfgDir, 'config.yaml') };
    const workspaces: string[] = [];
    const gitWorkspace = async () => {
      const w = await realpath(await tempWorkspace());
      workspaces.push(w);
      g(['init', '-q'], w);
      g(['remote', 'add', 'origin', `http://host.containers.internal:${port}/repo.git`], w);
      return w;
    };
    try {
      const allowed = await gitWorkspace();
      const cmd = ['sh', '-c', 'cat README; git log --format=%s; echo local-only > pod.txt'];
      const r = await corral(['shell', 'claude', '--allow-host', String(port), '--', ...cmd], {
        cwd: allowed,
        env: genv,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('from the git host');
      expect(r.stdout).toContain('first');
      expect(served).toContain('/repo.git/info/refs');
      // The clone is the sandbox's own: nothing lands in the folder here.
      expect(existsSync(join(allowed, 'README'))).toBe(false);
      expect(existsSync(join(allowed, 'pod.txt'))).toBe(false);
      // The next sandbox keeps the clone (and what was made in it).
      const again = await corral(['shell', 'claude', '--allow-host', String(port), '--', 'cat', 'pod.txt'], {
        cwd: allowed,
        env: genv,
      });
      expect(again.stdout, again.stderr).toContain('local-only');

      // Without the git host allowed, the gateway refuses the clone and the sandbox does not start.
      served.length = 0;
      const refused = await corral(['shell', 'claude', '--', 'cat', 'README'], {
        cwd: await gitWorkspace(),
        env: genv,
      });
      expect(refused.code).not.toBe(0);
      expect(refused.stdout + refused.stderr).toContain('not an allowed host port');
      expect(refused.stdout).not.toContain('from the git host');
      expect(served).toEqual([]);
    } finally {
      http.close();
      for (const w of workspaces) {
        await corral(['clean'], { cwd: w, env: genv });
        await engine.removeVolume(`corral-${workspaceIdOf(w)}-workspace`);
      }
    }
  });

  // Debian's docker-registry (scripts/setup installs it): a registry this test owns, on loopback.
  const REGISTRY_BIN = '/usr/bin/docker-registry';
  it.skipIf(!existsSync(REGISTRY_BIN))(
    'registry: corral pushes its image to kubernetes.registry and the pod pulls it from there',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'corral-kreg-'));
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const registry = `127.0.0.1:${port}`;
      await writeFile(
        join(dir, 'config.yml'),
        `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${dir}/data}}\nhttp: {addr: ${registry}}\n`,
      );
      const server = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
      const image = await gatewayImage(engine.builder);
      const name = `corral-regtest-${Date.now().toString(36)}`;
      let pulled = '';
      const k = (await connectEngine('kubernetes', undefined, {
        kubernetes: { namespace: KUBE_NAMESPACE, registry },
      })) as typeof engine;
      try {
        for (let i = 0; i < 50; i++) {
          if ((await fetch(`http://${registry}/v2/`).catch(() => undefined))?.ok) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const started = Date.now();
        const id = await k.createContainer({
          name,
          image,
          cmd: ['node', '-e', 'console.log("ran from the registry")'],
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
        expect(await k.wait(id)).toBe(0);
        console.log(`push + pull + run of ${image}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const pod = await k.c.core.readNamespacedPod({ name: id, namespace: KUBE_NAMESPACE });
        pulled = pod.spec?.containers[0]?.image ?? '';
        expect(pulled).toBe(`${registry}/${image.replace(/^localhost\//, '')}`);
        // The kubelet pulled it from there (an imported image is "already present on machine").
        const events = await k.c.core.listNamespacedEvent({
          namespace: KUBE_NAMESPACE,
          fieldSelector: `involvedObject.name=${id}`,
        });
        const pulls = events.items.filter((e) => e.reason === 'Pulled').map((e) => e.message ?? '');
        expect(pulls.join('\n')).toContain(`Successfully pulled image "${pulled}"`);
        const logs = await k.logs(id, {});
        const chunks: Buffer[] = [];
        for await (const c of logs) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).toString()).toContain('ran from the registry');
        // The registry has it under its tag (a later start finds it there and pushes nothing).
        const tag = image.split(':').pop();
        const head = await fetch(`http://${registry}/v2/corral/gateway/manifests/${tag}`, { method: 'HEAD' });
        expect(head.ok).toBe(true);
      } finally {
        await k.remove(name).catch(() => undefined);
        server.kill();
        // The cluster's copies of it (the tag and the digest the kubelet recorded) go too.
        const ctr = (...a: string[]) =>
          execFileSync('ctr', ['--address', LOCAL_CONTAINERD, '-n', 'k8s.io', 'images', ...a]).toString();
        try {
          const refs = ctr('ls', '-q')
            .split('\n')
            .filter((r) => r.startsWith(`${registry}/`));
          if (refs.length) ctr('rm', ...refs);
        } catch {}
        execFileSync('rm', ['-rf', dir]);
      }
    },
  );
});
