/**
 * Secret scanning. Every fake credential is generated here at test time from random characters, so
 * nothing in the repository looks like a real secret. Assertions about leaks report labels, never
 * values, so a failing test does not print the secret it caught.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { scanCommand } from '../../src/cli/commands/scan.js';
import { RULE_IDS } from '../../src/credentials/rules.js';
import { type Finding, scanWorkspace } from '../../src/credentials/scan.js';
import { allowFinding, isAllowed, triagePath, untriaged } from '../../src/credentials/triage.js';
import { CorralError } from '../../src/errors.js';

// No o/O/x/X: random text then cannot spell placeholder words ("todo", "xxxx") the rules skip.
const UPPER = 'ABCDEFGHIJKLMNPQRSTUVWYZ';
const LOWER = 'abcdefghijklmnpqrstuvwyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;

function rand(n: number, alphabet = ALNUM): string {
  return Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
}
/** Random with every character class present, as real keys are. */
const tok = (n: number, alphabet = ALNUM) =>
  rand(n - 3, alphabet) + rand(1, UPPER) + rand(1, LOWER) + rand(1, DIGITS);

const tmpDirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'corral-scan-'));
  tmpDirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function put(root: string, rel: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
}

interface Plant {
  path: string;
  rule: string;
  content: string | Buffer;
  /** The random parts of the secret: none of their 8-character windows may ever be printed. */
  secrets: string[];
  line?: number;
}

function pem(kind: string) {
  const lines = Array.from({ length: 12 }, () => rand(64, `${ALNUM}+/`));
  const label = kind ? `${kind} PRIVATE KEY` : 'PRIVATE KEY';
  return { text: `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`, lines };
}

