/**
 * corral on the test cluster as on one that is not this machine (`kubernetes.node_folders: false`):
 * no pod it makes has a hostPath volume (read back from the API), volumes are claims of a storage
 * class (served by a test-owned stand-in provisioner), and corral's files reach the gateway as
 * copies through the API. Attacked from the sandbox: the gateway, reached over the pod network,
 * allows the allowed port and refuses another, `corral egress log` shows both (from the running
 * gateway, and after it is gone), `corral egress allow` reaches the running gateway, and the key
 * given to the run is in the gateway pod but nowhere in the sandbox pod. A gateway whose process
 * dies (killed from the node) cuts its sandbox off, and once run again (a new pod, a new address)
 * the sandbox reaches out again, and a socket relayed into the old pod is relayed into the new one;
 * under a detached run, its bridge process brings the gateway back by itself and the host bridge
 * answers in the sandbox again.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeStateDir, readBridgeState } from '../../src/bridge/session-state.js';
import { connectEngine } from '../../src/engine/index.js';
import { type KubernetesEngine, LOCAL_CONTAINERD } from '../../src/engine/kubernetes/index.js';
import { gatewayDirs } from '../../src/gateway/folders.js';
import { SANDBOX_GATEWAY_DIR } from '../../src/gateway/settings.js';
import { restartGateway } from '../../src/gateway/watch.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage, gatewayImage } from '../helpers/engines.js';
import {
  KUBE_NAMESPACE,
  KUBE_SKIP,
  kubeEngine,
  noNodeFoldersYaml,
  startTestProvisioner,
  TEST_STORAGE_CLASS,
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

  it('a gateway that died runs again: its sandbox is cut off meanwhile, then reaches it (and the host bridge) again', async () => {
    const [allowed] = ports;
    const get = (port: number | undefined) =>
      `curl -sS --max-time 5 http://host.containers.internal:${port}/ || echo curl-failed`;
    // What a run's bridge is to the sandbox: a socket of this machine's, relayed into the gateway pod.
    const hostDir = await mkdtemp(join(tmpdir(), 'corral-krelay-'));
    const hostSocket = join(hostDir, 'host.sock');
    const bridge = createServer((_req, res) => res.end('host-answered\n'));
    bridge.listen(hostSocket);
    await once(bridge, 'listening');
    const viaBridge = `curl -sS --max-time 5 --unix-socket ${SANDBOX_GATEWAY_DIR}/relay-test.sock http://x/ || echo curl-failed`;
    // Connected as corral is for these runs: the gateway's folders are copies in its pod.
    const copies = (await connectEngine('kubernetes', undefined, {
      kubernetes: { namespace: KUBE_NAMESPACE, node_folders: false, storage_class: TEST_STORAGE_CLASS },
    })) as KubernetesEngine;
    const wsId = workspaceIdOf(ws);
    const gatewayPod = () =>
      copies.c.core.readNamespacedPod({ name: `corral-${wsId}-gateway`, namespace: KUBE_NAMESPACE });
    const inSandbox = async (cmd: string) => (await run(['exec', 'claude', '--', 'sh', '-c', cmd])).stdout;
    const until = async (cmd: string, want: string) => {
      let out = '';
      const t0 = Date.now();
      while (Date.now() - t0 < 30_000 && !out.includes(want)) out = await inSandbox(cmd);
      return { out, ms: Date.now() - t0 };
    };
    let unrelay: (() => Promise<void>) | undefined;
    try {
      const d = await run([
        'shell',
        'claude',
        '-d',
        '--network',
        'gateway',
        '--allow-host',
        String(allowed),
        '--',
        'sleep',
        '300',
      ]);
      expect(d.code, d.stderr).toBe(0);
      unrelay = await copies.relaySocket(join(gatewayDirs(copies, wsId).sock, 'relay-test.sock'), hostSocket);
      expect((await until(get(allowed), 'allowed-answered')).out).toContain('allowed-answered');
      expect((await until(viaBridge, 'host-answered')).out).toContain('host-answered');
      const before = await gatewayPod();

      // The gateway's process dies (an OOM kill, a crash), killed from the node: its pod stays.
      const main = before.status?.containerStatuses?.find((c) => c.name === 'sandbox')?.containerID ?? '';
      execFileSync('ctr', [
        '--address',
        LOCAL_CONTAINERD,
        '-n',
        'k8s.io',
        'tasks',
        'kill',
        '-s',
        'SIGKILL',
        main.replace(/^containerd:\/\//, ''),
      ]);
      for (let i = 0; i < 100 && (await copies.inspect(`corral-${wsId}-gateway`))?.running; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await copies.inspect(`corral-${wsId}-gateway`))?.running).toBe(false);
      // Fails closed: no way out, and no host bridge, while it is down.
      expect(await inSandbox(get(allowed))).not.toContain('allowed-answered');
      expect(await inSandbox(viaBridge)).not.toContain('host-answered');

      // What a run's gateway watcher does (gateway/watch.ts): the same gateway, as a new pod.
      const t0 = Date.now();
      expect(await restartGateway(copies, wsId)).toBe('restarted');
      const after = await gatewayPod();
      console.log(
        `gateway run again in ${Date.now() - t0} ms: ${before.status?.podIP} -> ${after.status?.podIP}`,
      );
      expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
      const out = await until(get(allowed), 'allowed-answered');
      console.log(`the sandbox reached out again ${out.ms} ms after the restart`);
      expect(out.out).toContain('allowed-answered');
      // The relay followed the gateway into its new pod.
      expect((await until(viaBridge, 'host-answered')).out).toContain('host-answered');
    } finally {
      await unrelay?.();
      bridge.close();
      await run(['stop', 'claude']);
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  it("a detached run's bridge process brings its dead gateway back: out and to the host bridge again, closed meanwhile", async () => {
    const [allowed] = ports;
    const get = `curl -sS --max-time 5 http://host.containers.internal:${allowed}/ || echo curl-failed`;
    // Any HTTP answer (401 without the token) is the host bridge reached; 000 is nothing reached.
    const bridgeAnswers = `for s in ${SANDBOX_GATEWAY_DIR}/bridge-*.sock; do curl -s -o /dev/null -w 'bridge-http-%{http_code}' --max-time 5 --unix-socket "$s" http://x/mcp; done; true`;
    const k = await kubeEngine();
    const gateway = `corral-${workspaceIdOf(ws)}-gateway`;
    const gatewayPod = () => k.c.core.readNamespacedPod({ name: gateway, namespace: KUBE_NAMESPACE });
    const name = `corral-kcopy-watch-${process.pid}`;
    const inSandbox = async (cmd: string) => (await run(['exec', name, '--', 'sh', '-c', cmd])).stdout;
    const until = async (check: () => Promise<boolean>, ms = 40_000) => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) if (await check()) return Date.now() - t0;
      return undefined;
    };
    // The agent's own command (Claude Code idling as an MCP server), so the run has its bridge process.
    const d = await run([
      'run',
      'claude',
      '-d',
      '--name',
      name,
      '--allow-host',
      String(allowed),
      '--',
      '--strict-mcp-config',
      'mcp',
      'serve',
    ]);
    expect(d.code, d.stderr).toBe(0);
    try {
      expect(await until(async () => (await inSandbox(get)).includes('allowed-answered'))).toBeDefined();
      expect(
        await until(async () => /bridge-http-[1-5]\d\d/.test(await inSandbox(bridgeAnswers))),
      ).toBeDefined();
      const before = await gatewayPod();
      const main = before.status?.containerStatuses?.find((c) => c.name === 'sandbox')?.containerID ?? '';
      execFileSync('ctr', [
        '--address',
        LOCAL_CONTAINERD,
        '-n',
        'k8s.io',
        'tasks',
        'kill',
        '-s',
        'SIGKILL',
        main.replace(/^containerd:\/\//, ''),
      ]);
      const t0 = Date.now();
      // Right after the kill: nothing gets out, unless the gateway is back already (a new pod).
      const during = await inSandbox(get);
      const uidThen = (await gatewayPod().catch(() => undefined))?.metadata?.uid;
      if (during.includes('allowed-answered')) expect(uidThen).not.toBe(before.metadata?.uid);
      console.log(`right after the kill the sandbox got: ${during.trim().slice(-120)}`);
      // The run's bridge process notices (gateway/watch.ts) and runs it again: a new pod.
      const back = await until(async () => {
        const p = await gatewayPod().catch(() => undefined);
        return Boolean(p && p.metadata?.uid !== before.metadata?.uid && (await k.inspect(gateway))?.running);
      });
      expect(back, 'the gateway was not run again').toBeDefined();
      expect(await until(async () => (await inSandbox(get)).includes('allowed-answered'))).toBeDefined();
      expect(
        await until(async () => /bridge-http-[1-5]\d\d/.test(await inSandbox(bridgeAnswers))),
      ).toBeDefined();
      console.log(
        `gateway back under a detached run, sandbox out and bridge reached again: ${Date.now() - t0} ms after the kill`,
      );
      // This run's bridge log (found by its workspace), not another run's.
      const states = await Promise.all(
        (await readdir(bridgeStateDir()))
          .filter((f) => f.endsWith('.json'))
          .map((f) => readBridgeState(f.slice(0, -'.json'.length))),
      );
      const logs = await Promise.all(
        states.filter((st) => st?.workspace === ws && st.log).map((st) => readFile(st!.log!, 'utf8')),
      );
      const said = logs.join('\n');
      expect(said).toMatch(/corral: the egress gateway stopped \(exit code \d+\).*Restarting it/);
      expect(said).toMatch(/corral: the egress gateway is back/);
    } finally {
      await run(['stop', name, '-f']);
    }
  });
});
