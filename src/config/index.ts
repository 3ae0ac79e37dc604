export * from './defaults.js';
export type { Devcontainer } from './devcontainer.js';
export * from './load.js';
export * from './project.js';
export type * from './schema.js';
export * from './trust.js';