function plants(): Plant[] {
  const p: Plant[] = [];
  for (const [path, kind] of [
    ['keys/server.pem', 'RSA'],
    ['keys/ec.pem', 'EC'],
    ['deploy/deploy_key', 'OPENSSH'],
    ['keys/pkcs8.key', ''],
  ] as const) {
    const k = pem(kind);
    p.push({ path, rule: 'private-key', content: `# key\n${k.text}`, secrets: k.lines, line: 2 });
  }
  const pgp = Array.from({ length: 6 }, () => rand(64, `${ALNUM}+/`));
  p.push({
    path: 'keys/secret.asc',
    rule: 'private-key',
    content: ((label) =>
      `-----BEGIN ${label}-----\nVersion: GnuPG v2\n\n${pgp.join('\n')}\n=${rand(4)}\n-----END ${label}-----\n`)(
      'PGP PRIVATE KEY BLOCK',
    ),
    secrets: pgp,
  });
  const binKey = rand(64);
  p.push({
    path: 'backup/id_rsa',
    rule: 'ssh-key-file',
    content: Buffer.from(`\0\0${binKey}`),
    secrets: [binKey],
  });

  const awsId = rand(16, UPPER + DIGITS);
  const awsSecret = tok(40, `${ALNUM}/+`);
  p.push({
    path: 'home/.aws/credentials',
    rule: 'aws-credentials',
    content: `[default]\naws_access_key_id = AKIA${awsId}\naws_secret_access_key = ${awsSecret}\n`,
    secrets: [awsSecret],
    line: 3,
  });
  const awsSecret2 = tok(40, `${ALNUM}/+`);
  p.push({
    path: 'src/aws-client.js',
    rule: 'aws-credentials',
    content: `const id = 'AKIA${rand(16, UPPER + DIGITS)}';\nconst s = '${awsSecret2}';\n`,
    secrets: [awsSecret2],
    line: 2,
  });
  const sa = pem('');
  p.push({
    path: 'gcp/service-account.json',
    rule: 'gcp-service-account',
    content: JSON.stringify(
      { type: 'service_account', project_id: 'demo', private_key_id: rand(40), private_key: sa.text },
      null,
      2,
    ),
    secrets: sa.lines,
    line: 5,
  });
  const azure = `${tok(86, `${ALNUM}+/`)}==`;
  p.push({
    path: 'config/azure.txt',
    rule: 'azure-storage-key',
    content: `DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=${azure};EndpointSuffix=core.windows.net\n`,
    secrets: [azure],
  });
  for (const prefix of ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']) {
    const v = tok(36);
    p.push({
      path: `gh/${prefix}.txt`,
      rule: 'github-token',
      content: `token=${prefix}${v}\n`,
      secrets: [v],
    });
  }
  const pat = `${tok(22)}_${tok(59)}`;
  p.push({ path: 'gh/pat.txt', rule: 'github-token', content: `github_pat_${pat}`, secrets: [pat] });
  const single = (path: string, rule: string, prefix: string, v: string, wrap = (s: string) => `"${s}"`) =>
    p.push({
      path,
      rule,
      content: `// config\n\nconst value = ${wrap(prefix + v)};\n`,
      secrets: [v],
      line: 3,
    });
  single('ci/gitlab.yml', 'gitlab-token', 'glpat-', tok(20));
  single('chat/slack.js', 'slack-token', `xoxb-${rand(11, DIGITS)}-${rand(12, DIGITS)}-`, tok(24));
  single('billing/stripe.py', 'stripe-live-key', 'sk_live_', tok(24));
  single('ai/openai.ts', 'openai-api-key', 'sk-', tok(48));
  single('ai/openai-proj.ts', 'openai-api-key', 'sk-proj-', tok(120, `${ALNUM}-_`));
  single('ai/anthropic.ts', 'anthropic-api-key', 'sk-ant-api03-', `${tok(93, `${ALNUM}-_`)}AA`);
  single('maps/google.js', 'google-api-key', 'AIza', tok(35, `${ALNUM}-_`));
  single('pkg/publish.sh', 'npm-token', 'npm_', tok(36), (s) => `'${s}'`);

  const npmrc = `${rand(8, `${DIGITS}abcdef`)}-${rand(4, `${DIGITS}abcdef`)}-${rand(12, `${DIGITS}abcdef`)}`;
  p.push({
    path: '.npmrc',
    rule: 'npmrc-auth',
    content: `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${npmrc}\n`,
    secrets: [npmrc],
    line: 2,
  });
  const apiKey = tok(32);
  const dbPass = tok(16);
  p.push({
    path: '.env',
    rule: 'env-secret',
    content: `# app\nNODE_ENV=production\nAPI_KEY=${apiKey}\nDB_PASSWORD="${dbPass}" # prod\nSTRIPE_PUBLISHABLE_KEY=${tok(32)}\n`,
    secrets: [apiKey, dbPass],
    line: 3,
  });
  const urlPass = tok(12);
  p.push({
    path: 'deploy/.env.production',
    rule: 'env-url-password',
    content: `export DATABASE_URL=postgres://app:${urlPass}@db.internal:5432/app\n`,
    secrets: [urlPass],
    line: 1,
  });
  const kubeToken = tok(40);
  p.push({
    path: '.kube/config',
    rule: 'kubeconfig',
    content: `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://k8s.internal\n  name: prod\nusers:\n- name: admin\n  user:\n    token: ${kubeToken}\n`,
    secrets: [kubeToken],
    line: 10,
  });
  const gitPass = tok(40);
  p.push({
    path: '.git-credentials',
    rule: 'git-credentials',
    content: `https://me:${gitPass}@github.com\n`,
    secrets: [gitPass],
    line: 1,
  });
  const remotePass = tok(20);
  p.push({
    path: '.git/config',
    rule: 'git-remote-credentials',
    content: `[core]\n\tbare = false\n[remote "origin"]\n\turl = https://me:${remotePass}@git.internal/me/repo.git\n`,
    secrets: [remotePass],
    line: 4,
  });
  const netrcPass = tok(16);
  p.push({
    path: '.netrc',
    rule: 'netrc',
    content: `machine api.internal\n  login me\n  password ${netrcPass}\n`,
    secrets: [netrcPass],
    line: 3,
  });
  const pypi = tok(80);
  p.push({
    path: '.pypirc',
    rule: 'pypirc',
    content: `[pypi]\nusername = __token__\npassword = pypi-${pypi}\n`,
    secrets: [pypi],
    line: 3,
  });
  const dockerAuth = Buffer.from(`me:${tok(24)}`).toString('base64');
  p.push({
    path: '.docker/config.json',
    rule: 'docker-auth',
    content: JSON.stringify({ auths: { 'registry.internal': { auth: dockerAuth } } }, null, 2),
    secrets: [dockerAuth],
    line: 4,
  });
  return p;
}

/** Labels of planted secrets any 8-character piece of which appears in `text`. */
function leaks(text: string, planted: Plant[]): string[] {
  const out = new Set<string>();
  for (const plant of planted)
    for (const s of plant.secrets)
      for (let i = 0; i + 8 <= s.length; i++) if (text.includes(s.slice(i, i + 8))) out.add(plant.path);
  return [...out];
}

