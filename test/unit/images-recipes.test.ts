import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../src/agents/index.js';
import {
  agentRecipe,
  baseRecipe,
  installCommand,
  nodeRecipe,
  rootfsExtras,
  rootfsRecipe,
  shellQuote,
  suiteFor,
} from '../../src/images/recipes.js';

const tarballs = {
  nodeVersion: '22.23.3',
  npmVersion: '10.9.9',
  node: { path: '/x/node.tgz', digest: 'aa' },
  npm: { path: '/x/npm.tgz', digest: 'bb' },
};
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

/** The whole chain for one agent, as ensureAgentImage plans it (minus the host lookups). */
function chain(agent: (typeof AGENTS)[number], ca?: Buffer) {
  const rootfs = rootfsRecipe(suiteFor(agent.install), rootfsExtras(agent.install));
  const base = baseRecipe(rootfs.tag, ca);
  const node = nodeRecipe(base.tag, tarballs);
  return { rootfs, base, node, agent: agentRecipe(node.tag, agent, agent.install) };
}

describe('every agent chain', () => {
  it('builds each layer FROM the one below, with the agent installed at its pinned version', () => {
    for (const a of AGENTS) {
      const c = chain(a);
      expect(c.base.containerfile.split('\n')[0]).toBe(`FROM ${c.rootfs.tag}`);
      expect(c.node.containerfile.split('\n')[0]).toBe(`FROM ${c.base.tag}`);
      expect(c.agent.containerfile.split('\n')[0]).toBe(`FROM ${c.node.tag}`);
      expect(c.agent.containerfile).toContain(`RUN export HOME=/root && ${installCommand(a.install)}`);
      expect(installCommand(a.install)).toContain(a.install.version);
      expect(c.agent.containerfile).toContain(`RUN HOME=$(mktemp -d) ${a.versionCommand.join(' ')}`);
      // The image ends as root only so later layers (project extensions) can install; sandboxes pass --user.
      expect(c.agent.containerfile.trimEnd().split('\n').at(-1)).toBe('USER root');
      expect(c.agent.tag.startsWith(`localhost/corral/${a.name}:`)).toBe(true);
    }
  });

  it('gives every agent its own tag, and shares rootfs, base and node between agents on the same suite', () => {
    const chains = AGENTS.map((a) => chain(a));
    expect(new Set(chains.map((c) => c.agent.tag)).size).toBe(AGENTS.length);
    // npm agents share one chain; pip agents on bookworm (aider, hermes) add Python to the rootfs.
    const npm = chains.filter((c, i) => c.rootfs.suite === 'bookworm' && AGENTS[i]!.install.kind === 'npm');
    expect(new Set(npm.map((c) => c.node.tag)).size).toBe(1);
    const pip = chains.filter((c, i) => c.rootfs.suite === 'bookworm' && AGENTS[i]!.install.kind === 'pip');
    expect(new Set(pip.map((c) => c.node.tag)).size).toBe(1);
  });

  it('puts pip agents on a rootfs with Python (trixie when they need ≥3.12), still with Node', () => {
    for (const a of AGENTS.filter((x) => x.install.kind === 'pip')) {
      const c = chain(a);
      expect(c.rootfs.packages).toEqual(expect.arrayContaining(['python3', 'python3-venv']));
      if (a.install.kind === 'pip' && Number(a.install.python.split('.')[1]) >= 12) {
        expect(c.rootfs.suite).toBe('trixie');
      }
      expect(c.node.containerfile).toContain('/usr/local/bin/node');
      expect(installCommand(a.install)).toMatch(/^python3 -m venv \/opt\//);
    }
  });

  it('changes every tag above a changed input, and none below it', () => {
    for (const a of AGENTS) {
      const plain = chain(a);
      const withCa = chain(a, CA);
      expect(withCa.rootfs.tag).toBe(plain.rootfs.tag);
      expect(withCa.base.tag).not.toBe(plain.base.tag);
      expect(withCa.node.tag).not.toBe(plain.node.tag);
      expect(withCa.agent.tag).not.toBe(plain.agent.tag);
      const bumped = agentRecipe(plain.node.tag, a, { ...a.install, version: `${a.install.version}-next` });
      expect(bumped.tag).not.toBe(plain.agent.tag);
      expect(bumped.labels['io.corral.agent-version']).toBe(`${a.install.version}-next`);
    }
    expect(nodeRecipe('b', { ...tarballs, npm: { path: '/x/npm.tgz', digest: 'cc' } }).tag).not.toBe(
      nodeRecipe('b', tarballs).tag,
    );
    expect(nodeRecipe('b2', tarballs).tag).not.toBe(nodeRecipe('b', tarballs).tag);
  });

  it('creates the sandbox user as uid 1000 with a writable home, and labels every layer', () => {
    const c = chain(AGENTS[0]!);
    expect(c.base.containerfile).toContain('groupadd -g 1000 agent && useradd -m -u 1000 -g 1000');
    expect(c.base.containerfile).not.toContain('NODE_EXTRA_CA_CERTS');
    expect(chain(AGENTS[0]!, CA).base.files['host-ca.pem']).toEqual(CA);
    expect(c.base.labels['io.corral.image']).toBe('base');
    expect(c.node.labels['io.corral.image']).toBe('node');
    expect(c.agent.labels['io.corral.image']).toBe('agent');
  });
});

describe('the smoke-test command', () => {
  it('quotes arguments only when the shell needs it', () => {
    expect(shellQuote('--version')).toBe('--version');
    expect(shellQuote('@scope/pkg@1.2.3')).toBe('@scope/pkg@1.2.3');
    expect(shellQuote('echo hi; exit 3')).toBe("'echo hi; exit 3'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    const a = { ...AGENTS[0]!, versionCommand: ['sh', '-c', 'echo "$HOME"; exit 3'] };
    expect(agentRecipe('n', a, a.install).containerfile).toContain(
      `RUN HOME=$(mktemp -d) sh -c 'echo "$HOME"; exit 3'`,
    );
  });
});
