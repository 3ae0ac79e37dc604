/**
 * corral on the test cluster as on one that is not this machine (`kubernetes.node_folders: false`):
 * no pod it makes has a hostPath volume (read back from the API), volumes are claims of a storage
 * class (served by a test-owned stand-in provisioner), and corral's files reach the gateway as
 * copies through the API. Attacked from the sandbox: the gateway, reached over the pod network,
 * allows the allowed port and refuses another, `corral egress log` shows both (from the running
 * gateway, and after it is gone), `corral egress allow` reaches the running gateway, and the key
 * given to the run is in the gateway pod but nowhere in the sandbox pod.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, gatewayImage } from '../helpers/engines.js';
import {
  KUBE_NAMESPACE,
  KUBE_SKIP,
  kubeEngine,
  noNodeFoldersYaml,
  startTestProvisioner,
} from '../helpers/kube.js';

/** Split so the command that searches for a secret never contains it whole. */
const needle = (s: string) => `"$(printf '%s%s' '${s.slice(0, 12)}' '${s.slice(12)}')"`;

describe.skipIf(KUBE_SKIP)('kubernetes without node folders', () => {
  let engine: Awaited<ReturnType<typeof kubeEngine>>;
  let provisioner: Awaited<ReturnType<typeof startTestProvisioner>>;
  let ws: string;
  let env: NodeJS.ProcessEnv;
  const servers: Server[] = [];
  const ports: number[] = [];
  const run = (args: string[]) => corral(args, { cwd: ws, env });

  beforeAll(async () => {
    engine = await kubeEngine();
    await agentImage(engine.builder, 'claude');
    await gatewayImage(engine.builder);
    provisioner = await startTestProvisioner();
    ws = await realpath(await tempWorkspace('corral-kcopy-'));
    const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
    await writeFile(join(cfgDir, 'config.yaml'), noNodeFoldersYaml);
    env = { CORRAL_CONFIG: join(cfgDir, 'config.yaml'), KUBECONFIG: process.env.KUBECONFIG };
    const nodeIp =
      (await engine.c.core.listNode()).items[0]?.status?.addresses?.find((a) => a.type === 'InternalIP')
        ?.address ?? '';
    // Two test-owned servers on the node: one the run allows, one it does not.
    for (const name of ['allowed', 'other']) {
      const s = createServer((_req, res) => res.end(`${name}-answered\n`));
      s.listen(0, nodeIp);
      await once(s, 'listening');
      servers.push(s);
      ports.push((s.address() as { port: number }).port);
    }
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    if (ws) await run(['clean']);
    // Its claims (the home, the workspace's copy) go with it.
    await provisioner?.stop();
  });

  it('no hostPath anywhere; the gateway over the pod network allows, refuses, logs; the key stays in the gateway', async () => {
    const key = `sk-ant-api03-${randomBytes(30).toString('hex')}`;
    const [allowed, other] = ports;
    const get = (port: number | undefined) =>
      `curl -sS --max-time 8 http://host.containers.internal:${port}/ || echo curl-failed`;
    const d = await run([
      'shell',
      'claude',
      '-d',
      '--network',
      'gateway',
      '--allow-host',
      String(allowed),
      '-e',
      `ANTHROPIC_API_KEY=${key}`,
      '--',
      'sh',
      '-c',
      'echo from-copy > made-in-pod.txt; exec sleep 300',
    ]);
    expect(d.code, d.stderr).toBe(0);
    const pods = (
      await engine.c.core.listNamespacedPod({
        namespace: KUBE_NAMESPACE,
        labelSelector: `io.corral.workspace=${workspaceIdOf(ws)}`,
      })
    ).items;
    const roles = pods.map((p) => p.metadata?.labels?.['io.corral.role']).sort();
    expect(roles).toEqual(['agent', 'gateway']);
    for (const p of pods) {
      expect(p.spec?.volumes?.filter((v) => v.hostPath) ?? [], p.metadata?.name).toEqual([]);
    }

    const yes = await run(['exec', 'claude', '--', 'sh', '-c', get(allowed)]);
    expect(yes.stdout, yes.stderr).toContain('allowed-answered');
    const no = await run(['exec', 'claude', '--', 'sh', '-c', get(other)]);
    expect(no.stdout).not.toContain('other-answered');

    // Both decisions are in the audit log, read from the running gateway pod.
    const decisions = async () =>
      (await run(['egress', 'log', '--json', '-n', '0'])).stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { port: number; decision: string });
    const live = await decisions();
    expect(
      live.find((e) => e.port === allowed && e.decision === 'allow'),
      JSON.stringify(live),
    ).toBeDefined();
    expect(
      live.find((e) => e.port === other && e.decision !== 'allow'),
      JSON.stringify(live),
    ).toBeDefined();

    // A rule added now reaches the running gateway (its settings are a copy in the pod).
    const add = await run(['egress', 'allow', `host.containers.internal:${other}`]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout + add.stderr).toContain('kubernetes');
    const now = await run(['exec', 'claude', '--', 'sh', '-c', get(other)]);
    expect(now.stdout, now.stderr).toContain('other-answered');

    // The key: in the gateway pod's copy of its settings (so the search below can find it)…
    const gateway = pods.find((p) => p.metadata?.labels?.['io.corral.role'] === 'gateway')!.metadata!.name!;
    const inGateway = await engine.exec(gateway, ['sh', '-c', `grep -rlF ${needle(key)} /etc/corral`]);
    expect(inGateway.stdout).toContain('gateway.json');
    // …and in the sandbox pod nowhere: no file, no process's environment or command line, no spec.
    const search = `grep -rlsF ${needle(key)} / --exclude-dir=proc --exclude-dir=sys; for p in /proc/[0-9]*; do grep -lsF ${needle(key)} $p/environ $p/cmdline; done; true`;
    const inSandbox = await run(['exec', 'claude', '--', 'sh', '-c', search]);
    expect(inSandbox.code, inSandbox.stderr).toBe(0);
    expect(inSandbox.stdout.trim()).toBe('');
    const agent = pods.find((p) => p.metadata?.labels?.['io.corral.role'] === 'agent')!;
    expect(JSON.stringify(agent)).not.toContain(key);

    // Stopped: the sandbox's file comes back (upload), the gateway goes, its log came back with it.
    expect((await run(['stop', 'claude'])).code).toBe(0);
    expect((await run(['pull'])).code).toBe(0);
    expect(await readFile(join(ws, 'made-in-pod.txt'), 'utf8')).toBe('from-copy\n');
    const after = await decisions();
    expect(
      after.find((e) => e.port === other && e.decision !== 'allow'),
      JSON.stringify(after),
    ).toBeDefined();
  });
});
