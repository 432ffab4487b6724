import { DEFAULTS } from '../oauth/defaults.js';
import { createHash } from 'node:crypto';
import { checkNumber, fetchJson, parseHttpUrl } from '../jose/fetch-json.js';
import { StoreUnavailableError } from '../stores/contracts.js';

/**
 * A validated RFC 7662 §2.2 introspection response. An inactive token carries nothing else: the
 * other members of an inactive response are dropped, whatever the server sent.
 *
 * Member names are the wire names. `exp`/`iat`/`nbf` are seconds since epoch; the caller still
 * checks them against its own clock. `cnf` is kept whole so that a caller can refuse a binding
 * method it does not support (e.g. `x5t#S256`) instead of treating the token as unbound.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2
 */
export type IntrospectionResult =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly scope?: string;
      readonly client_id?: string;
      readonly username?: string;
      readonly token_type?: string;
      readonly exp?: number;
      readonly iat?: number;
      readonly nbf?: number;
      readonly sub?: string;
      readonly aud?: string | readonly string[];
      readonly iss?: string;
      readonly jti?: string;
      /** Confirmation (RFC 7800 §3.1); `jkt` is the RFC 9449 §6.2 DPoP key thumbprint. */
      readonly cnf?: Readonly<Record<string, unknown>> & { readonly jkt?: string };
    };

/** Options of {@link createIntrospectionClient}; checked when the client is created. */
export interface IntrospectionClientOptions {
  /** The authorization server's introspection endpoint. http(s) only; redirects are refused. */
  endpoint: string | URL;
  /** This resource server's client id at the authorization server. */
  clientId: string;
  /** Its secret, sent with `client_secret_basic`. */
  clientSecret: string;
  /** Upper bound on caching an active result; never beyond the token's `exp`. Default 60 s. */
  cacheMaxSeconds?: number;
  /** Seconds an inactive result is cached. Default 10 s. */
  negativeCacheSeconds?: number;
  /** Cached results kept at most; the oldest is evicted first. Default 10 000. */
  maxEntries?: number;
  /** Time limit for one introspection request, body included. Default 5000 ms. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 64 KiB. */
  maxBytes?: number;
  /** Injected fetch (tests). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Clock in milliseconds since epoch (tests). Default `Date.now`. */
  now?: () => number;
}

/** Asks the authorization server whether an opaque token is active. */
export interface IntrospectionClient {
  /**
   * Resolves the (possibly cached) introspection result for `token`. Rejects with
   * {@link StoreUnavailableError} when the endpoint cannot give a valid answer: callers fail closed.
   */
  introspect(token: string): Promise<IntrospectionResult>;
}

interface CacheEntry {
  result: IntrospectionResult;
  expiresAt: number;
}

