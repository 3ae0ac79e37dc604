/**
 * The host bridge: one MCP server (streamable HTTP) per sandbox session, on a Unix socket only.
 * There is no TCP listener: the socket is carried into the workspace's network by corral, so nothing
 * else on the host or the LAN can reach it, and every request must still carry the session's token.
 * Each HTTP request gets its own stateless MCP server instance; the state that matters (running
 * commands) lives in the session's CommandStore, so nothing leaks when clients never say goodbye.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lstat, realpath, chmod as setMode, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isAbsolute } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { BridgeSettings } from '../config/schema.js';
import { CorralError } from '../errors.js';
import type { ServiceController } from '../services/types.js';
import { socketAccepts } from '../socket.js';
import { type ApprovalAnswer, type ApprovalRequest, allowlistPath } from './approvals.js';
import { CommandStore } from './commands.js';
import { confinedArgv, confinementAvailable } from './confine.js';
import { bridgeSettings, hostCommandEnv } from './host-env.js';
import { bridgeInstructions } from './instructions.js';
import { defaultNotifier } from './notify.js';
import { registerServiceTools } from './service-tools.js';
import { registerTools } from './tools.js';

export interface BridgeOptions {
  /** The workspace's real path (commands run here; output goes under .corral/commands). */
  workspace: string;
  /** Session id: one path component of letters, digits, '-', '_' or '.'. */
  session: string;
  /** Secret the sandbox sends as `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Or only its sha256 (hex): what a bridge host that outlives the run keeps, so it never holds
   * the token itself (a stored digest lets a restarted daemon serve the session again).
   */
  tokenSha256?: string;
  socketPath: string;
  approve: (req: ApprovalRequest) => Promise<ApprovalAnswer>;
  allowlistPath?: string;
  notify?: (title: string, body: string) => Promise<void>;
  /** Default run time limit for commands without timeout_seconds (none when unset). */
  commandTimeoutMs?: number;
  /** How long to wait for the user's answer; no answer means no. Default 60 s. */
  approvalTimeoutMs?: number;
  /** How long run_command waits before answering with an id. Default 5 s. */
  inlineWaitMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping a command. Default 5 s. */
  killGraceMs?: number;
  /** The workspace's service containers, for start_service and friends (no such tools without). */
  services?: ServiceController;
  /** Host commands' environment and confinement; the global config's `bridge:` when unset. */
  hostCommands?: BridgeSettings;
  /** Host commands' environment as the starting CLI made it (default: from this process's). */
  hostEnv?: NodeJS.ProcessEnv;
}

export interface Bridge {
  readonly socketPath: string;
  /** Stops running commands, closes connections and removes the socket. */
  close(): Promise<void>;
}

const SESSION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** sun_path is 108 bytes on Linux and 104 on macOS, terminator included. */
const MAX_SOCKET_PATH = 103;

const digest = (s: string) => createHash('sha256').update(s).digest();
/** The token's sha256 in hex, as a bridge host is given it. */
export const tokenSha256 = (token: string): string => digest(token).toString('hex');
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Constant time over the token's digest, so neither content nor length leaks through timing. */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return timingSafeEqual(digest(m?.[1] ?? ''), expected) && m !== null;
}

async function validate(opts: BridgeOptions): Promise<void> {
  if (!isAbsolute(opts.workspace) || (await realpath(opts.workspace).catch(() => '')) !== opts.workspace) {
    throw new CorralError(
      'WORKSPACE_INVALID',
      `The bridge needs the workspace's real path; got ${opts.workspace}.`,
      'Resolve the workspace (realpath) before starting the bridge.',
    );
  }
  if (!SESSION.test(opts.session) || opts.session.includes('..')) {
    throw new CorralError('BAD_INPUT', `Invalid bridge session id ${JSON.stringify(opts.session)}.`);
  }
  if (opts.token === undefined ? !SHA256_HEX.test(opts.tokenSha256 ?? '') : opts.token.length < 16) {
    throw new CorralError(
      'BAD_INPUT',
      'The bridge token is too short.',
      'Use at least 16 random characters.',
    );
  }
  if (Buffer.byteLength(opts.socketPath) > MAX_SOCKET_PATH) {
    throw new CorralError(
      'BAD_INPUT',
      `The bridge socket path ${opts.socketPath} is too long for a Unix socket.`,
      'Use a shorter runtime directory.',
    );
  }
}

