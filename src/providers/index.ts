/** Named model providers: records and keys (store.ts), model discovery, and a provider for a run. */
export { discoverModels, KEY_HEADER } from './discover.js';
export { type RunProvider, resolveRunProvider, servesAgent } from './run.js';
export {
  checkProviderName,
  deleteProvider,
  getProvider,
  listProviders,
  normalizeProviderUrl,
  PROVIDER_KINDS,
  type Provider,
  type ProviderKind,
  providerKey,
  removeProviderKey,
  saveProvider,
  storeProviderKey,
} from './store.js';
