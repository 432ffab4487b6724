/**
 * Options of the gateway proxy, validated once at set-up so a wrong configuration fails at
 * start with a message that says what to change — and the upstream target computed per request.
 */

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
}

/** Validated, defaulted, frozen options. */
export interface ResolvedGatewayOptions {
  readonly upstream: URL;
  readonly mountPath: string;
  readonly connectTimeoutMs: number;
  readonly identityHeaders: boolean;
  readonly publicOrigin: { readonly proto: 'http' | 'https'; readonly host: string } | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
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

  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0 || connectTimeoutMs > MAX_TIMEOUT_MS) {
    fail(`connectTimeoutMs must be a positive integer of milliseconds, got ${String(connectTimeoutMs)}`);
  }
  const identityHeaders = options.identityHeaders ?? true;
  if (typeof identityHeaders !== 'boolean') fail('identityHeaders must be a boolean');

  let publicOrigin: ResolvedGatewayOptions['publicOrigin'];
  if (options.publicBaseUrl !== undefined) {
    const base = httpUrl(options.publicBaseUrl, 'publicBaseUrl');
    publicOrigin = Object.freeze({ proto: base.protocol === 'https:' ? 'https' : 'http', host: base.host });
  }

  return Object.freeze({
    upstream,
    // A trailing slash on the mount is dropped so `/mcp/` and `/mcp` configure the same thing.
    mountPath: mountPath.length > 1 ? mountPath.replace(/\/+$/, '') : mountPath,
    connectTimeoutMs,
    identityHeaders,
    publicOrigin,
  });
}

/**
 * Maps a request target onto the upstream path + query, or `undefined` when it is not under the
 * mount. The mount itself maps to the upstream path exactly; `mount/x` to `upstreamPath/x`.
 * Dot segments are resolved first, and encoded slashes or backslashes are refused, so no request
 * can reach an upstream path outside the mapped prefix — even on an upstream that decodes them.
 */
export function upstreamPathFor(options: ResolvedGatewayOptions, requestTarget: string): string | undefined {
  let url: URL;
  try {
    // Origin-form is appended rather than resolved, so `//host/x` stays a path, not a host.
    url = new URL(requestTarget.startsWith('/') ? PARSE_BASE + requestTarget : requestTarget);
  } catch {
    return undefined;
  }
  const { mountPath, upstream } = options;
  const path = url.pathname;
  let rest: string;
  if (path === mountPath) rest = '';
  else if (mountPath === '/') rest = path;
  else if (path.startsWith(`${mountPath}/`)) rest = path.slice(mountPath.length);
  else return undefined;
  if (/%2f|%5c|\\/i.test(rest)) return undefined;

  const base = rest === '' ? upstream.pathname : upstream.pathname.replace(/\/+$/, '') + rest;
  const queries = [upstream.search.slice(1), url.search.slice(1)].filter((q) => q !== '');
  return queries.length === 0 ? base : `${base}?${queries.join('&')}`;
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
