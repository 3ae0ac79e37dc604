// Workspaces and their sandboxes: state, last notification, stop, and one click to a terminal.
// Refreshed by sandbox.* and notification events, not by polling.
import { useState } from 'react';
import { StartForm } from '../components/StartForm.js';
import { useReportError } from '../components/Toasts.js';
import { api } from '../lib/api.js';
import { useEvents, useLoad } from '../lib/hooks.js';
import type { Sandbox } from '../lib/types.js';

export function SandboxesPage() {
  const report = useReportError();
  const { data: sandboxes, reload } = useLoad(api.sandboxes, []);
  const { data: workspaces, reload: reloadWs } = useLoad(api.workspaces, []);
  const [stopping, setStopping] = useState<Set<string>>(new Set());
  useEvents(['sandbox.', 'notification', 'task.'], () => {
    reload();
    reloadWs();
  });

  async function stop(s: Sandbox) {
    setStopping((x) => new Set(x).add(s.id));
    try {
      await api.stopSandbox(s.id);
      reload();
    } catch (e) {
      report(e);
    } finally {
      setStopping((x) => {
        const n = new Set(x);
        n.delete(s.id);
        return n;
      });
    }
  }

  const byWorkspace = new Map<string, Sandbox[]>();
  for (const s of sandboxes ?? []) byWorkspace.set(s.workspace, [...(byWorkspace.get(s.workspace) ?? []), s]);

  return (
    <div>
      <h2>Workspaces and sandboxes</h2>
      <StartForm
        onStarted={() => {
          reload();
          reloadWs();
        }}
        workspaces={(workspaces ?? []).map((w) => w.path)}
      />
      {sandboxes && sandboxes.length === 0 && <p className="muted">No sandboxes. Start one above.</p>}
      {[...byWorkspace].map(([ws, list]) => (
        <section key={ws} className="card" data-testid="workspace" data-workspace={ws}>
          <h3 className="ws-title">
            <span className="mono">{ws}</span>
            <span className="links">
              <a href={`#/egress/${encodeURIComponent(ws)}`}>egress</a>
              <a href={`#/services/${encodeURIComponent(ws)}`}>services</a>
            </span>
          </h3>
          <table className="table">
            <thead>
              <tr>
                <th>Agent</th>
                <th>Name</th>
                <th>State</th>
                <th>Last notification</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr
                  key={s.id}
                  data-testid="sandbox-row"
                  data-id={s.id}
                  data-name={s.name}
                  data-state={s.state}
                >
                  <td>{s.agent}</td>
                  <td className="mono">{s.name}</td>
                  <td>
                    <span className={`state ${s.state}`} data-testid="sandbox-state">
                      {s.state}
                    </span>{' '}
                    <span className="muted">{s.status}</span>
                  </td>
                  <td data-testid="sandbox-notification">
                    {s.notification ?? <span className="muted">—</span>}
                  </td>
                  <td className="actions">
                    {s.state === 'running' && (
                      <a
                        className="button"
                        href={`#/terminal/${encodeURIComponent(s.id)}`}
                        data-testid="open-terminal"
                      >
                        Terminal
                      </a>
                    )}
                    {s.state !== 'exited' && (
                      <button
                        type="button"
                        className="danger"
                        disabled={stopping.has(s.id)}
                        onClick={() => stop(s)}
                        data-testid="stop-sandbox"
                      >
                        {stopping.has(s.id) ? 'Stopping…' : 'Stop'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
