/**
 * Argument rules every {@link ReplayStore} backend applies identically, so a caller's mistake
 * fails the same way (a `TypeError`, never a 503) whichever backend is configured, and the
 * conformance suite can hold every backend to them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
import type { ReplayStore } from './contracts.js';

/**
 * Longest key a replay store accepts. The resource server passes `<thumbprint>:<jti>`; an
 * RFC 7638 SHA-256 thumbprint is 43 characters, so this leaves ample room for any sane `jti`
 * while bounding what an attacker can make a store hold per entry.
 */
export const MAX_REPLAY_KEY_LENGTH = 1024;

/**
 * Longest TTL a replay store accepts, in seconds (one day). Replay windows are the proof `iat`
 * window plus skew — minutes — so anything larger is a unit mistake that would pin memory.
 */
export const MAX_REPLAY_TTL_SECONDS = 86_400;

/**
 * Validates the arguments of {@link ReplayStore.claim} and converts the TTL to whole
 * milliseconds. Fractional seconds are rounded *up*: a store may remember a key slightly longer
 * than asked, never shorter, so rounding can only err toward rejecting a replay.
 *
 * @throws TypeError when `key` is not a non-empty string of at most
 *   {@link MAX_REPLAY_KEY_LENGTH} characters, or `ttlSeconds` is not a finite number in
 *   (0, {@link MAX_REPLAY_TTL_SECONDS}].
 * @returns The TTL in milliseconds, at least 1.
 */
export function replayTtlMilliseconds(key: unknown, ttlSeconds: unknown): number {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_REPLAY_KEY_LENGTH) {
    throw new TypeError(
      `replay key must be a non-empty string of at most ${MAX_REPLAY_KEY_LENGTH} characters`,
    );
  }
  if (
    typeof ttlSeconds !== 'number' ||
    !Number.isFinite(ttlSeconds) ||
    ttlSeconds <= 0 ||
    ttlSeconds > MAX_REPLAY_TTL_SECONDS
  ) {
    throw new TypeError(
      `replay ttlSeconds must be a finite number in (0, ${MAX_REPLAY_TTL_SECONDS}]`,
    );
  }
  return Math.ceil(ttlSeconds * 1000);
}
