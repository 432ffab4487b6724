import { importPublicJwk } from '../../jose/import-jwk.js';
import { InvalidClientMetadataError } from '../../oauth/errors.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';

/** Most keys a registered client may list: a current and a next key, with room to spare. */
const MAX_CLIENT_KEYS = 10;

const refuse = (description: string): never => {
  throw new InvalidClientMetadataError(description);
};

/**
 * Checks the `jwks` member of client metadata (RFC 7591 §2) for `private_key_jwt` (RFC 7523
 * §2.2): present exactly when the method is `private_key_jwt`, `{ "keys": [...] }` with 1 to 10
 * members, each a public signature key Warden verifies with (`importPublicJwk`: no private or
 * symmetric members, RSA ≥ 2048 bits, points on the curve). Returns a copy holding only the keys.
 *
 * @throws {InvalidClientMetadataError} `invalid_client_metadata` saying what is wrong.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 */
export function validateClientJwks(value: unknown, method: ClientRecord['tokenEndpointAuthMethod']): { keys: unknown[] } | undefined {
  if (value === undefined || value === null) {
    if (method === 'private_key_jwt') refuse('private_key_jwt needs the client\'s public keys in "jwks" (jwks_uri is not accepted at registration)');
    return undefined;
  }
  if (method !== 'private_key_jwt') refuse('jwks is only for token_endpoint_auth_method "private_key_jwt"');
  const keys = typeof value === 'object' && !Array.isArray(value) ? (value as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) return refuse('jwks must be an object with a non-empty "keys" array (RFC 7517 §5)');
  if (keys.length > MAX_CLIENT_KEYS) refuse(`jwks may list at most ${MAX_CLIENT_KEYS} keys`);
  keys.forEach((jwk, index) => {
    try {
      importPublicJwk(jwk);
    } catch (error) {
      refuse(`jwks.keys[${index}] is not a usable public signature key: ${(error as Error).message}`);
    }
  });
  return { keys: structuredClone(keys) as unknown[] };
}
