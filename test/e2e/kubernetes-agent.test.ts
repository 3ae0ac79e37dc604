/**
 * Real Claude Code in a pod on the test cluster (scripts/kube-up), driven by corral's scripted model
 * on this machine (reached as host.containers.internal, the node), behind the workspace's gateway pod:
 * its shell tool writes a file that lands in the hostPath workspace, owned by the host user once the
 * session ends, and the gateway's audit shows nothing but the model server was reached. With
 * `kubernetes.workspace: upload` the pod works on a copy in a cluster volume: the file comes back
 * at the end of the run, and a file changed on both sides is refused with nothing moved. The host
 * bridge, with and without node folders: an allowed host command the agent asks for runs here, an
 * unapproved one is refused; a detached run's request waits in `corral approvals` and runs here
 * once allowed (its bridge process relays the socket into the gateway pod).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServer, parseScript, startModelServer } from '../../src/model/index.js';
import { workspaceIdOf } from '../../src/workspace/identity.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { agentImage } from '../helpers/engines.js';
import {
  KUBE_NAMESPACE,
  KUBE_SKIP,
  kubeConfigYaml,
  kubeEngine,
  noNodeFoldersYaml,
  startTestProvisioner,
} from '../helpers/kube.js';

describe.skipIf(KUBE_SKIP)('Claude Code in a Kubernetes pod', () => {
  let server: ModelServer;
  const marker = `kube-e2e-${Date.now()}`;

  beforeAll(async () => {
    await agentImage((await kubeEngine()).builder, 'claude');
    const script = await parseScript(
      `turns:\n  - say: Writing the result file.\n    run: id -u | sed "s/^/${marker} from /" > result.txt\n  - text: Wrote result.txt.\n`,
      'kube e2e script',
    );
    // Pods are on the cluster's pod network: the scripted model must answer them, not only loopback.
    server = await startModelServer({ host: '0.0.0.0', script, allow: () => true, recordBodies: true });
  });
  afterAll(async () => {
    await server?.close();
  });

  // Without node folders (a cluster that is not this machine): the workspace is uploaded, the
  // gateway's files are copies in its pod, the sandbox reaches it over the pod network.
  it.each([
    ['node folders', kubeConfigYaml],
    ['no node folders', noNodeFoldersYaml],
  ])('writes result.txt into the workspace through the scripted model (%s)', async (mode, yaml) => {
    const provisioner = mode === 'no node folders' ? await startTestProvisioner() : undefined;
    try {
      await writesResult(yaml, mode);
    } finally {
      // Its claims (the home, the workspace's copy) go with it.
      await provisioner?.stop();
    }
  });

  async function writesResult(yaml: string, mode: string): Promise<void> {
    const ws = await realpath(await tempWorkspace('corral-kube-e2e-'));
    const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
    await writeFile(join(cfgDir, 'config.yaml'), yaml);
    const env = { CORRAL_CONFIG: join(cfgDir, 'config.yaml'), KUBECONFIG: process.env.KUBECONFIG };
    const started = Date.now();
    const r = await corral(
      [
        'run',
        'claude',
        '--network',
        'gateway',
        '--model-url',
        server.url,
        '--prompt',
        'Write result.txt as instructed.',
        '--yolo',
      ],
      { cwd: ws, env },
    );
    console.log(`claude on kubernetes (${mode}): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(await readFile(join(ws, 'result.txt'), 'utf8')).toBe(`${marker} from 1000\n`);
    expect((await stat(join(ws, 'result.txt'))).uid).toBe(process.getuid!());
    // The sandbox pod had no network (deny-all policy); its only way out was the gateway pod, whose
    // audit log shows it let through the model server and nothing else.
    const log = await corral(['egress', 'log', '--json', '-n', '0'], { cwd: ws, env });
    const entries = log.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { port: number; decision: string });
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((e) => e.port !== server.port || e.decision !== 'allow')).toEqual([]);
    await corral(['clean'], { cwd: ws, env });
  }

  it('upload: Claude Code works on a copy in the cluster; its file comes back; a conflict moves nothing', async () => {
    const ws = await realpath(await tempWorkspace('corral-kube-up-'));
    await writeFile(join(ws, 'keep.txt'), 'local v1\n');
    const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
    await writeFile(
      join(cfgDir, 'config.yaml'),
      `${kubeConfigYaml}`.replace('kubernetes:\n', 'kubernetes:\n  workspace: upload\n'),
    );
    const env = { CORRAL_CONFIG: join(cfgDir, 'config.yaml'), KUBECONFIG: process.env.KUBECONFIG };
    const run = (args: string[]) => corral(args, { cwd: ws, env });
    try {
      const started = Date.now();
      const r = await run([
        'run',
        'claude',
        '--network',
        'gateway',
        '--model-url',
        server.url,
        '--prompt',
        'Write result.txt as instructed.',
        '--yolo',
      ]);
      console.log(`claude on kubernetes (upload): ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await readFile(join(ws, 'result.txt'), 'utf8')).toBe(`${marker} from 1000\n`);
      expect((await stat(join(ws, 'result.txt'))).uid).toBe(process.getuid!());

      // A detached sandbox changes keep.txt in the copy while the same file changes here.
      const d = await run([
        'shell',
        'claude',
        '-d',
        '--network',
        'none',
        '--',
        'sh',
        '-c',
        'echo pod v2 > keep.txt; echo x > pod-only.txt; exec sleep 300',
      ]);
      expect(d.code, d.stderr).toBe(0);
      // The pod's workspace is the cluster's copy, not this folder from the node.
      const pods = await (await kubeEngine()).c.core.listNamespacedPod({
        namespace: KUBE_NAMESPACE,
        labelSelector: `io.corral.workspace=${workspaceIdOf(ws)},io.corral.role=agent`,
      });
      const pod = pods.items[0];
      const wsMount = pod?.spec?.containers[0]?.volumeMounts?.find((m) => m.mountPath === '/workspace');
      const wsVolume = pod?.spec?.volumes?.find((v) => v.name === wsMount?.name);
      expect(wsVolume, JSON.stringify(pod?.spec?.volumes)).toBeDefined();
      expect(wsVolume?.hostPath?.path).not.toBe(ws);
      await writeFile(join(ws, 'keep.txt'), 'local v2\n');
      let inPod = '';
      for (let i = 0; i < 50 && !inPod.includes('pod v2'); i++) {
        inPod = (await run(['exec', 'claude', '--', 'cat', 'keep.txt'])).stdout;
      }
      expect(inPod).toContain('pod v2');

      const pull = await run(['pull', '--json']);
      expect(pull.code).not.toBe(0);
      expect(pull.stdout + pull.stderr).toContain('MERGE_CONFLICT');
      expect(pull.stdout + pull.stderr).toContain('keep.txt');
      expect(await readFile(join(ws, 'keep.txt'), 'utf8')).toBe('local v2\n');
      expect(existsSync(join(ws, 'pod-only.txt'))).toBe(false);
      expect((await run(['exec', 'claude', '--', 'cat', 'keep.txt'])).stdout).toBe('pod v2\n');
      // With that sandbox gone, a new one would upload over its change: refused as well.
      expect((await run(['stop', 'claude'])).code).toBe(0);
      const again = await run(['shell', 'claude', '--network', 'none', '--', 'true']);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('keep.txt');
      expect(await readFile(join(ws, 'keep.txt'), 'utf8')).toBe('local v2\n');

      // Settled here (the local edit undone): the sandbox's changes, still in the copy, come back.
      await writeFile(join(ws, 'keep.txt'), 'local v1\n');
      const settled = await run(['pull', '--json']);
      expect(settled.code, settled.stderr).toBe(0);
      expect(await readFile(join(ws, 'keep.txt'), 'utf8')).toBe('pod v2\n');
      expect(await readFile(join(ws, 'pod-only.txt'), 'utf8')).toBe('x\n');
    } finally {
      await run(['clean']);
      // `clean` keeps the copy (it may hold work not brought back yet): the test's goes.
      await (await kubeEngine()).removeVolume(`corral-${workspaceIdOf(ws)}-workspace`);
    }
  });

  // The bridge listens where no pod sees it; the gateway pod serves it over an exec stream, and
  // without node folders the sandbox reaches that socket through its link to the gateway pod.
  it.each([
    ['node folders', kubeConfigYaml],
    ['no node folders', noNodeFoldersYaml],
  ])(
    'host bridge (%s): an allowed command runs on the host, one nobody allowed is refused',
    async (mode, yaml) => {
      const command = 'echo made-on-the-host > host-made.txt';
      const script = await parseScript(
        `turns:\n  - tool: mcp__corral__run_command\n    input: ${JSON.stringify({ command })}\n  - text: Asked the host.\n`,
        'kube bridge script',
      );
      const bridgeModel = await startModelServer({ host: '0.0.0.0', script, allow: () => true });
      const provisioner = mode === 'no node folders' ? await startTestProvisioner() : undefined;
      const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
      await writeFile(join(cfgDir, 'config.yaml'), yaml);
      const env = {
        CORRAL_CONFIG: join(cfgDir, 'config.yaml'),
        KUBECONFIG: process.env.KUBECONFIG,
        CORRAL_APPROVAL_TIMEOUT: '2',
      };
      const workspaces: string[] = [];
      const ask = async (allow: boolean, during?: (ws: string) => Promise<void>) => {
        const ws = await realpath(await tempWorkspace('corral-kube-bridge-'));
        workspaces.push(ws);
        if (allow) expect((await corral(['allowed', 'add', command], { cwd: ws, env })).code).toBe(0);
        const running = corral(
          ['run', 'claude', '--model-url', bridgeModel.url, '--prompt', 'Ask the host.', '--yolo'],
          { cwd: ws, env },
        );
        await during?.(ws);
        return { ws, r: await running };
      };
      let relayed = false;
      const watchRelay = async (ws: string) => {
        relayed = await relayIn(ws, () => relayed);
      };
      try {
        const started = Date.now();
        const allowed = await ask(true, watchRelay);
        console.log(`bridge on kubernetes (${mode}): ${((Date.now() - started) / 1000).toFixed(1)} s`);
        expect(relayed).toBe(true);
        expect(allowed.r.code, allowed.r.stdout + allowed.r.stderr).toBe(0);
        expect(allowed.r.stderr).not.toContain('refused a host command');
        expect(await readFile(join(allowed.ws, 'host-made.txt'), 'utf8')).toBe('made-on-the-host\n');
        expect(bridgeModel.requests.find((q) => q.step === 1)).toBeDefined();

        const refused = await ask(false);
        expect(refused.r.code).toBe(0);
        expect(refused.r.stderr).toContain('refused a host command');
        expect(existsSync(join(refused.ws, 'host-made.txt'))).toBe(false);
      } finally {
        await bridgeModel.close();
        for (const ws of workspaces) await corral(['clean'], { cwd: ws, env });
        await provisioner?.stop();
      }
    },
  );

  // A detached run's bridge lives in a process of its own, or in the daemon when one runs: either
  // connects to the cluster as the run did and keeps the relay into the gateway pod until the end.
  it.each([
    ['node folders', kubeConfigYaml, false],
    ['no node folders', noNodeFoldersYaml, false],
    ['no node folders, served by the daemon', noNodeFoldersYaml, true],
  ])(
    'host bridge of a detached run (%s): asks in `corral approvals`, runs on the host once allowed',
    async (mode, yaml, withDaemon) => {
      const command = 'echo approved-on-the-host > host-approved.txt';
      const script = await parseScript(
        `turns:\n  - tool: mcp__corral__run_command\n    input: ${JSON.stringify({ command })}\n  - text: Asked the host.\n`,
        'kube detached bridge script',
      );
      const bridgeModel = await startModelServer({
        host: '0.0.0.0',
        script,
        allow: () => true,
        recordBodies: true,
      });
      const provisioner = mode.startsWith('no node folders') ? await startTestProvisioner() : undefined;
      const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
      // No warm sandboxes from the daemon: this test's pods are the run's.
      await writeFile(join(cfgDir, 'config.yaml'), `${yaml}daemon:\n  warm_pool: 0\n`);
      const ws = await realpath(await tempWorkspace('corral-kube-dbridge-'));
      const base = {
        CORRAL_CONFIG: join(cfgDir, 'config.yaml'),
        KUBECONFIG: process.env.KUBECONFIG,
        CORRAL_APPROVAL_TIMEOUT: '120',
      };
      const daemon = withDaemon ? await startTestDaemon(base) : undefined;
      const env = daemon?.env ?? base;
      const run = (args: string[]) => corral(args, { cwd: ws, env });
      try {
        const started = Date.now();
        const d = await run([
          'run',
          'claude',
          '-d',
          '--model-url',
          bridgeModel.url,
          '--prompt',
          'Ask the host.',
          '--yolo',
        ]);
        expect(d.code, d.stdout + d.stderr).toBe(0);
        expect(d.stderr).not.toContain('host bridge');
        expect(await relayIn(ws, () => false)).toBe(true);
        let id: string | undefined;
        for (let i = 0; !id && i < 600; i++) {
          const list = await run(['approvals', '--json', '-w', ws]);
          const pending = JSON.parse(list.stdout || '[]') as Array<{
            id: string;
            details: { command?: string };
          }>;
          if (pending[0]) {
            expect(pending[0].details.command).toBe(command);
            id = pending[0].id;
          } else await new Promise((r) => setTimeout(r, 200));
        }
        expect(id, 'an approval request appeared').toBeDefined();
        console.log(
          `detached bridge on kubernetes (${mode}): asked ${((Date.now() - started) / 1000).toFixed(1)} s after the run started`,
        );
        expect(existsSync(join(ws, 'host-approved.txt'))).toBe(false);
        const allow = await run(['approvals', 'allow', id!]);
        expect(allow.code, allow.stderr).toBe(0);
        for (let i = 0; i < 150 && !existsSync(join(ws, 'host-approved.txt')); i++)
          await new Promise((r) => setTimeout(r, 200));
        // Ran here, in the local workspace; its result went back to the model through the pod.
        expect(await readFile(join(ws, 'host-approved.txt'), 'utf8')).toBe('approved-on-the-host\n');
        for (let i = 0; i < 150 && !bridgeModel.requests.some((q) => q.step === 1); i++)
          await new Promise((r) => setTimeout(r, 200));
        expect(bridgeModel.requests.some((q) => q.step === 1 && q.body?.includes('exit_code'))).toBe(true);
        // Served in the daemon, not a process of its own: the session's lines are in its log.
        if (daemon)
          expect(await readFile(join(daemon.dir, 'daemon.log'), 'utf8')).toMatch(/bridge .*relayed from/);
      } finally {
        await run(['stop', 'claude']);
        await daemon?.stop();
        await bridgeModel.close();
        await run(['clean']);
        await provisioner?.stop();
      }
    },
  );
});

/** Whether the workspace's gateway pod runs the host bridge's relay (polled for up to 40 s, or until `done`). */
async function relayIn(ws: string, done: () => boolean): Promise<boolean> {
  const k = await kubeEngine();
  const gateway = `corral-${workspaceIdOf(ws)}-gateway`;
  for (let i = 0; i < 200 && !done(); i++) {
    const ps = await k
      .exec(gateway, ['sh', '-c', 'cat /proc/[0-9]*/cmdline | tr "\\0" " "'])
      .catch(() => undefined);
    if (ps?.stdout.includes('node -e') && ps.stdout.includes('bridge-')) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return done();
}
