/**
 * Options of the gateway proxy, validated once at set-up so a wrong configuration fails at
 * start with a message that says what to change.
 */
import { DEFAULTS } from '../oauth/defaults.js';
import type { SessionStore } from '../stores/contracts.js';
import { unforwardableHeader } from './forward-headers.js';

/** Options of {@link createGatewayProxy}. */
export interface GatewayProxyOptions {
  /** http(s) URL of the upstream MCP endpoint, e.g. `http://127.0.0.1:9000/mcp`. No credentials. */
  upstream: string;
  /** Path this resource is served at, e.g. `/mcp`. Requests under it map onto the upstream path. */
  mountPath: string;
  /** Upper bound on establishing the upstream connection (TCP, plus TLS for https). Default 10 s. */
  connectTimeoutMs?: number;
  /** Send trusted `X-Warden-*` identity headers upstream. Default `true`. */
  identityHeaders?: boolean;
  /**
   * Public base URL clients use. When set, `X-Forwarded-Proto` / `X-Forwarded-Host` come from it
   * (the configured truth) instead of the client socket and `Host` header.
   */
  publicBaseUrl?: string;
  /**
   * Where session ownership is kept: every `Mcp-Session-Id` the upstream issues is bound to the
   * principal that opened it, and another principal presenting it gets 404. Use a store shared by
   * every instance (Redis) behind a load balancer. Without it sessions are not bound.
   */
  sessions?: SessionStore;
  /** Seconds a session binding lives without use. Default 86400 (a day). */
  sessionIdleSeconds?: number;
  /** Largest request body read and rebuilt. Default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * Request headers to forward beyond the MCP transport's own (lower-case names), for an upstream
   * that needs one — each becomes something a client, not Warden, vouches for. Warden's own,
   * hop-by-hop and credential headers cannot be named.
   */
  forwardHeaders?: readonly string[];
}

/** Validated, defaulted, frozen options. */
export interface ResolvedGatewayOptions {
  readonly upstream: URL;
  readonly mountPath: string;
  readonly connectTimeoutMs: number;
  readonly identityHeaders: boolean;
  readonly publicOrigin: { readonly proto: 'http' | 'https'; readonly host: string } | undefined;
  readonly sessions: SessionStore | undefined;
  readonly sessionIdleSeconds: number;
  readonly maxBodyBytes: number;
  readonly forwardHeaders: ReadonlySet<string>;
}

/** setTimeout's own ceiling; larger values fire immediately. */
const MAX_TIMEOUT_MS = 2_147_483_647;
const PARSE_BASE = 'http://warden.invalid';

/** Validates and freezes {@link GatewayProxyOptions}; throws `TypeError` saying what to fix. */
export function resolveGatewayOptions(options: GatewayProxyOptions): ResolvedGatewayOptions {
  const upstream = httpUrl(options.upstream, 'upstream');
  if (upstream.hash !== '') fail('upstream must not contain a #fragment');

  const { mountPath } = options;
  if (typeof mountPath !== 'string' || !mountPath.startsWith('/') || mountPath.startsWith('//')) {
    fail(`mountPath must be an absolute path such as "/mcp", got ${JSON.stringify(mountPath)}`);
  }
  const normalised = new URL(PARSE_BASE + mountPath);
  if (normalised.pathname !== mountPath || normalised.search !== '' || normalised.hash !== '') {
    fail(`mountPath must be a normalised path without query or fragment, got ${JSON.stringify(mountPath)}`);
  }

  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.gateway.connectTimeoutMs;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0 || connectTimeoutMs > MAX_TIMEOUT_MS) {
    fail(`connectTimeoutMs must be a positive integer of milliseconds, got ${String(connectTimeoutMs)}`);
  }
  const identityHeaders = options.identityHeaders ?? DEFAULTS.gateway.identityHeaders;
  if (typeof identityHeaders !== 'boolean') fail('identityHeaders must be a boolean');

  let publicOrigin: ResolvedGatewayOptions['publicOrigin'];
  if (options.publicBaseUrl !== undefined) {
    const base = httpUrl(options.publicBaseUrl, 'publicBaseUrl');
    publicOrigin = Object.freeze({ proto: base.protocol === 'https:' ? 'https' : 'http', host: base.host });
  }

  const sessions = options.sessions;
  if (sessions !== undefined && (typeof sessions.bind !== 'function' || typeof sessions.owner !== 'function' || typeof sessions.forget !== 'function')) {
    fail('sessions must implement the SessionStore contract (bind, owner, forget)');
  }
  const sessionIdleSeconds = options.sessionIdleSeconds ?? DEFAULTS.gateway.sessionIdleSeconds;
  if (typeof sessionIdleSeconds !== 'number' || !Number.isFinite(sessionIdleSeconds) || sessionIdleSeconds <= 0) fail('sessionIdleSeconds must be a positive number');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.limits.maxBodyBytes;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) fail('maxBodyBytes must be a positive integer');

  const forwardHeaders = options.forwardHeaders ?? [];
  if (!Array.isArray(forwardHeaders)) fail('forwardHeaders must be an array of header names');
  for (const name of forwardHeaders) {
    const problem = typeof name === 'string' ? unforwardableHeader(name) : 'must be a string';
    if (problem !== undefined) fail(`forwardHeaders: ${JSON.stringify(name)} ${problem}`);
  }

  return Object.freeze({
    upstream,
    // A trailing slash on the mount is dropped so `/mcp/` and `/mcp` configure the same thing.
    mountPath: mountPath.length > 1 ? mountPath.replace(/\/+$/, '') : mountPath,
    connectTimeoutMs,
    identityHeaders,
    publicOrigin,
    sessions,
    sessionIdleSeconds,
    maxBodyBytes,
    forwardHeaders: new Set(forwardHeaders),
  });
}

function httpUrl(value: unknown, name: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    fail(`${name} must be an absolute http(s) URL`);
  }
  // Credentials in a URL end up in logs and error messages; the value is not echoed either.
  if (url.username !== '' || url.password !== '') fail(`${name} must not contain user:password@`);
  return url;
}

function fail(message: string): never {
  throw new TypeError(`createGatewayProxy: ${message}`);
}
