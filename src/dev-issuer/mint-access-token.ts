/**
 * Mints RFC 9068 JWT access tokens with the development issuer's key. A development tool: the
 * authorization server replaces it for real clients.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { readIssuerKey, type DevIssuerKey } from './issuer-key.js';

/** Options of {@link mintAccessToken}: the key itself, or the state directory holding it. */
export type MintAccessTokenOptions = ({ key: DevIssuerKey; stateDir?: never } | { stateDir: string; key?: never }) & {
  /** `iss`. */
  issuer: string;
  /** `aud`: the canonical URI(s) of the resource(s) (RFC 8707). */
  audience: string | readonly string[];
  /** `scope`: space-separated string or list. */
  scope: string | readonly string[];
  /** `sub`. */
  subject: string;
  /** `client_id`. */
  clientId: string;
  /** RFC 7638 thumbprint of the client's DPoP key: binds the token (`cnf.jkt`, RFC 9449 §6.1). */
  jkt?: string;
  /** Seconds until `exp`. */
  lifetimeSeconds: number;
  /** Clock in seconds since epoch (tests). */
  now?: () => number;
};

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Returns a signed access token: header `typ: at+jwt`, `alg: ES256`, `kid`; claims `iss`, `sub`,
 * `aud`, `client_id`, `scope`, `jti`, `iat`, `exp`, and `cnf.jkt` when `jkt` is given.
 *
 * @throws {TypeError} for an invalid option (the message says which).
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export async function mintAccessToken(options: MintAccessTokenOptions): Promise<string> {
  const scopes = typeof options.scope === 'string' ? options.scope.split(' ').filter(Boolean) : [...options.scope];
  if (scopes.some((s) => !SCOPE_TOKEN.test(s))) throw new TypeError('scope: scope tokens must be printable ASCII without quotes or backslashes');
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];
  if (audience.length === 0) throw new TypeError('audience: give the resource URI the token is for');
  if (!Number.isSafeInteger(options.lifetimeSeconds) || options.lifetimeSeconds <= 0) {
    throw new TypeError('lifetimeSeconds: expected a positive whole number of seconds');
  }
  if (options.jkt !== undefined && !SHA256_THUMBPRINT.test(options.jkt)) {
    throw new TypeError('jkt: expected the base64url SHA-256 JWK thumbprint (43 characters) of the DPoP public key');
  }
  if (options.subject === '' || options.clientId === '') throw new TypeError('subject and clientId must not be empty');

  const key = options.key ?? (await readIssuerKey(options.stateDir));
  if (!key) throw new Error(`no issuer key in ${options.stateDir}: start the stack with --state-dir ${options.stateDir} first`);

  const iat = Math.floor(options.now?.() ?? Date.now() / 1000);
  return new SignJWT({
    client_id: options.clientId,
    scope: scopes.join(' '),
    ...(options.jkt ? { cnf: { jkt: options.jkt } } : {}),
  })
    .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid })
    .setIssuer(options.issuer)
    .setSubject(options.subject)
    .setAudience(audience)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.lifetimeSeconds)
    .sign(key.privateKey);
}
