/** The core's front door: what the CLI, the daemon and the web edge may use. */
export * from './daemon-client.js';
export * from './daemon-control.js';
export * from './daemon-paths.js';
export * from './daemon-token.js';
