/**
 * `corral session send`: the message goes to each addressed agent at once, each in its own headless
 * run (the agent spec's headless args) that continues the agent's own conversation (its resume
 * flag and the conversation id recorded after its first answer). The question and every answer
 * are kept as the session's history; an answer is recorded as pending first, so another process
 * (the daemon, `session show`) sees who is still working.
 */
import { PassThrough, Readable } from 'node:stream';
import { findSessionId } from '../../agents/index.js';
import { CorralError, isCorralError } from '../../errors.js';
import type { ChatAgentRecord, ChatRecord } from '../../tasks/chat-store.js';
import { containerName, resolveWorkspace } from '../../workspace/identity.js';
import type { CoreContext } from '../context.js';
import { profileFor, resolveRunAgent, startSandbox } from '../start/launch.js';
import { recordAgentSession } from '../start/work.js';
import type { ChatStartOptions, SendChatInput } from '../types.js';
import {
  addressOf,
  type ChatMessageView,
  type ChatView,
  chatView,
  findChat,
  messageView,
  reconcile,
  withChats,
} from './records.js';

export interface ChatSend {
  session: ChatView;
  turn: number;
  /** The user's message, as recorded. */
  message: ChatMessageView;
  /** One pending answer per addressed agent. */
  pending: ChatMessageView[];
  /** Every answer, once all are in (each also goes to onAnswer as it comes). */
  done: Promise<ChatMessageView[]>;
}

/** How much of a failed run's error output an answer keeps. */
const ERROR_TAIL = 20;

export async function sendToChat(
  ctx: CoreContext,
  input: SendChatInput,
  onAnswer?: (m: ChatMessageView, session: ChatView) => void,
): Promise<ChatSend> {
  const started = await withChats(ctx, (s) => {
    const chat = findChat(s, input.session);
    const agents = s.agents(chat.id);
    const { targets, text } = addressOf(
      input.message,
      agents.map((a) => a.agent),
      chat.name,
    );
    const busy = reconcile(s, s.messages(chat.id)).filter(
      (m) => m.state === 'pending' && targets.includes(m.author),
    );
    if (busy.length) {
      throw new CorralError(
        'BAD_INPUT',
        `${busy.map((m) => m.author).join(', ')} is still answering turn ${busy[0]!.turn} in session ${chat.name}.`,
        'Wait for the answer (`corral session show`).',
      );
    }
    const turn = s.nextTurn(chat.id);
    const now = new Date().toISOString();
    const base = { chatId: chat.id, turn, exitCode: null, pid: process.pid, created: now };
    const userId = s.addMessage({ ...base, author: 'user', text, state: 'sent', ended: now });
    const pending = targets.map((agent) => ({
      agent: agents.find((a) => a.agent === agent)!,
      id: s.addMessage({ ...base, author: agent, text: '', state: 'pending', ended: null }),
    }));
    return {
      chat,
      text,
      turn,
      view: chatView(s, chat),
      message: messageView(s.message(userId)!),
      pending: pending.map((p) => ({ ...p, view: messageView(s.message(p.id)!) })),
    };
  });
  const done = Promise.all(
    started.pending.map(async (p) => {
      const answer = await ask(ctx, started.chat, p.agent, started.text, started.turn);
      const view = await withChats(ctx, (s) => {
        s.updateMessage(p.id, { ...answer, ended: new Date().toISOString() });
        if (answer.conversation) s.setConversation(started.chat.id, p.agent.agent, answer.conversation);
        return messageView(s.message(p.id)!);
      });
      onAnswer?.(view, started.view);
      return view;
    }),
  );
  return {
    session: started.view,
    turn: started.turn,
    message: started.message,
    pending: started.pending.map((p) => p.view),
    done,
  };
}

interface Answer {
  text: string;
  state: 'done' | 'failed';
  exitCode: number | null;
  conversation?: string;
}

/** One agent's headless run for one message; never throws (a failure is the answer). */
async function ask(
  ctx: CoreContext,
  chat: ChatRecord,
  agent: ChatAgentRecord,
  text: string,
  turn: number,
): Promise<Answer> {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  try {
    const spec = await resolveRunAgent(ctx, agent.agent, agent.workspace);
    const options = JSON.parse(chat.options) as ChatStartOptions;
    const ws = await resolveWorkspace(agent.workspace);
    const r = await startSandbox(
      ctx,
      {
        yolo: true,
        ...options,
        agent: agent.agent,
        mode: 'agent',
        // A worktree session names the repository and the agent's worktree (mounts come with it).
        workdir: chat.worktree ? chat.workspace : agent.workspace,
        ...(agent.worktree ? { worktree: agent.worktree } : {}),
        prompt: text,
        name: `${containerName(ws, agent.agent)}-session-${chat.id}`,
        rm: true,
        ...(agent.conversation ? { resumeSession: agent.conversation } : {}),
      },
      { stdin: Readable.from([]), stdout, stderr },
    );
    const conversation =
      agent.conversation ??
      (r.kind === 'exited' ? r.agentSession : undefined) ??
      findSessionId(spec, `${out}\n${err}`);
    // Agents that print their id rather than take one: recorded for `corral resume` too.
    if (conversation && !agent.conversation && r.kind === 'exited' && !r.agentSession) {
      await recordAgentSession(ctx, {
        agent: agent.agent,
        sessionId: conversation,
        workspace: agent.workspace,
        profile: profileFor(options),
        kind: 'run',
        title: `session ${chat.name}, turn ${turn}: ${text.slice(0, 80)}`,
      });
    }
    const ok = r.exitCode === 0;
    const answer = out.trim() || (ok ? '' : tail(err));
    return {
      text: answer || (ok ? '(no answer)' : `exited with ${r.exitCode}`),
      state: ok ? 'done' : 'failed',
      exitCode: r.exitCode,
      ...(conversation ? { conversation } : {}),
    };
  } catch (e) {
    const message = isCorralError(e)
      ? `${e.message}${e.hint ? ` (${e.hint})` : ''}`
      : String((e as Error).message ?? e);
    return { text: `corral: ${message}`, state: 'failed', exitCode: null };
  }
}

const tail = (text: string) => text.trim().split('\n').slice(-ERROR_TAIL).join('\n');
