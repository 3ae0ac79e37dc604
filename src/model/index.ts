export { DEFAULT_SCRIPT_PATH } from './paths.js';
export { loadScript, parseScript, type Script } from './script.js';
export {
  isLocalOrContainerAddress,
  type ModelServer,
  type RecordedRequest,
  startModelServer,
} from './server.js';
