/**
 * The authorization request that `/authorize` accepted, parked in the interaction store while the
 * user signs in and consents. Everything in it was validated by `/authorize`; the interaction
 * pages only add who signed in.
 */

/**
 * Longest `state` `/authorize` accepts (characters). `state` is opaque to the server but is stored
 * with the pending request and echoed to the client; clients put a CSRF token or a short
 * reference in it, not a payload — and an unauthenticated request must not park kilobytes.
 */
export const MAX_STATE_CHARS = 1024;

/** A validated authorization request waiting for login and consent. */
export interface PendingAuthorization {
  /** Shape version, so a deploy that changes the shape can refuse old entries instead of misreading them. */
  v: 1;
  clientId: string;
  /** The redirect URI exactly as the client sent it (it matched a registered one, RFC 8252 §7.3 port aside). */
  redirectUri: string;
  /** Echoed verbatim in the authorization response (RFC 6749 §4.1.2). */
  state?: string;
  /** Canonical URI of the registered resource (RFC 8707). */
  resource: string;
  scopes: string[];
  /** S256 challenge (RFC 7636 §4.2). */
  codeChallenge: string;
  /** RFC 9449 §10: thumbprint the token request's DPoP key must have. */
  dpopJkt?: string;
  /** Set once the user is known (signed in on this interaction, or recognised by session cookie). */
  subject?: string;
  /** When that user authenticated (seconds). */
  authTime?: number;
  /** When the interaction expires; kept so a page that rewrites the entry keeps its deadline. */
  expiresAt: number;
  /**
   * A device authorization (RFC 8628 §3.3) rather than a redirect: the user code's digest, whose
   * device code the pages approve or deny. `redirectUri` and `codeChallenge` are then empty.
   */
  device?: { userCodeHash: string };
}

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Reads a pending authorization back from the interaction store. The store hands back `unknown`
 * (JSON); anything that is not exactly our shape is treated as absent rather than trusted. The
 * result is a fresh object holding only the known fields, so whatever the interaction pages
 * write back (always built from this) carries nothing else either.
 */
export function parsePendingAuthorization(data: unknown): PendingAuthorization | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (d.v !== 1 || !isString(d.clientId) || !isString(d.redirectUri) || !isString(d.resource) || !isString(d.codeChallenge)) return undefined;
  if (typeof d.expiresAt !== 'number') return undefined;
  if (!Array.isArray(d.scopes) || !d.scopes.every(isString)) return undefined;
  if (d.state !== undefined && (!isString(d.state) || [...d.state].length > MAX_STATE_CHARS)) return undefined;
  if (d.dpopJkt !== undefined && !isString(d.dpopJkt)) return undefined;
  if (d.subject !== undefined && !isString(d.subject)) return undefined;
  if (d.authTime !== undefined && typeof d.authTime !== 'number') return undefined;
  const out: PendingAuthorization = {
    v: 1,
    clientId: d.clientId,
    redirectUri: d.redirectUri,
    resource: d.resource,
    scopes: [...d.scopes],
    codeChallenge: d.codeChallenge,
    expiresAt: d.expiresAt,
  };
  if (d.state !== undefined) out.state = d.state;
  if (d.dpopJkt !== undefined) out.dpopJkt = d.dpopJkt;
  if (d.subject !== undefined) out.subject = d.subject;
  if (typeof d.authTime === 'number') out.authTime = d.authTime;
  const device = d.device as Record<string, unknown> | undefined | null;
  if (device !== undefined) {
    if (typeof device !== 'object' || device === null || !isString(device.userCodeHash)) return undefined;
    out.device = { userCodeHash: device.userCodeHash };
  }
  return out;
}
