/**
 * The use-cases the daemon serves. TEMPORARY shim: until src/core holds these use-cases, this file
 * is the daemon's one door to the capabilities, so switching to core is a change here only.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENTS } from '../agents/index.js';
import type { ApprovalAnswer } from '../bridge/approvals.js';
import { loadConfig } from '../config/index.js';
import { type ContainerEngine, connectEngine } from '../engine/index.js';
import { CorralError } from '../errors.js';
import type { AuditEntry } from '../gateway/audit.js';
import { gatewayDirs } from '../gateway/folders.js';
import { GATEWAY_CONTAINER_PATHS } from '../gateway/settings.js';
import { resolveWorkspace, type Workspace } from '../sandbox/identity.js';
import { findSandbox, listSandboxes, type SandboxInfo, stopSandbox } from '../sandbox/manage.js';
import { listSessions } from '../sandbox/transcript.js';

const BIN = fileURLToPath(new URL('../../bin/corral.js', import.meta.url));

export class UseCases {
  private connected?: Promise<ContainerEngine>;
  constructor(readonly env: NodeJS.ProcessEnv) {}

  engine(): Promise<ContainerEngine> {
    this.connected ??= loadConfig({ env: this.env }).then((l) =>
      connectEngine(this.env.CORRAL_ENGINE ?? l.config.engine),
    );
    return this.connected;
  }

  agents() {
    return AGENTS.map((a) => ({ name: a.name, displayName: a.displayName, aliases: [...a.aliases] }));
  }

  async sandboxes(): Promise<SandboxInfo[]> {
    return listSandboxes(await this.engine());
  }

  async sandbox(id: string): Promise<SandboxInfo> {
    return findSandbox(await this.engine(), id, undefined, undefined);
  }

  async stop(id: string): Promise<void> {
    const engine = await this.engine();
    await stopSandbox(engine, await findSandbox(engine, id, undefined, undefined), {});
  }

  async logs(id: string, tail: number): Promise<string> {
    const engine = await this.engine();
    const s = await findSandbox(engine, id, undefined, undefined);
    const details = await engine.inspect(s.id);
    const stream = await engine.logs(s.id, { tail });
    const chunks: Buffer[] = [];
    if (details?.tty) stream.on('data', (c: Buffer) => chunks.push(c));
    else {
      const { PassThrough } = await import('node:stream');
      const sink = new PassThrough();
      sink.on('data', (c: Buffer) => chunks.push(c));
      engine.demux(stream, sink, sink);
    }
    await new Promise<void>((r) => {
      stream.once('end', r);
      stream.once('close', r);
    });
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Start a detached sandbox with a TTY (the CLI's `run -d`, until core offers it). */
  async start(input: StartInput): Promise<{ id: string; name: string }> {
    const ws = await resolveWorkspace(input.workdir);
    const args = [
      input.mode === 'shell' ? 'shell' : 'run',
      input.agent,
      '-d',
      '-w',
      ws.path,
      '--no-credential-check',
    ];
    if (input.profile) args.push('--profile', input.profile);
    if (input.network) args.push('--network', input.network);
    if (input.prompt) args.push('-p', input.prompt);
    if (input.modelUrl) args.push('--model-url', input.modelUrl);
    if (input.yolo) args.push('--yolo');
    for (const a of input.allow ?? []) args.push('--allow', a);
    for (const p of input.allowHost ?? []) args.push('--allow-host', String(p));
    const { code, out } = await runCli(args, this.env);
    if (code !== 0)
      throw new CorralError('BAD_INPUT', out.trim().split('\n').slice(-3).join(' ') || 'start failed');
    const s = (await listSandboxes(await this.engine(), { workspace: ws.id }))
      .filter((x) => x.agent === input.agent)
      .sort((a, b) => b.created - a.created)[0];
    if (!s) throw new CorralError('CONTAINER_NOT_FOUND', 'The sandbox started but is gone already.');
    return { id: s.id, name: s.name };
  }

  async approvals() {
    const { ApprovalQueue } = await import('../bridge/approval-queue.js');
    const { summarizeApproval } = await import('../bridge/prompt.js');
    return (await new ApprovalQueue().list()).map((p) => ({
      id: p.id,
      workspace: p.workspace,
      session: p.session,
      kind: p.kind,
      summary: summarizeApproval(p),
      details: p.details,
      created: new Date(p.created).toISOString(),
      expires: new Date(p.expires).toISOString(),
    }));
  }

  async answer(id: string, answer: ApprovalAnswer): Promise<boolean> {
    const { ApprovalQueue } = await import('../bridge/approval-queue.js');
    return new ApprovalQueue().answer(id, answer);
  }

  async workspace(path: string): Promise<Workspace> {
    return resolveWorkspace(path);
  }

  async egressRules(path: string) {
    const { readRuntimeRules } = await import('../gateway/runtime-rules.js');
    return readRuntimeRules((await resolveWorkspace(path)).id);
  }

  async addEgressRule(path: string, action: 'allow' | 'deny', text: string) {
    const { addRuntimeRule } = await import('../gateway/runtime-rules.js');
    const { formatRule } = await import('../gateway/policy.js');
    const { rule, applied } = await addRuntimeRule((await resolveWorkspace(path)).id, action, text);
    return { rule: formatRule(rule), applied: applied.length > 0 };
  }

  async auditLogPath(workspaceId: string): Promise<string> {
    return join(gatewayDirs((await this.engine()).kind, workspaceId).log, GATEWAY_CONTAINER_PATHS.auditFile);
  }

  async egressLog(path: string, opts: { denied: boolean; limit: number }): Promise<AuditEntry[]> {
    const file = await this.auditLogPath((await resolveWorkspace(path)).id);
    if (!existsSync(file)) return [];
    const entries = parseAudit(await readFile(file, 'utf8'));
    return entries.filter((e) => !opts.denied || e.decision !== 'allow').slice(-opts.limit);
  }

  async services(path: string) {
    const { listServices } = await import('../services/index.js');
    return listServices(await this.engine(), await resolveWorkspace(path));
  }

  async serviceLogs(path: string, name: string, tail: number): Promise<string> {
    const { findService, tailLogs } = await import('../services/index.js');
    const engine = await this.engine();
    const s = await findService(engine, await resolveWorkspace(path), name);
    if (!s) throw new CorralError('CONTAINER_NOT_FOUND', `No service ${name} in ${path}.`);
    return tailLogs(engine, s.container, tail);
  }

  async transcripts() {
    return listSessions();
  }

  async transcript(id: string): Promise<string> {
    const found = (await this.transcripts()).find((s) => s.id === id);
    if (!found)
      throw new CorralError('CONTAINER_NOT_FOUND', `No transcript ${id}.`, 'See `corral sessions list`.');
    return readFile(found.file, 'utf8');
  }
}

export function parseAudit(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as AuditEntry);
    } catch {}
  }
  return out;
}

export interface StartInput {
  agent: string;
  mode?: 'agent' | 'shell' | undefined;
  workdir: string;
  profile?: string | undefined;
  network?: 'gateway' | 'open' | 'none' | undefined;
  prompt?: string | undefined;
  modelUrl?: string | undefined;
  yolo?: boolean | undefined;
  allow?: string[] | undefined;
  allowHost?: number[] | undefined;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}
