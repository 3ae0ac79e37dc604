export { DEFAULT_SCRIPT_PATH, loadScript, parseScript, type Script } from './script.js';
export {
  isLocalOrContainerAddress,
  type ModelServer,
  type RecordedRequest,
  startModelServer,
} from './server.js';
