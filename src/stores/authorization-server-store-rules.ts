/**
 * Decisions the authorization-server stores share, written once so that every backend answers
 * the same: refresh-token rotation (RFC 9700 §4.14.2), signing-key rotation, consent widening and
 * purge eligibility. Backends run these inside their own atomic section (one synchronous block in
 * memory, one `BEGIN IMMEDIATE` transaction in SQLite) and supply the reads and writes.
 */
import type {
  GrantRecord,
  RefreshTokenRecord,
  RotateResult,
  SigningKeyRecord,
  ThrottlePolicy,
  ThrottleResult,
  ThrottleState,
} from './authorization-server-contracts.js';
import { StoreConflictError } from './store-conflict-error.js';

/**
 * A grant with no refresh token and no access-token record left under it (its family has run
 * out) is purged once it is this old, unless revoked (purged at once) or past `expiresAt`. The
 * delay keeps a grant that was just created, and whose first token is about to be saved, safe
 * from a concurrent purge.
 */
export const IDLE_GRANT_PURGE_SECONDS = 86_400;

/** Arguments of `GrantStore.rotateRefreshToken`. */
export interface RotateInput {
  tokenHash: string;
  successor: RefreshTokenRecord;
  fingerprint: string;
  graceSeconds: number;
  now: number;
  /** Recorded under the grant when the result is `rotated` or `retry` (see `GrantStore.rotateRefreshToken`). */
  accessToken?: { jti: string; expiresAt: number };
}

/** The reads and writes {@link rotateRefreshTokenWith} needs, all inside one atomic section. */
export interface FamilyOperations {
  getToken(tokenHash: string): RefreshTokenRecord | undefined;
  getGrant(grantId: string): GrantRecord | undefined;
  /** Highest `generation` stored for the family. */
  latestGeneration(grantId: string): number;
  markRotated(tokenHash: string, rotatedAt: number, successorHash: string, fingerprint: string): void;
  insertToken(token: RefreshTokenRecord): void;
  /** Same effect as `GrantStore.recordAccessToken` on a grant known to exist and not revoked. */
  recordAccessToken(grantId: string, jti: string, expiresAt: number): void;
  /** Same effect as `GrantStore.revokeGrant`. */
  revokeFamily(grantId: string, now: number): void;
}

/** `GrantStore.recordExchangedAccessToken` arguments; throws `TypeError` for what no correct caller passes. */
export function checkExchangedFrom(exchangedFrom: readonly string[]): string[] {
  if (!Array.isArray(exchangedFrom) || exchangedFrom.length === 0 || !exchangedFrom.every((jti) => typeof jti === 'string' && jti !== '')) {
    throw new TypeError('recordExchangedAccessToken: exchangedFrom must be a non-empty array of jtis');
  }
  return [...new Set(exchangedFrom)];
}

/** Throws `TypeError` for arguments no correct caller passes. Call before reading the store. */
export function checkRotateInput(input: RotateInput): void {
  if (!Number.isFinite(input.graceSeconds) || input.graceSeconds < 0) {
    throw new TypeError('rotateRefreshToken: graceSeconds must be a finite number >= 0');
  }
  if (!Number.isFinite(input.now)) throw new TypeError('rotateRefreshToken: now must be a finite number');
  if (input.successor.tokenHash === input.tokenHash) {
    throw new TypeError('rotateRefreshToken: the successor must have its own token hash');
  }
  const access = input.accessToken;
  if (access !== undefined && (typeof access.jti !== 'string' || access.jti === '' || !Number.isFinite(access.expiresAt))) {
    throw new TypeError('rotateRefreshToken: accessToken must have a non-empty jti and a finite expiresAt');
  }
}