const summary = (fs: Finding[]) => fs.map((f) => `${f.path}:${f.line ?? '-'} ${f.rule}`).sort();

describe('scanWorkspace: rules', () => {
  let root: string;
  let planted: Plant[];
  let findings: Finding[];
  beforeAll(async () => {
    root = await tempDir();
    planted = plants();
    for (const p of planted) await put(root, p.path, p.content);
    const result = await scanWorkspace(root, { budgetMs: 30_000 });
    expect(result.complete).toBe(true);
    findings = result.findings;
  });

  it('finds each planted credential with its rule, and nothing else', () => {
    const expected = planted.map((p) => `${p.path} ${p.rule}`);
    const got = findings.map((f) => `${f.path} ${f.rule}`);
    for (const e of expected) expect(got).toContain(e);
    expect(new Set(got)).toEqual(new Set(expected));
  });

  it('covers every rule id', () => {
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set(RULE_IDS));
  });

  it('reports 1-based lines, POSIX relative paths and the sha256 of the file as fingerprint', async () => {
    for (const p of planted.filter((x) => x.line !== undefined)) {
      expect(findings.find((f) => f.path === p.path)?.line, p.path).toBe(p.line);
    }
    // The .env file has two secrets and a public key that is not one.
    expect(findings.filter((f) => f.path === '.env').map((f) => f.line)).toEqual([3, 4]);
    const f = findings.find((x) => x.path === 'home/.aws/credentials')!;
    const sha = createHash('sha256')
      .update(await readFile(join(root, f.path)))
      .digest('hex');
    expect(f.fingerprint).toBe(sha);
    expect(findings.find((x) => x.path === 'backup/id_rsa')?.line).toBeUndefined();
  });

  it('never puts a secret, or any piece of one, in a preview or description', () => {
    expect(leaks(JSON.stringify(findings), planted)).toEqual([]);
    // The check itself can fail: a finding carrying the value would be caught.
    expect(leaks(`${JSON.stringify(findings)} ${planted[0]!.secrets[0]}`, planted)).toEqual([
      planted[0]!.path,
    ]);
  });
});

