export { createAuthorizationServer, type AuthorizationServer } from './create-authorization-server.js';
export type { AuditEvent, AuthorizationServerOptions, ConfiguredClient } from './options.js';
export { signingKeySource } from './key-source.js';
export { addUser, listUsers, removeUser, UserError } from './users.js';
export { revokeAuthorization, revokeConsent, type RevokedAuthorization } from './endpoints/interaction/index.js';
export type { RegisteredResource } from './resource-registry.js';
export { exchangeForUpstream, type UpstreamExchangeInput, type UpstreamToken } from './grants/upstream-exchange.js';
