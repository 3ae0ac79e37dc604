/** The egress gateway's public surface: policy model, decisions, CA, audit and the proxy itself. */
export { type AddressClass, classifyAddress, normalizeHost } from './addresses.js';
export { type AuditDecision, type AuditEntry, type AuditLog, createAuditLog } from './audit.js';
export { CA_CERT_FILE, CA_KEY_FILE, type CertificateAuthority, type LeafPem, loadOrCreateCa } from './ca.js';
export { type Credential, type CredentialInput, parseCredentials } from './credentials.js';
export {
  canonicalPath,
  checkResolved,
  type Decision,
  decide,
  type EgressQuery,
  needsInterception,
} from './decide.js';
export {
  type BuildPolicyInput,
  buildPolicy,
  DEV_DOMAINS,
  type EgressPolicy,
  type EgressPolicyInput,
  formatRule,
  PRESETS,
  type Preset,
  parsePolicy,
  parseRule,
  presetRules,
  type Rule,
  type RuleInput,
  type RuleSource,
} from './policy.js';
export { type Gateway, type GatewayOptions, startGateway } from './proxy.js';
export { createRedactor, REDACTED, type Redactor } from './redact.js';
export { cachingResolver, type Resolve, systemResolve } from './resolve.js';
