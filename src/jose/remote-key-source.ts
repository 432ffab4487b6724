import { DEFAULTS } from '../oauth/defaults.js';
import { StoreUnavailableError } from '../oauth/errors.js';
import { checkNumber, fetchJson, FetchJsonError, parseHttpUrl } from './fetch-json.js';
import type { KeySource, VerificationKey } from './key-source.js';
import { indexJwks, lookup, type KeyIndex } from './local-key-source.js';

/** Options of {@link createRemoteKeySource}; checked when the source is created. */
export interface RemoteKeySourceOptions {
  /** The issuer's `jwks_uri` (RFC 8414 §2). http(s) only; redirects are refused. */
  jwksUri: string | URL;
  /** Minimum seconds between refetches triggered by an unknown `kid`, or after a failed refetch. Default 30. */
  refetchIntervalSeconds?: number;
  /** Seconds a fetched key set is fresh; the first `resolve` after that refetches. Default 300. */
  cacheMaxAgeSeconds?: number;
  /** Time limit for one fetch, body included. Default 5000 ms. */
  timeoutMs?: number;
  /** Largest JWKS body accepted. Default 512 KiB. */
  maxBytes?: number;
  /** Injected fetch (tests). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Clock in milliseconds since epoch (tests). Default `Date.now`. */
  now?: () => number;
}

/** Retry cadence while no key set was ever obtained: short, so a brief outage at start-up heals fast. */
const COLD_RETRY_MS = 1000;

/**
 * A {@link KeySource} over an issuer's published JWKS, cached and refreshed:
 *
 * - the first `resolve` fetches; keys stay fresh for `cacheMaxAgeSeconds`, then the next
 *   `resolve` refetches;
 * - a `kid` not in the set triggers a refetch at most once per `refetchIntervalSeconds` (counted
 *   from the last fetch of any kind), so a flood of made-up `kid`s costs the issuer at most one
 *   request per interval;
 * - concurrent callers share one in-flight fetch;
 * - when a refetch fails (network error, timeout, redirect, non-200, non-JSON, oversized, no
 *   usable key) the last good keys keep being served, and the next attempt waits
 *   `refetchIntervalSeconds`;
 * - members of the set that are not usable verification keys are skipped;
 * - with no key set at all (never fetched successfully), `resolve` rejects with
 *   {@link StoreUnavailableError}: the caller answers 503 and fails closed. Retries are then
 *   spaced by at most one second.
 *
 * The source is only ever given the configured URI, never anything from a token header.
 *
 * @throws {TypeError} At creation, when an option is invalid.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): KeySource & { close(): void } {
  const url = parseHttpUrl(options.jwksUri, 'jwksUri');
  const refetchIntervalMs = checkNumber(options.refetchIntervalSeconds ?? DEFAULTS.jwks.refetchIntervalSeconds, 'refetchIntervalSeconds', 0) * 1000;
  const cacheMaxAgeMs = checkNumber(options.cacheMaxAgeSeconds ?? DEFAULTS.jwks.cacheMaxAgeSeconds, 'cacheMaxAgeSeconds', 0) * 1000;
  const timeoutMs = checkNumber(options.timeoutMs ?? DEFAULTS.jwks.timeoutMs, 'timeoutMs', 1);
  const maxBytes = checkNumber(options.maxBytes ?? DEFAULTS.jwks.maxBytes, 'maxBytes', 1);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  if (typeof fetchImpl !== 'function') throw new TypeError('fetch must be a function');
  if (typeof now !== 'function') throw new TypeError('now must be a function');
  const coldRetryMs = Math.min(COLD_RETRY_MS, refetchIntervalMs);

  const closer = new AbortController();
  let index: KeyIndex | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastError: unknown;
  let inFlight: Promise<void> | undefined;

  async function fetchKeys(): Promise<void> {
    const started = now();
    attemptedAt = started;
    try {
      const body = await fetchJson(
        url,
        { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' } },
        { timeoutMs, maxBytes, fetch: fetchImpl, signal: closer.signal },
      );
      const next = indexJwks(body);
      // An empty usable set is more likely a broken deploy than an intent to reject every token.
      if (next.all.length === 0) throw new FetchJsonError('JWKS holds no usable verification key');
      index = next;
      fetchedAt = started;
    } catch (error) {
      failedAt = started;
      lastError = error;
    } finally {
      inFlight = undefined;
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= fetchKeys();
    return inFlight;
  }

  function unavailable(): StoreUnavailableError {
    const reason = lastError instanceof Error ? lastError.message : 'no key set obtained';
    return new StoreUnavailableError(`issuer JWKS unreachable at ${url.href}: ${reason}`, {
      cause: lastError,
      retryAfterSeconds: Math.max(1, Math.ceil((failedAt + coldRetryMs - now()) / 1000)),
    });
  }

  return {
    async resolve(kid: string | undefined): Promise<readonly VerificationKey[]> {
      if (closer.signal.aborted) throw new StoreUnavailableError('JWKS key source is closed');
      const t = now();
      if (index === undefined) {
        if (t - failedAt >= coldRetryMs) await refresh();
        else if (inFlight !== undefined) await inFlight;
        if (index === undefined) throw unavailable();
        return lookup(index, kid);
      }
      const stale = t - fetchedAt >= cacheMaxAgeMs;
      const unknown = kid !== undefined && !index.byKid.has(kid);
      if (!stale && !unknown) return lookup(index, kid);
      const due = stale ? t - failedAt >= refetchIntervalMs : t - attemptedAt >= refetchIntervalMs;
      if (due) await refresh();
      else if (inFlight !== undefined) await inFlight;
      return lookup(index, kid);
    },
    close(): void {
      closer.abort();
    },
  };
}
