import { createHash } from 'node:crypto';
import { decodeCompactJws, JwsFormatError, verifyJwsSignature, type DecodedJws } from '../../jose/compact-jws.js';
import type { KeySource } from '../../jose/key-source.js';
import { WardenError } from '../../oauth/errors.js';
import type { ReplayStore } from '../../stores/contracts.js';

/** Why a JWT assertion was refused; the caller turns it into its wire error (`invalid_client`, `invalid_grant`). */
export class AssertionError extends WardenError {
  constructor(message: string) {
    super('invalid_assertion', message);
  }
}

/** What an assertion must satisfy (RFC 7523 §3), given by the caller. */
export interface AssertionRules {
  /** What the assertion is, for messages: "client assertion", "ID-JAG", ... */
  what: string;
  /** Allow-listed signature algorithms (asymmetric only). */
  algorithms: ReadonlySet<string>;
  /**
   * Accepted `typ` header values, lower-cased; `undefined` in the set admits an absent `typ`. An
   * explicitly typed JWT of another kind (an access token, a DPoP proof, an ID-JAG) is refused, so
   * one kind of JWT cannot be replayed as another (RFC 8725 §3.11).
   */
  types: ReadonlySet<string | undefined>;
  /** Exact `iss` (RFC 7523 §3 item 1), or undefined when the caller checks it (e.g. against a trust list). */
  issuer?: string;
  /** The audience: Warden's issuer identifier, alone (draft-ietf-oauth-rfc7523bis §4, RFC 7523 §3 item 3). */
  audience: string;
  /** Whole seconds since the epoch. */
  now: number;
  skewSeconds: number;
  /** Longest time from `now` to `exp` (RFC 7523 §3 item 4 lets the server bound it). */
  maxLifetimeSeconds: number;
  maxJtiLength: number;
  maxLength: number;
  /** `jti` must be present (single-use assertions). Default true; platform workload tokens, reused until they rotate, may lack one. */
  requireJti?: boolean;
}

/** A decoded assertion whose signature and claims passed, `jti` not yet claimed. */
export interface VerifiedAssertion {
  header: Readonly<Record<string, unknown>>;
  payload: Readonly<Record<string, unknown>>;
  iss: string;
  sub: string;
  /** Present whenever `requireJti` was on. */
  jti?: string;
  exp: number;
}

const refuse = (message: string): never => {
  throw new AssertionError(message);
};

/**
 * Decodes an assertion without trusting it: shape, size, `alg` in the allow-list, `typ`. Lets the
 * caller read `iss`/`sub` to find the keys before {@link verifyAssertion}.
 */
export function decodeAssertion(assertion: string, rules: Pick<AssertionRules, 'what' | 'algorithms' | 'types' | 'maxLength'>): DecodedJws {
  if (assertion.length > rules.maxLength) refuse(`${rules.what} is larger than ${rules.maxLength} characters`);
  let decoded;
  try {
    decoded = decodeCompactJws(assertion);
  } catch (error) {
    if (error instanceof JwsFormatError) return refuse(`${rules.what} is not a signed JWT: ${error.message}`);
    throw error;
  }
  const { header, payload } = decoded;
  if (typeof header.alg !== 'string' || !rules.algorithms.has(header.alg)) refuse(`${rules.what} "alg" must be one of ${[...rules.algorithms].join(', ')}`);
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : header.typ;
  if (typ !== undefined && typeof typ !== 'string') refuse(`${rules.what} "typ" must be a string`);
  if (!rules.types.has(typ as string | undefined)) {
    const named = [...rules.types].filter((t) => t !== undefined);
    refuse(`${rules.what} "typ" must be ${named.join(' or ')}${rules.types.has(undefined) ? ' or absent' : ''}`);
  }
  return decoded;
}

