// A workspace's service containers (started through the host bridge) and their logs.
import { useState } from 'react';
import { useReportError } from '../components/Toasts.js';
import { WorkspacePicker } from '../components/WorkspacePicker.js';
import { api } from '../lib/api.js';
import { useEvents, useLoad } from '../lib/hooks.js';

export function ServicesPage({ workspace }: { workspace?: string }) {
  return (
    <div>
      <h2>Services</h2>
      <WorkspacePicker page="services" value={workspace} />
      {workspace ? (
        <ServicesFor key={workspace} workspace={workspace} />
      ) : (
        <p className="muted">Choose a workspace.</p>
      )}
    </div>
  );
}

function ServicesFor({ workspace }: { workspace: string }) {
  const report = useReportError();
  const { data, reload } = useLoad(() => api.services(workspace), [workspace]);
  const [logs, setLogs] = useState<{ name: string; text: string } | null>(null);
  useEvents(['service.'], reload);

  async function show(name: string) {
    try {
      setLogs({ name, text: (await api.serviceLogs(workspace, name)).text });
    } catch (e) {
      report(e);
    }
  }

  return (
    <div>
      <table className="table card">
        <tbody>
          {(data ?? []).map((s) => (
            <tr key={s.name} data-testid="service-row" data-name={s.name}>
              <td className="mono">{s.name}</td>
              <td>
                <span className={`state ${s.state}`}>{s.state}</span>
              </td>
              <td className="mono muted">{s.image}</td>
              <td className="actions">
                <button type="button" onClick={() => show(s.name)} data-testid="service-logs">
                  Logs
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.length === 0 && <p className="muted">No services in this workspace.</p>}
      {logs && (
        <section className="card">
          <h3 className="ws-title">
            Logs: {logs.name}
            <button type="button" className="link" onClick={() => setLogs(null)}>
              close
            </button>
          </h3>
          <pre className="logs" data-testid="service-log-text">
            {logs.text || '(empty)'}
          </pre>
        </section>
      )}
    </div>
  );
}
