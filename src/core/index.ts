/**
 * The core's front door: the use-cases the CLI, the daemon and the web UI share. Inputs are plain
 * objects (./types.ts; zod schemas for API edges in ./schemas.ts, imported separately so zod stays
 * off the CLI's start path); progress, notes and questions go through the caller's CoreEvents; an
 * attached run's I/O through the caller's Stdio. Nothing here touches process.stdout/stderr/stdin
 * or exits.
 */

export { AGENTS, findAgent, resolveAgent } from '../agents/index.js';
export type { AgentSpec } from '../agents/types.js';
export { forgetWorkspaceSessions } from '../bridge/session-state.js';
export { dataFile } from '../config/json-store.js';
export { exitCodeFor, runChecks, type Status } from '../doctor/checks.js';
export { ISOLATIONS, type Isolation } from '../engine/isolation.js';
export { consoleProgress, type Progress } from '../images/progress.js';
export { formatPorts } from '../sandbox/ports.js';
export { runAcp } from './acp/acp.js';
export {
  type Approval,
  answerApproval,
  answerApprovals,
  answerWord,
  listApprovals,
} from './approvals.js';
export { CoreContext, type CoreOptions } from './context.js';
export * from './daemon-client.js';
export * from './daemon-control.js';
export * from './daemon-paths.js';
export * from './daemon-token.js';
export {
  type AuditEntry,
  addEgressRules,
  auditLogFile,
  type EgressPolicy,
  egressLog,
  egressPolicy,
  formatEgressRule,
  resetEgressRules,
  runtimeEgressRules,
} from './egress.js';
export type { CoreEvents, Stdio } from './events.js';
export { DEFAULT_SCRIPT_PATH, type ModelServer, serveDetachedBridge, startScriptedModel } from './model.js';
export {
  attachSandbox,
  execInSandbox,
  listSandboxes,
  resolveTarget,
  type SandboxInfo,
  type SandboxListing,
  sandboxLogs,
  stopSandboxes,
} from './sandboxes.js';
export {
  askTriage,
  type Decision,
  findingLines,
  location,
  printable,
  type ScanProgress,
  scanProgress,
} from './scan-prompt.js';
export {
  followServiceLogs,
  listServices,
  type ServiceInfo,
  serviceLogText,
  stopService,
} from './services.js';
export { startSandbox } from './start/launch.js';
export { sandboxModelUrl } from './start/support.js';
export { createTask } from './tasks/create.js';
export { cancelTask, listTasks, removeTasks, taskLogs, taskStatus } from './tasks/manage.js';
export type { TaskState, TaskView } from './tasks/records.js';
export { runTask } from './tasks/run.js';
export {
  type AgentSession,
  agentSessions,
  mergeWorktree,
  removeWorktree,
  resumeAgent,
  type Worktree,
  type WorktreeView,
  worktreeDiff,
  worktrees,
} from './tasks/worktrees.js';
export { listTranscripts, playTranscript, removeTranscripts, type SessionSummary } from './transcripts.js';
export type * from './types.js';
export { holdGateway } from './warm.js';
