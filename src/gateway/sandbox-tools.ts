/**
 * Egress for tools that ignore HTTP(S)_PROXY or need more than it: ssh (and git over ssh) through
 * the gateway's CONNECT, JVM tools through system properties and a truststore with the gateway's
 * CA. Node's fetch is covered by NODE_USE_ENV_PROXY in the sandbox's proxy env. What the sandbox's
 * start script adds to the environment and runs before the agent starts (as the sandbox user).
 */
import { GATEWAY_CONTAINER_PATHS, SANDBOX_GATEWAY_DIR, SANDBOX_PROXY_PORT } from './settings.js';

/** ssh's ProxyCommand: a tunnel through the gateway (the relay's or forwarder.mjs's --connect). */
export const SANDBOX_SSH_PROXY = '/tmp/corral-ssh-proxy';
/** An ssh config using it, for `ssh -F` or an `Include` in ~/.ssh/config. */
export const SANDBOX_SSH_CONFIG = '/tmp/corral-ssh-config';
/** The JDK's roots plus the gateway's CA, made at start when the image has a JVM (keytool). */
export const SANDBOX_JAVA_TRUSTSTORE = '/tmp/corral-java-cacerts';
/** The gateway appends each refusal here (one line each), in the folder every sandbox mounts. */
export const DENIED_FILE = 'egress-denied.log';
export const SANDBOX_DENIED_LOG = `${SANDBOX_GATEWAY_DIR}/${DENIED_FILE}`;

export function toolEgressEnv(): Record<string, string> {
  const host = '127.0.0.1';
  const port = String(SANDBOX_PROXY_PORT);
  return {
    // git runs this through a shell; the user's own ~/.ssh/config still applies.
    GIT_SSH_COMMAND: `ssh -o ProxyCommand='${SANDBOX_SSH_PROXY} %h %p'`,
    JAVA_TOOL_OPTIONS: [
      `-Dhttp.proxyHost=${host}`,
      `-Dhttp.proxyPort=${port}`,
      `-Dhttps.proxyHost=${host}`,
      `-Dhttps.proxyPort=${port}`,
      '-Dhttp.nonProxyHosts=localhost|127.*|[::1]',
      // JDK 8u111+ refuses Basic auth through a tunnel by default; nothing here needs it.
      '-Djava.net.useSystemProxies=false',
    ].join(' '),
    CORRAL_EGRESS_DENIED_LOG: SANDBOX_DENIED_LOG,
  };
}

/**
 * Start-script lines (after the forwarder is up, while $corral_relay holds the command that runs
 * it, e.g. `exec /run/corral/gw/corral-relay`): the ssh helper and
 * config, and the Java truststore when keytool exists. A JVM-less image pays one `command -v`.
 */
export function toolEgressInit(caFile: string | undefined): string[] {
  const socket = `${SANDBOX_GATEWAY_DIR}/${GATEWAY_CONTAINER_PATHS.socketFile}`;
  const lines = [
    `printf '#!/bin/sh\\n%s --connect ${socket} "$1" "$2"\\n' "$corral_relay" > ${SANDBOX_SSH_PROXY}`,
    `chmod 755 ${SANDBOX_SSH_PROXY}`,
    `printf 'Host *\\n  ProxyCommand ${SANDBOX_SSH_PROXY} %%h %%p\\n' > ${SANDBOX_SSH_CONFIG}`,
  ];
  if (caFile) {
    const store = SANDBOX_JAVA_TRUSTSTORE;
    lines.push(
      'if command -v keytool >/dev/null 2>&1; then' +
        ' corral_jdk=$(dirname "$(dirname "$(readlink -f "$(command -v keytool)")")");' +
        ` cp "$corral_jdk/lib/security/cacerts" ${store} 2>/dev/null || cp /etc/ssl/certs/java/cacerts ${store} 2>/dev/null || true;` +
        ` keytool -importcert -noprompt -alias corral-gateway -file ${caFile} -keystore ${store} -storepass changeit >/dev/null 2>&1 &&` +
        ` export JAVA_TOOL_OPTIONS="$JAVA_TOOL_OPTIONS -Djavax.net.ssl.trustStore=${store} -Djavax.net.ssl.trustStorePassword=changeit";` +
        ' unset corral_jdk; fi',
    );
  }
  return lines;
}
