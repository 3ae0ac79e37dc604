/**
 * `ssh://user@host[:port]`: an engine on another machine, reached with the OpenSSH client. Parsed
 * here (the engine floor) so `--engine`, `engine:` in config, `corral remote add` and DOCKER_HOST
 * all read it the same way.
 */
import { CorralError } from '../../errors.js';

export interface SshTarget {
  user?: string;
  host: string;
  port?: number;
  /** The remote engine's socket when the URL names one (`ssh://host/run/podman/podman.sock`). */
  socket?: string;
}

export const isSshUrl = (s: string): boolean => /^ssh:\/\//i.test(s);

/** Host names and addresses only: anything starting with `-` would be read by ssh as an option. */
const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;

export function parseSshUrl(url: string): SshTarget {
  const bad = (why: string) =>
    new CorralError(
      'BAD_INPUT',
      `"${url}" is not a usable SSH engine address: ${why}.`,
      'Use ssh://user@host or ssh://user@host:port (the OpenSSH client connects; keys from your agent or ~/.ssh).',
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'ssh:') throw bad('the scheme must be ssh://');
  if (u.password) throw bad('passwords in the URL are not accepted (use a key or your SSH agent)');
  if (u.search || u.hash) throw bad('no query or fragment is accepted');
  if (!u.hostname || !HOST.test(u.hostname)) throw bad('the host name is missing or invalid');
  const user = decodeURIComponent(u.username);
  if (user && !USER.test(user)) throw bad('the user name is invalid');
  const port = u.port ? Number(u.port) : undefined;
  const socket = u.pathname && u.pathname !== '/' ? decodeURIComponent(u.pathname) : undefined;
  if (socket && !/^\/[A-Za-z0-9._/-]+$/.test(socket)) throw bad('the socket path is invalid');
  return {
    host: u.hostname,
    ...(user ? { user } : {}),
    ...(port ? { port } : {}),
    ...(socket ? { socket } : {}),
  };
}

/** The canonical spelling, for names and messages. */
export function formatSshUrl(t: SshTarget): string {
  return `ssh://${t.user ? `${t.user}@` : ''}${t.host}${t.port ? `:${t.port}` : ''}${t.socket ?? ''}`;
}
