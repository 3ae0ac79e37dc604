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
