/**
 * The stack — what `warden start` and `warden serve` assemble: stores opened, the authorization
 * server, each resource mounted, the router — and the administration of its store. The CLI
 * reaches Warden through this module and `config/` only.
 */
export { StackStartError, startStack } from './stack.js';
export { UsageError } from './errors.js';
export type { RunningStack, StartStackOptions } from './stack.js';
export { STACK_FILE, readStackInfo, writeStackFile } from './stack-file.js';
export type { StackInfo } from './stack-file.js';
export { authorizationServerOptions } from './authorization-server.js';
export type { AuthorizationServerParts } from './authorization-server.js';
export { openAuthorizationServerStores } from './open-stores.js';
export { registeredResources } from './own-resources.js';
export { DEMO_CLI_CLIENT_ID, DEMO_CLI_REDIRECT_URIS, DEMO_SERVICE_CLIENT_ID, DEMO_SERVICE_SCOPE } from './demo/demo-clients.js';
export { DEMO_CREDENTIALS_FILE, SECRET_FILE, randomToken } from './state-files.js';
export { addStoreUser, listStoreUsers, removeStoreUser, revokeStoreAuthorization, rotateStoreKeys } from './admin.js';
export type { RotatedKeys, StoreLocation } from './admin.js';
export { HEALTH_PATH } from './router.js';
export { READY_PATH } from './readiness.js';
export { createLogger, redactString } from '../observability/logger.js';
export { WardenError } from '../oauth/errors.js';
export { demoClientCommand, type DemoClientOptions } from './demo/demo-client.js';
export type { Logger } from '../observability/logger.js';
export { AUDIT_EVENT_TYPES, AUDIT_SCHEMA, verifyAuditLogFiles } from './audit-trail.js';
export type { AuditRecord, AuditEventType, AuditTrail, ChainProblem, ChainReport } from './audit-trail.js';
export { explainPolicyDecision, type PolicyTestInput, type PolicyTestResult } from './policy-test.js';
export { reloadServersOnChange } from './fleet/config-reload.js';
export type { ConfigReloadOptions, ReloadOutcome } from './fleet/config-reload.js';
export { ServerRegistry } from './fleet/server-registry.js';
export { ADMIN_API_PATH, ADMIN_SCOPE } from './fleet/admin-api.js';
export { openServersTarget } from './fleet/servers-admin.js';
export type { ServersTarget, ServerSummary } from './fleet/servers-admin.js';
