/**
 * `mcp-warden/stores`: the store contracts and the replay-store backends. Backends that need a
 * driver (Redis) load it only when they are created.
 */
export { SessionLimitError, StoreUnavailableError } from './contracts.js';
export type { ReplayStore, RevocationList, SessionStore } from './contracts.js';
export {
  MAX_REPLAY_KEY_LENGTH,
  MAX_REPLAY_TTL_SECONDS,
  replayTtlMilliseconds,
} from './claim-arguments.js';
export { MemoryReplayStore } from './memory/replay-store.js';
export type { MemoryReplayStoreOptions } from './memory/replay-store.js';
export { createRedisReplayStore } from './redis/replay-store.js';
export type { RedisReplayStoreOptions } from './redis/replay-store.js';
export { MemorySessionStore } from './memory/session-store.js';
export type { MemorySessionStoreOptions } from './memory/session-store.js';
export { createRedisSessionStore } from './redis/session-store.js';
export type { RedisSessionStoreOptions } from './redis/session-store.js';
export type { RedisConnectionOptions } from './redis/connection.js';
export type {
  AuthorizationCodeRecord,
  AuthorizationServerStores,
  ClientRecord,
  ClientStore,
  CodeStore,
  DeviceCodeRecord,
  FederatedIdentity,
  DeviceCodeStore,
  DevicePollResult,
  ConsentRecord,
  ConsentStore,
  ConsumeResult,
  GrantRecord,
  GrantStore,
  InteractionStore,
  KeyStore,
  RefreshTokenRecord,
  RotateResult,
  SigningKeyRecord,
  ThrottlePolicy,
  ThrottleResult,
  ThrottleState,
  ThrottleStore,
  AccessTokenLineage,
  UserRecord,
  UserStore,
} from './authorization-server-contracts.js';
export { StoreConflictError } from './store-conflict-error.js';
export { createMemoryAuthorizationServerStores } from './memory/authorization-server-stores.js';
export type { MemoryAuthorizationServerStoresOptions } from './memory/authorization-server-stores.js';
export { openSqliteAuthorizationServerStores } from './sqlite/authorization-server-stores.js';
export type { SqliteAuthorizationServerStoresOptions } from './sqlite/authorization-server-stores.js';
export { openPostgresAuthorizationServerStores } from './postgres/authorization-server-stores.js';
export type { PostgresAuthorizationServerStoresOptions } from './postgres/authorization-server-stores.js';
export type { BucketState, RateLimitStore, TokenBucket } from './rate-limit.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './memory/rate-limit-store.js';
export { createRedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis/rate-limit-store.js';
export type { RegistryChange, RegistrySnapshot, RegistryStore, ServerRecord } from './registry-contracts.js';
export { createMemoryRegistryStore } from './registry/memory-registry-store.js';
export { openSqliteRegistryStore } from './registry/sqlite-registry-store.js';
export type { SqliteRegistryStoreOptions } from './registry/sqlite-registry-store.js';
export { openPostgresRegistryStore } from './registry/postgres-registry-store.js';
export type { PostgresRegistryStoreOptions } from './registry/postgres-registry-store.js';
