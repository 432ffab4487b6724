/**
 * `mcp-warden/client`: what an MCP client needs to talk to a DPoP-protecting server — a key
 * holder whose private key never leaves, a `fetch` that signs proofs and follows nonces, and an
 * OAuth provider for the MCP SDK clients (v1; v2 given its `auth`) with step-up authorization. The
 * v2 client (`@modelcontextprotocol/client`) also has DPoP of its own; a holder from here is a valid
 * `keyPair` for its `DpopSession.create({ keyPair })`.
 */
export { generateDpopKey, importDpopKey, type DpopKey, type DpopAlgorithm, type DpopProofRequest, type GenerateDpopKeyOptions, type PublicDpopJwk } from './dpop-key.js';
export { createDpopFetch, type DpopFetchOptions, type DpopNonceStore, type FetchLike } from './dpop-fetch.js';
export { createOAuthProvider, type AuthorizationResponse, type McpOAuthProvider, type OAuthProviderOptions, type SdkAuth, type SdkAuthOptions } from './oauth-provider.js';
export { createStepUpFetch, insufficientScope, parseChallenges, type ScopeChallenge, type StepUpAuthorizer, type StepUpOptions } from './step-up.js';
export { connectWithAuthorization, type AuthorizingTransport, type ConnectableClient } from './connect.js';
export { startLoopbackCallback, type LoopbackCallback, type LoopbackCallbackOptions } from './loopback-callback.js';
export { McpAuthError, AuthorizationDeclinedError, AuthorizationResponseError, InsufficientScopeError } from './errors.js';
export { runDeviceFlow, DeviceFlowError, DEVICE_CODE_GRANT_TYPE, type DeviceFlowOptions, type DeviceFlowTokens, type DeviceUserPrompt } from './device-flow.js';
export { createJwtBearerProvider, requestIdJag, workloadTokenFile, JWT_BEARER_GRANT, ID_JAG_TOKEN_TYPE, type AssertionTarget, type JwtBearerProviderOptions, type RequestIdJagOptions } from './jwt-bearer.js';
