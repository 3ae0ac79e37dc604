// The approvals queue, live: the same queue the terminal and `corral approvals` answer. The first
// answer wins; a late one gets 409 and is shown as such.
import { useState } from 'react';
import { useReportError } from '../components/Toasts.js';
import { ApiError, api } from '../lib/api.js';
import { fmtTime, useEvents, useLoad } from '../lib/hooks.js';
import type { Approval } from '../lib/types.js';

type Answer = 'allow' | 'always' | 'deny';

export function ApprovalsPage() {
  const report = useReportError();
  const { data, reload } = useLoad(api.approvals, []);
  const [busy, setBusy] = useState<string | null>(null);
  const [answered, setAnswered] = useState<{ summary: string; answer: string }[]>([]);
  useEvents(['approval.'], reload);

  async function answer(a: Approval, ans: Answer) {
    setBusy(a.id);
    try {
      await api.answerApproval(a.id, a.workspace, ans);
      setAnswered((x) => [{ summary: a.summary, answer: ans }, ...x].slice(0, 10));
    } catch (e) {
      if (e instanceof ApiError && e.status === 409)
        report(new ApiError(409, 'ALREADY_ANSWERED', `"${a.summary}" was already answered elsewhere.`));
      else report(e);
    } finally {
      setBusy(null);
      reload();
    }
  }

  return (
    <div>
      <h2>Approvals</h2>
      {data && data.length === 0 && (
        <p className="muted" data-testid="approvals-empty">
          Nothing is waiting. Requests from agents to run host commands or start services appear here live.
        </p>
      )}
      {(data ?? []).map((a) => (
        <div
          key={a.id}
          className="card approval"
          data-testid="approval"
          data-id={a.id}
          data-workspace={a.workspace}
        >
          <div className="approval-head">
            <span className="tag">{a.kind}</span>
            {a.agent && <span>{a.agent}</span>}
            <span className="mono muted">{a.workspace}</span>
            <span className="muted">{fmtTime(a.created)}</span>
          </div>
          <pre className="summary" data-testid="approval-summary">
            {a.summary}
          </pre>
          <div className="actions">
            <button
              type="button"
              disabled={busy === a.id}
              onClick={() => answer(a, 'allow')}
              data-testid="approve-once"
            >
              Allow once
            </button>
            <button
              type="button"
              disabled={busy === a.id}
              onClick={() => answer(a, 'always')}
              data-testid="approve-always"
            >
              Always allow
            </button>
            <button
              type="button"
              className="danger"
              disabled={busy === a.id}
              onClick={() => answer(a, 'deny')}
              data-testid="approve-deny"
            >
              Deny
            </button>
          </div>
        </div>
      ))}
      {answered.length > 0 && (
        <>
          <h3>Answered here</h3>
          <ul className="muted">
            {answered.map((x, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a short, append-only history
              <li key={i} data-testid="answered">
                {x.answer}: <span className="mono">{x.summary}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
