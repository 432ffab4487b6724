/**
 * Upstream identity without passthrough (`upstreamAuth: { kind: token }`): for each forwarded
 * request, a short-lived access token for the upstream — minted by the authorization server's
 * token exchange (RFC 8693) from the caller's verified token, `aud` the upstream's identifier,
 * `scope` narrowed to what the request needs, `act` naming the gateway — sent as
 * `Authorization: Bearer`. Tokens are cached per subject token (so per principal) and scope
 * until shortly before they expire, and concurrent misses share one exchange.
 *
 * The caller's own token never reaches the upstream, and a token minted for one upstream is
 * refused by every other (audience, RFC 8707).
 */
import { accessTokenHash } from '../jose/thumbprint.js';
import type { ScopePolicy } from '../oauth/vocabulary.js';
import type { WardenAuthInfo } from '../resource-server/types.js';

/** What {@link createUpstreamTokenSource} asks the authorization server for. */
export interface UpstreamMintRequest {
  subjectToken: string;
  audience: string;
  scopes: readonly string[];
  actor: string;
  lifetimeSeconds: number;
}

/** Options of {@link createUpstreamTokenSource}. */
export interface UpstreamTokenSourceOptions {
  /** The upstream's identifier (`aud`). */
  audience: string;
  /** The gateway's identifier (`act.sub`). */
  actor: string;
  /** Lifetime of a minted token, 1-60 s. */
  lifetimeSeconds: number;
  /** The server's scope policy: what a request needs (default scopes plus each called tool's). */
  scopes?: ScopePolicy;
  /** The exchange: resolves the token and its expiry (seconds since the epoch). */
  mint: (request: UpstreamMintRequest) => Promise<{ accessToken: string; expiresAt: number }>;
  /** Most tokens kept. Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

/** Resolves the `Authorization` value for one authenticated request and its parsed body. */
export type UpstreamTokenSource = (auth: WardenAuthInfo, body: unknown) => Promise<string>;

/** Tool names of the `tools/call` messages in a parsed body (one message or a batch). */
function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const m of messages) {
    if (m === null || typeof m !== 'object') continue;
    const { method, params } = m as { method?: unknown; params?: unknown };
    const name = method === 'tools/call' && params !== null && typeof params === 'object' ? (params as { name?: unknown }).name : undefined;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/** The scopes a request needs under `policy`, among those the caller holds; all of them when the policy names none. */
export function neededScopes(auth: WardenAuthInfo, body: unknown, policy: ScopePolicy | undefined): string[] {
  const needed = new Set(policy?.default ?? []);
  for (const tool of calledTools(body)) for (const scope of policy?.tools?.[tool] ?? []) needed.add(scope);
  const held = needed.size === 0 ? auth.scopes : auth.scopes.filter((s) => needed.has(s));
  return [...held].sort();
}

/** Creates the per-server token source (validated at set-up). */
export function createUpstreamTokenSource(options: UpstreamTokenSourceOptions): UpstreamTokenSource {
  const { audience, actor, lifetimeSeconds, mint } = options;
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > 60) throw new TypeError('upstream token lifetime must be 1-60 seconds');
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const maxEntries = options.maxEntries ?? 10_000;
  // A token is reused while more than this is left, so the upstream never gets one about to lapse.
  const margin = Math.min(10, Math.floor(lifetimeSeconds / 2));
  const cache = new Map<string, { value: string; expiresAt: number }>();
  const pending = new Map<string, Promise<string>>();

  return async (auth, body) => {
    const scopes = neededScopes(auth, body, options.scopes);
    const subjectId = auth.extra.jti ?? accessTokenHash(auth.token);
    const key = `${subjectId}\u0000${scopes.join(' ')}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.expiresAt - now() > margin) return hit.value;
    const inFlight = pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const minted = (async () => {
      const token = await mint({ subjectToken: auth.token, audience, scopes, actor, lifetimeSeconds });
      const value = `Bearer ${token.accessToken}`;
      if (cache.size >= maxEntries) {
        const t = now();
        for (const [k, v] of cache) if (v.expiresAt - t <= margin) cache.delete(k);
        // Still full: drop the oldest entries (Map keeps insertion order).
        for (const k of cache.keys()) {
          if (cache.size < maxEntries) break;
          cache.delete(k);
        }
      }
      cache.set(key, { value, expiresAt: token.expiresAt });
      return value;
    })().finally(() => pending.delete(key));
    pending.set(key, minted);
    return minted;
  };
}
