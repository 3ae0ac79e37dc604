// Errors shown in the page: each API failure becomes a toast with the daemon's message and hint,
// dismissable, so nothing fails silently in the console.
import { createContext, type ReactNode, useCallback, useContext, useState } from 'react';
import { ApiError } from '../lib/api.js';

interface Toast {
  key: number;
  code: string;
  message: string;
  hint?: string;
}

const Ctx = createContext<(e: unknown) => void>(() => {});

export function useReportError(): (e: unknown) => void {
  return useContext(Ctx);
}

let nextKey = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const report = useCallback((e: unknown) => {
    // A 401 switches the app to its login screen; a toast would only repeat that.
    if (e instanceof ApiError && e.status === 401) return;
    const t: Toast =
      e instanceof ApiError
        ? { key: nextKey++, code: e.code, message: e.message, hint: e.hint }
        : { key: nextKey++, code: 'ERROR', message: e instanceof Error ? e.message : String(e) };
    setToasts((ts) => [...ts.filter((x) => x.message !== t.message), t].slice(-4));
  }, []);
  const dismiss = (key: number) => setToasts((ts) => ts.filter((t) => t.key !== key));
  return (
    <Ctx.Provider value={report}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.key} className="toast" role="alert" data-testid="error-toast">
            <div className="toast-head">
              <strong>{t.code}</strong>
              <button type="button" className="link" onClick={() => dismiss(t.key)} aria-label="Dismiss">
                ×
              </button>
            </div>
            <div data-testid="error-message">{t.message}</div>
            {t.hint && (
              <div className="hint" data-testid="error-hint">
                {t.hint}
              </div>
            )}
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}
