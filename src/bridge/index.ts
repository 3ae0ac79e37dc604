/** The host bridge: an MCP server on a Unix socket that runs user-approved host commands. */
export {
  type ApprovalAnswer,
  type ApprovalRequest,
  addAllowed,
  allowlistPath,
  displayCommand,
  isAllowed,
  listAllowed,
  patternAllows,
  removeAllowed,
} from './approvals.js';
export type { CommandInfo, CommandState } from './commands.js';
export { dangerReason } from './danger.js';
export { listOnDisk } from './history.js';
export { defaultNotifier, type Notifier } from './notify.js';
export { type Bridge, type BridgeOptions, startBridge } from './server.js';
