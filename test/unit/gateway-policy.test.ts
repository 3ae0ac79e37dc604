/** Egress policy as pure logic: rule parsing, presets, decisions, address checks. */
import { describe, expect, it } from 'vitest';
import { CorralError } from '../../src/errors.js';
import { classifyAddress } from '../../src/gateway/addresses.js';
import { canonicalPath, checkResolved, decide, needsInterception } from '../../src/gateway/decide.js';
import {
  buildPolicy,
  DEV_DOMAINS,
  type EgressPolicy,
  formatRule,
  parsePolicy,
  parseRule,
  type RuleInput,
} from '../../src/gateway/policy.js';

const policy = (rules: RuleInput[], extra: Partial<EgressPolicy> = {}) => parsePolicy({ rules, ...extra });
const allow = (text: string) => parseRule(text, 'allow');
const deny = (text: string) => parseRule(text, 'deny');

describe('rules', () => {
  it('parses and formats the textual rule form', () => {
    expect(parseRule('GET,HEAD API.GitHub.com/repos/acme/', 'allow', 'project')).toEqual({
      action: 'allow',
      host: 'api.github.com',
      methods: ['GET', 'HEAD'],
      pathPrefix: '/repos/acme/',
      source: 'project',
    });
    expect(parseRule('*.npmjs.org', 'allow')).toEqual({
      action: 'allow',
      host: '*.npmjs.org',
      source: 'flag',
    });
    expect(parseRule('[FD00::1]:8443', 'deny')).toMatchObject({ host: 'fd00::1', port: 8443 });
    for (const text of [
      'GET,HEAD api.github.com:443/repos/',
      '*.npmjs.org',
      '[fd00::1]:8443',
      'localhost:8080',
    ]) {
      expect(formatRule(parseRule(text, 'allow'))).toBe(text);
    }
  });

  it('rejects malformed rules with a CorralError naming the format', () => {
    for (const bad of ['', 'exa mple.com', 'ex*ample.com', 'host:99999', 'GET host.com:x', '*.']) {
      const e = (() => {
        try {
          parseRule(bad, 'allow');
        } catch (err) {
          return err;
        }
      })();
      expect(e, bad).toBeInstanceOf(CorralError);
      expect((e as CorralError).hint).toMatch(/METHOD/);
    }
  });

  it('rejects unknown policy keys with their path', () => {
    expect(() => parsePolicy({ rules: [{ action: 'allow', host: 'a.com', prot: 1 }] })).toThrow(/rules\[0\]/);
  });
});

describe('presets', () => {
  it('agent allows only the agent domains and intercepts them', () => {
    const p = buildPolicy({ preset: 'agent', agentDomains: ['api.anthropic.com'] });
    expect(decide(p, { host: 'api.anthropic.com', port: 443 })).toMatchObject({ allowed: true });
    expect(decide(p, { host: 'registry.npmjs.org', port: 443 }).allowed).toBe(false);
    expect(needsInterception(p, 'api.anthropic.com')).toBe(true);
    expect(needsInterception(p, 'example.com')).toBe(false);
  });

  it('dev adds registries and git hosts', () => {
    const p = buildPolicy({ preset: 'dev', agentDomains: ['api.openai.com'] });
    for (const host of ['api.openai.com', 'registry.npmjs.org', 'pypi.org', 'raw.githubusercontent.com']) {
      expect(decide(p, { host, port: 443 }).allowed, host).toBe(true);
    }
    expect(DEV_DOMAINS).toContain('deb.debian.org');
    expect(decide(p, { host: 'evil.example', port: 443 }).allowed).toBe(false);
  });

  it('open allows public names but none refuses everything, even configured allows', () => {
    const open = buildPolicy({ preset: 'open' });
    expect(decide(open, { host: 'anything.example', port: 8080 }).allowed).toBe(true);
    const none = buildPolicy({
      preset: 'none',
      agentDomains: ['api.anthropic.com'],
      rules: [allow('a.com')],
      allowHostPorts: [5432],
    });
    expect(none.rules).toEqual([]);
    expect(decide(none, { host: 'api.anthropic.com', port: 443 }).allowed).toBe(false);
    expect(none.allowHostPorts).toEqual([]);
  });
});

