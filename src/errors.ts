/**
 * The one error type corral shows to users. Everything that can go wrong in a way the user can fix
 * becomes a CorralError with a stable code, a message naming the cause, and a hint naming the fix.
 * The CLI edge prints it without a stack trace (unless --debug).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'AGENT_UNKNOWN'
  | 'ENGINE_NOT_FOUND'
  | 'ENGINE_UNREACHABLE'
  | 'ENGINE_ERROR'
  | 'IMAGE_BUILD_FAILED'
  | 'IMAGE_NOT_FOUND'
  | 'CONTAINER_NOT_FOUND'
  | 'BAD_INPUT'
  | 'MODEL_SCRIPT_INVALID'
  | 'WORKSPACE_INVALID'
  | 'SECRETS_FOUND'
  | 'AUTH_FAILED'
  | 'BRIDGE_FAILED'
  | 'INTERRUPTED'
  | 'DAEMON_FAILED'
  | 'DAEMON_NOT_RUNNING'
  | 'APPROVAL_GONE'
  | 'GIT_FAILED'
  | 'MERGE_CONFLICT'
  | 'NOT_FOUND'
  | 'PROVIDER_UNREACHABLE'
  | 'DISK_FULL'
  /** A feature the chosen engine does not offer (e.g. published ports on a remote engine outside the gateway network). */
  | 'UNSUPPORTED';

export class CorralError extends Error {
  override readonly name = 'CorralError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return { outcome: 'error', code: this.code, message: this.message, hint: this.hint };
  }
}

export function isCorralError(e: unknown): e is CorralError {
  return e instanceof CorralError;
}

/**
 * A full disk (ENOSPC, or a quota: EDQUOT) as a CorralError naming where corral was writing. Node's
 * error for a failed write names no path, so the caller passes the file or folder it wrote.
 */
export function diskFull(e: unknown, where: string | undefined): CorralError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const path = where ?? (e as NodeJS.ErrnoException).path;
  return new CorralError(
    'DISK_FULL',
    `no space left on the disk holding ${path ?? "corral's data folder"} (${code}); the write was abandoned and the previous file, if any, is unchanged`,
    'free some space there (or set CORRAL_DATA_DIR to a folder on another disk), then run the command again',
    { cause: e },
  );
}
