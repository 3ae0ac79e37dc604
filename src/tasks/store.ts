/**
 * The task store: one SQLite file (better-sqlite3) in corral's data folder, so task records outlive
 * the daemon, the CLI that made them and the machine's uptime. Loaded lazily: commands that never
 * touch tasks never load the native addon. WAL mode lets a task's runner write while the CLI or
 * the daemon reads.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { corralPaths } from '../config/paths.js';

export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';

export const FINISHED: readonly TaskState[] = ['succeeded', 'failed', 'cancelled', 'lost'];

export interface TaskRecord {
  id: string;
  agent: string;
  prompt: string;
  /** The folder the agent works in (a clone, a worktree, or the user's folder). */
  workspace: string;
  /** Where the work came from: the folder given, a git URL or an issue/PR URL. */
  source: string;
  /** The worktree's name and branch, for `--worktree` tasks. */
  worktree: string | null;
  branch: string | null;
  state: TaskState;
  exitCode: number | null;
  created: string;
  started: string | null;
  ended: string | null;
  /** `git diff --stat` of the work, when the workspace is a git repository. */
  diffStat: string | null;
  /** The agent's own conversation id (for `corral resume`). */
  sessionId: string | null;
  profile: string;
  container: string;
  pid: number | null;
  logFile: string;
  /** Why the task failed before or outside the agent (clone failed, sandbox gone). */
  error: string | null;
  /** The start options (JSON of the core's StartSandboxInput, without the prompt). */
  options: string;
}

/** A conversation an agent had in a run or task, for `corral resume`. */
export interface AgentSession {
  sessionId: string;
  agent: string;
  workspace: string;
  profile: string;
  kind: 'run' | 'task';
  created: string;
  title: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, agent TEXT NOT NULL, prompt TEXT NOT NULL, workspace TEXT NOT NULL,
  source TEXT NOT NULL, worktree TEXT, branch TEXT, state TEXT NOT NULL, exit_code INTEGER,
  created TEXT NOT NULL, started TEXT, ended TEXT, diff_stat TEXT, session_id TEXT,
  profile TEXT NOT NULL, container TEXT NOT NULL, pid INTEGER, log_file TEXT NOT NULL,
  error TEXT, options TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agent_sessions (
  session_id TEXT NOT NULL, agent TEXT NOT NULL, workspace TEXT NOT NULL, profile TEXT NOT NULL,
  kind TEXT NOT NULL, created TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (agent, session_id)
);
`;

const COLUMNS: Record<keyof TaskRecord, string> = {
  id: 'id',
  agent: 'agent',
  prompt: 'prompt',
  workspace: 'workspace',
  source: 'source',
  worktree: 'worktree',
  branch: 'branch',
  state: 'state',
  exitCode: 'exit_code',
  created: 'created',
  started: 'started',
  ended: 'ended',
  diffStat: 'diff_stat',
  sessionId: 'session_id',
  profile: 'profile',
  container: 'container',
  pid: 'pid',
  logFile: 'log_file',
  error: 'error',
  options: 'options',
};

const SELECT = `SELECT ${Object.entries(COLUMNS)
  .map(([k, c]) => `${c} AS ${k}`)
  .join(', ')} FROM tasks`;

export function dataDir(env: NodeJS.ProcessEnv): string {
  return env.CORRAL_DATA_DIR ?? corralPaths.data;
}

/** corral's one database file (tasks, conversations, multi-agent sessions), opened for one use. */
export function openDatabase(env: NodeJS.ProcessEnv): BetterSqlite3.Database {
  const dir = dataDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // createRequire: the addon is CommonJS with a native .node file, left out of the bundle.
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(join(dir, 'tasks.db'));
  db.pragma('journal_mode = WAL');
  // A runner and the CLI may write at once: wait for the lock rather than fail.
  db.pragma('busy_timeout = 5000');
  return db;
}

export class TaskStore {
  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly dir: string,
  ) {}

  static open(env: NodeJS.ProcessEnv): TaskStore {
    const dir = dataDir(env);
    mkdirSync(join(dir, 'tasks'), { recursive: true, mode: 0o700 });
    const db = openDatabase(env);
    db.exec(SCHEMA);
    return new TaskStore(db, dir);
  }

  logFileFor(id: string): string {
    return join(this.dir, 'tasks', `${id}.log`);
  }

  insert(t: TaskRecord): void {
    const keys = Object.keys(COLUMNS) as (keyof TaskRecord)[];
    this.db
      .prepare(
        `INSERT INTO tasks (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map((k) => `@${k}`).join(', ')})`,
      )
      .run(t);
  }

  update(id: string, fields: Partial<TaskRecord>): void {
    const keys = (Object.keys(fields) as (keyof TaskRecord)[]).filter((k) => k !== 'id');
    if (!keys.length) return;
    this.db
      .prepare(`UPDATE tasks SET ${keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ')} WHERE id = @id`)
      .run({ ...fields, id });
  }

  get(id: string): TaskRecord | undefined {
    return this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as TaskRecord | undefined;
  }

  /** Tasks whose id starts with `prefix`. */
  byPrefix(prefix: string): TaskRecord[] {
    return this.db
      .prepare(`${SELECT} WHERE id LIKE ? ORDER BY created DESC`)
      .all(`${prefix}%`) as TaskRecord[];
  }

  list(): TaskRecord[] {
    return this.db.prepare(`${SELECT} ORDER BY created DESC`).all() as TaskRecord[];
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM tasks WHERE id = ?').run(id);
  }

  recordSession(s: AgentSession): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO agent_sessions (session_id, agent, workspace, profile, kind, created, title)
         VALUES (@sessionId, @agent, @workspace, @profile, @kind, @created, @title)`,
      )
      .run(s);
  }

  sessions(agent: string): AgentSession[] {
    return this.db
      .prepare(
        `SELECT session_id AS sessionId, agent, workspace, profile, kind, created, title
         FROM agent_sessions WHERE agent = ? ORDER BY created DESC`,
      )
      .all(agent) as AgentSession[];
  }

  close(): void {
    this.db.close();
  }
}
