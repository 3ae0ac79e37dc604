import { describe, expect, it } from 'vitest';
import { EXCHANGES, ExchangedTokens, exchangedPlaceholder, exchangeFor } from '../../src/gateway/exchange.js';

describe('token exchanges kept in the gateway', () => {
  it('matches the Copilot exchange only when a credential was injected over TLS, in any spelling of its path', () => {
    const path = '/copilot_internal/v2/token';
    expect(exchangeFor('api.github.com', path, 1, true)).toBe(EXCHANGES[0]);
    expect(exchangeFor('API.github.com.', '/Copilot_Internal//v2/%74oken/?x=1', 1, true)).toBe(EXCHANGES[0]);
    expect(exchangeFor('api.github.com', '/a/../copilot_internal/v2/token', 1, true)).toBe(EXCHANGES[0]);
    expect(exchangeFor('api.github.com', path, 0, true)).toBeUndefined();
    expect(exchangeFor('api.github.com', path, 1, false)).toBeUndefined();
    expect(exchangeFor('api.github.com', '/user', 1, true)).toBeUndefined();
    expect(exchangeFor('evil.example', path, 1, true)).toBeUndefined();
  });

  it("keeps a Copilot token's fields and replaces its signature; other shapes are replaced whole", () => {
    const real = 'tid=abc;exp=1900000000;proxy-ep=proxy.individual.githubcopilot.com;8kp=1:deadbeef';
    const p = exchangedPlaceholder(real);
    expect(
      p.startsWith('tid=abc;exp=1900000000;proxy-ep=proxy.individual.githubcopilot.com;8kp=1:corral'),
    ).toBe(true);
    expect(p).not.toContain('deadbeef');
    expect(exchangedPlaceholder('opaque-token-value')).toMatch(/^corral[0-9a-f]{32}$/);
  });

  it('injects an exchanged token on its hosts until it expires', () => {
    const tokens = new ExchangedTokens();
    const now = Math.floor(Date.now() / 1000);
    tokens.add(EXCHANGES[0]!, 'real', 'corral-placeholder', now + 60);
    tokens.add(EXCHANGES[0]!, 'old', 'corral-old-one', now - 1);
    expect(tokens.credentials().map((c) => [c.host, c.value])).toEqual([
      ['*.githubcopilot.com', 'real'],
      ['copilot-proxy.githubusercontent.com', 'real'],
    ]);
  });
});
