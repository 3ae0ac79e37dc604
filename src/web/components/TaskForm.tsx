// Start a headless task: the POST /api/tasks form. The work comes from a folder on the host, a git
// URL (cloned on the host) or a GitHub issue/PR URL; optionally in its own worktree. A refusal is
// shown under the form as the daemon's message and hint.
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../lib/api.js';
import { useLoad } from '../lib/hooks.js';
import type { CreateTaskRequest } from '../lib/types.js';

type Source = 'workdir' | 'repo' | 'url';

const SOURCES: [Source, string, string][] = [
  ['workdir', 'a folder on the host', '/home/me/project'],
  ['repo', 'a git URL (URL#branch)', 'https://git.example.com/me/repo.git#main'],
  ['url', 'a GitHub issue or PR', 'https://github.com/owner/repo/issues/7'],
];

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message}${e.hint ? ` ${e.hint}` : ''}`;
  return (e as Error).message ?? String(e);
}

export function TaskForm({ onCreated }: { onCreated: (id: string) => void }) {
  const { data: agents } = useLoad(api.agents, []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [form, setForm] = useState({
    agent: 'claude',
    prompt: '',
    source: 'workdir' as Source,
    where: '',
    worktree: false,
    modelUrl: '',
  });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      const body: CreateTaskRequest = { agent: form.agent };
      if (form.prompt.trim()) body.prompt = form.prompt;
      if (form.where.trim()) body[form.source] = form.where.trim();
      if (form.worktree) body.worktree = true;
      if (form.modelUrl.trim()) body.modelUrl = form.modelUrl.trim();
      const { id } = await api.createTask(body);
      setForm((f) => ({ ...f, prompt: '' }));
      onCreated(id);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  const placeholder = SOURCES.find(([s]) => s === form.source)?.[2];
  return (
    <form className="card start-form" onSubmit={submit} data-testid="task-form">
      <h3>New task</h3>
      <div className="grid">
        <label>
          Agent
          <select value={form.agent} onChange={set('agent')} data-testid="task-agent">
            {(agents ?? [{ name: 'claude', displayName: 'Claude Code', aliases: [] }]).map((a) => (
              <option key={a.name} value={a.name}>
                {a.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          Work from
          <select value={form.source} onChange={set('source')} data-testid="task-source">
            {SOURCES.map(([s, label]) => (
              <option key={s} value={s}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={form.worktree}
            onChange={(e) => setForm((f) => ({ ...f, worktree: e.target.checked }))}
            data-testid="task-worktree"
          />
          in its own git worktree
        </label>
        <label className="span3">
          {form.source === 'workdir' ? 'Folder (absolute path on the host)' : 'URL'}
          <input
            required={form.source !== 'workdir'}
            value={form.where}
            onChange={set('where')}
            placeholder={placeholder}
            data-testid="task-where"
          />
        </label>
        <label className="span3">
          Prompt {form.source === 'url' ? '(optional: "Fix"/"Review" the issue or PR)' : ''}
          <textarea
            value={form.prompt}
            onChange={set('prompt')}
            rows={3}
            required={form.source !== 'url'}
            data-testid="task-prompt"
          />
        </label>
        <label className="span3">
          Model URL (optional)
          <input
            value={form.modelUrl}
            onChange={set('modelUrl')}
            placeholder="http://127.0.0.1:8080"
            data-testid="task-model-url"
          />
        </label>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="task-form-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} data-testid="task-submit">
        {busy ? 'Starting…' : 'Start task'}
      </button>
    </form>
  );
}