describe('scanWorkspace: what is not reported', () => {
  it('skips placeholders, documentation examples and public values', async () => {
    const root = await tempDir();
    await put(
      root,
      '.env',
      [
        'API_KEY=changeme',
        'SECRET_KEY=',
        `AUTH_TOKEN=${'$'}{AUTH_TOKEN}`,
        'DB_PASSWORD=<your-password>',
        'STRIPE_SECRET=xxxxxxxxxxxxxxxx',
        'OPENAI_API_KEY=your-api-key-here',
        'JWT_SECRET=example-secret-value',
        'SESSION_SECRET="***"',
        'PASSWORD=   # fill in',
        `DATABASE_URL=postgres://app:${'$'}{DB_PASSWORD}@localhost/app`,
        'GITHUB_TOKEN=$GITHUB_TOKEN',
        `NEXT_PUBLIC_KEY=${tok(32)}`,
      ].join('\n'),
    );
    await put(
      root,
      'docs/setup.md',
      [
        `token: ghp_${'x'.repeat(36)}`,
        `aws_access_key_id = AKIA${'IOSFODNN7EXAMPLE'}`,
        `aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCY'}${'EXAMPLEKEY'}`,
        // A key block with no key in it (documentation), assembled here so no key header is committed.
        ['BEGIN', 'END'].map((w) => `-----${w} ${'RSA PRIVATE'} KEY-----`).join('\n...\n'),
        'use sk-this-is-not-a-real-key-just-some-words-here as a key',
        `commit ${rand(40, `${DIGITS}abcdef`)}`,
      ].join('\n'),
    );
    await put(root, '.npmrc', `//registry.npmjs.org/:_authToken=${'$'}{NPM_TOKEN}\n`);
    await put(
      root,
      '.kube/config',
      'apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: ""\n',
    );
    await put(root, '.docker/config.json', '{ "auths": { "r.internal": { "auth": "" } } }');
    const { findings } = await scanWorkspace(root);
    expect(summary(findings)).toEqual([]);
    // Control: a real-looking value on the same name is reported.
    await put(root, '.env', `API_KEY=${tok(32)}\n`);
    expect(summary((await scanWorkspace(root)).findings)).toEqual(['.env:1 env-secret']);
  });

  it('respects .gitignore (nested, with negation) but still scans credential files like .env', async () => {
    const root = await tempDir();
    const t = () => `const t = "ghp_${tok(36)}";\n`;
    await put(root, '.gitignore', 'dist/\nnotes.txt\n*.log\n.env\n');
    await put(root, 'sub/.gitignore', '!keep.log\n');
    await put(root, 'dist/bundle.js', t());
    await put(root, 'notes.txt', t());
    await put(root, 'sub/app.log', t());
    await put(root, 'sub/keep.log', t());
    await put(root, 'node_modules/pkg/index.js', t());
    await put(root, '.git/objects/ab/cdef', t());
    await put(root, '.env', `API_KEY=${tok(32)}\n`);
    await put(root, 'src/ok.js', 'export const x = 1;\n');
    const { findings } = await scanWorkspace(root);
    expect(summary(findings)).toEqual(['.env:1 env-secret', 'sub/keep.log:1 github-token']);
  });

  it('does not follow symlinks, to files or folders, inside or outside the root', async () => {
    const outside = await tempDir();
    await put(outside, 'secret.txt', `ghp_${tok(36)}\n`);
    await put(outside, '.env', `API_KEY=${tok(32)}\n`);
    // Control: the targets themselves are found.
    expect((await scanWorkspace(outside)).findings).toHaveLength(2);
    const root = await tempDir();
    await symlink(join(outside, 'secret.txt'), join(root, 'leak.txt'));
    await symlink(join(outside, '.env'), join(root, '.env'));
    await symlink(outside, join(root, 'linked'));
    await put(root, 'real/inside.txt', `ghp_${tok(36)}\n`);
    await symlink(join(root, 'real'), join(root, 'alias'));
    const { findings } = await scanWorkspace(root);
    expect(summary(findings)).toEqual(['real/inside.txt:1 github-token']);
  });

  it('skips binary files (NUL in the first 8 KB) and files over maxFileBytes', async () => {
    const root = await tempDir();
    const token = () => `ghp_${tok(36)}`;
    await put(root, 'blob.bin', Buffer.concat([Buffer.from([0x7f, 0]), Buffer.from(token())]));
    await put(
      root,
      'late-nul.dat',
      Buffer.concat([Buffer.from(`${token()}\n`), Buffer.alloc(9000, 0x20), Buffer.from([0])]),
    );
    await put(root, 'big.txt', `${token()}\n${'a'.repeat(20_000)}\n`);
    expect(summary((await scanWorkspace(root, { maxFileBytes: 16_384 })).findings)).toEqual([
      'late-nul.dat:1 github-token',
    ]);
    expect(summary((await scanWorkspace(root)).findings)).toEqual([
      'big.txt:1 github-token',
      'late-nul.dat:1 github-token',
    ]);
  });
});

describe('scanWorkspace: budget, abort and progress', () => {
  let root: string;
  const FILES = 3000;
  beforeAll(async () => {
    root = await tempDir();
    for (let d = 0; d < 30; d++) {
      await mkdir(join(root, `d${d}`));
      await Promise.all(
        Array.from({ length: FILES / 30 }, (_, i) =>
          writeFile(join(root, `d${d}`, `f${i}.txt`), `line ${i}\n`),
        ),
      );
    }
  });

  it('stops when the budget is spent and says it is incomplete', async () => {
    const r = await scanWorkspace(root, { budgetMs: 1 });
    expect(r).toMatchObject({ complete: false, stoppedBy: 'budget' });
    expect(r.filesScanned).toBeLessThan(FILES);
    const full = await scanWorkspace(root, { budgetMs: 60_000 });
    expect(full).toMatchObject({ complete: true, filesScanned: FILES });
  });

  it('stops on an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await scanWorkspace(root, { signal: ac.signal })).toMatchObject({
      complete: false,
      stoppedBy: 'signal',
      filesScanned: 0,
    });
  });

  it('reports progress per file with relative paths', async () => {
    const seen: [number, string][] = [];
    await scanWorkspace(root, { budgetMs: 60_000, onProgress: (n, p) => seen.push([n, p]) });
    expect(seen).toHaveLength(FILES);
    expect(seen.map(([n]) => n)).toEqual(Array.from({ length: FILES }, (_, i) => i + 1));
    expect(seen[0]![1]).toMatch(/^d\d+\/f\d+\.txt$/);
  });

  it('rejects a root that is not a folder', async () => {
    await expect(scanWorkspace(join(root, 'missing'))).rejects.toBeInstanceOf(CorralError);
  });
});

