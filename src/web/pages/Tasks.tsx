// Headless tasks: a form to start one, the list (live through task.state events), one task's
// record and live log, a terminal on its sandbox while it runs, and cancel.
import { useEffect, useState } from 'react';
import { TaskForm } from '../components/TaskForm.js';
import { useReportError } from '../components/Toasts.js';
import { api } from '../lib/api.js';
import { useEvents, useLoad } from '../lib/hooks.js';
import type { Task } from '../lib/types.js';

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '–');
const live = (t: Task) => t.state === 'queued' || t.state === 'running';

export function TasksPage({ id }: { id?: string }) {
  const { data, reload } = useLoad(api.tasks, []);
  useEvents(['task.'], reload);
  const selected = data?.find((t) => t.id === id);
  return (
    <div>
      <h2>Tasks</h2>
      <TaskForm
        onCreated={(made) => {
          location.hash = `#/tasks/${made}`;
          reload();
        }}
      />
      <table className="table card">
        <thead>
          <tr>
            <th>ID</th>
            <th>Agent</th>
            <th>State</th>
            <th>Created</th>
            <th>Prompt</th>
          </tr>
        </thead>
        <tbody>
          {(data ?? []).map((t) => (
            <tr key={t.id} data-testid="task-row" data-id={t.id} className={t.id === id ? 'selected' : ''}>
              <td className="mono">
                <a href={`#/tasks/${t.id}`}>{t.id}</a>
              </td>
              <td>{t.agent}</td>
              <td>
                <span className={`state ${t.state}`} data-testid="task-state">
                  {t.state}
                  {t.exitCode !== null ? ` (${t.exitCode})` : ''}
                </span>
              </td>
              <td className="muted">{when(t.created)}</td>
              <td className="muted">{t.prompt.split('\n')[0]?.slice(0, 80)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.length === 0 && (
        <p className="muted">
          No tasks yet. Start one with <code>corral task create &lt;agent&gt; -p "…"</code>.
        </p>
      )}
      {selected && <TaskDetail key={selected.id} task={selected} onChange={reload} />}
    </div>
  );
}

function TaskDetail({ task, onChange }: { task: Task; onChange: () => void }) {
  const report = useReportError();
  const [log, setLog] = useState('');
  const running = live(task);

  // The log follows while the task runs; once it has ended one last read is enough.
  useEffect(() => {
    let stop = false;
    const read = () =>
      api
        .taskLog(task.id)
        .then((r) => !stop && setLog(r.text))
        .catch((e) => !stop && report(e));
    void read();
    const timer = running ? setInterval(read, 1000) : undefined;
    return () => {
      stop = true;
      if (timer) clearInterval(timer);
    };
  }, [task.id, running, report]);

  async function cancel() {
    try {
      await api.cancelTask(task.id);
      onChange();
    } catch (e) {
      report(e);
    }
  }

  return (
    <section className="card" data-testid="task-detail">
      <h3 className="ws-title">
        Task {task.id} · {task.agent}
        <span className="spacer" />
        {running && (
          <a className="button" href={`#/terminal/${task.container}`} data-testid="task-terminal">
            Terminal
          </a>
        )}
        {running && (
          <button type="button" className="danger" onClick={cancel} data-testid="task-cancel">
            Cancel
          </button>
        )}
      </h3>
      <dl className="facts">
        <dt>Workspace</dt>
        <dd className="mono">{task.workspace}</dd>
        {task.source !== task.workspace && (
          <>
            <dt>Source</dt>
            <dd className="mono">{task.source}</dd>
          </>
        )}
        {task.branch && (
          <>
            <dt>Branch</dt>
            <dd className="mono">{task.branch}</dd>
          </>
        )}
        <dt>Started / ended</dt>
        <dd>
          {when(task.started)} / {when(task.ended)}
        </dd>
        {task.sessionId && (
          <>
            <dt>Resume</dt>
            <dd className="mono">
              corral resume {task.agent} {task.sessionId.slice(0, 8)}
            </dd>
          </>
        )}
        {task.error && (
          <>
            <dt>Error</dt>
            <dd className="error">{task.error}</dd>
          </>
        )}
      </dl>
      {task.diffStat && (
        <pre className="logs" data-testid="task-diffstat">
          {task.diffStat}
        </pre>
      )}
      <pre className="logs" data-testid="task-log">
        {log || '(no output yet)'}
      </pre>
    </section>
  );
}
