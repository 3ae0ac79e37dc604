// Chooses the workspace a per-workspace page (egress, services) shows; the choice lives in the URL.
import { useState } from 'react';
import { api } from '../lib/api.js';
import { useLoad } from '../lib/hooks.js';

export function WorkspacePicker({ page, value }: { page: string; value?: string }) {
  const { data } = useLoad(api.workspaces, []);
  const [typed, setTyped] = useState('');
  const go = (ws: string) => {
    if (ws) location.hash = `#/${page}/${encodeURIComponent(ws)}`;
  };
  const known = (data ?? []).map((w) => w.path);
  if (value && !known.includes(value)) known.push(value);
  return (
    <div className="picker">
      <label>
        Workspace{' '}
        <select value={value ?? ''} onChange={(e) => go(e.target.value)} data-testid="workspace-select">
          <option value="" disabled>
            choose…
          </option>
          {known.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          go(typed.trim());
        }}
      >
        <input value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="or type a path" />
      </form>
    </div>
  );
}
