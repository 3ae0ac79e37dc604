/**
 * Start a sandbox: attached (the caller's stdio), detached, headless (`prompt`) or only planned
 * (`dryRun`); the agent itself or a shell in its sandbox, joining a running one when there is one.
 * Here: which agent (built-in, custom from config, or its ACP adapter) and which folder (a git
 * worktree when asked); run-sandbox.ts does the start; the agent's session id is recorded after.
 */
import { customAgent } from '../../agents/custom.js';
import { findAgent, resolveAgent } from '../../agents/index.js';
import type { AgentSpec } from '../../agents/types.js';
import type { ApprovalPrompter } from '../../bridge/ask.js';
import { CorralError } from '../../errors.js';
import type { Stdio } from '../../sandbox/attach.js';
import { resolveWorkspace } from '../../workspace/identity.js';
import { acpAgent } from '../acp/agent.js';
import type { CoreContext } from '../context.js';
import type { StartSandboxInput, StartSandboxResult } from '../types.js';
import { profileFor } from './provider.js';
import { launch } from './run-sandbox.js';
import { agentWorktree, recordAgentSession } from './work.js';

export { profileFor };

async function defaultAgent(ctx: CoreContext, workdir: string): Promise<string> {
  const workspace = await resolveWorkspace(workdir);
  const name = (await ctx.config(workspace.path)).default_agent;
  if (!name) {
    throw new CorralError(
      'BAD_INPUT',
      'Which agent?',
      'Name one (`corral run claude`; see `corral agents`) or set default_agent in config or .corral.yaml.',
    );
  }
  return name;
}

/** What a caller with no terminal adds to a start (the ACP relay). */
export interface StartHooks {
  /** Asks about host commands (the bridge's approvals). */
  prompter?: ApprovalPrompter;
  /**
   * A detached start: called with the container's id as soon as the engine started it, before the
   * start returns. A caller that waits for its exit must begin here: a short task can end, and an
   * auto-removed sandbox be gone, before the start has returned.
   */
  started?: (id: string) => void;
}

export async function startSandbox(
  ctx: CoreContext,
  input: StartSandboxInput,
  stdio?: Stdio,
  hooks: StartHooks = {},
): Promise<StartSandboxResult> {
  let workdir = input.workdir ?? ctx.cwd;
  const named = await resolveRunAgent(ctx, input.agent ?? (await defaultAgent(ctx, workdir)), workdir);
  if (input.acp && (input.prompt || input.detach || input.mode === 'shell')) {
    throw new CorralError(
      'BAD_INPUT',
      'An ACP session cannot be combined with --prompt, --detach or a shell.',
    );
  }
  const agent = input.acp ? acpAgent(named) : named;
  let mounts = input.mounts;
  let env = input.env;
  let worktree: { name: string; branch: string; path: string } | undefined;
  if (input.worktree !== undefined && input.worktree !== false) {
    const wt = await agentWorktree(
      ctx,
      workdir,
      agent.name,
      input.worktree === true ? undefined : input.worktree,
    );
    ctx.note(`corral: ${agent.displayName} works in worktree ${wt.name} (branch ${wt.branch}) at ${wt.path}`);
    workdir = wt.path;
    mounts = [...(mounts ?? []), ...wt.mounts];
    // Without a uid mapping (Docker) the repository's files belong to another uid than the agent's,
    // and git refuses to work in them ("dubious ownership"); this one repository is the user's own.
    env = [...(env ?? []), ...SAFE_DIRECTORY];
    worktree = { name: wt.name, branch: wt.branch, path: wt.path };
  }
  const result = await launch(ctx, agent, { ...input, workdir, mounts, env }, stdio, hooks);
  if (result.kind !== 'exited') return result;
  if (result.agentSession) {
    await recordAgentSession(ctx, {
      agent: agent.name,
      sessionId: result.agentSession,
      workspace: (await resolveWorkspace(workdir)).path,
      profile: profileFor(input),
      kind: 'run',
      title: input.prompt?.slice(0, 100) ?? (input.resumeSession ? 'resumed' : 'interactive run'),
    });
  }
  return { ...result, ...(worktree ? { worktree } : {}) };
}

const SAFE_DIRECTORY = ['GIT_CONFIG_COUNT=1', 'GIT_CONFIG_KEY_0=safe.directory', 'GIT_CONFIG_VALUE_0=*'];

/**
 * A built-in agent by name or alias, else a custom one from config (the global file, or a trusted
 * project's: an untrusted `.corral.yaml` never gets its `agents` key through).
 */
export async function resolveRunAgent(ctx: CoreContext, name: string, workdir: string): Promise<AgentSpec> {
  const builtIn = findAgent(name);
  if (builtIn) return builtIn;
  const workspace = await resolveWorkspace(workdir);
  const own = (await ctx.config(workspace.path)).agents[name];
  if (own?.command) return customAgent(name, own);
  return resolveAgent(name);
}
