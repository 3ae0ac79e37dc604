/**
 * The gateway's side of brokered OAuth logins: the current access token of each login, read from
 * the host's login store (mounted read-write) at each use, and the refresh broker kept running for
 * every login the settings name. Every gateway serving a profile runs the broker; the store's lock
 * makes exactly one of them refresh each time (src/auth/broker.ts).
 */
import { join } from 'node:path';
import { type BrokerTarget, DEFAULT_TIMING, startBroker } from '../auth/broker.js';
import { accessTokenSource } from '../auth/store.js';
import type { Credential } from './credentials.js';
import { type BrokeredLogin, type GatewaySettings, GATEWAY_CONTAINER_PATHS as P } from './settings.js';

/** A settings path part must be a plain name: it becomes a folder under the store. */
const safe = (s: string) => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(s);

export function loginDir(b: Pick<BrokeredLogin, 'agent' | 'profile'>, root: string = P.authDir): string {
  return join(root, b.agent, b.profile);
}

export interface BrokeredState {
  credentials: () => readonly Credential[];
  /** Apply new settings (a reload): new logins are injected and checked at once. */
  update(settings: GatewaySettings): void;
  stop(): void;
}

export function startBrokered(
  initial: GatewaySettings,
  log: (line: string) => void,
  root: string = P.authDir,
): BrokeredState {
  let logins: BrokeredLogin[] = [];
  const sources = new Map<string, () => string | undefined>();
  const set = (s: GatewaySettings) => {
    logins = (s.brokered ?? []).filter((b) => safe(b.agent) && safe(b.profile));
    for (const b of logins) {
      const dir = loginDir(b, root);
      if (!sources.has(dir)) sources.set(dir, accessTokenSource(dir));
    }
  };
  set(initial);
  const targets = (): BrokerTarget[] => {
    const byDir = new Map<string, BrokerTarget>();
    for (const b of logins) {
      const dir = loginDir(b, root);
      byDir.set(dir, {
        label: `${b.agent}/${b.profile}`,
        dir,
        tokenUrl: b.tokenUrl,
        clientId: b.clientId,
        ...(b.clientSecret ? { clientSecret: b.clientSecret } : {}),
        ...(b.tokenBody ? { tokenBody: b.tokenBody } : {}),
        scopes: b.scopes,
      });
    }
    return [...byDir.values()];
  };
  const timing = initial.refresh
    ? { checkMs: initial.refresh.checkSeconds * 1000, aheadMs: initial.refresh.aheadSeconds * 1000 }
    : DEFAULT_TIMING;
  const broker = startBroker(targets, timing, { log, ca: initial.upstreamCa });
  return {
    credentials() {
      const out: Credential[] = [];
      for (const b of logins) {
        const value = sources.get(loginDir(b, root))?.();
        if (!value || value === b.placeholder) continue;
        for (const host of b.hosts)
          out.push({ host, header: 'authorization', value, placeholder: b.placeholder });
      }
      return out;
    },
    update(s) {
      set(s);
      void broker.round();
    },
    stop: broker.stop,
  };
}
