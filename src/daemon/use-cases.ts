/**
 * The daemon's one door to corral: the core's use-cases with one CoreContext for the daemon's life
 * (config read once, engine found once). Notes from the core go to the daemon's log; a start that
 * would need to ask a question (undecided credential findings) is refused with the way out, as
 * the CLI does without a terminal.
 */
import { readFile } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import {
  AGENTS,
  type Approval,
  type ApprovalAnswerWord,
  type AuditEntry,
  addEgressRules,
  answerApproval,
  auditLogSince,
  BridgeHost,
  type ChatDetail,
  type ChatMessageView,
  type ChatSend,
  type ChatView,
  CoreContext,
  type CoreEvents,
  type CreateTaskInput,
  cancelTask,
  createTask,
  egressLog,
  listApprovals,
  listChats,
  listSandboxes,
  listServices,
  listTasks,
  listTranscripts,
  type NewChatInput,
  newChat,
  type Progress,
  providerList,
  refreshSshConfig,
  removeChat,
  resolveTarget,
  runtimeEgressRules,
  type SandboxListing,
  type ServiceInfo,
  type SshService,
  type SshServiceInfo,
  sandboxLogs,
  sendToChat,
  serviceLogText,
  servicesByWorkspace,
  showChat,
  sshServiceInfo,
  startSshService,
  stopSandboxes,
  type TaskView,
  taskLogs,
  taskStatus,
  WarmPool,
} from '../core/index.js';
import type { ContainerEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import { type StartInput, startDetached } from './start.js';

export type { StartInput };

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** Build progress, as log lines: a start through the daemon may build an image first. */
function logProgress(): Progress {
  let tail: string[] = [];
  return {
    step: (label) => log(`build: ${label}`),
    line: (text) => {
      tail = [...tail, text].slice(-20);
    },
    done: (summary) => summary && log(`build: ${summary}`),
    fail: () => log('build failed'),
    tail: () => tail,
  };
}

export class UseCases {
  readonly ctx: CoreContext;
  /** Warm sandboxes for the runs started here or by a CLI through the socket. */
  readonly warm: WarmPool;
  /** Detached runs' host bridges, served in this process (started here or by a CLI). */
  readonly bridges: BridgeHost;

  constructor(env: NodeJS.ProcessEnv, cwd: string) {
    const events: CoreEvents = { note: (text) => log(text), progress: logProgress };
    this.ctx = new CoreContext({ env, cwd, events });
    this.warm = new WarmPool(this.ctx, log);
    this.ctx.options.warm = this.warm;
    this.bridges = new BridgeHost(this.ctx, log);
    this.ctx.options.bridgeHost = this.bridges;
  }

  private sshService?: Promise<SshService>;

  /** The SSH server for editors, started on first use (a failed start is retried next time). */
  async ssh(): Promise<SshServiceInfo> {
    this.sshService ??= startSshService(this.ctx).catch((e: unknown) => {
      this.sshService = undefined;
      throw e;
    });
    return sshServiceInfo(this.ctx, await this.sshService);
  }

  /** Rewrite `corral ssh-config`'s entries (when the SSH server runs and the file exists). */
  async refreshSsh(): Promise<void> {
    if (!this.sshService) return;
    await refreshSshConfig(await this.ssh());
  }

  async closeSsh(): Promise<void> {
    await (await this.sshService?.catch(() => undefined))?.close();
  }

  engine(): Promise<ContainerEngine> {
    return this.ctx.engine();
  }

  agents() {
    return AGENTS.map((a) => ({ name: a.name, displayName: a.displayName, aliases: [...a.aliases] }));
  }

  /** The providers a start may name: what the form offers; never a key. */
  async providers() {
    return (await providerList()).map((p) => ({
      name: p.name,
      kind: p.kind,
      models: p.models,
      ...(p.defaultModel ? { defaultModel: p.defaultModel } : {}),
      agents: p.agents,
    }));
  }

  sandboxes(): Promise<SandboxListing[]> {
    return listSandboxes(this.ctx);
  }

  sandbox(target: string) {
    return resolveTarget(this.ctx, { target });
  }

  async stop(target: string): Promise<void> {
    await stopSandboxes(this.ctx, { targets: [target] });
  }

  /** The last `tail` lines of a sandbox's output, as the CLI's `corral logs` prints them. */
  async logs(target: string, tail: number): Promise<string> {
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    await sandboxLogs(this.ctx, { target, tail }, { stdin: Readable.from([]), stdout: sink, stderr: sink });
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A detached sandbox (with a TTY, for the browser terminal). */
  start(input: StartInput): Promise<{ id: string; name: string; exitCode?: number }> {
    return startDetached(this.ctx, input);
  }

  async approvals() {
    return (await listApprovals(this.ctx)).map((p: Approval) => ({
      id: p.id,
      workspace: p.workspace,
      session: p.session,
      kind: p.kind,
      summary: p.summary,
      details: p.details,
      created: new Date(p.created).toISOString(),
      expires: new Date(p.expires).toISOString(),
    }));
  }

  answer(id: string, answer: ApprovalAnswerWord): Promise<boolean> {
    return answerApproval(this.ctx, id, answer);
  }

  egressRules(workdir: string) {
    return runtimeEgressRules(this.ctx, { workdir });
  }

  async addEgressRule(workdir: string, action: 'allow' | 'deny', text: string) {
    const [r] = await addEgressRules(this.ctx, { workdir, action, rules: [text] });
    return { rule: r?.rule ?? text, applied: Boolean(r?.applied.length) };
  }

  /** The workspace's new audit log entries since `from` (undefined: only where the log ends). */
  auditSince(workspaceId: string, from: number | undefined) {
    return auditLogSince(this.ctx, workspaceId, from);
  }

  async egressLog(workdir: string, opts: { denied: boolean; limit: number }): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    await egressLog(this.ctx, { workdir, denied: opts.denied, lines: opts.limit }, (e) => out.push(e));
    return out;
  }

  /** Every workspace's services, by workspace id (one engine call; no reaping). */
  servicesByWorkspace(): Promise<Map<string, ServiceInfo[]>> {
    return servicesByWorkspace(this.ctx);
  }

  async services(workdir: string): Promise<ServiceInfo[]> {
    return (await listServices(this.ctx, { workdir })).services;
  }

  serviceLogs(workdir: string, name: string, tail: number): Promise<string> {
    return serviceLogText(this.ctx, { workdir, name, tail });
  }

  transcripts() {
    return listTranscripts(this.ctx);
  }

  tasks(): Promise<TaskView[]> {
    return listTasks(this.ctx);
  }

  task(id: string): Promise<TaskView> {
    return taskStatus(this.ctx, { id });
  }

  createTask(input: CreateTaskInput): Promise<{ id: string }> {
    return createTask(this.ctx, input);
  }

  cancelTask(id: string): Promise<TaskView> {
    return cancelTask(this.ctx, { id });
  }

  /** The log so far (the page polls, or follows task.state events). */
  async taskLog(id: string): Promise<{ task: TaskView; text: string }> {
    let text = '';
    const task = await taskLogs(this.ctx, { id }, (chunk) => {
      text += chunk;
    });
    // The last 1 MiB is plenty for a page; the file keeps it all.
    return { task, text: text.length > 1 << 20 ? text.slice(-(1 << 20)) : text };
  }

  chats(): Promise<ChatView[]> {
    return listChats(this.ctx);
  }

  chat(session: string): Promise<ChatDetail> {
    return showChat(this.ctx, { session });
  }

  newChat(input: NewChatInput): Promise<ChatView> {
    return newChat(this.ctx, input);
  }

  removeChat(session: string): Promise<ChatView> {
    return removeChat(this.ctx, { session });
  }

  /** Records the message and the pending answers, and returns; the answers arrive on onAnswer. */
  async sendChat(
    session: string,
    message: string,
    onAnswer: (m: ChatMessageView, session: ChatView) => void,
  ): Promise<Omit<ChatSend, 'done'>> {
    const { done, ...sent } = await sendToChat(this.ctx, { session, message }, onAnswer);
    done.catch((e: unknown) => log(`session ${sent.session.name}: ${(e as Error).message}`));
    return sent;
  }

  async transcript(id: string): Promise<string> {
    const found = (await this.transcripts()).find((s) => s.id === id);
    if (!found)
      throw new CorralError('CONTAINER_NOT_FOUND', `No transcript ${id}.`, 'See `corral sessions list`.');
    return readFile(found.file, 'utf8');
  }
}
