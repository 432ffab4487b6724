/**
 * The upstream path of a request: always the mapped prefix plus the remainder of the request
 * path, written so every server reads it as that. Segments that servers resolve differently are
 * refused rather than normalised: `;` parameters (Tomcat and Spring strip them, so `..;` is `..`
 * there), dot segments, and encoded `.`, `/`, `\` or `%` (decoded by some servers after routing,
 * so `%2e%2e` or `%252e` climbs out of the mount on one server and not on another).
 *
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.3
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4
 */

/** Where a request goes upstream, or why it cannot. */
export type UpstreamPath =
  | { ok: true; path: string }
  | { ok: false; status: 400 | 404; reason: string };

// RFC 3986 pchar minus ";" (refused on its own): unreserved / pct-encoded / sub-delims / ":" / "@".
const SEGMENT_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,=:@%]*$/;
const PERCENT = /%(.{0,2})/g;
const REFUSED_ENCODINGS = new Set(['2e', '2f', '5c', '25']);
// The query travels as sent, but only as visible ASCII: no byte a server could split or fold.
const QUERY_CHARS = /^[\x21-\x7e]*$/;

/**
 * Maps a request target (origin-form or absolute-form, as `req.url` holds it) under `mountPath`
 * onto `upstream` (its path + query). Refused with 400: a segment holding `;`, `.` or `..`, `\`,
 * an encoded `.` `/` `\` `%`, a malformed escape, a character outside RFC 3986 `pchar`, an empty
 * segment (except a trailing `/`), a fragment, or a query with bytes outside visible ASCII.
 * 404: a target that is not under the mount.
 */
export function upstreamPathFor(mountPath: string, upstream: URL, requestTarget: string): UpstreamPath {
  let target = requestTarget;
  if (!target.startsWith('/')) {
    // Absolute-form (RFC 9112 §3.2.2): keep what follows the authority, raw.
    const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (match === null) return { ok: false, status: 400, reason: 'the request target must be a path' };
    target = target.slice(match[0].length) || '/';
    if (!target.startsWith('/')) target = `/${target}`;
  }
  if (target.includes('#')) return { ok: false, status: 400, reason: 'a request target cannot carry a fragment' };
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  if (!QUERY_CHARS.test(query)) return { ok: false, status: 400, reason: 'the query may hold only visible ASCII characters' };

  let rest: string;
  if (path === mountPath) rest = '';
  else if (mountPath === '/') rest = path;
  else if (path.startsWith(`${mountPath}/`)) rest = path.slice(mountPath.length);
  else return { ok: false, status: 404, reason: 'not under this resource' };

  const segments = rest.split('/').slice(1);
  for (const [i, segment] of segments.entries()) {
    const refused = refusedSegment(segment, i === segments.length - 1);
    if (refused !== undefined) return { ok: false, status: 400, reason: refused };
  }

  const base = rest === '' ? upstream.pathname : upstream.pathname.replace(/\/+$/, '') + rest;
  const queries = [upstream.search.slice(1), query].filter((part) => part !== '');
  return { ok: true, path: queries.length === 0 ? base : `${base}?${queries.join('&')}` };
}

function refusedSegment(segment: string, last: boolean): string | undefined {
  if (segment === '') return last ? undefined : 'empty path segments ("//") are refused';
  if (segment === '.' || segment === '..') return 'dot segments are refused (RFC 3986 §5.2.4)';
  if (segment.includes(';')) return 'path parameters (";") are refused: servers strip them differently';
  if (!SEGMENT_CHARS.test(segment)) return 'the path holds a character outside RFC 3986 pchar';
  const bytes: number[] = [];
  for (const [, hex] of segment.matchAll(PERCENT)) {
    if (hex === undefined || !/^[0-9A-Fa-f]{2}$/.test(hex)) return 'malformed percent-encoding in the path';
    if (REFUSED_ENCODINGS.has(hex.toLowerCase())) return 'encoded ".", "/", "\\" or "%" in the path is refused';
    bytes.push(Number.parseInt(hex, 16));
  }
  // Encoded bytes must spell valid UTF-8 with no control characters: an overlong "%c0%ae" is a
  // dot to a lenient decoder, and "%00" ends the path for a C one.
  if (bytes.length > 0) {
    const decoded = decodeUtf8(Uint8Array.from(bytes));
    if (decoded === undefined || /[\u0000-\u001f\u007f]/.test(decoded)) return 'the path encodes bytes that are not printable UTF-8';
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes collected from escapes (a multi-byte character may span escapes only as a whole). */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
