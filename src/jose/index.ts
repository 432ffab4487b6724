/**
 * The jose layer's entry: trust material for verifying access tokens — JWK import and key
 * sources. Not a subpath export of the package: `mcp-warden/resource-server` takes these as
 * `trust` options, and the authorization server publishes its keys itself.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export type { KeySource, VerificationKey } from './key-source.js';
export { importPublicJwk, UnusableJwkError } from './import-jwk.js';
export { createLocalKeySource, type LocalKeySource, type SkippedJwk } from './local-key-source.js';
export { createRemoteKeySource, type RemoteKeySourceOptions } from './remote-key-source.js';
