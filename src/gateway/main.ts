/**
 * The gateway container's entry point (bundled into localhost/corral/gateway by the image build).
 * The host writes its settings to /etc/corral/gateway.json (a read-only bind of a host folder) and
 * replaces the file when the user changes the policy; the gateway watches the folder and applies a
 * new policy without restarting. It listens only on a Unix socket in a folder shared with the
 * workspace's sandboxes, and exits after a long idle spell so a forgotten workspace costs nothing.
 */
import { createWriteStream, watch } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBrokered } from './brokered.js';
import { loadOrCreateCa } from './ca.js';
import { gatewaySideHostAddresses } from './host-addresses.js';
import type { EgressPolicy } from './policy.js';
import { startGateway } from './proxy.js';
import { runRelay } from './relay.js';
import { cachingResolver, type Resolve, systemResolve } from './resolve.js';
import { DENIED_FILE } from './sandbox-tools.js';
import { type ServiceRelay, serviceAddress, serviceRelay, withServices } from './service-relay.js';
import { type GatewaySettings, GATEWAY_CONTAINER_PATHS as P } from './settings.js';

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

/** Tell the host which settings are in force now: a run waits for its own before its sandbox starts. */
async function applied(settings: GatewaySettings): Promise<void> {
  await writeFile(join(P.logDir, P.appliedFile), String(settings.revision ?? 0));
}

async function readSettings(): Promise<GatewaySettings> {
  return JSON.parse(await readFile(join(P.confDir, P.settingsFile), 'utf8')) as GatewaySettings;
}

/** Names the settings pin to addresses (egress.hosts), `host-gateway` meaning the host itself. */
function pinnedResolver(settings: GatewaySettings, hostIps: string[], services: ServiceRelay): Resolve {
  const base = cachingResolver(systemResolve, 5000);
  return async (host) => {
    const service = serviceAddress(services.routes(), host);
    if (service) return service;
    const pinned = settings.hosts[host];
    if (pinned === undefined) return base(host);
    return pinned === 'host-gateway' ? hostIps : [pinned];
  };
}

async function hostAddresses(aliases: string[]): Promise<string[]> {
  const ips = await Promise.all(aliases.map((a) => systemResolve(a).catch(() => [] as string[])));
  return [...new Set(ips.flat())];
}

function withHost(policy: EgressPolicy, aliases: string[], ips: string[], own: string[]): EgressPolicy {
  return {
    ...policy,
    hostAddresses: [...new Set([...policy.hostAddresses, ...aliases, ...ips])],
    // The host's addresses from its settings, plus the alias's and what this container sees.
    hostRefused: [...new Set([...(policy.hostRefused ?? []), ...ips, ...own])],
  };
}

async function main(): Promise<void> {
  let settings = await readSettings();
  const hostIps = await hostAddresses(settings.hostAliases);
  const ownSide = gatewaySideHostAddresses();
  const ca = settings.intercept ? await loadOrCreateCa(P.caDir, { readOnly: true }) : undefined;
  const socketPath = join(P.socketDir, P.socketFile);
  await rm(socketPath, { force: true });
  const brokered = startBrokered(settings, log);
  let connections = 0;
  // Every running sandbox holds a connection open (forwarder --hold), so no connections at all
  // means no sandbox: exit after the linger (or the older, long idle spell). Service relays count too.
  const idleMs = settings.lingerSeconds ? settings.lingerSeconds * 1000 : settings.idleMinutes * 60_000;
  let idle: NodeJS.Timeout | undefined;
  const idleFromNow = () => {
    clearTimeout(idle);
    if (connections === 0 && idleMs > 0) idle = setTimeout(() => void stop('idle'), idleMs);
  };
  const onConnection = (open: boolean) => {
    connections += open ? 1 : -1;
    idleFromNow();
  };
  const services = serviceRelay(P.confDir, P.socketDir, log, onConnection);
  await services.sync();
  const policyNow = () =>
    withServices(withHost(settings.policy, settings.hostAliases, hostIps, ownSide), services.routes());
  const gateway = await startGateway({
    policy: policyNow(),
    socketPath,
    resolve: pinnedResolver(settings, hostIps, services),
    audit: createWriteStream(join(P.logDir, P.auditFile), { flags: 'a', mode: 0o600 }),
    sandbox: settings.workspace,
    credentials: settings.credentials,
    liveCredentials: brokered.credentials,
    ...(settings.upstreamCa.length ? { upstreamCa: settings.upstreamCa } : {}),
    ...(ca ? { ca } : {}),
    logBodies: settings.logBodies ?? false,
    deniedFile: join(P.socketDir, DENIED_FILE),
    onConnection,
  });
  // Sandboxes run under other uids (user namespaces, Docker's --user); the folder is theirs alone.
  await chmod(socketPath, 0o666);
  await applied(settings);
  log(`listening on ${socketPath} for workspace ${settings.workspace}`);

  // Coalesce a burst of events (the host writes a temp file, then renames it) into one reload.
  let pending = false;
  const reload = () => {
    if (pending) return;
    pending = true;
    setTimeout(async () => {
      pending = false;
      await services.sync().catch((e: Error) => log(`services not updated: ${e.message}`));
      try {
        settings = await readSettings();
        gateway.setPolicy(policyNow());
        gateway.setCredentials(settings.credentials);
        gateway.setBodyLogging(settings.logBodies ?? false);
        brokered.update(settings);
        await applied(settings);
        log('policy reloaded');
      } catch (e) {
        log(`keeping the previous policy: ${(e as Error).message}`);
      }
    }, 10);
  };
  watch(P.confDir, reload);
  // Settings written while this gateway was starting (after it read them, before the watch above
  // existed) raised no event: read them once more, or the run that wrote them waits in vain (seen
  // with four runs starting at once on a loaded machine).
  reload();

  const stop = async (why: string) => {
    log(`stopping: ${why}`);
    await gateway.close().catch(() => {});
    await services.close().catch(() => {});
    await rm(socketPath, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  idleFromNow();
}

if (process.argv[2] === 'relay') {
  runRelay(process.argv.slice(3));
} else {
  main().catch((e: unknown) => {
    log(`cannot start: ${(e as Error).message}`);
    process.exit(1);
  });
}