describe('triage', () => {
  it('remembers an allowed file by fingerprint and forgets it when the content changes', async () => {
    const root = await tempDir();
    const store = join(await tempDir(), 'triage.json');
    await put(root, 'a.txt', `ghp_${tok(36)}\n`);
    await put(root, 'b.txt', `ghp_${tok(36)}\n`);
    const first = (await scanWorkspace(root)).findings;
    expect(await untriaged(root, first, store)).toHaveLength(2);
    const a = first.find((f) => f.path === 'a.txt')!;
    await allowFinding(root, a, store);
    expect(await isAllowed(root, a, store)).toBe(true);
    expect((await untriaged(root, first, store)).map((f) => f.path)).toEqual(['b.txt']);
    // Another workspace with the same relative path and content is not allowed by it.
    expect(await isAllowed(`${root}-other`, a, store)).toBe(false);
    await put(root, 'a.txt', `ghp_${tok(36)}\n`);
    const second = (await scanWorkspace(root)).findings;
    const a2 = second.find((f) => f.path === 'a.txt')!;
    expect(a2.fingerprint).not.toBe(a.fingerprint);
    expect(await isAllowed(root, a2, store)).toBe(false);
    expect((await untriaged(root, second, store)).map((f) => f.path).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('stores decisions in the data dir, and survives a corrupt file', async () => {
    const data = await tempDir();
    vi.stubEnv('CORRAL_DATA_DIR', data);
    try {
      const f = { path: 'x', fingerprint: 'f'.repeat(64) };
      expect(triagePath()).toBe(join(data, 'credential-triage.json'));
      await writeFile(triagePath(), '{ not json');
      expect(await isAllowed('/ws', f)).toBe(false);
      await allowFinding('/ws', f);
      expect(JSON.parse(await readFile(join(data, 'credential-triage.json'), 'utf8'))['/ws']).toHaveLength(1);
      expect(await isAllowed('/ws', f)).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('corral scan', () => {
  let root: string;
  let planted: Plant[];
  let out: string;
  let err: string;
  let data: string;
  beforeAll(async () => {
    root = await tempDir();
    data = await tempDir();
    planted = plants();
    for (const p of planted) await put(root, p.path, p.content);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  });

  async function run(...args: string[]): Promise<number | undefined> {
    vi.stubEnv('CORRAL_DATA_DIR', data);
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      out += String(c);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
      err += String(c);
      return true;
    });
    const program = new Command('corral').exitOverride().addCommand(scanCommand().exitOverride());
    process.exitCode = undefined;
    await program.parseAsync(['scan', ...args], { from: 'user' });
    return process.exitCode as number | undefined;
  }

  it('lists findings by location and rule, exits 1, and prints no secret', async () => {
    expect(await run(root)).toBe(1);
    for (const p of planted) expect(out).toContain(p.path);
    expect(out).toContain('.kube/config:10');
    expect(out).toContain('github-token');
    expect(err).toMatch(/corral scan --allow/);
    expect(leaks(out + err, planted)).toEqual([]);
  });

  it('prints JSON with --json, and no secret there either', async () => {
    expect(await run(root, '--json')).toBe(1);
    const body = JSON.parse(out) as { complete: boolean; findings: Finding[] };
    expect(body.complete).toBe(true);
    expect(new Set(body.findings.map((f) => f.path))).toEqual(new Set(planted.map((p) => p.path)));
    expect(leaks(out + err, planted)).toEqual([]);
  });

  it('--allow remembers files until they change; exit 0 once all are triaged', async () => {
    const paths = [...new Set(planted.map((p) => p.path))];
    expect(await run(root, '--allow', ...paths.slice(1))).toBe(1);
    expect(await run(root, '--allow', join(root, paths[0]!))).toBe(0);
    expect(err).toMatch(/no untriaged findings/);
    expect(await run(root)).toBe(0);
    await put(root, '.env', `API_KEY=${tok(32)}\n`);
    expect(await run(root, '--json')).toBe(1);
    expect((JSON.parse(out) as { findings: Finding[] }).findings.map((f) => f.path)).toEqual(['.env']);
  });

  it('refuses to allow a file without findings', async () => {
    await expect(run(root, '--allow', 'no/such/file')).rejects.toBeInstanceOf(CorralError);
  });

  it('warns when the budget ran out', async () => {
    await run(root, '--budget', '1', '--json');
    expect((JSON.parse(out) as { complete: boolean }).complete).toBe(false);
    expect(err).toMatch(/stopped after 1 ms/);
  });
});
