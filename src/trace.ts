/** `CORRAL_TRACE=1` prints how long each phase of a command took, for startup work and bench/. */
const on = Boolean(process.env.CORRAL_TRACE);
let last = performance.now();

export function trace(phase: string): void {
  if (!on) return;
  const now = performance.now();
  process.stderr.write(
    `[trace] ${phase.padEnd(16)} +${(now - last).toFixed(0)}ms (at ${now.toFixed(0)}ms)\n`,
  );
  last = now;
}

/** With CORRAL_TRACE, one line per engine API call: what it asked and how long the engine took. */
export function traceApi(method: string, path: string, status: number, startedAt: number): void {
  if (!on) return;
  const ms = performance.now() - startedAt;
  process.stderr.write(
    `[api]   ${method} ${path.split('?')[0]} ${status} ${ms.toFixed(0)}ms (from ${startedAt.toFixed(0)}ms)\n`,
  );
}