/**
 * The compare-and-swap of `GrantStore.rotateRefreshToken`, in order: unknown token or grant →
 * `unknown`; an unrotated token of a revoked grant → `revoked`; expired token or grant →
 * `expired`; a token already rotated → `retry` when the same request comes back inside the
 * grace window (and the family is not revoked), else `reused` with the family revoked — also
 * when an earlier reuse already revoked it, so every replay of a rotated token reads as reuse;
 * a token that is not its family's latest generation → `reused` too (it was superseded, so
 * presenting it is replay); otherwise `rotated`.
 *
 * Checks precede writes, so a throw leaves the store as it was even without a rollback.
 *
 * @throws TypeError when `successor` does not continue the token's family (same grant, next generation).
 * @throws StoreConflictError when `successor.tokenHash` is already stored.
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 */
export function rotateRefreshTokenWith(ops: FamilyOperations, input: RotateInput): RotateResult {
  const { tokenHash, successor, fingerprint, graceSeconds, now } = input;
  const token = ops.getToken(tokenHash);
  const grant = token === undefined ? undefined : ops.getGrant(token.grantId);
  if (token === undefined || grant === undefined) return { state: 'unknown' };
  if (successor.grantId !== token.grantId || successor.generation !== token.generation + 1) {
    throw new TypeError('rotateRefreshToken: the successor must belong to the same grant, one generation on');
  }
  const revoked = grant.revokedAt !== undefined;
  if (revoked && token.rotatedAt === undefined) return { state: 'revoked' };
  if (token.expiresAt <= now || (grant.expiresAt !== undefined && grant.expiresAt <= now)) {
    return { state: 'expired' };
  }
  if (token.rotatedAt !== undefined) {
    const stored = token.successorHash === undefined ? undefined : ops.getToken(token.successorHash);
    if (!revoked && stored !== undefined && isRetry(token, stored, fingerprint, graceSeconds, now)) {
      if (input.accessToken !== undefined) ops.recordAccessToken(token.grantId, input.accessToken.jti, input.accessToken.expiresAt);
      return { state: 'retry', previous: token, successor: stored, grant };
    }
    ops.revokeFamily(token.grantId, now);
    return { state: 'reused', grantId: token.grantId };
  }
  if (ops.latestGeneration(token.grantId) > token.generation) {
    ops.revokeFamily(token.grantId, now);
    return { state: 'reused', grantId: token.grantId };
  }
  if (ops.getToken(successor.tokenHash) !== undefined) {
    throw new StoreConflictError('rotateRefreshToken: the successor token hash is already stored');
  }
  ops.markRotated(tokenHash, now, successor.tokenHash, fingerprint);
  ops.insertToken(successor);
  if (input.accessToken !== undefined) ops.recordAccessToken(token.grantId, input.accessToken.jti, input.accessToken.expiresAt);
  const previous: RefreshTokenRecord = {
    ...token,
    rotatedAt: now,
    successorHash: successor.tokenHash,
    rotationFingerprint: fingerprint,
  };
  return { state: 'rotated', previous, grant };
}

/**
 * A retry is the same request (same fingerprint: client, DPoP key, parameters) arriving again
 * within `graceSeconds` of the rotation, typically because the first response was lost. Only
 * while the successor is still the family's live, unused token: once the successor has itself
 * been rotated, the first response demonstrably arrived, so a replay of the predecessor is not
 * a lost-response retry, and handing out a dead successor would help nobody.
 */
function isRetry(
  token: RefreshTokenRecord,
  successor: RefreshTokenRecord,
  fingerprint: string,
  graceSeconds: number,
  now: number,
): boolean {
  return (
    token.rotationFingerprint === fingerprint &&
    token.rotatedAt !== undefined &&
    now < token.rotatedAt + graceSeconds &&
    successor.rotatedAt === undefined &&
    successor.expiresAt > now
  );
}

/** The writes of one `KeyStore.rotate`. */
export interface KeyRotationPlan {
  /** kid of the current key, to become `retired` with `retireAfter`. */
  retire?: string;
  /** kid of the next key, to become `current`. */
  promote?: string;
  /** The new key, in the state it is inserted with. */
  insert: SigningKeyRecord;
}

/**
 * Plans `KeyStore.rotate`. Only a key that was already published as `next` is ever promoted,
 * so verifiers holding a cached JWKS know the new signing key before it signs:
 * - a `next` key exists: current → retired, next → current, `newNext` → next;
 * - no `next` but a `current`: the current key stays, `newNext` → next (call again to promote);
 * - no `current` and no `next` (empty store): `newNext` → current, since nothing has been signed
 *   that a verifier could be caching keys for.
 * `newNext.state` and `newNext.retireAfter` are ignored: the plan decides them.
 *
 * @throws StoreConflictError when `newNext.kid` is already stored.
 */
export function planKeyRotation(
  keys: readonly SigningKeyRecord[],
  newNext: SigningKeyRecord,
): KeyRotationPlan {
  if (keys.some((key) => key.kid === newNext.kid)) {
    throw new StoreConflictError('KeyStore.rotate: the new key id is already stored');
  }
  const current = keys.find((key) => key.state === 'current');
  const next = keys.find((key) => key.state === 'next');
  const fresh = (state: SigningKeyRecord['state']): SigningKeyRecord => ({
    kid: newNext.kid,
    alg: newNext.alg,
    privateJwk: newNext.privateJwk,
    publicJwk: newNext.publicJwk,
    state,
    createdAt: newNext.createdAt,
  });
  if (next !== undefined) {
    return { ...(current && { retire: current.kid }), promote: next.kid, insert: fresh('next') };
  }
  return { insert: fresh(current === undefined ? 'current' : 'next') };
}

/**
 * `KeyStore.put` may replace a key but never creates a second `current` or `next` key.
 *
 * @throws StoreConflictError when another key already holds `key.state` (`current` or `next`).
 */
