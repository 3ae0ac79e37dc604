// Reconnect delays for the WebSockets: quick at first (a daemon restart takes about a second),
// then doubling up to a cap so a daemon that is gone for good is not hammered.
export function backoffDelay(attempt: number, baseMs = 250, capMs = 8000): number {
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  // Jitter keeps several tabs from reconnecting in lockstep.
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}
