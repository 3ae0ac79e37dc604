// Egress for one workspace: the gateway's log (denials highlighted, new ones arriving live), one
// click to turn a denial into an allow rule (applied live when a gateway serves the workspace),
// and the current rules.
import { useState } from 'react';
import { useReportError } from '../components/Toasts.js';
import { WorkspacePicker } from '../components/WorkspacePicker.js';
import { api } from '../lib/api.js';
import { fmtTime, useEvents, useLoad } from '../lib/hooks.js';
import type { EgressEntry } from '../lib/types.js';

export function EgressPage({ workspace }: { workspace?: string }) {
  return (
    <div>
      <h2>Egress</h2>
      <WorkspacePicker page="egress" value={workspace} />
      {workspace ? (
        <EgressFor key={workspace} workspace={workspace} />
      ) : (
        <p className="muted">Choose a workspace.</p>
      )}
    </div>
  );
}

/** The rule for "allow this path": host plus the path's first segment, e.g. `api.x.com/v1`. */
export function pathRule(e: EgressEntry): string | null {
  const seg = (e.path ?? '').split('?')[0]!.split('/').filter(Boolean)[0];
  return seg ? `${e.host}/${seg}` : null;
}

function EgressFor({ workspace }: { workspace: string }) {
  const report = useReportError();
  const [deniedOnly, setDeniedOnly] = useState(false);
  const [live, setLive] = useState<EgressEntry[]>([]);
  const [notice, setNotice] = useState('');
  const { data: rules, reload: reloadRules } = useLoad(() => api.egressRules(workspace), [workspace]);
  const { data: log, reload: reloadLog } = useLoad(
    () => api.egressLog(workspace, deniedOnly),
    [workspace, deniedOnly],
  );

  useEvents(['egress.'], (ev) => {
    if (ev.type === 'resync') return reloadLog();
    const d = ev.data as Partial<EgressEntry> & { workspace?: string };
    if (d.workspace && d.workspace !== workspace) return;
    setLive((x) =>
      [{ time: ev.time, method: 'CONNECT', port: 443, decision: 'deny', host: '?', ...d }, ...x].slice(
        0,
        200,
      ),
    );
  });

  async function allow(rule: string) {
    try {
      const r = await api.addEgressRule(workspace, 'allow', rule);
      setNotice(
        r.applied
          ? `Allowed ${rule}: the running gateway applies it now.`
          : `Allowed ${rule}: no gateway is running for this workspace, so it applies from the next run.`,
      );
      reloadRules();
    } catch (e) {
      report(e);
    }
  }

  const allowed = new Set(rules?.allow ?? []);
  // Live entries first, then the log; the log may also hold a live entry once reloaded.
  const seen = new Set<string>();
  const rows = [...live, ...(log ?? [])]
    .filter((e) => !deniedOnly || e.decision !== 'allow')
    .filter((e) => {
      const k = `${e.time}|${e.host}|${e.port}|${e.path ?? ''}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });

  return (
    <div className="egress">
      {notice && (
        <div className="notice" data-testid="egress-notice">
          {notice}
        </div>
      )}
      <section className="card">
        <h3>Rules</h3>
        <div className="rules" data-testid="egress-rules">
          <div>
            <strong>allow</strong>
            <ul>
              {(rules?.allow ?? []).map((r) => (
                <li key={r} className="mono" data-testid="rule-allow">
                  {r}
                </li>
              ))}
            </ul>
          </div>
          <div>
            <strong>deny</strong>
            <ul>
              {(rules?.deny ?? []).map((r) => (
                <li key={r} className="mono" data-testid="rule-deny">
                  {r}
                </li>
              ))}
            </ul>
          </div>
        </div>
      </section>
      <section className="card">
        <h3 className="ws-title">
          Log
          <span className="links">
            <label>
              <input type="checkbox" checked={deniedOnly} onChange={(e) => setDeniedOnly(e.target.checked)} />{' '}
              denied only
            </label>
            <button type="button" onClick={reloadLog}>
              Refresh
            </button>
          </span>
        </h3>
        <table className="table">
          <tbody>
            {rows.map((e) => {
              const denied = e.decision !== 'allow';
              const pr = pathRule(e);
              return (
                <tr
                  key={`${e.time}|${e.host}|${e.port}|${e.path ?? ''}`}
                  className={denied ? 'denied' : ''}
                  data-testid="egress-row"
                  data-host={e.host}
                  data-decision={e.decision}
                >
                  <td className="muted">{fmtTime(e.time)}</td>
                  <td>{e.method}</td>
                  <td className="mono">
                    {e.host}:{e.port}
                    {e.path && e.path !== '/' ? e.path : ''}
                  </td>
                  <td>
                    {e.decision}
                    {e.reason && <span className="muted"> — {e.reason}</span>}
                  </td>
                  <td className="actions">
                    {denied && allowed.has(e.host) && (
                      <span className="allowed-now" data-testid="allowed-now">
                        ✓ allowed now
                      </span>
                    )}
                    {denied && !allowed.has(e.host) && (
                      <>
                        <button type="button" onClick={() => allow(e.host)} data-testid="allow-host">
                          Allow this host
                        </button>
                        {pr && !allowed.has(pr) && (
                          <button type="button" onClick={() => allow(pr)} data-testid="allow-path">
                            Allow this path
                          </button>
                        )}
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted">No requests logged yet.</p>}
      </section>
    </div>
  );
}