export function checkKeyPut(keys: readonly SigningKeyRecord[], key: SigningKeyRecord): void {
  if (key.state === 'retired') return;
  if (keys.some((other) => other.state === key.state && other.kid !== key.kid)) {
    throw new StoreConflictError(`KeyStore.put: another key is already ${key.state}`);
  }
}

/** Consent widening: the old scopes in their order, then the new ones not yet present. */
export function unionScopes(existing: readonly string[], added: readonly string[]): string[] {
  return [...new Set([...existing, ...added])];
}

/**
 * Interaction data travels as JSON in every backend, so that what comes back is the same
 * everywhere (no `Date`s in memory that become strings in SQLite).
 *
 * @throws TypeError when `data` has no JSON form (`undefined`, a function, a cycle, a bigint).
 */
export function serializeInteraction(data: unknown): string {
  const json = JSON.stringify(data) as string | undefined;
  if (json === undefined) throw new TypeError('InteractionStore.put: data must be JSON-serializable');
  return json;
}

/** The data {@link serializeInteraction} wrote; `undefined` (no live interaction) stays `undefined`. */
export function parseInteraction(json: string | undefined): unknown {
  return json === undefined ? undefined : (JSON.parse(json) as unknown);
}

/** Whether `purgeExpired` deletes a grant; `inUse` = refresh tokens or access-token records remain. */
export function isGrantPurgeable(grant: GrantRecord, inUse: boolean, now: number): boolean {
  if (grant.expiresAt !== undefined && grant.expiresAt <= now) return true;
  if (inUse) return false;
  return grant.revokedAt !== undefined || grant.createdAt + IDLE_GRANT_PURGE_SECONDS <= now;
}

/** Longest `ThrottleStore` key: callers pass HMACs, so anything longer is a bug. */
export const MAX_THROTTLE_KEY_LENGTH = 512;

/** `ThrottleStore.attempt` arguments; throws `TypeError` for what no correct caller passes. */
export function checkThrottleInput(key: string, policy: ThrottlePolicy, now: number): void {
  if (typeof key !== 'string' || key === '' || key.length > MAX_THROTTLE_KEY_LENGTH) {
    throw new TypeError(`ThrottleStore: key must be a non-empty string of at most ${MAX_THROTTLE_KEY_LENGTH} characters`);
  }
  const whole = (value: unknown, min: number): boolean => Number.isSafeInteger(value) && (value as number) >= min;
  if (!whole(policy.free, 0) || !whole(policy.baseDelaySeconds, 1) || !whole(policy.maxDelaySeconds, policy.baseDelaySeconds) || !whole(policy.forgetAfterSeconds, policy.maxDelaySeconds)) {
    throw new TypeError('ThrottleStore: policy must be whole numbers with free ≥ 0 and forgetAfterSeconds ≥ maxDelaySeconds ≥ baseDelaySeconds ≥ 1');
  }
  if (!Number.isFinite(now)) throw new TypeError('ThrottleStore: now must be a finite number');
}

/** The wait {@link ThrottlePolicy} requires after `count` events (seconds). */
export function throttleDelay(count: number, policy: ThrottlePolicy): number {
  if (count < policy.free) return 0;
  // 2^31 s is decades: beyond it the cap applies anyway, and the power stays finite.
  return Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** Math.min(count - policy.free, 31));
}

/** A stored throttle row as the rules see it; `expiresAt` ≤ now means forgotten. */
export interface ThrottleRow extends ThrottleState {
  expiresAt: number;
}

/** What `ThrottleStore.get` answers for a stored row at `now`: nothing once it is forgotten. */
export function liveThrottleState(row: ThrottleRow | undefined, now: number): ThrottleState | undefined {
  return row !== undefined && row.expiresAt > now ? { count: row.count, lastAt: row.lastAt } : undefined;
}

/**
 * The decision of `ThrottleStore.attempt` on the key's current row: the new row to write when
 * the event is allowed (count + 1, `lastAt` = now, forgotten `forgetAfterSeconds` later), else
 * nothing to write and the remaining wait, rounded up to whole seconds (at least 1).
 */
export function decideThrottle(row: ThrottleRow | undefined, policy: ThrottlePolicy, now: number): { result: ThrottleResult; write?: ThrottleRow } {
  const live = row !== undefined && row.expiresAt > now ? row : undefined;
  const count = live?.count ?? 0;
  const wait = live === undefined ? 0 : live.lastAt + throttleDelay(count, policy) - now;
  if (wait > 0) return { result: { allowed: false, count, retryAfterSeconds: Math.max(1, Math.ceil(wait)) } };
  const write = { count: count + 1, lastAt: now, expiresAt: now + policy.forgetAfterSeconds };
  return { result: { allowed: true, count: write.count }, write };
}
