/** Multi-agent sessions as the core hands them out; finding one; who a message is addressed to. */
import { findAgent } from '../../agents/index.js';
import { CorralError } from '../../errors.js';
import {
  type ChatAgentRecord,
  type ChatMessageRecord,
  type ChatMessageState,
  type ChatRecord,
  ChatStore,
} from '../../tasks/chat-store.js';
import type { CoreContext } from '../context.js';

export type { ChatMessageState };

export interface ChatAgentView {
  agent: string;
  workspace: string;
  worktree: string | null;
  branch: string | null;
  /** The agent's own conversation id (none before its first answer). */
  conversation: string | null;
}

export interface ChatMessageView {
  id: number;
  turn: number;
  /** 'user' or the agent that answered. */
  author: string;
  text: string;
  state: ChatMessageState;
  exitCode: number | null;
  created: string;
  ended: string | null;
}

export interface ChatView {
  id: string;
  name: string;
  workspace: string;
  worktree: boolean;
  created: string;
  agents: ChatAgentView[];
  /** How many messages the user sent. */
  turns: number;
}

export interface ChatDetail extends ChatView {
  messages: ChatMessageView[];
}

export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/;

export async function withChats<T>(ctx: CoreContext, fn: (s: ChatStore) => T | Promise<T>): Promise<T> {
  const store = ChatStore.open(ctx.env);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

export function messageView(m: ChatMessageRecord): ChatMessageView {
  const { chatId: _c, pid: _p, ...view } = m;
  return view;
}

export function chatView(s: ChatStore, c: ChatRecord): ChatView {
  const { options: _o, ...rest } = c;
  return {
    ...rest,
    agents: s.agents(c.id).map(({ chatId: _i, position: _p, ...a }: ChatAgentRecord) => a),
    turns: s.nextTurn(c.id) - 1,
  };
}

/** A session's full record, its answers' states brought up to date. */
export function chatDetail(s: ChatStore, c: ChatRecord): ChatDetail {
  return { ...chatView(s, c), messages: reconcile(s, s.messages(c.id)).map(messageView) };
}

export function findChat(s: ChatStore, ref: string): ChatRecord {
  const key = ref.trim();
  const named = s.byName(key);
  if (named) return named;
  const found = /^[0-9a-f]{1,16}$/.test(key) ? s.byPrefix(key) : [];
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new CorralError(
      'BAD_INPUT',
      `Session id "${ref}" is ambiguous: ${found.map((c) => `${c.id} (${c.name})`).join(', ')}.`,
      'Give more of the id, or the name.',
    );
  }
  throw new CorralError(
    'NOT_FOUND',
    `No session "${ref}".`,
    'See `corral session list`; `corral session new NAME --agents a,b` makes one.',
  );
}

function alive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * An answer still pending whose asking process is gone (a CLI killed, a daemon restarted mid-send)
 * will never come: it is marked lost, so the agent can be asked again.
 */
export function reconcile(s: ChatStore, messages: ChatMessageRecord[]): ChatMessageRecord[] {
  return messages.map((m) => {
    if (m.state !== 'pending' || alive(m.pid)) return m;
    const fields = {
      state: 'lost' as const,
      ended: new Date().toISOString(),
      text: m.text || 'no answer: the process asking the agent went away before it answered',
    };
    s.updateMessage(m.id, fields);
    return { ...m, ...fields };
  });
}

/**
 * Who a message is for: its leading `@name`s (an agent of the session, by name or alias, or `@all`);
 * no address means every agent. Returns the agents in the session's order, and the text without
 * the addresses.
 */
export function addressOf(
  message: string,
  agents: string[],
  session: string,
): { targets: string[]; text: string } {
  let rest = message.trim();
  const named = new Set<string>();
  let all = false;
  for (let m = /^@([\w.-]+)[\s,:]*/.exec(rest); m; m = /^@([\w.-]+)[\s,:]*/.exec(rest)) {
    const word = m[1]!.toLowerCase();
    if (word === 'all') all = true;
    else {
      const agent = agents.includes(word) ? word : findAgent(word)?.name;
      if (!agent || !agents.includes(agent)) {
        throw new CorralError(
          'BAD_INPUT',
          `No agent "@${m[1]}" in session ${session}.`,
          `Its agents: ${agents.map((a) => `@${a}`).join(', ')}, or @all.`,
        );
      }
      named.add(agent);
    }
    rest = rest.slice(m[0].length);
  }
  const text = rest.trim();
  if (!text) {
    throw new CorralError('BAD_INPUT', 'The message is empty.', 'Write something after the @address.');
  }
  const targets = all || !named.size ? agents : agents.filter((a) => named.has(a));
  return { targets, text };
}