/**
 * Creates an RFC 7662 client: `POST` of `token` and `token_type_hint=access_token`, client
 * authentication with `client_secret_basic`, strict validation of the response, and a bounded
 * cache keyed by the SHA-256 of the token (the raw token is never kept).
 *
 * Active results are cached until `min(exp, now + cacheMaxSeconds)`, inactive ones for
 * `negativeCacheSeconds`; concurrent calls for the same token share one request. A network error,
 * timeout, non-200 answer or malformed response rejects with {@link StoreUnavailableError}, never
 * with an active result.
 *
 * @throws {TypeError} At creation, when an option is invalid.
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-4
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function createIntrospectionClient(options: IntrospectionClientOptions): IntrospectionClient {
  const endpoint = parseHttpUrl(options.endpoint, 'introspection.endpoint');
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('introspection.clientId must be a non-empty string');
  if (typeof options.clientSecret !== 'string' || options.clientSecret === '') throw new TypeError('introspection.clientSecret must be a non-empty string');
  const cacheMaxMs = checkNumber(options.cacheMaxSeconds ?? DEFAULTS.introspection.cacheMaxSeconds, 'introspection.cacheMaxSeconds', 0) * 1000;
  const negativeMs = checkNumber(options.negativeCacheSeconds ?? DEFAULTS.introspection.negativeCacheSeconds, 'introspection.negativeCacheSeconds', 0) * 1000;
  const maxEntries = checkNumber(options.maxEntries ?? DEFAULTS.introspection.maxEntries, 'introspection.maxEntries', 1);
  const timeoutMs = checkNumber(options.timeoutMs ?? DEFAULTS.introspection.timeoutMs, 'introspection.timeoutMs', 1);
  const maxBytes = checkNumber(options.maxBytes ?? DEFAULTS.introspection.maxBytes, 'introspection.maxBytes', 1);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  if (typeof fetchImpl !== 'function') throw new TypeError('introspection.fetch must be a function');

  const authorization = `Basic ${Buffer.from(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`).toString('base64')}`;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<IntrospectionResult>>();

  async function ask(token: string, cacheKey: string): Promise<IntrospectionResult> {
    let body: unknown;
    try {
      body = await fetchJson(
        endpoint,
        {
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        },
        { timeoutMs, maxBytes, fetch: fetchImpl },
      );
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : 'request failed';
      throw new StoreUnavailableError(`introspection endpoint ${endpoint.href} ${reason}`, { cause });
    }
    const result = parseIntrospectionResponse(body);
    if (result === undefined) throw new StoreUnavailableError(`introspection endpoint ${endpoint.href} sent a malformed response`);
    remember(cacheKey, result);
    return result;
  }

  function remember(cacheKey: string, result: IntrospectionResult): void {
    const t = now();
    let expiresAt = t + (result.active ? cacheMaxMs : negativeMs);
    if (result.active && result.exp !== undefined) expiresAt = Math.min(expiresAt, result.exp * 1000);
    if (expiresAt <= t) return;
    cache.delete(cacheKey);
    while (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done === true) break;
      cache.delete(oldest.value);
    }
    cache.set(cacheKey, { result, expiresAt });
  }

  return {
    introspect(token: string): Promise<IntrospectionResult> {
      if (typeof token !== 'string' || token === '') return Promise.reject(new TypeError('token must be a non-empty string'));
      const cacheKey = createHash('sha256').update(token).digest('base64url');
      const cached = cache.get(cacheKey);
      if (cached !== undefined) {
        if (now() < cached.expiresAt) return Promise.resolve(cached.result);
        cache.delete(cacheKey);
      }
      const pending = inFlight.get(cacheKey);
      if (pending !== undefined) return pending;
      // Distinct tokens are not coalesced; bound them so a flood cannot hold unbounded requests.
      if (inFlight.size >= maxEntries) {
        return Promise.reject(new StoreUnavailableError('too many introspection requests in flight'));
      }
      const request = ask(token, cacheKey).finally(() => inFlight.delete(cacheKey));
      inFlight.set(cacheKey, request);
      return request;
    },
  };
}

/**
 * RFC 6749 §2.3.1: id and secret are `application/x-www-form-urlencoded` (Appendix B) before
 * being joined with `:` and base64-encoded, so a `:` in either cannot shift the split.
 */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

const STRING_MEMBERS = ['scope', 'client_id', 'username', 'token_type', 'sub', 'iss', 'jti'] as const;
const TIME_MEMBERS = ['exp', 'iat', 'nbf'] as const;

/**
 * Validates a response body against RFC 7662 §2.2. `undefined` means malformed: the caller must
 * not read it as either active or inactive.
 */
function parseIntrospectionResponse(body: unknown): IntrospectionResult | undefined {
  if (!isObject(body)) return undefined;
  const member = (name: string): unknown => (Object.hasOwn(body, name) ? body[name] : undefined);
  const active = member('active');
  if (active === false) return INACTIVE;
  if (active !== true) return undefined;

  const result: Record<string, unknown> = { active: true };
  for (const name of STRING_MEMBERS) {
    const value = member(name);
    if (value === undefined) continue;
    if (typeof value !== 'string') return undefined;
    result[name] = value;
  }
  for (const name of TIME_MEMBERS) {
    const value = member(name);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
    result[name] = value;
  }
  const aud = member('aud');
  if (aud !== undefined) {
    if (typeof aud === 'string') result.aud = aud;
    else if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) result.aud = Object.freeze([...aud]);
    else return undefined;
  }
  const cnf = member('cnf');
  if (cnf !== undefined) {
    if (!isObject(cnf)) return undefined;
    const jkt = Object.hasOwn(cnf, 'jkt') ? cnf.jkt : undefined;
    if (jkt !== undefined && (typeof jkt !== 'string' || jkt === '')) return undefined;
    result.cnf = Object.freeze({ ...cnf });
  }
  return Object.freeze(result) as IntrospectionResult;
}

const INACTIVE: IntrospectionResult = Object.freeze({ active: false });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
