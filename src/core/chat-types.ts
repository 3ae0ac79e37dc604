/** Inputs of the multi-agent session use-cases (`corral session …`), beside types.ts. */
import type { TaskStartOptions } from './types.js';

/** The `corral run` options a multi-agent session's sends use (fixed when it is made). */
export type ChatStartOptions = Omit<TaskStartOptions, 'worktree'>;

export interface NewChatInput extends ChatStartOptions {
  /** The session's name (letters, digits, `.`, `_`, `-`). */
  name: string;
  /** Agent names or aliases, at least one. */
  agents: string[];
  /** The folder the agents share (default: the context's cwd). */
  workdir?: string | undefined;
  /** Each agent works in its own git worktree (branch corral/<agent>/session-<name>-<agent>). */
  worktree?: boolean | undefined;
}

export interface ChatRefInput {
  /** A session's name, or a unique prefix of its id. */
  session: string;
}

export interface SendChatInput extends ChatRefInput {
  /** `@agent …`, `@a @b …` or `@all …` (no address: every agent). */
  message: string;
}
