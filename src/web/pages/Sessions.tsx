// Multi-agent sessions: the list and a form to make one; a session is a chat with one column per
// agent (each of its answers under the message it answers) and a send box that takes
// "@agent …" / "@all …". Answers arrive as session.* events; a refusal shows as a message.
import { type FormEvent, type KeyboardEvent, useState } from 'react';
import { errorText } from '../components/TaskForm.js';
import { api } from '../lib/api.js';
import { useEvents, useLoad } from '../lib/hooks.js';
import type { SessionDetail, SessionMessage } from '../lib/types.js';

const when = (iso: string) => iso.replace('T', ' ').slice(0, 19);

export function SessionsPage({ name }: { name?: string }) {
  const { data, reload } = useLoad(api.sessions, []);
  useEvents(['session.'], reload);
  return (
    <div>
      <h2>Sessions</h2>
      {name ? (
        <SessionChat key={name} name={name} />
      ) : (
        <>
          {data && data.length > 0 && (
            <table className="table card">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Agents</th>
                  <th>Turns</th>
                  <th>Created</th>
                  <th>Workspace</th>
                </tr>
              </thead>
              <tbody>
                {(data ?? []).map((s) => (
                  <tr key={s.id} data-testid="session-row">
                    <td>
                      <a href={`#/sessions/${encodeURIComponent(s.name)}`}>{s.name}</a>
                    </td>
                    <td>{s.agents.map((a) => a.agent).join(', ')}</td>
                    <td>{s.turns}</td>
                    <td className="muted">{when(s.created)}</td>
                    <td className="mono muted">
                      {s.workspace}
                      {s.worktree ? ' (worktrees)' : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {data && data.length === 0 && (
            <p className="muted">
              No sessions yet. Make one below or with{' '}
              <code>corral session new NAME --agents claude,codex</code>.
            </p>
          )}
          <NewSessionForm
            onMade={(made) => {
              location.hash = `#/sessions/${encodeURIComponent(made)}`;
            }}
          />
        </>
      )}
    </div>
  );
}

function NewSessionForm({ onMade }: { onMade: (name: string) => void }) {
  const [form, setForm] = useState({
    name: '',
    agents: 'claude,codex',
    workdir: '',
    modelUrl: '',
    worktree: false,
  });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      const made = await api.newSession({
        name: form.name.trim(),
        agents: form.agents
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
        workdir: form.workdir.trim(),
        ...(form.worktree ? { worktree: true } : {}),
        ...(form.modelUrl.trim() ? { modelUrl: form.modelUrl.trim() } : {}),
      });
      onMade(made.name);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="card start-form" onSubmit={submit} data-testid="session-form">
      <h3>New session</h3>
      <div className="grid">
        <label>
          Name
          <input required value={form.name} onChange={set('name')} data-testid="session-name" />
        </label>
        <label>
          Agents (comma-separated)
          <input required value={form.agents} onChange={set('agents')} data-testid="session-agents" />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={form.worktree}
            onChange={(e) => setForm((f) => ({ ...f, worktree: e.target.checked }))}
          />
          a git worktree per agent
        </label>
        <label className="span3">
          Folder (absolute path on the host)
          <input required value={form.workdir} onChange={set('workdir')} placeholder="/home/me/project" />
        </label>
        <label className="span3">
          Model URL (optional)
          <input value={form.modelUrl} onChange={set('modelUrl')} placeholder="http://127.0.0.1:8080" />
        </label>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="session-form-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Making…' : 'Make session'}
      </button>
    </form>
  );
}

function SessionChat({ name }: { name: string }) {
  const { data, reload } = useLoad(() => api.session(name), [name]);
  useEvents(['session.'], (e) => {
    if (!data || e.type === 'resync' || e.data.session === data.id) reload();
  });
  if (!data) return <p className="muted">Loading session {name}…</p>;
  return (
    <section data-testid="session-chat">
      <h3 className="ws-title">
        {data.name}
        <span className="muted mono"> · {data.workspace}</span>
        <span className="spacer" />
        <a href="#/sessions">all sessions</a>
      </h3>
      <div className="chat-columns" style={{ gridTemplateColumns: `repeat(${data.agents.length}, 1fr)` }}>
        {data.agents.map((a) => (
          <AgentColumn key={a.agent} agent={a.agent} branch={a.branch} session={data} />
        ))}
      </div>
      <SendBox session={data} onSent={reload} />
    </section>
  );
}

function AgentColumn({
  agent,
  branch,
  session,
}: {
  agent: string;
  branch: string | null;
  session: SessionDetail;
}) {
  const answers = session.messages.filter((m) => m.author === agent);
  const question = (turn: number) => session.messages.find((m) => m.turn === turn && m.author === 'user');
  return (
    <div className="card chat-column" data-testid="chat-column" data-agent={agent}>
      <h4>
        @{agent}
        {branch && <span className="muted mono"> · {branch}</span>}
      </h4>
      {answers.length === 0 && <p className="muted">Nothing asked yet.</p>}
      {answers.map((m) => (
        <div key={m.id} className="chat-turn">
          <div className="chat-question">» {question(m.turn)?.text}</div>
          <Answer m={m} />
        </div>
      ))}
    </div>
  );
}

function Answer({ m }: { m: SessionMessage }) {
  if (m.state === 'pending')
    return (
      <div className="chat-answer pending muted" data-testid="chat-answer" data-state="pending">
        thinking…
      </div>
    );
  return (
    <div className={`chat-answer ${m.state}`} data-testid="chat-answer" data-state={m.state}>
      {m.text}
    </div>
  );
}

function SendBox({ session, onSent }: { session: SessionDetail; onSent: () => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const address = (who: string) => setText((t) => `@${who} ${t.replace(/^(@[\w.-]+[\s,:]*)+/, '')}`);
  async function send(ev?: FormEvent) {
    ev?.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError('');
    try {
      await api.sendToSession(session.id, text);
      setText('');
      onSent();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      void send();
    }
  };
  return (
    <form className="card send-box" onSubmit={send} data-testid="send-box">
      <div className="addresses">
        {['all', ...session.agents.map((a) => a.agent)].map((who) => (
          <button
            key={who}
            type="button"
            className="chip"
            onClick={() => address(who)}
            data-testid={`address-${who}`}
          >
            @{who}
          </button>
        ))}
      </div>
      <textarea
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        rows={2}
        placeholder="@all … or @agent … (Enter sends, Shift-Enter for a new line)"
        data-testid="send-text"
      />
      {error && (
        <p className="error" role="alert" data-testid="send-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || !text.trim()} data-testid="send-submit">
        {busy ? 'Sending…' : 'Send'}
      </button>
    </form>
  );
}
