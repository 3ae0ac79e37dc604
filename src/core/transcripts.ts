/** Recorded terminal sessions (asciicast v2): list, play, remove. */
import { rm } from 'node:fs/promises';
import { CorralError } from '../errors.js';
import { listSessions, playSession, type SessionSummary } from '../sandbox/transcript.js';
import type { CoreContext } from './context.js';
import type { PlayTranscriptInput, RemoveTranscriptsInput } from './types.js';

export type { SessionSummary };

export async function listTranscripts(_ctx: CoreContext): Promise<SessionSummary[]> {
  return listSessions();
}

async function find(id: string): Promise<SessionSummary> {
  const hit = (await listSessions()).filter((s) => s.id.startsWith(id));
  if (hit.length === 1) return hit[0]!;
  throw new CorralError(
    'BAD_INPUT',
    hit.length ? `"${id}" matches ${hit.length} sessions.` : `No recorded session "${id}".`,
    'See `corral sessions list`.',
  );
}

/** Replay a session into `out` at `speed` (0: all at once). */
export async function playTranscript(
  _ctx: CoreContext,
  input: PlayTranscriptInput,
  out: NodeJS.WritableStream,
): Promise<void> {
  const speed = input.speed ?? 1;
  if (!Number.isFinite(speed) || speed < 0)
    throw new CorralError('BAD_INPUT', `--speed expects a number ≥ 0, not "${input.speed}".`);
  await playSession((await find(input.id)).file, out, speed);
}

export async function removeTranscripts(
  _ctx: CoreContext,
  input: RemoveTranscriptsInput,
): Promise<SessionSummary[]> {
  const targets = input.all ? await listSessions() : await Promise.all((input.ids ?? []).map(find));
  if (!targets.length) throw new CorralError('BAD_INPUT', 'Which sessions?', 'Name ids or pass --all.');
  for (const s of targets) await rm(s.file, { force: true });
  return targets;
}
