import { useStreamState } from '../lib/hooks.js';

const PAGES: [string, string][] = [
  ['sandboxes', 'Sandboxes'],
  ['tasks', 'Tasks'],
  ['sessions', 'Sessions'],
  ['approvals', 'Approvals'],
  ['egress', 'Egress'],
  ['services', 'Services'],
  ['transcripts', 'Transcripts'],
];

export function Nav({ page, approvals }: { page: string; approvals: number }) {
  const stream = useStreamState();
  return (
    <nav className="nav">
      <span className="brand">corral</span>
      {PAGES.map(([id, label]) => (
        <a key={id} href={`#/${id}`} className={page === id ? 'active' : ''} data-testid={`nav-${id}`}>
          {label}
          {id === 'approvals' && approvals > 0 && (
            <span className="badge" data-testid="approvals-badge">
              {approvals}
            </span>
          )}
        </a>
      ))}
      <span className={`stream ${stream}`} data-testid="stream-state" title="live event stream">
        {stream === 'open' ? 'live' : stream}
      </span>
    </nav>
  );
}
