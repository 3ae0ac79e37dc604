/**
 * `corral acp <agent>`: an editor (Zed, JetBrains, any ACP client) talks JSON-RPC on our stdio to
 * the agent's ACP server in a sandbox started with the same options as `corral run`. Host paths
 * are mapped to /workspace and back; host-command approvals are asked through the editor
 * (session/request_permission); anything that stops the start (the credential scan, which has no
 * terminal to ask in here) answers the editor's open request with a JSON-RPC error, never a hang.
 */
import { randomBytes } from 'node:crypto';
import type { ApprovalPrompter } from '../../bridge/ask.js';
import { summarizeApproval } from '../../bridge/prompt.js';
import { isCorralError } from '../../errors.js';
import { WORKSPACE_DIR } from '../../images/recipes.js';
import { containerName, resolveWorkspace } from '../../workspace/identity.js';
import { CoreContext } from '../context.js';
import type { Stdio } from '../events.js';
import { startSandbox } from '../start/launch.js';
import type { StartSandboxInput } from '../types.js';
import { AcpRelay } from './relay.js';

/** How long an agent gets to exit by itself once the editor has gone, before it is stopped. */
const DISCONNECT_GRACE_MS = 3000;

const OPTIONS = [
  { optionId: 'once', name: 'Allow once', kind: 'allow_once' },
  { optionId: 'always', name: 'Always allow', kind: 'allow_always' },
  { optionId: 'deny', name: 'Deny', kind: 'reject_once' },
] as const;

/** Host-command approvals as ACP permission requests to the editor's current session. */
function editorPrompter(relay: AcpRelay, note: (line: string) => void): ApprovalPrompter {
  return {
    async ask(p, signal, answer) {
      if (!relay.sessionId) {
        note(`corral: no ACP session to ask about ${summarizeApproval(p)}; denied`);
        await answer('deny');
        return;
      }
      const reply = await relay.request('session/request_permission', {
        sessionId: relay.sessionId,
        toolCall: {
          toolCallId: `corral-approval-${p.id}`,
          title: `corral: run on the host: ${summarizeApproval(p)}`,
          kind: 'execute',
          status: 'pending',
          rawInput: p.details,
        },
        options: OPTIONS,
      });
      if (signal.aborted) return;
      const outcome = (reply.result as { outcome?: { outcome?: string; optionId?: string } } | undefined)
        ?.outcome;
      const chosen = outcome?.outcome === 'selected' ? outcome.optionId : undefined;
      await answer(chosen === 'once' || chosen === 'always' ? chosen : 'deny');
    },
  };
}

export async function runAcp(ctx: CoreContext, input: StartSandboxInput, stdio: Stdio): Promise<number> {
  const workdir = input.workdir ?? ctx.cwd;
  const workspace = await resolveWorkspace(workdir);
  const relay = new AcpRelay(stdio.stdin, stdio.stdout, { host: workspace.path, sandbox: WORKSPACE_DIR });
  // No terminal questions: stdin is the editor's channel. The credential scan refuses instead.
  const events = ctx.events;
  const quiet = new CoreContext({
    ...ctx.options,
    events: {
      note: (t) => events.note(t),
      progress: () => events.progress(),
    },
  });
  const agentName = input.agent ?? (await quiet.config(workspace.path)).default_agent ?? 'agent';
  // Its own container: an editor's session beside a `corral run` of the same agent, or another window.
  const name = `${containerName(workspace, agentName)}-acp-${randomBytes(3).toString('hex')}`;
  relay.onEditorEnd(() => {
    setTimeout(() => {
      void quiet
        .engine()
        .then((e) => e.stop(name, 2))
        .catch(() => {});
    }, DISCONNECT_GRACE_MS).unref();
  });
  try {
    const r = await startSandbox(
      quiet,
      { ...input, workdir, acp: true, name, rm: true, record: false, detach: false },
      { stdin: relay.agentIn, stdout: relay.agentOut, stderr: stdio.stderr },
      { prompter: editorPrompter(relay, (l) => ctx.note(l)) },
    );
    relay.failPending(`the agent's ACP server exited (code ${r.exitCode})`);
    return r.exitCode;
  } catch (e) {
    const data = isCorralError(e) ? { code: e.code, ...(e.hint ? { hint: e.hint } : {}) } : undefined;
    await relay.failFirst(`corral could not start the agent: ${(e as Error).message}`, data);
    throw e;
  } finally {
    relay.close();
  }
}