/**
 * Verifies a JWT assertion (RFC 7523 §3) in the order that costs least to a forger: shape and
 * header ({@link decodeAssertion}), claims (`iss`, `sub`, `aud` = Warden's issuer as the sole
 * audience, `exp` required and no further than `maxLifetimeSeconds` ahead, `nbf`/`iat` not in the
 * future, `jti` required), then the signature by one of `keys` (never a key the JWT names itself:
 * `jwk`, `jku`, `x5u`, `x5c` are ignored). Does not claim the `jti`: see {@link claimAssertionJti}.
 *
 * @throws {AssertionError} With a reason safe to send (no assertion content).
 * @throws {StoreUnavailableError} From the key source (→ 503, fail closed).
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-rfc7523bis/
 */
export async function verifyAssertion(assertion: string, keys: KeySource, rules: AssertionRules): Promise<VerifiedAssertion> {
  const { header, payload, signingInput, signature } = decodeAssertion(assertion, rules);
  const { iss, sub, aud, exp, nbf, iat, jti } = payload;
  if (typeof iss !== 'string' || iss === '') refuse(`${rules.what} must have an "iss" claim (RFC 7523 §3)`);
  if (rules.issuer !== undefined && iss !== rules.issuer) refuse(`${rules.what} "iss" is not the expected issuer`);
  if (typeof sub !== 'string' || sub === '') refuse(`${rules.what} must have a "sub" claim (RFC 7523 §3)`);
  // rfc7523bis: the issuer identifier is the only audience value; the token endpoint URL and other
  // values are refused, so an assertion made for another server (or endpoint) cannot be replayed here.
  const audience = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  if (audience !== rules.audience) refuse(`${rules.what} "aud" must be this server's issuer identifier, ${rules.audience}, as its only value`);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) refuse(`${rules.what} must have a numeric "exp" claim (RFC 7523 §3)`);
  if ((exp as number) + rules.skewSeconds <= rules.now) refuse(`${rules.what} has expired`);
  if ((exp as number) > rules.now + rules.maxLifetimeSeconds + rules.skewSeconds) refuse(`${rules.what} "exp" is more than ${rules.maxLifetimeSeconds} s ahead; use short-lived assertions`);
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > rules.now + rules.skewSeconds)) refuse(`${rules.what} is not valid yet ("nbf")`);
  if (iat !== undefined && (typeof iat !== 'number' || iat > rules.now + rules.skewSeconds)) refuse(`${rules.what} "iat" is in the future`);
  const jtiGiven = jti !== undefined || rules.requireJti !== false;
  if (jtiGiven && (typeof jti !== 'string' || jti === '' || jti.length > rules.maxJtiLength)) refuse(`${rules.what} must have a "jti" claim of at most ${rules.maxJtiLength} characters (single use)`);

  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) refuse(`${rules.what} "kid" must be a short string`);
  const alg = header.alg as string;
  const candidates = await keys.resolve(kid as string | undefined);
  const signed = candidates.some((key) => (key.alg === undefined || key.alg === alg) && verifyJwsSignature(alg, key.key, signingInput, signature));
  if (!signed) refuse(candidates.length === 0 ? `no registered key matches the ${rules.what} "kid"` : `${rules.what} signature is invalid`);
  return { header, payload, iss: iss as string, sub: sub as string, exp: exp as number, ...(typeof jti === 'string' && { jti }) };
}

/**
 * Claims the assertion's `jti` (RFC 7523 §3 item 7: single use), keyed by `namespace` (the kind
 * of assertion and who issued it) until the assertion expires. Throws {@link AssertionError} on
 * a replay; lets the store's `StoreUnavailableError` through (→ 503).
 */
export async function claimAssertionJti(replay: ReplayStore, namespace: string, assertion: VerifiedAssertion, rules: Pick<AssertionRules, 'what' | 'now' | 'skewSeconds'>): Promise<void> {
  if (assertion.jti === undefined) return refuse(`${rules.what} must have a "jti" claim (single use)`);
  // Hashed: the key holds neither unbounded caller text nor a separator it could forge.
  const key = `assertion:${createHash('sha256').update(namespace).update('\0').update(assertion.iss).update('\0').update(assertion.jti).digest('base64url')}`;
  const ttl = Math.max(1, Math.ceil(assertion.exp - rules.now + rules.skewSeconds));
  if (!(await replay.claim(key, ttl))) refuse(`${rules.what} has already been used ("jti" is single use, RFC 7523 §3)`);
}
