/**
 * Canonical resource URIs (RFC 8707 §2, MCP authorization "Canonical Server URI") and the
 * `htu` comparison form (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2–6.2.3).
 */

const UNRESERVED = /%(2[DEde]|2[Ee]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])/g;

/** Decodes percent-encoded unreserved characters and upper-cases the hex of the rest (RFC 3986 §6.2.2.1–2). */
function normalizePercentEncoding(path: string): string {
  if (!path.includes('%')) return path;
  return path
    .replace(UNRESERVED, (m) => String.fromCharCode(parseInt(m.slice(1), 16)))
    .replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
}

/**
 * Validates and canonicalises a resource URI: absolute http(s), no fragment, no userinfo,
 * lower-case scheme and host, no default port, dot segments resolved, no trailing slash on a
 * non-root path. Throws a `TypeError` saying what to fix.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */
export function canonicalResourceUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`"${value}" is not an absolute URI`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`"${value}" must use https (or http for local development)`);
  if (url.hash !== '' || value.includes('#')) throw new TypeError(`"${value}" must not contain a fragment (RFC 8707 §2)`);
  if (url.username !== '' || url.password !== '') throw new TypeError(`"${value}" must not contain userinfo`);
  let path = normalizePercentEncoding(url.pathname);
  // Every trailing slash: `/mcp//` and `/mcp` name one resource, and canonicalising is idempotent.
  path = path.replace(/\/+$/, '');
  return `${url.origin}${path}${url.search}`;
}

/**
 * The form in which `htu` values are compared: scheme, host, port and path, normalised per
 * RFC 3986 §6.2.2–6.2.3, without query and fragment. Returns undefined for a value that is not an
 * absolute http(s) URI.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export function htuComparisonForm(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `${url.origin}${normalizePercentEncoding(url.pathname)}`;
}

/**
 * The `htu` a request must carry: the configured public base URL (never `Host` or
 * `X-Forwarded-*`) joined with the request's path, in comparison form.
 */
export function expectedHtu(publicOrigin: string, requestUrl: string): string | undefined {
  let path: string;
  if (requestUrl.startsWith('/')) {
    const end = requestUrl.search(/[?#]/);
    path = end === -1 ? requestUrl : requestUrl.slice(0, end);
  } else {
    try {
      path = new URL(requestUrl).pathname;
    } catch {
      return undefined;
    }
  }
  // Concatenate, never resolve: a path like "//evil.example/x" must stay a path on our host.
  return htuComparisonForm(publicOrigin + path);
}
