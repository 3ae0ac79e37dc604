/**
 * `--dry-run` behind the gateway: the commands that set up what the sandbox's commands need, the
 * workspace's gateway (its folders, the forwarder the sandbox runs, the settings file, the
 * container) and a port relay. Nothing is started or written while planning them. Real keys are
 * never printed: the settings file takes them from the shell's environment by name.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runCommand, shellQuote } from '../engine/command-line.js';
import type { ContainerSpec, EngineKind } from '../engine/index.js';
import type { GatewayDirs } from './folders.js';
import { BASE_HOSTS, HOSTS_FILE } from './service-files.js';
import {
  CA_PUBLIC_FILE,
  FORWARDER_FILE,
  type GatewaySettings,
  GATEWAY_CONTAINER_PATHS as P,
  RELAY_FILE,
} from './settings.js';

export interface GatewayDryRun {
  engine: EngineKind;
  /** The gateway container, as ensureGateway would create it. */
  container: ContainerSpec;
  dirs: GatewayDirs;
  settings: GatewaySettings;
  /** The built forwarder and the install's CA certificate, on the host. */
  forwarderJs: string;
  /** The built Go relay, when this build has one (the sandbox runs it in place of the forwarder). */
  relayBin?: string;
  caCert: string;
  caExists: boolean;
  /** For each credential, the env name the shell must hold its real value in. */
  credentialEnv: (placeholder: string) => string | undefined;
  relay?: { container: ContainerSpec; inboundDir: string };
  /**
   * A remote engine's published ports, in place of the relay: SSH forwards from this machine's
   * ports to the sandbox's sockets in the copy of its inbound folder there (argv lists).
   */
  forwards?: { inboundDir: string; commands: { forward: string[]; cancel: string[] }[] };
}

/**
 * The settings file written by printf, with each real key spliced in from the shell as "$NAME":
 * JSON and shell quoting stay apart, and the key never appears in the printed text.
 */
function settingsCommand(d: GatewayDryRun): { line: string; needs: string[]; dropped: string[] } {
  const needs: string[] = [];
  const dropped: string[] = [];
  const marks: string[] = [];
  // A marker no JSON text holds, replaced by the shell variable once the JSON is made.
  const token = `corral-secret-${randomBytes(6).toString('hex')}`;
  const credentials = d.settings.credentials.flatMap((c) => {
    const name = d.credentialEnv(c.placeholder);
    if (!name) {
      dropped.push(c.host);
      return [];
    }
    needs.push(name);
    marks.push(name);
    return [{ ...c, value: `${token}-${marks.length - 1}-` }];
  });
  const json = JSON.stringify({ ...d.settings, credentials }, null, 2);
  const parts = json.split(new RegExp(`${token}-(\\d+)-`));
  const args = parts.map((p, i) => (i % 2 ? `"$${marks[Number(p)]}"` : shellQuote(p)));
  const file = shellQuote(join(d.dirs.conf, P.settingsFile));
  return {
    line: `(umask 077 && printf '%s' ${args.join(' ')} > ${file})`,
    needs: [...new Set(needs)],
    dropped,
  };
}

export function gatewayDryRunCommands(d: GatewayDryRun): string[] {
  const q = shellQuote;
  const { dirs } = d;
  const bin = d.engine;
  const name = d.container.name;
  const settings = settingsCommand(d);
  const lines = ["# the workspace's egress gateway (corral reuses it when it already runs on this image)"];
  if (settings.needs.length)
    lines.push(`# needs ${settings.needs.join(', ')} set in this shell: the gateway injects them`);
  for (const host of settings.dropped)
    lines.push(`# the credential for ${host} is left out: no env name holds it`);
  // The brokered-login store every gateway mounts; corral makes it 0700 on first use.
  const auth = d.container.mounts.find((m) => m.target === P.authDir)?.source;
  lines.push(
    `mkdir -p ${q(dirs.conf)} ${q(dirs.log)} ${q(dirs.sock)}${auth ? ` ${q(auth)}` : ''}`,
    `chmod 700 ${q(dirs.log)}${auth ? ` ${q(auth)}` : ''} && chmod 755 ${q(dirs.sock)}`,
    // The sandbox's /etc/hosts (service names are added to it while it runs).
    `[ -e ${q(join(dirs.sock, HOSTS_FILE))} ] || printf '%s' ${q(BASE_HOSTS)} > ${q(join(dirs.sock, HOSTS_FILE))}`,
    // The sandbox runs the relay from the socket folder, or else the forwarder with its own node.
    `cp ${q(d.forwarderJs)} ${q(join(dirs.sock, FORWARDER_FILE))}`,
    d.relayBin
      ? `cp ${q(d.relayBin)} ${q(join(dirs.sock, RELAY_FILE))} && chmod 755 ${q(join(dirs.sock, RELAY_FILE))}`
      : `rm -f ${q(join(dirs.sock, RELAY_FILE))}`,
  );
  if (d.settings.intercept) {
    if (!d.caExists)
      lines.push(
        `# no CA at ${d.caCert} yet: corral makes the install's CA on its first run behind the gateway`,
      );
    lines.push(`cp ${q(d.caCert)} ${q(join(dirs.sock, CA_PUBLIC_FILE))}`);
  }
  lines.push(settings.line);
  const running = `${bin} inspect -f '{{.State.Running}}' ${q(name)} 2>/dev/null`;
  lines.push(
    `[ "$(${running})" = true ] || { ${bin} rm -f ${q(name)} >/dev/null 2>&1; ${runCommand(bin, d.container, { detach: true })} >/dev/null; }`,
    // Ready once it listens; the sandbox's forwarder connects to this socket.
    `i=0; until [ -S ${q(join(dirs.sock, P.socketFile))} ]; do i=$((i+1)); [ $i -lt 300 ] || { echo 'the gateway did not start' >&2; exit 1; }; sleep 0.05; done`,
  );
  if (d.forwards) {
    lines.push(
      "# the published ports: SSH forwards from this machine to the sandbox's sockets on the engine's machine (nothing listens on a port there)",
      `mkdir -p ${q(d.forwards.inboundDir)} && chmod 777 ${q(d.forwards.inboundDir)}`,
      ...d.forwards.commands.map((c) => c.forward.map(q).join(' ')),
    );
  } else if (d.relay) {
    lines.push(
      '# the port relay: publishes the sandbox ports, which has no network of its own',
      `mkdir -p ${q(d.relay.inboundDir)} && chmod 777 ${q(d.relay.inboundDir)}`,
      `${runCommand(bin, d.relay.container, { detach: true })} >/dev/null`,
    );
  }
  return lines;
}

/** What corral does once the sandbox is gone, as comments: the gateway may serve other sandboxes. */
export function gatewayDryRunCleanup(d: GatewayDryRun): string[] {
  return [
    ...(d.forwards?.commands.map((c) => `${c.cancel.map(shellQuote).join(' ')} || true`) ?? []),
    ...(d.relay && !d.forwards
      ? [`${d.engine} rm -f ${shellQuote(d.relay.container.name)} >/dev/null 2>&1 || true`]
      : []),
    `# the gateway exits by itself ${d.settings.lingerSeconds ?? 0} s after its last sandbox; at once: ${d.engine} rm -f ${d.container.name}`,
  ];
}
