/**
 * Sandbox start on Kubernetes (the cluster scripts/kube-up starts; KUBECONFIG set): `corral shell
 * claude -- true` against a raw `kubectl run --rm -i` of the same image, interleaved, medians and
 * their ratio printed. Then 20 sandboxes at once (`corral shell -d`): time until all are Running,
 * and the node's memory per sandbox (from /proc/meminfo before and after, so a rough figure).
 *
 *   KUBECONFIG=/var/lib/corral-kube/admin.kubeconfig node bench/kubernetes.mjs [--rounds 7] [--many 20]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, many: { type: 'string', default: '20' } },
});
const ROUNDS = Number(values.rounds);
const MANY = Number(values.many);
const NS = 'corral-bench';
const root = new URL('..', import.meta.url).pathname;
const kubectl = process.env.KUBECTL ?? 'kubectl';
if (!process.env.KUBECONFIG) {
  console.error('bench/kubernetes: set KUBECONFIG (scripts/kube-up prints it)');
  process.exit(2);
}
const ws = mkdtempSync(join(tmpdir(), 'corral-kbench-'));
writeFileSync(join(ws, 'config.yaml'), `engine: kubernetes\nkubernetes:\n  namespace: ${NS}\n`);
const env = { ...process.env, CORRAL_CONFIG: join(ws, 'config.yaml') };
const corral = (args) =>
  spawnSync(process.execPath, [join(root, 'bin/corral.js'), ...args], { cwd: ws, env, encoding: 'utf8' });
const k = (args) => spawnSync(kubectl, ['-n', NS, ...args], { encoding: 'utf8' });

// Warm-up: builds/imports the image once, makes the namespace; the image's cluster name comes from the pod.
const warm = corral(['shell', 'claude', '--network', 'none', '--', 'true']);
if (warm.status !== 0) {
  console.error(warm.stderr);
  process.exit(1);
}
const image = spawnSync(
  kubectl,
  ['get', 'pods', '-A', '-o', 'jsonpath={.items[*].spec.containers[0].image}'],
  { encoding: 'utf8' },
);
const d = corral(['shell', 'claude', '-d', '--network', 'none', '--', 'sleep', '30']);
const img =
  k(['get', 'pods', '-l', 'io.corral.agent=claude', '-o', 'jsonpath={.items[0].spec.containers[0].image}'])
    .stdout || image.stdout.split(' ')[0];
corral(['stop', 'claude']);
if (d.status !== 0 || !img) {
  console.error('could not find the sandbox image on the cluster', d.stderr);
  process.exit(1);
}

const time = (f) => {
  const t = process.hrtime.bigint();
  const r = f();
  if (r.status !== 0) throw new Error(`${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const raw = [];
const sandbox = [];
for (let i = 0; i < ROUNDS; i++) {
  raw.push(
    time(() =>
      k([
        'run',
        `raw-${process.pid}-${i}`,
        '--rm',
        '-i',
        '--restart=Never',
        `--image=${img}`,
        '--image-pull-policy=Never',
        '--command',
        '--',
        'true',
      ]),
    ),
  );
  sandbox.push(time(() => corral(['shell', 'claude', '--network', 'none', '--', 'true'])));
}
const mr = median(raw);
const ms = median(sandbox);
console.log(
  `kubectl run --rm -i IMG true   median ${mr.toFixed(0)} ms  (${raw.map((x) => x.toFixed(0)).join(' ')})`,
);
console.log(
  `corral shell claude -- true   median ${ms.toFixed(0)} ms  (${sandbox.map((x) => x.toFixed(0)).join(' ')})`,
);
console.log(`ratio corral/raw: ${(ms / mr).toFixed(2)}`);

// Many at once: each in its own workspace (one sandbox per workspace and agent).
const avail = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]) * 1024;
const before = avail();
const t0 = Date.now();
const dirs = Array.from({ length: MANY }, () => mkdtempSync(join(tmpdir(), 'corral-kmany-')));
await Promise.all(
  dirs.map(
    (dir) =>
      new Promise((resolve) => {
        import('node:child_process').then(({ spawn }) => {
          const p = spawn(
            process.execPath,
            [join(root, 'bin/corral.js'), 'shell', 'claude', '-d', '--network', 'none', '--', 'sleep', '300'],
            { cwd: dir, env, stdio: 'ignore' },
          );
          p.on('close', resolve);
        });
      }),
  ),
);
for (;;) {
  const phases = k(['get', 'pods', '-l', 'io.corral.agent=claude', '-o', 'jsonpath={.items[*].status.phase}'])
    .stdout.split(' ')
    .filter(Boolean);
  if (phases.filter((p) => p === 'Running').length >= MANY) break;
  if (Date.now() - t0 > 300_000) break;
  await new Promise((r) => setTimeout(r, 200));
}
const allRunning = Date.now() - t0;
await new Promise((r) => setTimeout(r, 2000));
const per = (before - avail()) / MANY;
console.log(
  `${MANY} sandboxes at once: all Running after ${(allRunning / 1000).toFixed(1)} s; ~${(per / 2 ** 20).toFixed(0)} MiB of node memory each`,
);
k(['delete', 'pods', '-l', 'io.corral.agent=claude', '--grace-period=0', '--force', '--wait=false']);
