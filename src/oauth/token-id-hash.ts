/**
 * How an access token's `jti` appears in audit records: its SHA-256, base64url — enough to
 * correlate issuance, use and revocation of one token, without the identifier itself (which the
 * deny-list and introspection key on).
 */
import { createHash } from 'node:crypto';

/** SHA-256 of the UTF-8 `jti`, base64url without padding (43 characters). */
export function tokenIdHash(jti: string): string {
  return createHash('sha256').update(jti).digest('base64url');
}
