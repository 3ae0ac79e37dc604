// Recorded sessions: the list, and a player that replays an asciicast into xterm with its timing.
import type { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import { useReportError } from '../components/Toasts.js';
import { XTerm } from '../components/XTerm.js';
import { api } from '../lib/api.js';
import { type Cast, parseCast, play } from '../lib/asciicast.js';
import { useLoad } from '../lib/hooks.js';

export function TranscriptsPage({ id }: { id?: string }) {
  const { data: list } = useLoad(api.transcripts, []);
  return (
    <div>
      <h2>Transcripts</h2>
      {id && <Player key={id} id={id} />}
      {list && list.length === 0 && (
        <p className="muted">No transcripts yet. Sessions are recorded when transcripts are on for a run.</p>
      )}
      <table className="table card">
        <tbody>
          {(list ?? []).map((t) => (
            <tr
              key={t.id}
              data-testid="transcript-row"
              data-id={t.id}
              className={t.id === id ? 'selected' : ''}
            >
              <td>{new Date(t.started).toLocaleString()}</td>
              <td>{t.agent}</td>
              <td className="mono">{t.workspace}</td>
              <td className="muted">
                {t.seconds !== undefined ? `${t.seconds.toFixed(1)} s · ` : ''}
                {(t.bytes / 1024).toFixed(1)} KiB
              </td>
              <td>
                <a
                  className="button"
                  href={`#/transcripts/${encodeURIComponent(t.id)}`}
                  data-testid="play-transcript"
                >
                  Play
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Player({ id }: { id: string }) {
  const report = useReportError();
  const [cast, setCast] = useState<Cast>();
  const [pos, setPos] = useState(0);
  const [speed, setSpeed] = useState(1);
  const [run, setRun] = useState(0);
  const [done, setDone] = useState(false);
  const term = useRef<Terminal | null>(null);

  useEffect(() => {
    api
      .transcript(id)
      .then((text) => setCast(parseCast(text)))
      .catch(report);
  }, [id, report]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `run` restarts the replay
  useEffect(() => {
    const t = term.current;
    if (!cast || !t) return;
    t.reset();
    t.resize(cast.width, cast.height);
    setDone(false);
    return play(
      cast,
      { write: (d) => t.write(d), resize: (c, r) => t.resize(c, r) },
      {
        speed,
        maxIdle: 2,
        onProgress: setPos,
        onDone: () => setDone(true),
      },
    );
  }, [cast, speed, run]);

  return (
    <div className="card player" data-testid="player">
      <div className="term-bar">
        <span data-testid="player-state" data-done={done ? '1' : '0'}>
          {cast ? `${pos.toFixed(1)} / ${cast.duration.toFixed(1)} s` : 'loading…'}
        </span>
        <label>
          speed{' '}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {[0.5, 1, 2, 4, 16].map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setRun((r) => r + 1)} data-testid="player-restart">
          Restart
        </button>
      </div>
      <XTerm
        fit={false}
        options={{ disableStdin: true, cursorBlink: false }}
        onReady={(t) => {
          term.current = t;
          return () => {
            term.current = null;
          };
        }}
      />
    </div>
  );
}
