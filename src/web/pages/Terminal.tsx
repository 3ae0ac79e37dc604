// A browser terminal on a sandbox's TTY. Several viewers can attach at once; "Detach" closes only
// this viewer and the sandbox keeps running.
import type { Terminal } from '@xterm/xterm';
import { useRef, useState } from 'react';
import { XTerm } from '../components/XTerm.js';
import { api } from '../lib/api.js';
import { useLoad } from '../lib/hooks.js';
import { TerminalSocket, type TermState } from '../lib/terminalSocket.js';

export function TerminalPage({ id }: { id: string }) {
  const [state, setState] = useState<TermState>('connecting');
  const [detail, setDetail] = useState('');
  const [size, setSize] = useState('');
  const sock = useRef<TerminalSocket | null>(null);
  const { data: sandboxes } = useLoad(api.sandboxes, []);
  const sb = sandboxes?.find((s) => s.id === id || s.name === id);

  function ready(term: Terminal) {
    const s = new TerminalSocket(id, {
      onData: (b) => term.write(b),
      onState: (st, d) => {
        setState(st);
        setDetail(d ?? '');
        if (st === 'ended') term.write(`\r\n\x1b[2m[session ended: ${d ?? ''}]\x1b[0m\r\n`);
      },
    });
    sock.current = s;
    const sub = term.onData((d) => s.send(d));
    s.resize(term.cols, term.rows);
    s.connect();
    return () => {
      sub.dispose();
      s.detach();
    };
  }

  return (
    <div className="terminal-page">
      <div className="term-bar">
        <a href="#/sandboxes">← Sandboxes</a>
        <span className="mono">{sb ? `${sb.agent} · ${sb.workspace}` : id.slice(0, 12)}</span>
        <span className={`term-state ${state}`} data-testid="term-status" data-state={state}>
          {state}
          {detail && state !== 'open' ? ` — ${detail}` : ''}
        </span>
        <span className="muted" data-testid="term-size">
          {size}
        </span>
        <span className="spacer" />
        {(state === 'ended' || state === 'detached') && (
          <button type="button" onClick={() => sock.current?.connect()} data-testid="term-reconnect">
            Reconnect
          </button>
        )}
        {state !== 'detached' && state !== 'ended' && (
          <button
            type="button"
            onClick={() => {
              sock.current?.detach();
              location.hash = '#/sandboxes';
            }}
            data-testid="term-detach"
          >
            Detach
          </button>
        )}
      </div>
      <XTerm
        onReady={ready}
        onResize={(c, r) => {
          setSize(`${c}×${r}`);
          sock.current?.resize(c, r);
        }}
      />
    </div>
  );
}
