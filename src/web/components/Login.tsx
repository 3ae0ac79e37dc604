// Shown when the daemon answers 401: the page has no valid session cookie. The token never goes
// into the page's JavaScript; `corral web` opens /login?token=…, which sets an HttpOnly cookie.
export function Login() {
  return (
    <div className="login" data-testid="login-screen">
      <h1>corral</h1>
      <h2>Not logged in</h2>
      <p>This page talks to your corral daemon, which needs its access token.</p>
      <ol>
        <li>
          In a terminal on this machine, run <code>corral web</code>. It opens this page logged in.
        </li>
        <li>
          Or open <code>/login?token=&lt;token&gt;</code> on this address yourself, with the token from the
          file that <code>corral daemon status --json</code> names as <code>tokenFile</code>.
        </li>
      </ol>
      <p className="hint">
        The token is kept in an HttpOnly cookie for this address only; it leaves the URL at once.
      </p>
      <button type="button" onClick={() => location.reload()} data-testid="login-retry">
        Try again
      </button>
    </div>
  );
}
