// Start an agent on a folder: the POST /api/sandboxes form. The sandbox starts detached with a TTY;
// the list below picks it up from the sandbox.started event.
import { type FormEvent, useState } from 'react';
import { api } from '../lib/api.js';
import { useLoad } from '../lib/hooks.js';
import type { StartRequest } from '../lib/types.js';
import { useReportError } from './Toasts.js';

export function StartForm({ onStarted, workspaces }: { onStarted: () => void; workspaces: string[] }) {
  const report = useReportError();
  const { data: agents } = useLoad(api.agents, []);
  const { data: providers } = useLoad(api.providers, []);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState({
    agent: 'claude',
    mode: 'agent' as NonNullable<StartRequest['mode']>,
    workdir: '',
    profile: '',
    network: 'gateway' as NonNullable<StartRequest['network']>,
    prompt: '',
    modelUrl: '',
    provider: '',
    model: '',
    yolo: false,
  });
  // Providers whose API the chosen agent speaks; their models for the model field's suggestions.
  const usable = (providers ?? []).filter((p) => p.agents.includes(form.agent));
  const chosen = usable.find((p) => p.name === form.provider);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    try {
      const body: StartRequest = {
        agent: form.agent,
        mode: form.mode,
        workdir: form.workdir.trim(),
        network: form.network,
      };
      if (form.profile.trim()) body.profile = form.profile.trim();
      if (form.prompt.trim() && form.mode === 'agent') body.prompt = form.prompt;
      if (chosen) {
        body.provider = chosen.name;
        if (form.model.trim()) body.model = form.model.trim();
      } else if (form.modelUrl.trim()) body.modelUrl = form.modelUrl.trim();
      if (form.yolo) body.yolo = true;
      await api.startSandbox(body);
      onStarted();
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card start-form" onSubmit={submit} data-testid="start-form">
      <h3>Start an agent</h3>
      <div className="grid">
        <label>
          Agent
          <select value={form.agent} onChange={set('agent')} data-testid="start-agent">
            {(agents ?? [{ name: 'claude', displayName: 'Claude Code', aliases: [] }]).map((a) => (
              <option key={a.name} value={a.name}>
                {a.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          Run
          <select value={form.mode} onChange={set('mode')} data-testid="start-mode">
            <option value="agent">the agent</option>
            <option value="shell">a shell in its sandbox</option>
          </select>
        </label>
        <label>
          Network
          <select value={form.network} onChange={set('network')} data-testid="start-network">
            <option value="gateway">gateway (allowlist)</option>
            <option value="open">open</option>
            <option value="none">none</option>
          </select>
        </label>
        <label className="span3">
          Folder (absolute path on the host)
          <input
            required
            value={form.workdir}
            onChange={set('workdir')}
            placeholder="/home/me/project"
            list="known-workspaces"
            data-testid="start-workdir"
          />
          <datalist id="known-workspaces">
            {workspaces.map((w) => (
              <option key={w} value={w} />
            ))}
          </datalist>
        </label>
        <label>
          Profile
          <input
            value={form.profile}
            onChange={set('profile')}
            placeholder="default"
            data-testid="start-profile"
          />
        </label>
        {usable.length > 0 && (
          <label>
            Provider
            <select
              value={chosen ? form.provider : ''}
              onChange={(e) => setForm((f) => ({ ...f, provider: e.target.value, model: '' }))}
              data-testid="start-provider"
            >
              <option value="">— the agent's own —</option>
              {usable.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name} ({p.kind})
                </option>
              ))}
            </select>
          </label>
        )}
        {chosen ? (
          <label className="span2">
            Model
            <input
              value={form.model}
              onChange={set('model')}
              placeholder={chosen.defaultModel ?? 'the provider default'}
              list="provider-models"
              data-testid="start-model"
            />
            <datalist id="provider-models">
              {chosen.models.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
          </label>
        ) : (
          <label className="span2">
            Model URL (optional)
            <input
              value={form.modelUrl}
              onChange={set('modelUrl')}
              placeholder="http://127.0.0.1:8080"
              data-testid="start-model-url"
            />
          </label>
        )}
        <label className="span3">
          Prompt (optional: runs it, else an interactive session)
          <textarea
            value={form.prompt}
            onChange={set('prompt')}
            rows={2}
            disabled={form.mode === 'shell'}
            data-testid="start-prompt"
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={form.yolo}
            onChange={(e) => setForm((f) => ({ ...f, yolo: e.target.checked }))}
            data-testid="start-yolo"
          />
          yolo (agent acts without asking)
        </label>
      </div>
      <button type="submit" disabled={busy} data-testid="start-submit">
        {busy ? 'Starting…' : 'Start'}
      </button>
    </form>
  );
}
