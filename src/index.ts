/**
 * mcp-warden: authorization for MCP servers. The subpath exports hold the pieces:
 * `mcp-warden/resource-server`, `mcp-warden/authorization-server`, `mcp-warden/gateway`,
 * `mcp-warden/client`, `mcp-warden/audit`, `mcp-warden/dpop`, `mcp-warden/stores` and
 * `mcp-warden/oauth`; this root re-exports the entry points of the first few.
 */
export { createResourceServer, type ResourceServer, type ResourceServerOptions, type WardenAuthInfo } from './resource-server/index.js';
export { createAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from './authorization-server/index.js';
export {
  MemoryReplayStore,
  createRedisReplayStore,
  createMemoryAuthorizationServerStores,
  openSqliteAuthorizationServerStores,
  openPostgresAuthorizationServerStores,
} from './stores/index.js';
export { OAuthError, WardenError } from './oauth/errors.js';
export { createGatewayProxy, createGatewayHandler } from './gateway/index.js';
export { createDpopFetch, createOAuthProvider, generateDpopKey } from './client/index.js';
