import { algorithmSpec, keyFitsAlgorithm } from '../../jose/algorithms.js';
import { importPublicJwk } from '../../jose/import-jwk.js';
import { InvalidClientMetadataError } from '../../oauth/errors.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { isFetchableUrl } from './public-only-fetch.js';

/** Most keys a registered client may list: a current and a next key, with room to spare. */
const MAX_CLIENT_KEYS = 10;
const MAX_URL_LENGTH = 2000;

/** The keys of a `private_key_jwt` client, as registered: exactly one of the two. */
export interface ClientKeys {
  jwks?: { keys: unknown[] };
  jwksUri?: string;
}

const refuse = (description: string): never => {
  throw new InvalidClientMetadataError(description);
};

/**
 * A key the server will never verify an assertion with is refused now, not at the first token
 * request: its `alg` must be accepted (`assertions.algorithms`), and without an `alg` at least one
 * accepted algorithm must fit the key type and curve.
 */
function checkAlgorithm(jwk: unknown, index: number, algorithms: readonly string[]): void {
  const key = importPublicJwk(jwk);
  if (key.alg !== undefined) {
    if (!algorithms.includes(key.alg)) refuse(`jwks.keys[${index}] alg "${key.alg}" is not accepted for client assertions (accepted: ${algorithms.join(', ')})`);
    return;
  }
  const fits = algorithms.some((alg) => {
    const spec = algorithmSpec(alg);
    return spec !== undefined && keyFitsAlgorithm(key.key, spec);
  });
  if (!fits) refuse(`jwks.keys[${index}] fits none of the algorithms accepted for client assertions (${algorithms.join(', ')})`);
}

function checkJwks(value: unknown, algorithms: readonly string[]): { keys: unknown[] } {
  const keys = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) return refuse('jwks must be an object with a non-empty "keys" array (RFC 7517 §5)');
  if (keys.length > MAX_CLIENT_KEYS) refuse(`jwks may list at most ${MAX_CLIENT_KEYS} keys`);
  keys.forEach((jwk, index) => {
    try {
      importPublicJwk(jwk);
    } catch (error) {
      refuse(`jwks.keys[${index}] is not a usable public signature key: ${(error as Error).message}`);
    }
    checkAlgorithm(jwk, index, algorithms);
  });
  return { keys: structuredClone(keys) as unknown[] };
}

/** `jwks_uri`: an absolute https URL (http on a loopback host only with `allowLoopbackHttp`), no userinfo or fragment. */
function checkJwksUri(value: unknown, allowLoopbackHttp: boolean): string {
  if (typeof value !== 'string') return refuse('jwks_uri must be a string');
  if (value.length > MAX_URL_LENGTH) refuse(`jwks_uri must be at most ${MAX_URL_LENGTH} characters`);
  if (!/^[\x21-\x7E]+$/.test(value) || value.includes('\\')) refuse('jwks_uri must contain only visible ASCII characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse('jwks_uri must be an absolute https URL');
  }
  if (/^[a-z]+:\/\/[^/?#]*@/i.test(value) || url.username !== '' || url.password !== '') refuse('jwks_uri must not contain userinfo');
  if (url.hash !== '' || value.includes('#')) refuse('jwks_uri must not contain a fragment');
  if (!isFetchableUrl(url, allowLoopbackHttp)) refuse('jwks_uri must be an absolute https URL');
  return url.href;
}

/**
 * Checks the key members of client metadata (RFC 7591 §2) for `private_key_jwt` (RFC 7523
 * §2.2): `jwks` or `jwks_uri` — never both (RFC 7591 §2: "MUST NOT both be present") — exactly
 * when the method is `private_key_jwt`.
 * - `jwks` is `{ "keys": [...] }` with 1 to 10 members, each a public signature key Warden
 *   verifies with (`importPublicJwk`: no private or symmetric members such as `d` or `k`, an
 *   asymmetric signature `alg` that fits the key, RSA ≥ 2048 bits, points on the curve), and an
 *   algorithm the server accepts for client assertions (`options.algorithms`) that fits it;
 * - `jwks_uri` is an absolute https URL without userinfo or fragment (`http:` to a loopback host
 *   only with `allowLoopbackHttp`, for development). It is not fetched here — registration is
 *   anonymous — but when an assertion is verified, through the SSRF guard of `public-only-fetch.ts`.
 * Returns copies holding only the keys or the URL.
 *
 * @throws {InvalidClientMetadataError} `invalid_client_metadata` saying what is wrong.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export function validateClientKeys(
  jwks: unknown,
  jwksUri: unknown,
  method: ClientRecord['tokenEndpointAuthMethod'],
  options: { allowLoopbackHttp: boolean; algorithms: readonly string[] },
): ClientKeys {
  const hasJwks = jwks !== undefined && jwks !== null;
  const hasUri = jwksUri !== undefined && jwksUri !== null;
  if (!hasJwks && !hasUri) {
    if (method === 'private_key_jwt') refuse('private_key_jwt needs the client\'s public keys in "jwks" or "jwks_uri" (RFC 7591 §2)');
    return {};
  }
  if (method !== 'private_key_jwt') refuse(`${hasJwks ? 'jwks' : 'jwks_uri'} is only for token_endpoint_auth_method "private_key_jwt"`);
  if (hasJwks && hasUri) refuse('jwks and jwks_uri must not both be present (RFC 7591 §2)');
  return hasJwks ? { jwks: checkJwks(jwks, options.algorithms) } : { jwksUri: checkJwksUri(jwksUri, options.allowLoopbackHttp) };
}