describe('decide', () => {
  it('denies unknown hosts with the command that would allow them', () => {
    const d = decide(policy([allow('a.com')]), { host: 'b.com', port: 443 });
    expect(d).toMatchObject({ allowed: false, suggestion: 'corral egress allow b.com' });
    expect(decide(policy([]), { host: 'b.com', port: 8443 }).suggestion).toBe(
      'corral egress allow b.com:8443',
    );
  });

  it('lets deny beat allow regardless of order, and names the deny rule and its source', () => {
    const p = policy([{ ...deny('x.a.com'), source: 'project' }, allow('*.a.com')]);
    expect(decide(p, { host: 'y.a.com', port: 443 }).allowed).toBe(true);
    const d = decide(p, { host: 'x.a.com', port: 443 });
    expect(d.allowed).toBe(false);
    expect(d.reason).toContain('deny x.a.com');
    expect(d.reason).toContain('project config');
  });

  it('matches *.suffix on subdomains only, and ports when given', () => {
    const p = policy([allow('*.a.com'), allow('b.com:8443')]);
    expect(decide(p, { host: 'a.com', port: 443 }).allowed).toBe(false);
    expect(decide(p, { host: 'deep.x.a.com', port: 443 }).allowed).toBe(true);
    expect(decide(p, { host: 'evila.com', port: 443 }).allowed).toBe(false);
    expect(decide(p, { host: 'b.com', port: 8443 }).allowed).toBe(true);
    expect(decide(p, { host: 'b.com', port: 443 }).allowed).toBe(false);
  });

  it('applies method and path rules per request, and lets the connection open for them', () => {
    const p = policy([allow('GET api.github.com/repos/acme/'), deny('POST x.com/upload'), allow('x.com')]);
    expect(decide(p, { host: 'api.github.com', port: 443 }).allowed).toBe(true);
    expect(
      decide(p, { host: 'api.github.com', port: 443, method: 'GET', path: '/repos/acme/x?y=1' }).allowed,
    ).toBe(true);
    const post = decide(p, { host: 'api.github.com', port: 443, method: 'POST', path: '/repos/acme/x' });
    expect(post.allowed).toBe(false);
    expect(post.suggestion).toBe("corral egress allow 'POST api.github.com/repos/acme/x'");
    // Dot segments and encoded dots do not escape the prefix.
    for (const path of ['/repos/acme/../other', '/repos/acme/%2e%2e/other', '/repos/acme/..\\other']) {
      expect(decide(p, { host: 'api.github.com', port: 443, method: 'GET', path }).allowed, path).toBe(false);
    }
    expect(decide(p, { host: 'x.com', port: 443 }).allowed).toBe(true);
    expect(decide(p, { host: 'x.com', port: 443, method: 'POST', path: '/upload/a' }).allowed).toBe(false);
    expect(decide(p, { host: 'x.com', port: 443, method: 'GET', path: '/upload/a' }).allowed).toBe(true);
    expect(needsInterception(p, 'api.github.com')).toBe(true);
    expect(needsInterception(p, 'x.com')).toBe(true);
  });

  it('refuses protected IP literals even under open, unless a rule names the address', () => {
    const open = buildPolicy({ preset: 'open' });
    for (const ip of [
      '169.254.169.254',
      'fd00:ec2::254',
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '192.168.1.1',
      '172.20.0.1',
      '0.0.0.0',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
    ]) {
      expect(decide(open, { host: ip, port: 80 }).allowed, ip).toBe(false);
    }
    const meta = decide(open, { host: '169.254.169.254', port: 80 });
    expect(meta.reason).toMatch(/metadata/);
    expect(meta.suggestion).toBeUndefined();
    expect(decide(open, { host: '203.0.113.7', port: 443 }).allowed).toBe(true);
    expect(decide(policy([allow('a.com')]), { host: '203.0.113.7', port: 443 }).allowed).toBe(false);
    expect(decide(policy([allow('10.0.0.1')]), { host: '10.0.0.1', port: 80 }).allowed).toBe(true);
  });

  it('lets only listed host ports through to the host', () => {
    const p = policy([allow('*')], {
      hostAddresses: ['10.88.0.1', 'host.containers.internal'],
      allowHostPorts: [5432],
    });
    expect(decide(p, { host: '10.88.0.1', port: 5432 }).allowed).toBe(true);
    expect(decide(p, { host: 'host.containers.internal', port: 5432 }).allowed).toBe(true);
    const d = decide(p, { host: '10.88.0.1', port: 22 });
    expect(d.allowed).toBe(false);
    // The hint is a command that runs as printed (`corral --allow-host 22` was not one).
    expect(d.suggestion).toBe('corral egress allow host.containers.internal:22');
    expect(checkResolved(p, { host: 'host.containers.internal', port: 22 }, ['10.88.0.1'])?.allowed).toBe(
      false,
    );
    expect(checkResolved(p, { host: 'host.containers.internal', port: 5432 }, ['10.88.0.1'])).toBeUndefined();
  });

  it('opens a host port for a rule naming the host alias and that exact port, never for wildcards', () => {
    const hostAddresses = ['10.88.0.1', 'host.containers.internal'];
    const hinted = policy([allow('*')], { hostAddresses });
    // What the hint says to run, as `corral egress allow` parses it, opens exactly that port.
    const rule = parseRule(
      decide(hinted, { host: '10.88.0.1', port: 8080 }).suggestion!.split(' ').pop()!,
      'allow',
    );
    const p = policy([allow('*'), rule], { hostAddresses });
    expect(decide(p, { host: 'host.containers.internal', port: 8080 }).allowed).toBe(true);
    expect(checkResolved(p, { host: 'host.containers.internal', port: 8080 }, ['10.88.0.1'])).toBeUndefined();
    expect(decide(p, { host: 'host.containers.internal', port: 8081 }).allowed).toBe(false);
    expect(checkResolved(p, { host: 'host.containers.internal', port: 8081 }, ['10.88.0.1'])?.allowed).toBe(
      false,
    );
    // `host.containers.internal:*` and the open preset's `*` do not open the host.
    const any = policy([{ action: 'allow', host: 'host.containers.internal', port: '*' }], { hostAddresses });
    expect(decide(any, { host: 'host.containers.internal', port: 8080 }).allowed).toBe(false);
  });
});

