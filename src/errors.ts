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
  | 'PROVIDER_UNREACHABLE';

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
