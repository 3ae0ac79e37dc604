/**
 * Real Claude Code in a pod on the test cluster (scripts/kube-up), driven by corral's scripted model
 * on this machine (reached as host.containers.internal, the node), behind the workspace's gateway pod:
 * its shell tool writes a file that lands in the hostPath workspace, owned by the host user once the
 * session ends, and the gateway's audit shows nothing but the model server was reached.
 */
import { mkdtemp, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServer, parseScript, startModelServer } from '../../src/model/index.js';
import { corral, tempWorkspace } from '../helpers/cli.js';
import { agentImage } from '../helpers/engines.js';
import { KUBE_SKIP, kubeConfigYaml, kubeEngine } from '../helpers/kube.js';

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

  it('writes result.txt into the workspace through the scripted model', async () => {
    const ws = await realpath(await tempWorkspace('corral-kube-e2e-'));
    const cfgDir = await mkdtemp(join(tmpdir(), 'corral-kcfg-'));
    await writeFile(join(cfgDir, 'config.yaml'), kubeConfigYaml);
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
    console.log(`claude on kubernetes: ${((Date.now() - started) / 1000).toFixed(1)} s`);
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
  });
});