/** A socket left by a crashed bridge is removed; a live one, or any other file, is an error. */
async function clearStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  const inUse = () =>
    new CorralError(
      'BAD_INPUT',
      `${path} is in use.`,
      'Stop the other bridge or choose another socket path.',
    );
  if (!st.isSocket()) throw inUse();
  const alive = await socketAccepts(path);
  if (alive) throw inUse();
  await unlink(path);
}

/** How host commands start: the scrubbed environment, and bubblewrap where confinement is on. */
async function hostCommandLaunch(
  workspace: string,
  settings: BridgeSettings,
  given?: NodeJS.ProcessEnv,
): Promise<{ env: NodeJS.ProcessEnv; wrap?: (argv: string[]) => string[] }> {
  // A given environment is filtered again: it came over a socket, and the rules are the same.
  const env = hostCommandEnv(settings.env, given);
  const available = settings.confine === false ? false : await confinementAvailable();
  if (settings.confine === true && !available) {
    throw new CorralError(
      'BRIDGE_FAILED',
      'bridge.confine is on, but bubblewrap (bwrap) does not run here.',
      'Install it (apt-get install bubblewrap), or set bridge.confine: false in the global config.',
    );
  }
  if (!available) return { env };
  return { env, wrap: (argv) => confinedArgv(argv, { workspace, network: settings.network }) };
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  await validate(opts);
  const expected = opts.token !== undefined ? digest(opts.token) : Buffer.from(opts.tokenSha256 ?? '', 'hex');
  const store = new CommandStore({
    workspace: opts.workspace,
    session: opts.session,
    killGraceMs: opts.killGraceMs ?? 5000,
    ...(await hostCommandLaunch(opts.workspace, opts.hostCommands ?? (await bridgeSettings()), opts.hostEnv)),
  });
  const ctx = {
    workspace: opts.workspace,
    session: opts.session,
    store,
    approve: opts.approve,
    allowlistPath: opts.allowlistPath ?? allowlistPath(),
    approvalTimeoutMs: opts.approvalTimeoutMs ?? 60_000,
    inlineWaitMs: opts.inlineWaitMs ?? 5000,
    notify: opts.notify ?? defaultNotifier(),
    ...(opts.commandTimeoutMs ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!bearerMatches(req.headers.authorization, expected)) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Bearer', connection: 'close' }).end();
      return;
    }
    if ((req.url ?? '').split('?')[0] !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    // Stateless: no SSE stream to resume and no session to end.
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const mcp = new McpServer(
      { name: 'corral', version: '1' },
      { capabilities: { tools: {} }, instructions: bridgeInstructions(opts.session) },
    );
    registerTools(mcp, ctx);
    if (opts.services) registerServiceTools(mcp, { ...ctx, services: opts.services });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.once('close', () => {
      void transport.close().catch(() => {});
      void mcp.close().catch(() => {});
    });
    try {
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  };

  const http = createServer((req, res) => void handle(req, res));
  await clearStaleSocket(opts.socketPath);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.socketPath, () => {
      http.off('error', reject);
      resolve();
    });
  });
  // Sandboxes connect under other uids; the token, not the file mode, is the lock.
  await setMode(opts.socketPath, 0o666);

  let closing: Promise<void> | undefined;
  return {
    socketPath: opts.socketPath,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await store.stopAll();
        await closed;
        await unlink(opts.socketPath).catch(() => {});
      })()),
  };
}
