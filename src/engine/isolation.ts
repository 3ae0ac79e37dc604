/**
 * The isolation levels corral offers, weakest first. A leaf module (no imports) so config can
 * validate the value without reaching into engine code; runtimes.ts maps each to an OCI runtime.
 */
export const ISOLATIONS = ['runc', 'gvisor'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export const DEFAULT_ISOLATION: Isolation = 'runc';

/** Strength order: an untrusted project file may only move up it (config/trust.ts). */
export const ISOLATION_RANK: Record<Isolation, number> = { runc: 0, gvisor: 1 };
