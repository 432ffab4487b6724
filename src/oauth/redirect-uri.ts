import { InvalidRedirectUriError } from './errors.js';

/** Longest redirect URI accepted at registration; longer ones are refused, not truncated. */
export const MAX_REDIRECT_URI_LENGTH = 2000;

/**
 * Schemes that execute or read locally in a user agent; a redirect to one of them turns the
 * authorization response into script execution or local-file access (RFC 9700 §4.1, RFC 8252 §8.1).
 */
const FORBIDDEN_SCHEMES: ReadonlySet<string> = new Set(['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'filesystem', 'view-source']);

/** Hosts that RFC 8252 §7.3/§8.3 treat as loopback for native-app redirects over plain http. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** `scheme://authority rest` of an absolute URI with an authority, on the raw string (no normalisation). */
const WITH_AUTHORITY = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
/** A bare URI scheme (RFC 3986 §3.1). */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Loopback http redirect: host, optional port, and everything after the authority. */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([1-9][0-9]{0,4}))?([/?].*)?$/s;

const fail = (reason: string): never => {
  throw new InvalidRedirectUriError(`redirect URI ${reason}`);
};

/** True when a path (raw, before any parser normalises it) contains a `.` or `..` segment, percent-encoded or not. */
function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}

/**
 * Validates one redirect URI for registration (RFC 7591 §2, RFC 6749 §3.1.2, RFC 8252 §7,
 * RFC 9700 §2.1) and returns it unchanged: Warden stores and compares the exact string the client
 * registered, so it refuses anything a URL parser would silently rewrite rather than normalising it.
 *
 * Accepted: `https://` URIs; `http://` only on a loopback host (`127.0.0.1`, `[::1]`, `localhost`);
 * private-use schemes of native apps in reverse-domain form (`com.example.app:/cb`, RFC 8252 §7.1).
 * Refused: relative URIs, fragments, userinfo, wildcards, dot segments, non-canonical hosts,
 * whitespace, control or non-ASCII characters, backslashes, and script/local schemes
 * (`javascript:`, `data:`, `file:`, `vbscript:`, `blob:`, `about:`).
 *
 * @throws {InvalidRedirectUriError} `invalid_redirect_uri`, whose description names the reason.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7
 */
export function validateRedirectUri(uri: string): string {
  if (typeof uri !== 'string' || uri.length === 0) fail('must be a non-empty string');
  if (uri.length > MAX_REDIRECT_URI_LENGTH) fail(`must be at most ${MAX_REDIRECT_URI_LENGTH} characters`);
  // Parsers strip or rewrite these (tabs, newlines, `\` → `/`), so what we stored would not be what a browser follows.
  if (!/^[\x21-\x7E]+$/.test(uri)) fail('must contain only visible ASCII characters (no whitespace, controls or raw Unicode)');
  if (uri.includes('\\')) fail('must not contain a backslash');
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component" — even an empty one.
  if (uri.includes('#')) fail('must not contain a fragment');
  if (uri.includes('*')) fail('must not contain wildcards');

  const schemeMatch = SCHEME.exec(uri);
  if (schemeMatch === null) fail('must be an absolute URI');
  const scheme = (schemeMatch as RegExpExecArray)[1] as string;
  const lowerScheme = scheme.toLowerCase();
  if (FORBIDDEN_SCHEMES.has(lowerScheme)) fail(`must not use the ${lowerScheme}: scheme`);

  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return fail('must be an absolute URI');
  }

  const withAuthority = WITH_AUTHORITY.exec(uri);
  const authority = withAuthority?.[2];
  const rest = withAuthority?.[3] ?? uri.slice(scheme.length + 1);
  if (authority !== undefined && authority.includes('@')) fail('must not contain userinfo');
  if (hasDotSegment(rest.split('?')[0] as string)) fail('must not contain dot segments');

  if (lowerScheme === 'https' || lowerScheme === 'http') {
    if (scheme !== lowerScheme) fail('must use a lower-case scheme');
    // WHATWG parsers accept `https:/host` and `https:host`; require the authority to be written out.
    if (authority === undefined || authority.length === 0) fail('must contain a host');
    const host = (authority as string).replace(/:[0-9]*$/, '');
    // `hostname` is the parser's canonical form (IPv6 in brackets); a host written any other way
    // (upper case, `0x7f.1`, IPv6 zero runs) would be compared by one party and rewritten by another.
    if (host.length === 0 || host !== parsed.hostname) fail('must write its host in canonical form (lower case, no alternative IP notations)');
    if (lowerScheme === 'http' && !LOOPBACK_HOSTS.has(host)) fail('must use https (http is allowed only for 127.0.0.1, [::1] and localhost, RFC 8252 §7.3)');
    return uri;
  }

  if (lowerScheme === 'ws' || lowerScheme === 'wss' || lowerScheme === 'ftp') fail(`must not use the ${lowerScheme}: scheme`);
  // RFC 8252 §7.1: private-use schemes are reverse domain names the app controls ("com.example.app").
  if (!lowerScheme.includes('.')) fail('with a private-use scheme must use a reverse domain name (e.g. com.example.app:/callback, RFC 8252 §7.1)');
  // Without this, `example.com:8080/cb` (a host and port typed without `https://`) would parse as scheme "example.com".
  if (withAuthority === null && !rest.startsWith('/')) fail('with a private-use scheme must continue with a path starting with "/" (RFC 8252 §7.1)');
  return uri;
}

/**
 * Decides whether `requested` (from an authorization or token request) matches one of the
 * client's `registered` redirect URIs. Simple string comparison (RFC 6749 §3.1.2.3, RFC 9700
 * §4.1.3, OAuth 2.1 §2.3.1), with the one exception of RFC 8252 §7.3: for `http` loopback URIs the
 * port may differ, because native apps bind an ephemeral port; scheme, host, path and query must
 * still match byte for byte. Case, trailing slashes, extra query parameters, dot segments,
 * userinfo and fragments are all mismatches.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.1.3
 */
export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (typeof requested !== 'string' || requested.length === 0 || requested.length > MAX_REDIRECT_URI_LENGTH) return false;
  if (registered.includes(requested)) return true;
  const wanted = LOOPBACK_HTTP.exec(requested);
  if (wanted === null || Number(wanted[2] ?? '80') > 65535) return false;
  // The requested URI is otherwise identical to a registered (hence validated) one, so it
  // inherits its checks; only the port is new, and the pattern above constrains it to digits.
  return registered.some((candidate) => {
    const have = LOOPBACK_HTTP.exec(candidate);
    return have !== null && have[1] === wanted[1] && (have[3] ?? '') === (wanted[3] ?? '');
  });
}
