/**
 * `mcp-warden/stores`: the store contracts and the replay-store backends. Backends that need a
 * driver (Redis) load it only when they are created.
 */
export { StoreUnavailableError } from './contracts.js';
export type { ReplayStore, RevocationList } from './contracts.js';
export {
  MAX_REPLAY_KEY_LENGTH,
  MAX_REPLAY_TTL_SECONDS,
  replayTtlMilliseconds,
} from './claim-arguments.js';
export { MemoryReplayStore } from './memory/replay-store.js';
export type { MemoryReplayStoreOptions } from './memory/replay-store.js';
export { createRedisReplayStore } from './redis/replay-store.js';
export type { RedisReplayStoreOptions } from './redis/replay-store.js';
