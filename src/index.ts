/**
 * mcp-warden: authorization for MCP servers. The subpath exports hold the pieces:
 * `mcp-warden/resource-server`, `mcp-warden/authorization-server`, `mcp-warden/dpop`,
 * `mcp-warden/stores`, `mcp-warden/oauth`, `mcp-warden/gateway`.
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
export { OAuthError } from './oauth/errors.js';
