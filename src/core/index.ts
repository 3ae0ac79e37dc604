/**
 * The core's front door: the use-cases the CLI, the daemon and the web UI share. Inputs are plain
 * objects (./types.ts; zod schemas for API edges in ./schemas.ts, imported separately so zod stays
 * off the CLI's start path); progress, notes and questions go through the caller's CoreEvents; an
 * attached run's I/O through the caller's Stdio. Nothing here touches process.stdout/stderr/stdin
 * or exits.
 */

export { AGENTS, findAgent, resolveAgent } from '../agents/index.js';
export type { AgentSpec } from '../agents/types.js';
export { dataFile } from '../config/json-store.js';
export { exitCodeFor, runChecks, type Status } from '../doctor/checks.js';
export { ISOLATIONS, type Isolation } from '../engine/isolation.js';
export { consoleProgress, type Progress } from '../images/progress.js';
export { formatPorts } from '../sandbox/ports.js';
export type { SandboxSpec } from '../sandbox/spec.js';
export { runAcp } from './acp/acp.js';
export {
  type Approval,
  answerApproval,
  answerApprovals,
  answerWord,
  listApprovals,
} from './approvals.js';
export { type AuditLogLook, auditLogSince, egressLog } from './audit-log.js';
export {
  agentProfile,
  DEFAULT_PROFILE,
  helperEngine,
  type ImportedLogin,
  importAgentLogin,
  type LoggedOut,
  listAuthProfiles,
  logoutProfile,
  type ProfileStatus,
} from './auth.js';
export { authDoctor, type DoctorReport } from './auth-doctor.js';
export { type ExposureRow, loginExposure } from './auth-exposure.js';
export { type LoginHooks, loginAgent, pickToken, type SetupTokenResult, setupToken } from './auth-login.js';
export { BridgeHost, type HostBridgeRequest } from './bridge-host.js';
export {
  type AllowedAdded,
  addAllowedCommand,
  listAllowedCommands,
  removeAllowedCommand,
} from './bridge-rules.js';
export { chatHeads, listChats, newChat, removeChat, showChat } from './chats/manage.js';
export {
  addressOf,
  type ChatAgentView,
  type ChatDetail,
  type ChatMessageState,
  type ChatMessageView,
  type ChatView,
} from './chats/records.js';
export { type ChatSend, sendToChat } from './chats/send.js';
export { CoreContext, type CoreOptions } from './context.js';
export { type Finding, type ScanReport, scanForCredentials } from './credential-scan.js';
export * from './daemon-client.js';
export * from './daemon-control.js';
export * from './daemon-paths.js';
export * from './daemon-token.js';
export {
  type AuditEntry,
  addEgressRules,
  type EgressPolicy,
  egressPolicy,
  formatEgressRule,
  resetEgressRules,
  runtimeEgressRules,
} from './egress.js';
export type { CoreEvents, Stdio } from './events.js';
export {
  type CommandRow,
  cleanOutput,
  findHostCommand,
  hostCommandOutput,
  hostCommands,
  killHostCommand,
  pickHostCommand,
} from './host-commands.js';
export {
  type BuiltImage,
  buildImages,
  type CorralImage,
  listImages,
  pruneCorralImages,
  updateImages,
} from './images.js';
export { listMcpServers, type McpListing, type McpServerView } from './mcp.js';
export { DEFAULT_SCRIPT_PATH, type ModelServer, serveDetachedBridge, startScriptedModel } from './model.js';
export {
  CONTAINERFILES,
  type ConfigView,
  initProject,
  PROJECT_FILE,
  showConfig,
  type TrustEntry,
  trustedWorkspaces,
  trustProject,
  untrustProject,
  valueAt,
} from './project.js';
export { STARTER_CONTAINERFILE, starterConfig } from './project-starters.js';
export {
  type AddProviderInput,
  addProvider,
  type ExportedProvider,
  exportProviders,
  importProviders,
  PROVIDER_KINDS,
  type ProviderView,
  providerList,
  providerModels,
  refreshProviders,
  removeProvider,
} from './providers.js';
export { addRemote, findRemote, listRemotes, pullWorkspace, type Remote, removeRemote } from './remotes.js';
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
  servicesByWorkspace,
  stopService,
} from './services.js';
export {
  type AddSkillInput,
  addSkill,
  type LockedSkill,
  listSkills,
  removeSkill,
  type SyncResult,
  syncSkills,
} from './skills.js';
export {
  refreshSshConfig,
  type SshConfigInput,
  type SshConfigResult,
  type SshHostEntry,
  type SshService,
  type SshServiceInfo,
  sshConfigFiles,
  sshServiceInfo,
  sshServiceWanted,
  startSshService,
  writeSshConfig,
} from './ssh.js';
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
export { dropWarm, reapWarmLeftovers, WarmPool, type WarmSource, type WarmTaken } from './warm-pool.js';
export {
  addMasks,
  cleanWorkspace,
  listMasks,
  removeMasks,
  workspacePath,
} from './workspace.js';
