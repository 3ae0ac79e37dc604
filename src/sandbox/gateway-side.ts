/**
 * The sandbox's side of the egress gateway: the trust stores with the gateway's CA, the proxy
 * variables every common client honours, and the forwarder that carries the sandbox's traffic
 * (and its host bridge and services) over the gateway's sockets, started before anything else.
 */
import { toolEgressEnv, toolEgressInit } from '../gateway/sandbox-tools.js';
import { SERVICE_ROUTES_FILE } from '../gateway/service-files.js';
import {
  CA_PUBLIC_FILE,
  FORWARDER_FILE,
  GATEWAY_CONTAINER_PATHS,
  RELAY_FILE,
  SANDBOX_CA_BUNDLE,
  SANDBOX_GATEWAY_DIR,
  SANDBOX_NODE_CA,
  SANDBOX_PROXY_PORT,
} from '../gateway/settings.js';
import { HOST_CA_PATH } from '../images/recipes.js';
import type { SandboxSpec } from './spec.js';

/** Where a published port's relay and the forwarder meet (a folder the relay container shares). */
export const SANDBOX_INBOUND_DIR = '/run/corral/in';

/**
 * The gateway terminates TLS for the agent's API with the install's CA: the sandbox's trust stores
 * get it on top of what they had (system roots, and the host CA for Node), built at start.
 */
export function caTrustInit(): string[] {
  const ca = `${SANDBOX_GATEWAY_DIR}/${CA_PUBLIC_FILE}`;
  return [
    `{ cat /etc/ssl/certs/ca-certificates.crt 2>/dev/null; cat ${ca}; } > ${SANDBOX_CA_BUNDLE}`,
    `{ cat ${HOST_CA_PATH} 2>/dev/null; cat ${ca}; } > ${SANDBOX_NODE_CA}`,
  ];
}

export function caTrustEnv(): Record<string, string> {
  return {
    SSL_CERT_FILE: SANDBOX_CA_BUNDLE,
    CURL_CA_BUNDLE: SANDBOX_CA_BUNDLE,
    REQUESTS_CA_BUNDLE: SANDBOX_CA_BUNDLE,
    GIT_SSL_CAINFO: SANDBOX_CA_BUNDLE,
    PIP_CERT: SANDBOX_CA_BUNDLE,
    NODE_EXTRA_CA_CERTS: SANDBOX_NODE_CA,
  };
}

/** Env that points every common HTTP client at the forwarder in front of the gateway. */
export function proxyEnv(nodeOptions?: string): Record<string, string> {
  const url = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    // Node's own fetch and http honour the proxy variables only when asked (Node ≥ 22.21), and
    // then warn on every start that the agent doing it is experimental.
    NODE_USE_ENV_PROXY: '1',
    // Added to the user's own NODE_OPTIONS, not in place of them.
    NODE_OPTIONS: [nodeOptions, '--disable-warning=UNDICI-EHPA'].filter(Boolean).join(' '),
    // ssh/git over ssh, JVM tools, and where refusals are written (gateway/sandbox-tools.ts).
    ...toolEgressEnv(),
  };
}

/** The file the forwarder writes once it listens (shell syntax: for sh inside the sandbox). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, for sh.
export const FORWARDER_READY = '"${TMPDIR:-/tmp}/corral-forwarder.ready"';

/**
 * Start the forwarder (gateway socket → 127.0.0.1:3128) and wait until it listens, before anything
 * else runs. It is the static relay (relay/, Go; a few ms to start) when the gateway's folder has
 * one that runs here, else the Node forwarder: on the image's Node, or corral's under /opt/corral
 * for images without Node on PATH (devcontainer bases). `$corral_relay` is then the command that
 * runs it, for the ssh helper (toolEgressInit).
 */
export function forwarderInit(inbound: number[] = [], bridge?: SandboxSpec['bridge']): string[] {
  const dir = SANDBOX_GATEWAY_DIR;
  const args = [
    `--out ${SANDBOX_PROXY_PORT}=${dir}/${GATEWAY_CONTAINER_PATHS.socketFile}`,
    // Tells the gateway this sandbox is there, so it does not idle out under a quiet agent.
    `--hold ${dir}/${GATEWAY_CONTAINER_PATHS.socketFile}`,
    ...(bridge ? [`--out ${bridge.port}=${dir}/${bridge.socketName}`] : []),
    // The workspace's services (started now or later) on their own loopback addresses.
    `--services ${dir}/${SERVICE_ROUTES_FILE}`,
    ...inbound.map((p) => `--in ${SANDBOX_INBOUND_DIR} ${p}`),
  ];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, for sh.
  const log = '"${TMPDIR:-/tmp}/corral-forwarder.log"';
  const ready = FORWARDER_READY;
  const relay = `${dir}/${RELAY_FILE}`;
  const tail = `${args.join(' ')} --ready ${ready} > ${log} 2>&1 &`;
  // The wait uses only shell builtins but `sleep`, and gives up at once if the forwarder exits.
  return [
    `rm -f ${ready}`,
    // Run once first: a relay built for another CPU (a remote engine) or on a noexec mount is skipped.
    `if [ -x ${relay} ] && ${relay} --version >/dev/null 2>&1; then`,
    `  corral_relay="exec ${relay}"; ${relay} ${tail}`,
    'else',
    '  CORRAL_NODE=$(command -v node || echo /opt/corral/node/bin/node)',
    `  corral_relay="exec \\"$CORRAL_NODE\\" ${dir}/${FORWARDER_FILE}"; "$CORRAL_NODE" ${dir}/${FORWARDER_FILE} ${tail}`,
    'fi',
    'corral_fwd=$!',
    `i=0; until [ -s ${ready} ]; do i=$((i+1)); if [ $i -gt 1000 ] || ! kill -0 $corral_fwd 2>/dev/null; then echo "corral: the egress forwarder did not start:" >&2; cat ${log} >&2; exit 70; fi; sleep 0.01; done`,
    ...toolEgressInit(`${dir}/${CA_PUBLIC_FILE}`),
    'unset CORRAL_NODE i corral_fwd corral_relay',
  ];
}
