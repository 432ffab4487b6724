import { StoreUnavailableError, WardenError } from '../oauth/errors.js';

/**
 * Store contracts. Atomicity is part of each contract: every backend (memory, redis, ...)
 * passes the same conformance suite.
 */

/**
 * Remembers DPoP proof `jti`s (keyed with the key thumbprint) so that a proof is accepted once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export interface ReplayStore {
  /**
   * Atomically claims `key` for `ttlSeconds`. Resolves `true` exactly once per live key across
   * every caller sharing the store (every instance, for shared backends), `false` if the key was
   * already claimed and has not expired.
   *
   * Rejects with {@link StoreUnavailableError} when the backend cannot answer (connection lost,
   * command timed out, memory store at capacity, store closed): callers must fail closed. A
   * rejected claim may still have been recorded (a timed-out write can land later), so a retry
   * of that key may resolve `false`; no key ever resolves `true` twice while live.
   *
   * Rejects with `TypeError` — a caller bug, not an outage — when `key` is not a non-empty
   * string of at most 1024 characters or `ttlSeconds` is not a finite number in (0, 86400].
   * Fractional TTLs are rounded up to whole milliseconds; a key expires exactly `ttl` after its
   * winning claim, and losing claims neither extend nor shorten it.
   *
   * @param key - `<jwk thumbprint>:<jti>` for DPoP proofs (RFC 7638 thumbprint of the proof key).
   * @param ttlSeconds - How long the key must be remembered: the proof `iat` window plus skew.
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
   */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Releases connections (and anything else that keeps the process alive). Idempotent; later
   * claims reject with {@link StoreUnavailableError}.
   */
  close(): Promise<void>;
}

export { StoreUnavailableError };

/**
 * Answers whether an access token (by `jti`) has been revoked. Optional check after the gauntlet.
 * Rejects with {@link StoreUnavailableError} when it cannot answer.
 */
export interface RevocationList {
  isRevoked(jti: string): Promise<boolean>;
}

/**
 * Who owns each MCP session: the gateway binds every session id an upstream issues to the
 * principal that created it, so another principal presenting the id is told the session does not
 * exist (MCP security best practices: session hijacking). Shared by every instance when the
 * backend is (Redis), so the binding holds behind a load balancer. Entries expire after
 * `ttlSeconds` without use.
 *
 * Rejects with {@link StoreUnavailableError} when the backend cannot answer: callers fail closed.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#session-hijacking
 */
export interface SessionStore {
  /**
   * Binds `key` to `owner` unless it is bound already. Resolves `true` when `key` now belongs to
   * `owner` (new, or already theirs — the TTL restarts), `false` when another owner holds it.
   * Atomic: of concurrent binds of one key to different owners, exactly one resolves `true`.
   * Rejects with {@link SessionLimitError} when `owner` holds as many live keys as the store
   * allows one owner (so one principal cannot fill a shared store).
   */
  bind(key: string, owner: string, ttlSeconds: number): Promise<boolean>;
  /** The owner of `key`, restarting its TTL; `undefined` when unbound or expired. */
  owner(key: string, ttlSeconds: number): Promise<string | undefined>;
  /** Forgets `key` (the session was deleted or is gone upstream). Idempotent. */
  forget(key: string): Promise<void>;
  /** Releases connections. Idempotent; later calls reject with {@link StoreUnavailableError}. */
  close(): Promise<void>;
}

/** One owner holds as many live sessions as the store allows: answered 429 with `Retry-After`. */
export class SessionLimitError extends WardenError {
  constructor(message: string) {
    super('session_limit', message);
  }
}
