import { decodeCompactJws, JwsFormatError, verifyJwsSignature } from './compact-jws.js';
import type { KeySource } from './key-source.js';
import { InvalidTokenError } from '../oauth/errors.js';

/** Options of {@link verifyAccessToken}. */
export interface VerifyAccessTokenOptions {
  keys: KeySource;
  issuer: string;
  algorithms: ReadonlySet<string>;
  /** Accepted `typ` values, lower-cased. */
  tokenTypes: ReadonlySet<string>;
  skewSeconds: number;
  /** Current time in seconds. */
  now: number;
}

/** Claims of a verified RFC 9068 access token, normalised. */
export interface AccessTokenClaims {
  iss: string;
  sub?: string;
  aud: readonly string[];
  clientId: string;
  scopes: string[];
  exp: number;
  iat?: number;
  jti?: string;
  /** `cnf.jkt`: the DPoP key the token is bound to (RFC 9449 §6). */
  jkt?: string;
  /** The full payload, for callers that need more. */
  payload: Readonly<Record<string, unknown>>;
}

/**
 * Verifies a JWT access token (RFC 9068 §4): allow-listed asymmetric `alg`, `typ`, signature by a
 * key of the trusted issuer (never a key the token points at: `jku`, `x5u`, `jwk` and `x5c` are
 * ignored), exact `iss`, `exp`/`nbf`/`iat` with bounded skew. The audience is checked by the caller.
 * Throws `InvalidTokenError`; lets `StoreUnavailableError` from the key source through (→ 503).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<AccessTokenClaims> {
  let decoded;
  try {
    decoded = decodeCompactJws(token);
  } catch (error) {
    if (error instanceof JwsFormatError) throw new InvalidTokenError(`access token is malformed: ${error.message}`);
    throw error;
  }
  const { header, payload } = decoded;
  const alg = header.alg;
  if (typeof alg !== 'string' || !options.algorithms.has(alg)) {
    throw new InvalidTokenError(`access token "alg" must be one of ${[...options.algorithms].join(', ')}`);
  }
  if (typeof header.typ !== 'string' || !options.tokenTypes.has(header.typ.toLowerCase())) {
    throw new InvalidTokenError(`access token "typ" must be ${[...options.tokenTypes].join(' or ')} (RFC 9068 §2.1)`);
  }
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) throw new InvalidTokenError('access token "kid" must be a short string');

  const candidates = await options.keys.resolve(kid);
  let verified = false;
  for (const candidate of candidates) {
    if (candidate.alg !== undefined && candidate.alg !== alg) continue;
    if (verifyJwsSignature(alg, candidate.key, decoded.signingInput, decoded.signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    throw new InvalidTokenError(
      candidates.length === 0 ? 'access token is signed by a key the trusted issuer does not publish' : 'access token signature is invalid',
    );
  }

  const { iss, exp, nbf, iat } = payload;
  if (typeof iss !== 'string' || iss !== options.issuer) throw new InvalidTokenError(`access token issuer is not the trusted issuer ${options.issuer}`);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidTokenError('access token has no "exp"');
  if (options.now - options.skewSeconds >= exp) throw new InvalidTokenError('access token has expired');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > options.now + options.skewSeconds)) throw new InvalidTokenError('access token is not valid yet ("nbf")');
  if (iat !== undefined && (typeof iat !== 'number' || iat > options.now + options.skewSeconds)) throw new InvalidTokenError('access token "iat" is in the future');

  return normaliseClaims(payload, iss, exp);
}

/** Normalises the claims Warden uses; shared with introspection results. */
export function normaliseClaims(payload: Readonly<Record<string, unknown>>, iss: string, exp: number): AccessTokenClaims {
  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (audiences === undefined) throw new InvalidTokenError('access token has no valid "aud"');
  // RFC 9068 §2.2 names client_id; some issuers only send azp.
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
  if (clientId === undefined) throw new InvalidTokenError('access token has no "client_id"');
  const scopes = parseScopeClaim(payload);
  const sub = payload.sub;
  if (sub !== undefined && typeof sub !== 'string') throw new InvalidTokenError('access token "sub" must be a string');
  const jti = payload.jti;
  if (jti !== undefined && typeof jti !== 'string') throw new InvalidTokenError('access token "jti" must be a string');
  let jkt: string | undefined;
  const cnf = payload.cnf;
  if (cnf !== undefined) {
    if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf)) throw new InvalidTokenError('access token "cnf" must be an object');
    const value = (cnf as Record<string, unknown>).jkt;
    if (value !== undefined) {
      if (typeof value !== 'string' || value.length === 0) throw new InvalidTokenError('access token "cnf.jkt" must be a string');
      jkt = value;
    } else {
      // Bound to a confirmation method Warden cannot check (e.g. mTLS x5t#S256): never treat it as a bearer token.
      throw new InvalidTokenError('access token is bound by a confirmation method this resource does not support (only cnf.jkt)');
    }
  }
  const claims: AccessTokenClaims = { iss, aud: audiences, clientId, scopes, exp, payload };
  if (sub !== undefined) claims.sub = sub;
  if (typeof payload.iat === 'number') claims.iat = payload.iat;
  if (jti !== undefined) claims.jti = jti;
  if (jkt !== undefined) claims.jkt = jkt;
  return claims;
}

function parseScopeClaim(payload: Readonly<Record<string, unknown>>): string[] {
  const scope = payload.scope;
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s.length > 0);
  if (scope !== undefined) throw new InvalidTokenError('access token "scope" must be a space-separated string (RFC 9068 §2.2.3)');
  const scp = payload.scp;
  if (Array.isArray(scp) && scp.every((s) => typeof s === 'string')) return [...(scp as string[])];
  return [];
}
