// The shell of the single-page app: checks the session, then routes by hash to one page.
// Routes: #/sandboxes, #/terminal/<id>, #/approvals, #/egress/<workspace>, #/services/<workspace>,
// #/transcripts/<id>, #/tasks/<id>, #/sessions/<name>.
import { useEffect, useState } from 'react';
import { Login } from './components/Login.js';
import { Nav } from './components/Nav.js';
import { useReportError } from './components/Toasts.js';
import { ApiError, api, onUnauthorized } from './lib/api.js';
import { events } from './lib/events.js';
import { useEvents, useLoad, useRoute } from './lib/hooks.js';
import { ApprovalsPage } from './pages/Approvals.js';
import { EgressPage } from './pages/Egress.js';
import { SandboxesPage } from './pages/Sandboxes.js';
import { ServicesPage } from './pages/Services.js';
import { SessionsPage } from './pages/Sessions.js';
import { TasksPage } from './pages/Tasks.js';
import { TerminalPage } from './pages/Terminal.js';
import { TranscriptsPage } from './pages/Transcripts.js';

type Session = 'checking' | 'ok' | 'login' | 'down';

export function App() {
  const [session, setSession] = useState<Session>('checking');
  const [version, setVersion] = useState('');
  const report = useReportError();

  useEffect(() => {
    const off = onUnauthorized(() => {
      events.stop();
      setSession('login');
    });
    api
      .version()
      .then((v) => {
        setVersion(`${v.version} (${v.build.slice(0, 8)})`);
        setSession('ok');
      })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) setSession('login');
        else {
          setSession('down');
          report(e);
        }
      });
    return () => {
      off();
    };
  }, [report]);

  useEffect(() => {
    if (session !== 'ok') return;
    events.start();
    return () => events.stop();
  }, [session]);

  if (session === 'checking') return <div className="center muted">Connecting to the corral daemon…</div>;
  if (session === 'login') return <Login />;
  if (session === 'down')
    return (
      <div className="center" data-testid="daemon-down">
        <h2>The corral daemon does not answer</h2>
        <p>
          Start it with <code>corral daemon start</code>, then reload this page.
        </p>
      </div>
    );
  return <Main version={version} />;
}

function Main({ version }: { version: string }) {
  const route = useRoute();
  const page = route[0] ?? 'sandboxes';
  const { data: approvals, reload } = useLoad(api.approvals, []);
  useEvents(['approval.'], reload);
  return (
    <div className="app">
      <Nav page={page === 'terminal' ? 'sandboxes' : page} approvals={approvals?.length ?? 0} />
      <main className={page === 'terminal' ? 'main wide' : 'main'}>
        {page === 'terminal' && route[1] ? (
          <TerminalPage id={route[1]} />
        ) : page === 'approvals' ? (
          <ApprovalsPage />
        ) : page === 'egress' ? (
          <EgressPage workspace={route[1]} />
        ) : page === 'services' ? (
          <ServicesPage workspace={route[1]} />
        ) : page === 'sessions' ? (
          <SessionsPage name={route[1]} />
        ) : page === 'tasks' ? (
          <TasksPage id={route[1]} />
        ) : page === 'transcripts' ? (
          <TranscriptsPage id={route[1]} />
        ) : (
          <SandboxesPage />
        )}
      </main>
      <footer className="footer muted">corral {version}</footer>
    </div>
  );
}
