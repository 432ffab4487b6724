import type { KeySource, VerificationKey } from '../jose/key-source.js';
import { importPublicJwk } from '../jose/import-jwk.js';
import type { SigningKeys } from './signing-keys.js';

/**
 * A `KeySource` over the authorization server's own published keys, for resource servers in the
 * same process: no HTTP round trip, and a rotation is seen as soon as the key set reloads.
 * Imported keys are cached by `kid` (a kid names one key for its whole life).
 */
export function signingKeySource(keys: SigningKeys): KeySource {
  const imported = new Map<string, VerificationKey>();
  return {
    async resolve(kid) {
      const jwks = await keys.jwks();
      const out: VerificationKey[] = [];
      for (const jwk of jwks.keys) {
        const id = jwk.kid as string;
        if (kid !== undefined && id !== kid) continue;
        let key = imported.get(id);
        if (key === undefined) {
          key = importPublicJwk(jwk);
          imported.set(id, key);
        }
        out.push(key);
      }
      return out;
    },
  };
}
