/**
 * Multi-agent sessions (`corral session`): a named group of agents, each with its own conversation
 * (the agent's session id), and the history of what was said to them and what each answered. Kept
 * in the same SQLite file as tasks, so a session outlives the daemon and the CLI that used it.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from './store.js';

export interface ChatRecord {
  id: string;
  name: string;
  /** The folder the agents share (or, with worktrees, the repository their worktrees come from). */
  workspace: string;
  worktree: boolean;
  /** The start options every send uses (JSON of the core's ChatStartOptions). */
  options: string;
  created: string;
}

export interface ChatAgentRecord {
  chatId: string;
  agent: string;
  position: number;
  /** Where this agent works: the shared folder or its own worktree. */
  workspace: string;
  worktree: string | null;
  branch: string | null;
  /** The agent's own conversation id, once it has one. */
  conversation: string | null;
}

export type ChatMessageState = 'sent' | 'pending' | 'done' | 'failed' | 'lost';

export interface ChatMessageRecord {
  id: number;
  chatId: string;
  /** Which user message this is, or answers (1, 2, …). */
  turn: number;
  /** 'user', or the agent that answered. */
  author: string;
  text: string;
  state: ChatMessageState;
  exitCode: number | null;
  /** The process asking the agent (while pending). */
  pid: number | null;
  created: string;
  ended: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chat_sessions (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, workspace TEXT NOT NULL, worktree INTEGER NOT NULL,
  options TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_agents (
  chat_id TEXT NOT NULL, agent TEXT NOT NULL, position INTEGER NOT NULL, workspace TEXT NOT NULL,
  worktree TEXT, branch TEXT, conversation TEXT, PRIMARY KEY (chat_id, agent)
);
CREATE TABLE IF NOT EXISTS chat_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id TEXT NOT NULL, turn INTEGER NOT NULL,
  author TEXT NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL, exit_code INTEGER, pid INTEGER,
  created TEXT NOT NULL, ended TEXT
);
CREATE INDEX IF NOT EXISTS chat_messages_by_chat ON chat_messages (chat_id, id);
`;

const CHAT = 'SELECT id, name, workspace, worktree, options, created FROM chat_sessions';
const AGENT = `SELECT chat_id AS chatId, agent, position, workspace, worktree, branch, conversation
  FROM chat_agents`;
const MESSAGE = `SELECT id, chat_id AS chatId, turn, author, text, state, exit_code AS exitCode, pid,
  created, ended FROM chat_messages`;

const chat = (row: unknown): ChatRecord => {
  const r = row as Omit<ChatRecord, 'worktree'> & { worktree: number };
  return { ...r, worktree: r.worktree === 1 };
};

export class ChatStore {
  private constructor(private readonly db: BetterSqlite3.Database) {}

  static open(env: NodeJS.ProcessEnv): ChatStore {
    const db = openDatabase(env);
    db.exec(SCHEMA);
    return new ChatStore(db);
  }

  /** A session and its agents, in one transaction: both or neither. */
  insert(c: ChatRecord, agents: ChatAgentRecord[]): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO chat_sessions (id, name, workspace, worktree, options, created)
           VALUES (@id, @name, @workspace, @worktree, @options, @created)`,
        )
        .run({ ...c, worktree: c.worktree ? 1 : 0 });
      const add = this.db.prepare(
        `INSERT INTO chat_agents (chat_id, agent, position, workspace, worktree, branch, conversation)
         VALUES (@chatId, @agent, @position, @workspace, @worktree, @branch, @conversation)`,
      );
      for (const a of agents) add.run(a);
    })();
  }

  byName(name: string): ChatRecord | undefined {
    const row = this.db.prepare(`${CHAT} WHERE name = ?`).get(name);
    return row ? chat(row) : undefined;
  }

  byPrefix(prefix: string): ChatRecord[] {
    return this.db.prepare(`${CHAT} WHERE id LIKE ? ORDER BY created DESC`).all(`${prefix}%`).map(chat);
  }

  list(): ChatRecord[] {
    return this.db.prepare(`${CHAT} ORDER BY created DESC`).all().map(chat);
  }

  agents(chatId: string): ChatAgentRecord[] {
    return this.db.prepare(`${AGENT} WHERE chat_id = ? ORDER BY position`).all(chatId) as ChatAgentRecord[];
  }

  setConversation(chatId: string, agent: string, conversation: string): void {
    this.db
      .prepare('UPDATE chat_agents SET conversation = ? WHERE chat_id = ? AND agent = ?')
      .run(conversation, chatId, agent);
  }

  messages(chatId: string): ChatMessageRecord[] {
    return this.db.prepare(`${MESSAGE} WHERE chat_id = ? ORDER BY id`).all(chatId) as ChatMessageRecord[];
  }

  message(id: number): ChatMessageRecord | undefined {
    return this.db.prepare(`${MESSAGE} WHERE id = ?`).get(id) as ChatMessageRecord | undefined;
  }

  nextTurn(chatId: string): number {
    const row = this.db.prepare('SELECT MAX(turn) AS t FROM chat_messages WHERE chat_id = ?').get(chatId) as {
      t: number | null;
    };
    return (row.t ?? 0) + 1;
  }

  addMessage(m: Omit<ChatMessageRecord, 'id'>): number {
    const r = this.db
      .prepare(
        `INSERT INTO chat_messages (chat_id, turn, author, text, state, exit_code, pid, created, ended)
         VALUES (@chatId, @turn, @author, @text, @state, @exitCode, @pid, @created, @ended)`,
      )
      .run(m);
    return Number(r.lastInsertRowid);
  }

  updateMessage(
    id: number,
    fields: Partial<Pick<ChatMessageRecord, 'text' | 'state' | 'exitCode' | 'ended'>>,
  ): void {
    const row = { text: null, state: null, exitCode: null, ended: null, ...fields, id };
    this.db
      .prepare(
        `UPDATE chat_messages SET text = COALESCE(@text, text), state = COALESCE(@state, state),
           exit_code = COALESCE(@exitCode, exit_code), ended = COALESCE(@ended, ended) WHERE id = @id`,
      )
      .run(row);
  }

  /** The last message id of every session: how a watcher sees that something was said. */
  heads(): { chatId: string; last: number; pending: number }[] {
    return this.db
      .prepare(
        `SELECT chat_id AS chatId, MAX(id) AS last, SUM(state = 'pending') AS pending
         FROM chat_messages GROUP BY chat_id`,
      )
      .all() as { chatId: string; last: number; pending: number }[];
  }

  remove(chatId: string): void {
    this.db.transaction(() => {
      for (const t of ['chat_messages', 'chat_agents'])
        this.db.prepare(`DELETE FROM ${t} WHERE chat_id = ?`).run(chatId);
      this.db.prepare('DELETE FROM chat_sessions WHERE id = ?').run(chatId);
    })();
  }

  close(): void {
    this.db.close();
  }
}
