/** Ports, the host's addresses and path tricks, as decide() judges them (issue 15, findings 4 and 6). */
import { describe, expect, it } from 'vitest';
import { checkResolved, decide } from '../../src/gateway/decide.js';
import { interfaceAddresses, routeGateways, withoutLinkLocal } from '../../src/gateway/host-addresses.js';
import { checkPath } from '../../src/gateway/paths.js';
import { buildPolicy, checkEgressRules, formatRule, parseRule } from '../../src/gateway/policy.js';

describe('ports', () => {
  const p = buildPolicy({
    preset: 'agent',
    agentDomains: ['api.anthropic.com'],
    rules: [parseRule('github.com:22', 'allow'), parseRule('any.example:*', 'allow')],
  });
  it('a rule without a port allows 443 and 80 only', () => {
    expect(decide(p, { host: 'api.anthropic.com', port: 443 }).allowed).toBe(true);
    expect(decide(p, { host: 'api.anthropic.com', port: 80 }).allowed).toBe(true);
    const ssh = decide(p, { host: 'api.anthropic.com', port: 22 });
    expect(ssh.allowed).toBe(false);
    expect(ssh.suggestion).toBe('corral egress allow api.anthropic.com:22');
  });
  it('host:PORT and host:* are explicit', () => {
    expect(decide(p, { host: 'github.com', port: 22 }).allowed).toBe(true);
    expect(decide(p, { host: 'github.com', port: 443 }).allowed).toBe(false);
    expect(decide(p, { host: 'any.example', port: 5432 }).allowed).toBe(true);
    expect(formatRule(parseRule('any.example:*', 'allow'))).toBe('any.example:*');
  });
  it('a deny rule without a port covers every port', () => {
    const d = buildPolicy({ preset: 'open', rules: [parseRule('evil.example', 'deny')] });
    expect(decide(d, { host: 'evil.example', port: 8080 }).allowed).toBe(false);
    expect(decide(d, { host: 'other.example', port: 8080 }).allowed).toBe(true);
  });
});

describe('rule checks at the edge', () => {
  it('names the rule, where it came from and the expected form', () => {
    expect(() => checkEgressRules({ allow: [], deny: [] }, { allow: ['GET evil.com/ok; rm'] })).toThrow(
      /Cannot read egress rule "GET evil.com\/ok; rm" \(--allow\)/,
    );
    expect(() => checkEgressRules({ allow: ['ok.com', 'x.com:0'], deny: [] }, {})).toThrow(
      /egress\.allow\[1\]/,
    );
    expect(() => checkEgressRules({ allow: ['ok.com', 'x.com:*'], deny: ['GET y.com/a'] }, {})).not.toThrow();
  });
});

describe("the host's addresses", () => {
  const host = ['192.0.2.2', 'fd00::2', '172.17.0.1', '10.88.0.1', '127.0.0.1'];
  const open = {
    ...buildPolicy({ preset: 'open', allowHostPorts: [8080] }),
    hostAddresses: ['host.containers.internal', '10.88.0.1'],
    hostRefused: host,
  };
  const star = {
    ...buildPolicy({
      rules: [parseRule('*', 'allow'), parseRule('192.0.2.2:*', 'allow'), parseRule('lan.test:*', 'allow')],
    }),
    hostRefused: host,
  };
  it('are refused raw in every mode, even when a rule names them', () => {
    for (const p of [open, star])
      for (const ip of host) {
        const d = decide(p, { host: ip, port: 8080 });
        if (ip === '10.88.0.1' && p === open)
          expect(d.allowed).toBe(true); // the alias's address, on an allowed host port
        else expect(d.allowed, `${ip}`).toBe(false);
      }
    expect(decide(star, { host: '::ffff:192.0.2.2', port: 443 }).allowed).toBe(false);
    // Link-local IPv6 is never listed (one per container's veth) but is the host all the same,
    // even where a rule names the address.
    const named = { ...buildPolicy({ rules: [parseRule('[fe80::1]:*', 'allow')] }), hostRefused: host };
    expect(decide(named, { host: 'fe80::1', port: 8080 }).reason).toMatch(/address of the host/);
    expect(checkResolved(star, { host: 'lan.test', port: 8080 }, ['fe80::abcd'])?.allowed).toBe(false);
    expect(decide(star, { host: '192.0.2.2', port: 443 }).reason).toMatch(/address of the host/);
  });
  it('are refused behind a name, even one a rule names exactly', () => {
    for (const ip of host) {
      expect(checkResolved(star, { host: 'lan.test', port: 8080 }, [ip])?.allowed, ip).toBe(false);
      expect(checkResolved(open, { host: 'x.example', port: 9999 }, ['203.0.113.9', ip])?.allowed, ip).toBe(
        false,
      );
    }
  });
  it('reads the gateways of the routing tables', () => {
    const v4 =
      'Iface\tDestination\tGateway\tFlags\neth0\t00000000\t010011AC\t0003\neth0\t000011AC\t00000000\t0001\n';
    const v6 =
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n';
    expect(routeGateways(v4, v6)).toEqual(['172.17.0.1', 'fd00::1']);
  });
  it('leave out link-local IPv6 from the host list, which changes with every container', () => {
    expect(withoutLinkLocal(['10.88.0.1', 'fe80::1', 'FE80::2'.toLowerCase(), 'fd00::2'])).toEqual([
      '10.88.0.1',
      'fd00::2',
    ]);
    expect(interfaceAddresses().some((a) => a.startsWith('fe80:'))).toBe(false);
  });
});

describe('paths', () => {
  const p = buildPolicy({
    rules: [parseRule('GET api.example/ok/', 'allow'), parseRule('GET api.example/admin', 'deny')],
  });
  const get = (path: string) => decide(p, { host: 'api.example', port: 443, method: 'GET', path });
  it('refuses encoded traversal instead of forwarding it', () => {
    for (const path of [
      '/ok/..%2fsecret',
      '/ok/..%2Fsecret',
      '/ok/%2e%2e/secret',
      '/ok/%252e%252e/secret',
      '/ok/%252e%252e%252fsecret',
      '/ok/..%5csecret',
      '/ok/%25252e%25252e/x',
    ]) {
      const d = get(path);
      expect(d.allowed, path).toBe(false);
      expect(d.reason, path).toMatch(/percent-encod/);
    }
  });
  it('matches the decoded path, so encoding does not slip past a deny', () => {
    expect(get('/ok/a%20b').allowed).toBe(true);
    expect(get('/ok/@types%2fnode').allowed).toBe(true);
    expect(get('/%61dmin').allowed).toBe(false);
    expect(get('/ok/../admin').allowed).toBe(false);
    expect(checkPath('/a/./b/../c?x=..%2f')).toEqual({ ok: true, path: '/a/c' });
  });
});
