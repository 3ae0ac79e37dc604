/**
 * Transcripts: the terminal stream of every attached TTY session, recorded as an asciicast v2 file
 * (one JSON header line, then `[seconds, "o", text]` events) under ~/.local/state/corral/sessions,
 * readable by corral and by asciinema. Files are private to the user (0600): an agent's terminal
 * can show anything it read.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { corralPaths } from '../config/paths.js';

export const sessionsDir = (): string => join(process.env.CORRAL_STATE_DIR ?? corralPaths.log, 'sessions');

export interface TranscriptMeta {
  id: string;
  agent: string;
  workspace: string;
  container: string;
}

export interface Recorder {
  write(chunk: Buffer): void;
  close(): Promise<void>;
}

export async function startTranscript(
  meta: TranscriptMeta,
  size: { cols: number; rows: number },
): Promise<Recorder> {
  await mkdir(sessionsDir(), { recursive: true, mode: 0o700 });
  const out: WriteStream = createWriteStream(join(sessionsDir(), `${meta.id}.cast`), { mode: 0o600 });
  const started = Date.now();
  const header = {
    version: 2,
    width: size.cols,
    height: size.rows,
    timestamp: Math.floor(started / 1000),
    env: { TERM: 'xterm-256color' },
    title: `corral ${meta.agent} in ${meta.workspace}`,
    corral: meta,
  };
  out.write(`${JSON.stringify(header)}\n`);
  const decoder = new StringDecoder('utf8');
  const event = (text: string) => {
    if (text) out.write(`${JSON.stringify([(Date.now() - started) / 1000, 'o', text])}\n`);
  };
  return {
    write: (chunk) => event(decoder.write(chunk)),
    close: () =>
      new Promise<void>((resolve) => {
        event(decoder.end());
        out.end(resolve);
      }),
  };
}

export interface SessionSummary extends TranscriptMeta {
  file: string;
  started: string;
  seconds: number;
  bytes: number;
}

export async function listSessions(): Promise<SessionSummary[]> {
  const dir = sessionsDir();
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cast'));
  const out: SessionSummary[] = [];
  for (const f of files) {
    const file = join(dir, f);
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = text.trimEnd().split('\n');
    try {
      const header = JSON.parse(lines[0]!) as { timestamp: number; corral: TranscriptMeta };
      const last = lines.length > 1 ? (JSON.parse(lines.at(-1)!) as [number])[0] : 0;
      out.push({
        ...header.corral,
        file,
        started: new Date(header.timestamp * 1000).toISOString(),
        seconds: last,
        bytes: (await stat(file)).size,
      });
    } catch {
      // Not a corral transcript (or cut short): not listed.
    }
  }
  return out.sort((a, b) => a.started.localeCompare(b.started));
}

/** Keep the newest `keep` transcripts. */
export async function pruneSessions(keep: number): Promise<void> {
  const all = await listSessions();
  for (const s of all.slice(0, Math.max(0, all.length - keep))) await rm(s.file, { force: true });
}

/** Replay a transcript's output; speed 0 prints it all at once. */
export async function playSession(file: string, out: NodeJS.WritableStream, speed = 1): Promise<void> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let first = true;
  let previous = 0;
  for await (const line of lines) {
    if (first) {
      first = false;
      continue;
    }
    const [t, kind, text] = JSON.parse(line) as [number, string, string];
    if (kind !== 'o') continue;
    if (speed > 0 && t > previous)
      await new Promise((r) => setTimeout(r, Math.min(((t - previous) * 1000) / speed, 2000)));
    previous = t;
    out.write(text);
  }
}