describe('checkResolved', () => {
  const p = policy([allow('*'), allow('db.corp:5432'), allow('meta.corp'), allow('192.168.5.5')]);
  it('refuses names resolving to protected addresses unless named exactly', () => {
    expect(checkResolved(p, { host: 'x.example', port: 443 }, ['93.184.216.34'])).toBeUndefined();
    const d = checkResolved(p, { host: 'x.example', port: 443 }, ['93.184.216.34', '127.0.0.1']);
    expect(d?.allowed).toBe(false);
    expect(d?.reason).toContain('x.example resolves to 127.0.0.1');
    expect(checkResolved(p, { host: 'db.corp', port: 5432 }, ['10.1.2.3'])).toBeUndefined();
    expect(checkResolved(p, { host: 'other.corp', port: 443 }, ['192.168.5.5'])).toBeUndefined();
  });
  it('never opens metadata for a name, only for the address itself', () => {
    expect(checkResolved(p, { host: 'meta.corp', port: 80 }, ['169.254.169.254'])?.reason).toMatch(
      /metadata/,
    );
    const named = policy([allow('meta.corp'), allow('169.254.169.254')]);
    expect(checkResolved(named, { host: 'meta.corp', port: 80 }, ['169.254.169.254'])).toBeUndefined();
  });
});

describe('addresses and paths', () => {
  it('classifies addresses', () => {
    expect(classifyAddress('169.254.169.254')).toBe('metadata');
    expect(classifyAddress('fd00:ec2::254')).toBe('metadata');
    expect(classifyAddress('fd12::1')).toBe('private');
    expect(classifyAddress('fe80::1')).toBe('link-local');
    expect(classifyAddress('100.64.1.1')).toBe('private');
    expect(classifyAddress('64:ff9b::7f00:1')).toBe('loopback');
    expect(classifyAddress('8.8.8.8')).toBe('public');
    expect(classifyAddress('2606:4700::1')).toBe('public');
  });
  it('canonicalises paths the way servers read them', () => {
    expect(canonicalPath('/a/b/../c?x=/../')).toBe('/a/c');
    expect(canonicalPath('//evil.com/x')).toBe('//evil.com/x');
    expect(canonicalPath('/a/%2E%2e/b')).toBe('/b');
  });
});
