/**
 * The development token issuer: until the authorization server lands, the stack trusts tokens
 * signed by this local ES256 key (JWKS at `/.well-known/jwks.json`), minted by `warden token`.
 */
export { ISSUER_KEY_FILE, generateIssuerKey, issuerJwks, loadOrCreateIssuerKey, readIssuerKey } from './issuer-key.js';
export type { DevIssuerKey } from './issuer-key.js';
export { mintAccessToken } from './mint-access-token.js';
export type { MintAccessTokenOptions } from './mint-access-token.js';
