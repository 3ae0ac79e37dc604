export * from './defaults.js';
export * from './load.js';
export type * from './schema.js';
export * from './trust.js';
